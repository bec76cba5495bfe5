// Quotas and budgets over HTTP: GPUs held at once, spend per calendar month, the warning,
// the grace and the order in which an over-budget tenant's work is stopped.
#include <gtest/gtest.h>

#include "server/usage_budget.h"
#include "tests/metering_test_util.h"

namespace fastgpu::metering_test {
namespace {

using std::chrono::seconds;

constexpr char kNeatPrices[] = R"({"gpu_hour":{"H100-80GB":"3.60"}})";  // 0.1 cent per GPU-second
constexpr char kHalf[] = R"("gpu_count":1,"gpu_milli":500)";
constexpr char kWhole[] = R"("gpu_count":1,"gpu_milli":1000)";

Reply SetQuota(TestControlPlane& cp, const std::string& tenant, const std::string& body) {
  return cp.Do("PUT", "/v1/tenants/" + tenant + "/quota", cp.admin(), body);
}

TEST(MeteringQuotaTest, GpusHeldAtOnceAreCapped) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 4);
  const std::string token = cp.NewTenantToken("team-a");
  Reply q = SetQuota(cp, "team-a", R"({"max_gpu_milli":1000})");
  ASSERT_EQ(q.status, 200) << q.raw;
  EXPECT_EQ(q.body.at("max_gpu_milli").as_int64(), 1000) << q.raw;
  EXPECT_EQ(SetQuota(cp, "team-a", R"({"max_gpu_milli":-1})").status, 400);
  EXPECT_EQ(cp.Do("PUT", "/v1/tenants/team-a/quota", token, R"({"max_gpu_milli":9000})").status,
            403);

  std::string first = Submit(cp, token, JobBody(kHalf, 0, 0));
  cp.Reconcile();  // placed: held by a live allocation
  // Pending demand counts as well as live allocations.
  Reply second =
      cp.Do("POST", "/v1/jobs", token, JobBody(kHalf, 0, 0), {{"Idempotency-Key", "k2"}});
  ASSERT_EQ(second.status, 201) << second.raw;
  Reply third = cp.Do("POST", "/v1/jobs", token, JobBody(kHalf, 0, 0));
  EXPECT_EQ(third.status, 429) << third.raw;
  EXPECT_EQ(third.Str("code"), "RESOURCE_EXHAUSTED");
  EXPECT_NE(third.Str("message").find("may hold 1 GPU at once"), std::string::npos) << third.raw;
  // A replay of the accepted submission is answered, not refused.
  Reply replay =
      cp.Do("POST", "/v1/jobs", token, JobBody(kHalf, 0, 0), {{"Idempotency-Key", "k2"}});
  EXPECT_EQ(replay.status, 200) << replay.raw;
  EXPECT_EQ(replay.Str("id"), second.Str("id"));
  // A CPU-only job holds no GPU and passes.
  EXPECT_EQ(cp.Do("POST", "/v1/jobs", token, JobBody(R"("gpu_count":0)", 1000, 1024)).status, 201);
  Reply tenant = cp.Do("GET", "/v1/tenants/team-a", token);
  EXPECT_EQ(tenant.body.at("usage").at("gpu_milli_held").as_int64(), 1000) << tenant.raw;

  // The first job ends: its half is free again.
  cp.Do("POST", "/v1/jobs/" + first + "/cancel", token);
  EXPECT_EQ(cp.Do("POST", "/v1/jobs", token, JobBody(kHalf, 0, 0)).status, 201);
  // Another tenant is not affected.
  EXPECT_EQ(cp.Do("POST", "/v1/jobs", cp.NewTenantToken("team-b"), JobBody(kWhole, 0, 0)).status,
            201);
}

TEST(MeteringQuotaTest, OverBudgetWarnsThenStopsLowestPriorityFirstAfterTheGrace) {
  ServerOptions options;
  options.budget_grace = seconds(120);
  options.node_timeout = std::chrono::hours(1);  // the agent stays alive without heartbeats
  TestControlPlane cp(nullptr, options);
  SimAgent agent(cp, "a1", 4);
  SetPrices(cp, kNeatPrices);
  const std::string token = cp.NewTenantToken("team-a");
  ASSERT_EQ(SetQuota(cp, "team-a", R"({"budget_cents":100})").status, 200);  // $1.00
  std::string low = Submit(cp, token, JobBody(kWhole, 0, 0, 1, -5));
  std::string high = Submit(cp, token, JobBody(kWhole, 0, 0, 1, 10));
  cp.clock().Advance(seconds(1));
  std::string newest = Submit(cp, token, JobBody(kWhole, 0, 0, 1, 10));
  cp.Reconcile();
  const int64_t start = cp.clock().NowUnixMillis();
  json::array running;
  for (const std::string& j : {low, high, newest}) {
    running.push_back(Report(AllocationsOf(cp, j).at(0), "running", start));
  }
  agent.Heartbeat(running);
  cp.Reconcile();

  // 3 GPUs x 0.1c/s, each job rounded to the cent: 3 x 33c after 330 s (and 334 s),
  // 3 x 34c after 335 s (33.5c rounds up).
  cp.clock().Advance(seconds(330));
  cp.Reconcile();
  Reply tenant = cp.Do("GET", "/v1/tenants/team-a", token);
  EXPECT_FALSE(tenant.body.at("usage").at("over_budget").as_bool()) << tenant.raw;
  EXPECT_EQ(tenant.body.at("usage").at("spent_cents").as_int64(), 99);

  cp.clock().Advance(seconds(5));
  cp.Reconcile();
  tenant = cp.Do("GET", "/v1/tenants/team-a", token);
  const auto& usage = tenant.body.at("usage").as_object();
  EXPECT_TRUE(usage.at("over_budget").as_bool()) << tenant.raw;
  EXPECT_EQ(usage.at("spent").as_string(), "$1.02");
  EXPECT_NE(usage.at("warning").as_string().find("over budget"), std::string::npos);
  Reply job = cp.Do("GET", "/v1/jobs/" + low, token);
  EXPECT_EQ(job.Str("state"), "running");
  EXPECT_EQ(job.Str("reason").rfind("warning: tenant 'team-a' is over budget", 0), 0u) << job.raw;
  Reply refused = cp.Do("POST", "/v1/jobs", token, JobBody(kWhole, 0, 0));
  EXPECT_EQ(refused.status, 429);
  EXPECT_NE(refused.Str("message").find("budget"), std::string::npos) << refused.raw;

  // Within the grace nothing stops.
  cp.clock().Advance(seconds(119));
  cp.Reconcile();
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/" + low, token).Str("state"), "running");

  // Past it: one job per pass here, lowest priority first, then the newest of equals.
  cp.clock().Advance(seconds(1));
  auto pass = server::EnforceBudgets(cp.store(), cp.clock(), {seconds(120), 1});
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->stopped, 1);
  job = cp.Do("GET", "/v1/jobs/" + low, token);
  EXPECT_EQ(job.Str("state"), "cancelled");
  EXPECT_NE(job.Str("reason").find("over budget"), std::string::npos) << job.raw;
  // Its running replica's record says the control plane stopped it, and why.
  Reply stopped_alloc = cp.Do("GET", "/v1/allocations/" + AllocationsOf(cp, low).at(0), cp.admin());
  EXPECT_NE(stopped_alloc.raw.find("stopped by the control plane (tenant over budget)"),
            std::string::npos)
      << stopped_alloc.raw;
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/" + high, token).Str("state"), "running");
  ASSERT_TRUE(server::EnforceBudgets(cp.store(), cp.clock(), {seconds(120), 1}).ok());
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/" + newest, token).Str("state"), "cancelled");
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/" + high, token).Str("state"), "running");
  cp.clock().Advance(seconds(5));  // the reconciler checks budgets every 5 s
  cp.Reconcile();                  // its own pass stops the rest
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/" + high, token).Str("state"), "cancelled");
  // The stopped allocations ended at the control plane's time: the bill stops growing.
  const int64_t bill =
      cp.Do("GET", "/v1/tenants/team-a", token).body.at("usage").at("spent_cents").as_int64();
  cp.clock().Advance(seconds(3600));
  EXPECT_EQ(cp.Do("GET", "/v1/tenants/team-a", token).body.at("usage").at("spent_cents").as_int64(),
            bill);

  // Raising the budget lifts the refusal and the mark.
  ASSERT_EQ(SetQuota(cp, "team-a", R"({"budget_cents":10000})").status, 200);
  cp.Reconcile();
  tenant = cp.Do("GET", "/v1/tenants/team-a", token);
  EXPECT_FALSE(tenant.body.at("usage").at("over_budget").as_bool());
  EXPECT_EQ(tenant.body.at("usage").at("over_budget_since").as_int64(), 0) << tenant.raw;
  EXPECT_EQ(cp.Do("POST", "/v1/jobs", token, JobBody(kWhole, 0, 0)).status, 201);
}

TEST(MeteringQuotaTest, ABudgetIsPerCalendarMonth) {
  ServerOptions options;
  options.node_timeout = std::chrono::hours(24 * 40);
  TestControlPlane cp(nullptr, options);
  SimAgent agent(cp, "a1", 1);
  SetPrices(cp, kNeatPrices);
  const std::string token = cp.NewTenantToken("team-a");
  ASSERT_EQ(SetQuota(cp, "team-a", R"({"budget_cents":50})").status, 200);
  std::string job = Submit(cp, token, JobBody(kWhole, 0, 0));
  cp.Reconcile();
  // The ManualClock starts on 1970-01-02; the job runs the last 1000 s of January.
  const int64_t feb = 31LL * 86'400'000;
  cp.clock().AdvanceTo(FromUnixMillis(feb - 1'000'000));
  const std::string alloc = AllocationsOf(cp, job).at(0);
  agent.Heartbeat({Report(alloc, "exited", feb - 1'000'000, feb)});
  cp.clock().AdvanceTo(FromUnixMillis(feb - 1));
  cp.Reconcile();
  EXPECT_EQ(cp.Do("POST", "/v1/jobs", token, JobBody(kWhole, 0, 0)).status, 429);  // $1.00 > $0.50
  cp.clock().AdvanceTo(FromUnixMillis(feb));
  Reply tenant = cp.Do("GET", "/v1/tenants/team-a", token);
  EXPECT_EQ(tenant.body.at("usage").at("period").as_string(), "1970-02") << tenant.raw;
  EXPECT_EQ(tenant.body.at("usage").at("spent_cents").as_int64(), 0);
  EXPECT_EQ(cp.Do("POST", "/v1/jobs", token, JobBody(kWhole, 0, 0)).status, 201);
}

}  // namespace
}  // namespace fastgpu::metering_test

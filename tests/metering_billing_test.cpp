// The bill to the cent, end to end: prices set over HTTP, jobs run by a simulated agent
// reporting its own start and end times, a ManualClock, usage read back over HTTP; also
// across a control-plane restart on the same SQLite file and through the loss of an agent.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "common/testing/temp_dir.h"
#include "tests/metering_test_util.h"

namespace fastgpu::metering_test {
namespace {

using fastgpu::testing::TempDir;
using std::chrono::seconds;

// Neat prices: a GPU-second costs 0.1 cent, a core-second 0.01 cent, a GiB-second 0.001.
constexpr char kNeatPrices[] =
    R"({"gpu_hour":{"H100-80GB":"3.60"},"cpu_hour":"0.36","gib_hour":"0.036"})";

std::string Window(const std::string& tenant, int64_t from_ms, int64_t to_ms,
                   const std::string& by = "job") {
  return "tenant=" + tenant + "&from=" + std::to_string(from_ms) + "&to=" + std::to_string(to_ms) +
         "&by=" + by;
}

TEST(MeteringBillingTest, TheBillIsTheSumOfJobsToTheCent) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 4);
  SetPrices(cp, R"({"gpu_hour":{"H100-80GB":"2.49"},"cpu_hour":"0.04","gib_hour":"0.005"})");
  const std::string token = cp.NewTenantToken("team-a");
  const int64_t t0 = cp.clock().NowUnixMillis();
  // Half an H100, 2 cores, 8 GiB; and a gang of two whole H100s with 1 core and 4 GiB each.
  std::string half = Submit(cp, token, JobBody(R"("gpu_count":1,"gpu_milli":500)", 2000, 8192));
  std::string gang = Submit(cp, token, JobBody(R"("gpu_count":1,"gpu_milli":1000)", 1000, 4096, 2));
  cp.Reconcile();
  auto a_half = AllocationsOf(cp, half);
  auto a_gang = AllocationsOf(cp, gang);
  ASSERT_EQ(a_half.size(), 1u);
  ASSERT_EQ(a_gang.size(), 2u);

  // The agent starts them 3 s after placement and says so; the clock moves on meanwhile.
  const int64_t start = t0 + 3000;
  cp.clock().Advance(seconds(10));
  json::array running{Report(a_half[0], "running", start), Report(a_gang[0], "running", start),
                      Report(a_gang[1], "running", start)};
  ASSERT_EQ(agent.Heartbeat(running).status, 200);
  agent.Heartbeat(running);  // a repeated report changes nothing
  cp.Reconcile();

  // 1.5 h later (by the agent's clock) all three end; the report reaches us later still.
  const int64_t end = start + 5'400'000;
  cp.clock().AdvanceTo(FromUnixMillis(end + 7000));
  json::array exited{Report(a_half[0], "exited", start, end),
                     Report(a_gang[0], "exited", start, end),
                     Report(a_gang[1], "exited", start, end)};
  ASSERT_EQ(agent.Heartbeat(exited).status, 200);
  agent.Heartbeat(exited);  // re-reported: still counted once
  cp.Reconcile();
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/" + half, token).Str("state"), "succeeded");

  // half: 0.5 x $2.49 x 1.5 h = 186.75c; 2 cores x $0.04 x 1.5 = 12c; 8 GiB x $0.005 x 1.5
  // = 6c: 204.75c -> $2.05. gang: 2 x (373.5c + 6c + 3c) = 765c.
  Reply bill = Usage(cp, token, Window("team-a", t0, end + 60'000));
  EXPECT_EQ(RowCents(bill, half), 205) << bill.raw;
  EXPECT_EQ(RowCents(bill, gang), 765) << bill.raw;
  EXPECT_EQ(bill.body.at("total_cents").as_int64(), 970);
  EXPECT_EQ(bill.Str("total"), "$9.70");
  for (const auto& row : bill.body.at("rows").as_array()) {
    EXPECT_EQ(row.at("billed_seconds").as_int64() % 5400, 0) << bill.raw;
  }

  // By model: one row holding everything; by day: the same total.
  Reply by_model = Usage(cp, token, Window("team-a", t0, end + 60'000, "model"));
  EXPECT_EQ(by_model.body.at("total_cents").as_int64(), 970);
  EXPECT_EQ(RowCents(by_model, "H100-80GB"), 970) << by_model.raw;
  Reply by_day = Usage(cp, token, Window("team-a", t0, end + 60'000, "day"));
  EXPECT_EQ(by_day.body.at("total_cents").as_int64(), 970);

  // CSV: a header, one line per job, the total.
  Reply csv =
      cp.Do("GET", "/v1/usage?" + Window("team-a", t0, end + 60'000) + "&format=csv", token);
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.raw.rfind("job,billed_seconds,", 0), 0u) << csv.raw;
  EXPECT_NE(csv.raw.find("total,,,9.70"), std::string::npos) << csv.raw;

  // A window that cuts the run in half bills half of it (to the second).
  Reply first_half = Usage(cp, token, Window("team-a", start, start + 2'700'000));
  EXPECT_EQ(RowCents(first_half, half), 102) << first_half.raw;  // 102.375c
}

TEST(MeteringBillingTest, TenantsSeeOnlyTheirOwnUsage) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 2);
  SetPrices(cp, kNeatPrices);
  const std::string a = cp.NewTenantToken("team-a");
  const std::string b = cp.NewTenantToken("team-b");
  std::string job = Submit(cp, a, JobBody(R"("gpu_count":1,"gpu_milli":1000)", 0, 0));
  cp.Reconcile();
  const int64_t start = cp.clock().NowUnixMillis();
  agent.Heartbeat({Report(AllocationsOf(cp, job)[0], "running", start)});
  cp.clock().Advance(seconds(100));
  // Running: metered up to now. 100 s x 0.1c.
  Reply own = Usage(cp, a, "from=" + std::to_string(start));
  EXPECT_EQ(own.body.at("total_cents").as_int64(), 10) << own.raw;
  EXPECT_EQ(own.Str("tenant"), "team-a");
  EXPECT_EQ(Usage(cp, b, "from=" + std::to_string(start)).body.at("total_cents").as_int64(), 0);
  EXPECT_EQ(cp.Do("GET", "/v1/usage?tenant=team-a", b).status, 404);
  Reply admin_view = Usage(cp, cp.admin(), "tenant=team-a&from=" + std::to_string(start));
  EXPECT_EQ(admin_view.body.at("total_cents").as_int64(), 10);
  EXPECT_EQ(cp.Do("GET", "/v1/usage?by=week", a).status, 400);
  EXPECT_EQ(cp.Do("GET", "/v1/usage?from=yesterday", a).status, 400);
  EXPECT_EQ(cp.Do("PUT", "/v1/prices", a, kNeatPrices).status, 403);
  Reply prices = cp.Do("GET", "/v1/prices", a);
  EXPECT_EQ(prices.body.at("gpu_hour").at("H100-80GB").as_string(), "3.60") << prices.raw;
  EXPECT_EQ(cp.Do("PUT", "/v1/prices", cp.admin(), R"({"cpu_hour":"-1"})").status, 400);
}

std::unique_ptr<store::Store> OpenStore(const std::string& path) {
  auto store = store::OpenSqliteStore({.path = path});
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(store).value() : nullptr;
}

TEST(MeteringBillingTest, ARestartOnTheSameDatabaseNeitherLosesNorDoublesASecond) {
  TempDir dir;
  const std::string db = dir.path() + "/fastgpu.db";
  std::string token, job, alloc;
  int64_t start = 0, before_restart = 0, bill_before = 0;
  {
    TestControlPlane cp(OpenStore(db));
    SimAgent agent(cp, "a1", 2);
    SetPrices(cp, kNeatPrices);
    token = cp.NewTenantToken("team-a");
    job = Submit(cp, token, JobBody(R"("gpu_count":1,"gpu_milli":500)", 1000, 2048));
    cp.Reconcile();
    alloc = AllocationsOf(cp, job).at(0);
    start = cp.clock().NowUnixMillis() + 1000;
    agent.Heartbeat({Report(alloc, "running", start)});
    cp.Reconcile();
    cp.clock().AdvanceTo(FromUnixMillis(start + 600'000));
    before_restart = cp.clock().NowUnixMillis();
    bill_before =
        Usage(cp, token, Window("team-a", start, before_restart)).body.at("total_cents").as_int64();
  }
  // 600 s x (0.05c + 0.01c + 0.002c) = 37.2c.
  EXPECT_EQ(bill_before, 37);

  TestControlPlane cp(OpenStore(db));
  cp.clock().AdvanceTo(FromUnixMillis(before_restart + 5000));
  SimAgent agent(cp, "a1", 2);  // the same agent registers again after the restart
  // The same window reads the same bill from the reopened database.
  EXPECT_EQ(Usage(cp, token, Window("team-a", start, before_restart)).body.at("total_cents"),
            bill_before);
  agent.Heartbeat({Report(alloc, "running", start)});  // re-report after the restart
  const int64_t end = start + 1'800'000;
  cp.clock().AdvanceTo(FromUnixMillis(end + 2000));
  agent.Heartbeat({Report(alloc, "exited", start, end)});
  cp.Reconcile();
  agent.Heartbeat({Report(alloc, "exited", start, end)});  // told to forget it; no change
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/" + job, token).Str("state"), "succeeded");
  // 1800 s x 0.062c = 111.6c -> 112c, whatever the window's end after the job.
  Reply bill = Usage(cp, token, Window("team-a", start - 60'000, end + 3'600'000));
  EXPECT_EQ(bill.body.at("total_cents").as_int64(), 112) << bill.raw;
  EXPECT_EQ(RowCents(bill, job), 112);
  const auto& row = bill.body.at("rows").as_array()[0];
  EXPECT_EQ(row.at("billed_seconds").as_int64(), 1800);
}

TEST(MeteringBillingTest, ALostAgentsAllocationEndsAtTheControlPlanesTime) {
  ServerOptions options;
  options.node_timeout = seconds(15);
  TestControlPlane cp(nullptr, options);
  SimAgent agent(cp, "a1", 1);
  SimAgent spare(cp, "a2", 1);
  SetPrices(cp, kNeatPrices);
  const std::string token = cp.NewTenantToken("team-a");
  std::string job = Submit(cp, token, JobBody(R"("gpu_count":1,"gpu_milli":1000)", 1000, 4096));
  cp.Reconcile();
  auto allocs = AllocationsOf(cp, job);
  ASSERT_EQ(allocs.size(), 1u);
  Reply job_view = cp.Do("GET", "/v1/jobs/" + job, token);
  const std::string node =
      job_view.body.at("allocations").as_array()[0].at("node_id").as_string().c_str();
  SimAgent& runner = node == agent.node_id() ? agent : spare;
  SimAgent& other = node == agent.node_id() ? spare : agent;
  const int64_t start = cp.clock().NowUnixMillis();
  runner.Heartbeat({Report(allocs[0], "running", start)});
  // Heartbeats for 30 min, then silence: the lease lapses 15 s after the last one.
  for (int i = 0; i < 6; ++i) {
    cp.clock().Advance(seconds(300));
    runner.Heartbeat({Report(allocs[0], "running", start)});
    other.Heartbeat();
  }
  const int64_t last = cp.clock().NowUnixMillis();
  ASSERT_EQ(last - start, 1'800'000);
  cp.clock().Advance(seconds(10));
  other.Heartbeat();
  cp.Reconcile();  // 10 s of silence: not lost yet
  cp.clock().Advance(seconds(10));
  other.Heartbeat();
  const int64_t lost_at = cp.clock().NowUnixMillis();
  cp.Reconcile();  // 20 s: lost; the allocation ends now, by the control plane's clock
  Reply alloc = cp.Do("GET", "/v1/allocations/" + allocs[0], token);
  EXPECT_EQ(alloc.Str("state"), "released") << alloc.raw;
  EXPECT_EQ(alloc.body.at("ended_at").as_int64(), lost_at);
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/" + job, token).Str("state"), "failed");

  // The agent comes back later claiming the replica ran on: it is told to stop, and the
  // bill keeps the control plane's end.
  cp.clock().Advance(seconds(600));
  Reply back = runner.Heartbeat({Report(allocs[0], "exited", start, start + 2'400'000)});
  ASSERT_EQ(back.body.at("cancel").as_array().size(), 1u) << back.raw;
  // 1820 s x (0.1c + 0.01c + 0.004c) = 207.48c.
  Reply bill = Usage(cp, token, Window("team-a", start, lost_at + 3'600'000));
  EXPECT_EQ(bill.body.at("total_cents").as_int64(), 207) << bill.raw;
  EXPECT_EQ(bill.body.at("rows").as_array()[0].at("billed_seconds").as_int64(), 1820);
}

TEST(MeteringBillingTest, AnAgentsFirstReportMayAlreadyBeTheEnd) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 1);
  SetPrices(cp, kNeatPrices);
  const std::string token = cp.NewTenantToken("team-a");
  std::string job = Submit(cp, token, JobBody(R"("gpu_count":1,"gpu_milli":1000)", 0, 0));
  cp.Reconcile();
  const std::string alloc = AllocationsOf(cp, job).at(0);
  const int64_t start = cp.clock().NowUnixMillis() + 500;
  cp.clock().Advance(seconds(120));
  // A short job: started and ended between two heartbeats; both times come in one report.
  agent.Heartbeat({Report(alloc, "exited", start, start + 42'300)});
  cp.Reconcile();
  Reply a = cp.Do("GET", "/v1/allocations/" + alloc, token);
  EXPECT_EQ(a.body.at("started_at").as_int64(), start) << a.raw;
  Reply bill = Usage(cp, token, Window("team-a", start - 1000, start + 600'000));
  EXPECT_EQ(bill.body.at("rows").as_array()[0].at("billed_seconds").as_int64(), 43);  // rounded up
  EXPECT_EQ(bill.body.at("total_cents").as_int64(), 4);                               // 4.3c
}

}  // namespace
}  // namespace fastgpu::metering_test

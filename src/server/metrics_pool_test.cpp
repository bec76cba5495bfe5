// The pool metrics of GET /metrics (pool_metrics.h) measured from a control plane with
// simulated agents on a ManualClock: pass counts, pending jobs and ages per tenant, GPU
// milli allocated per GPU, per node and in all, fragmentation against the learned
// workload and the LP bound, with their rate limits.
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>

#include "server/pool_metrics.h"
#include "server/server_test_util.h"

namespace fastgpu::server::testing {
namespace {

using std::chrono::seconds;

std::string JobBody(const std::string& gpu) {
  return R"({"command":["sleep","1"],"shape":{)" + gpu +
         R"(,"cpu_milli":1000,"memory_mib":1024},"replicas":1})";
}
const std::string kTwoGpus = R"("gpu_count":2,"gpu_milli":1000)";
std::string Fraction(int milli) { return R"("gpu_count":1,"gpu_milli":)" + std::to_string(milli); }

std::string Submit(TestControlPlane& cp, const std::string& token, const std::string& body) {
  Reply r = cp.Do("POST", "/v1/jobs", token, body);
  EXPECT_EQ(r.status, 201) << r.raw;
  return r.Str("id");
}

// GET /metrics as "name{labels}" -> value (comments skipped).
std::map<std::string, double> Scrape(TestControlPlane& cp) {
  Reply r = cp.Do("GET", "/metrics", "");
  EXPECT_EQ(r.status, 200) << r.raw;
  std::map<std::string, double> out;
  std::istringstream in(r.raw);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

// The value of one sample; fails the test (and gives -1) when it is absent.
double Get(const std::map<std::string, double>& m, const std::string& key) {
  auto it = m.find(key);
  EXPECT_NE(it, m.end()) << "no sample " << key;
  return it == m.end() ? -1 : it->second;
}

std::string Gpu(const SimAgent& agent, int gpu) {
  return "fastgpu_gpu_allocated_milli{node=\"" + agent.node_id() + "\",gpu=\"" +
         std::to_string(gpu) + "\"}";
}
std::string Node(const SimAgent& agent) {
  return "fastgpu_node_gpu_allocated_milli{node=\"" + agent.node_id() + "\"}";
}
const std::string kCapacity = "fastgpu_pool_gpu_milli{kind=\"capacity\"}";
const std::string kAllocated = "fastgpu_pool_gpu_milli{kind=\"allocated\"}";
const std::string kFree = "fastgpu_pool_gpu_milli{kind=\"free\"}";
const std::string kFragmented = "fastgpu_pool_fragmented_milli";
const std::string kFragRatio = "fastgpu_pool_fragmentation_ratio";
const std::string kLpBound = "fastgpu_pool_lp_bound_milli";
const std::string kOverLp = "fastgpu_pool_allocated_over_lp_bound";
std::string Pending(const std::string& tenant) {
  return "fastgpu_pending_jobs{tenant=\"" + tenant + "\"}";
}
std::string Oldest(const std::string& tenant) {
  return "fastgpu_pending_oldest_seconds{tenant=\"" + tenant + "\"}";
}

// The allocation of `hb` (a heartbeat answer) whose first slice has `milli`, or "".
std::string AllocWithMilli(const Reply& hb, int milli) {
  for (const auto& a : hb.body.at("allocations").as_array()) {
    const auto& slices = a.at("slices").as_array();
    if (!slices.empty() && slices[0].at("milli").as_int64() == milli) {
      return std::string(a.at("allocation_id").as_string());
    }
  }
  return "";
}

TEST(MetricsPoolTest, PassesAreCountedAndTimed) {
  TestControlPlane cp;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(cp.server().reconciler().RunOnce().ok());
  auto m = Scrape(cp);
  EXPECT_EQ(Get(m, "fastgpu_reconciler_passes_total"), 3);
  EXPECT_EQ(Get(m, "fastgpu_reconciler_pass_seconds_count"), 3);
  EXPECT_EQ(Get(m, "fastgpu_reconciler_pass_seconds_bucket{le=\"+Inf\"}"), 3);
  EXPECT_GE(Get(m, "fastgpu_reconciler_pass_seconds_sum"), 0);
}

TEST(MetricsPoolTest, PoolGaugesFollowPlacementsWithRateLimits) {
  TestControlPlane cp;
  SimAgent b(cp, "b", 2);
  SimAgent a(cp, "a", 1);
  const std::string alpha = cp.NewTenantToken("alpha");
  const std::string beta = cp.NewTenantToken("beta");
  // Placed oldest first: the two-GPU job fills b, the fractions share a's GPU.
  const std::string whole = Submit(cp, alpha, JobBody(kTwoGpus));
  cp.clock().Advance(seconds(1));
  Submit(cp, alpha, JobBody(Fraction(300)));
  Submit(cp, alpha, JobBody(Fraction(200)));
  cp.clock().Advance(seconds(1));
  const std::string waits = Submit(cp, alpha, JobBody(kTwoGpus));  // fits nowhere now
  cp.clock().Advance(seconds(10));
  Submit(cp, beta, JobBody(Fraction(800)));  // 500 free on a: waits
  cp.clock().Advance(seconds(20));
  b.Heartbeat();
  a.Heartbeat();
  cp.Reconcile();

  auto m = Scrape(cp);
  EXPECT_EQ(Get(m, Gpu(a, 0)), 500);
  EXPECT_EQ(Get(m, Gpu(b, 0)), 1000);
  EXPECT_EQ(Get(m, Gpu(b, 1)), 1000);
  EXPECT_EQ(Get(m, Node(a)), 500);
  EXPECT_EQ(Get(m, Node(b)), 2000);
  EXPECT_EQ(Get(m, kCapacity), 3000);
  EXPECT_EQ(Get(m, kAllocated), 2500);
  EXPECT_EQ(Get(m, kFree), 500);
  EXPECT_EQ(Get(m, Pending("alpha")), 1);
  EXPECT_EQ(Get(m, Pending("beta")), 1);
  EXPECT_EQ(Get(m, Oldest("alpha")), 30);  // submitted 30 s ago
  EXPECT_EQ(Get(m, Oldest("beta")), 20);
  // Learned workload: 2 x whole (0.4), 300, 200, 800 (0.2 each). a's 500 free milli is
  // useless to the two-GPU kind and the 800 kind: 500 * (0.4 + 0.2) = 300 fragmented.
  EXPECT_NEAR(Get(m, kFragmented), 300, 1e-6);
  EXPECT_NEAR(Get(m, kFragRatio), 0.6, 1e-9);
  // Work: 1000 x 4 (b's and the waiting job), 800, 300, 200 on 3 GPUs: at most 3000.
  EXPECT_NEAR(Get(m, kLpBound), 3000, 1e-3);
  EXPECT_NEAR(Get(m, kOverLp), 2500.0 / 3000, 1e-6);
  EXPECT_EQ(Get(m, "fastgpu_reconciler_passes_total"), cp.server().reconciler().passes());

  // The 300 job ends: beta's 800 job now fits on a, in the same second. The pool gauges
  // follow at once; fragmentation is not recomputed within 5 s.
  Reply hb = a.Heartbeat();
  const std::string three = AllocWithMilli(hb, 300);
  ASSERT_FALSE(three.empty()) << hb.raw;
  a.Heartbeat(json::array{ReplicaReportJson(three, "exited", 0)});
  cp.Reconcile();
  m = Scrape(cp);
  EXPECT_EQ(Get(m, Gpu(a, 0)), 1000);
  EXPECT_EQ(Get(m, kAllocated), 3000);
  EXPECT_EQ(Get(m, kFree), 0);
  EXPECT_EQ(Get(m, Pending("beta")), 0);
  EXPECT_EQ(Get(m, Oldest("beta")), 0);
  EXPECT_EQ(Get(m, Pending("alpha")), 1);
  EXPECT_NEAR(Get(m, kFragmented), 300, 1e-6);  // as of the pass before

  cp.clock().Advance(PoolObserver::kFragmentationEvery);
  b.Heartbeat();
  a.Heartbeat();
  cp.Reconcile();
  m = Scrape(cp);
  EXPECT_EQ(Get(m, kFragmented), 0);  // nothing free, nothing fragmented
  EXPECT_EQ(Get(m, kFragRatio), 0);
  EXPECT_EQ(Get(m, Oldest("alpha")), 35);
  EXPECT_NEAR(Get(m, kLpBound), 3000, 1e-3);

  // The waiting job is cancelled and b's job ends: nothing is pending, so the pass reads
  // the pool itself (at most every 5 s). The work (800 + 200 on 3 GPUs) changed, but the LP
  // bound is recomputed only a minute after the last: then 1000, all of it allocated.
  ASSERT_EQ(cp.Do("POST", "/v1/jobs/" + waits + "/cancel", alpha).status, 200);
  cp.clock().Advance(PoolObserver::kIdleRefresh);
  hb = b.Heartbeat();
  json::array ended;
  for (const std::string& id : b.Allocations(hb)) {
    ended.push_back(ReplicaReportJson(id, "exited", 0));
  }
  ASSERT_EQ(ended.size(), 1u) << hb.raw;
  b.Heartbeat(ended);
  a.Heartbeat();
  cp.Reconcile();
  m = Scrape(cp);
  EXPECT_EQ(Get(m, Pending("alpha")), 0);
  EXPECT_EQ(Get(m, Oldest("alpha")), 0);
  EXPECT_EQ(Get(m, Gpu(b, 0)), 0);
  EXPECT_EQ(Get(m, Gpu(b, 1)), 0);
  EXPECT_EQ(Get(m, Node(b)), 0);
  EXPECT_EQ(Get(m, Node(a)), 1000);
  EXPECT_EQ(Get(m, kAllocated), 1000);
  EXPECT_EQ(Get(m, kFree), 2000);
  EXPECT_NEAR(Get(m, kLpBound), 3000, 1e-3);  // within the minute
  EXPECT_NEAR(Get(m, kOverLp), 1000.0 / 3000, 1e-6);

  cp.clock().Advance(PoolObserver::kLpBoundEvery);
  b.Heartbeat();
  a.Heartbeat();
  cp.Reconcile();
  m = Scrape(cp);
  EXPECT_NEAR(Get(m, kLpBound), 1000, 1e-3);
  EXPECT_NEAR(Get(m, kOverLp), 1.0, 1e-6);
  EXPECT_EQ(Get(m, "fastgpu_reconciler_passes_total"), cp.server().reconciler().passes());
  EXPECT_EQ(Get(m, "fastgpu_reconciler_pass_seconds_count"), cp.server().reconciler().passes());
}

}  // namespace
}  // namespace fastgpu::server::testing

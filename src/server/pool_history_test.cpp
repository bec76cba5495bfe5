// The pool history (pool_history.h): the ring buffer, the sample of a snapshot, the sampler
// on a ManualClock, and GET /v1/pool/history over loopback HTTP.
#include "server/pool_history.h"

#include <gtest/gtest.h>

#include <thread>

#include "server/metrics.h"
#include "server/server_test_util.h"

namespace fastgpu::server::testing {
namespace {

PoolSample At(int64_t ms) {
  PoolSample s;
  s.at_ms = ms;
  s.allocated_milli = ms;
  return s;
}

TEST(PoolHistoryTest, KeepsTheNewestSamplesUpToItsCapacity) {
  PoolHistory h(3);
  for (int64_t t = 1; t <= 5; ++t) h.Add(At(t * 10));
  std::vector<PoolSample> all = h.Since(0, 100);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].at_ms, 30);
  EXPECT_EQ(all[2].at_ms, 50);
  EXPECT_EQ(PoolHistory(0).capacity(), 1u);
}

TEST(PoolHistoryTest, SinceIsInclusiveAndLimitKeepsTheNewest) {
  PoolHistory h(100);
  for (int64_t t = 1; t <= 10; ++t) h.Add(At(t * 10));
  std::vector<PoolSample> since = h.Since(40, 100);
  ASSERT_EQ(since.size(), 7u);
  EXPECT_EQ(since.front().at_ms, 40);
  EXPECT_TRUE(h.Since(101, 100).empty());
  std::vector<PoolSample> newest = h.Since(0, 2);
  ASSERT_EQ(newest.size(), 2u);
  EXPECT_EQ(newest[0].at_ms, 90);
  EXPECT_EQ(newest[1].at_ms, 100);
}

TEST(PoolHistoryTest, SampleOfSumsPendingAndWaitsForAMeasure) {
  PoolSnapshot snap;
  EXPECT_FALSE(SampleOf(snap, 5).has_value());  // no pass measured the pool yet
  snap.allocation = std::make_shared<AllocationGauges>();
  snap.capacity_milli = 4000;
  snap.allocated_milli = 1500;
  snap.free_milli = 2500;
  snap.fragmentation_ratio = 0.25;
  snap.pending_by_tenant["a"] = {2, 30.0};
  snap.pending_by_tenant["b"] = {3, 90.0};
  std::optional<PoolSample> s = SampleOf(snap, 5);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->at_ms, 5);
  EXPECT_EQ(s->pending_jobs, 5);
  EXPECT_EQ(s->oldest_pending_seconds, 90.0);
  json::object o = PoolSampleToJson(*s);
  EXPECT_EQ(o.at("capacity_milli").as_int64(), 4000);
  EXPECT_EQ(o.at("fragmentation_ratio").as_double(), 0.25);
  EXPECT_TRUE(o.at("fragmented_milli").is_null());
}

TEST(PoolSamplerTest, SamplesEveryIntervalOfItsClock) {
  ManualClock clock;
  Metrics metrics;
  PoolHistory history(10);
  PoolSampler sampler(metrics, clock, history, std::chrono::seconds(10));
  sampler.Start();
  ASSERT_TRUE(clock.AwaitWaiters(1));
  clock.Advance(std::chrono::seconds(10));  // nothing measured yet: nothing recorded
  ASSERT_TRUE(clock.AwaitWaiters(1));
  EXPECT_TRUE(history.Since(0, 100).empty());
  PoolSnapshot snap;
  snap.allocation = std::make_shared<AllocationGauges>();
  snap.allocated_milli = 700;
  metrics.SetPool(snap);
  for (int i = 1; i <= 3; ++i) {
    clock.Advance(std::chrono::seconds(10));
    ASSERT_TRUE(clock.AwaitWaiters(1));
  }
  std::vector<PoolSample> got = history.Since(0, 100);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].allocated_milli, 700);
  EXPECT_EQ(got[1].at_ms - got[0].at_ms, 10000);
  sampler.Stop();
  EXPECT_EQ(clock.Waiters(), 0);
}

TEST(PoolHistoryApiTest, AnswersTheSamplesSinceAGivenTime) {
  ServerOptions options;
  options.pool_history_interval = std::chrono::seconds(5);
  TestControlPlane cp(nullptr, options);
  SimAgent agent(cp, "a1", 2);
  const std::string alice = cp.NewTenantToken("alice");
  Reply job = cp.Do("POST", "/v1/jobs", alice,
                    R"({"command":["true"],"shape":{"gpu_count":1,"gpu_milli":500}})");
  ASSERT_EQ(job.status, 201) << job.raw;
  cp.Reconcile();  // places the job and measures the pool
  const int64_t start = cp.clock().NowUnixMillis();
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(cp.clock().AwaitWaiters(1));
    cp.clock().Advance(std::chrono::seconds(5));
  }
  ASSERT_TRUE(cp.clock().AwaitWaiters(1));              // the fourth sample is recorded
  Reply all = cp.Do("GET", "/v1/pool/history", alice);  // any tenant may read it
  ASSERT_EQ(all.status, 200) << all.raw;
  EXPECT_EQ(all.body.at("interval_ms").as_int64(), 5000);
  EXPECT_EQ(all.body.at("capacity").as_int64(), 8640);
  EXPECT_EQ(all.body.at("now").as_int64(), start + 20000);
  const json::array& samples = all.body.at("samples").as_array();
  ASSERT_EQ(samples.size(), 4u) << all.raw;
  const json::object& first = samples[0].as_object();
  EXPECT_EQ(first.at("at").as_int64(), start + 5000);
  EXPECT_EQ(first.at("capacity_milli").as_int64(), 2000);
  EXPECT_EQ(first.at("allocated_milli").as_int64(), 500);
  EXPECT_EQ(first.at("free_milli").as_int64(), 1500);
  Reply later = cp.Do("GET", "/v1/pool/history?since=" + std::to_string(start + 15000), alice);
  ASSERT_EQ(later.status, 200);
  EXPECT_EQ(later.body.at("samples").as_array().size(), 2u);
  EXPECT_EQ(cp.Do("GET", "/v1/pool/history?since=-1", alice).status, 400);
  EXPECT_EQ(cp.Do("GET", "/v1/pool/history?limit=0", alice).status, 400);
  EXPECT_EQ(cp.Do("GET", "/v1/pool/history", "").status, 401);
}

}  // namespace
}  // namespace fastgpu::server::testing

#include "sim/simulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "scheduler/policy.h"

namespace fastgpu::sim {
namespace {

std::string TraceDir() { return FASTGPU_TRACE_DIR; }

bool HaveTrace() {
  return std::filesystem::exists(TraceDir() + "/openb_node_list_gpu_node.csv") &&
         std::filesystem::exists(TraceDir() + "/openb_pod_list_default.csv");
}

TEST(DrawArrivalsTest, ShufflesAllThenAppendsUpToTheLimit) {
  std::vector<TracePod> pods;
  for (int i = 0; i < 20; ++i) {
    TracePod p;
    p.name = "p" + std::to_string(100 + i);
    p.shape.gpu_count = 1;
    p.shape.gpu_milli = 500;
    p.shape.cpu_milli = 1000;
    pods.push_back(p);
  }
  // 20 x 500 = 10,000 milli on a 10-GPU cluster; 1.3 x 10,000 = 13,000: 6 more draws.
  std::vector<int> order = DrawArrivals(pods, 10000, 1.3, 1);
  ASSERT_EQ(order.size(), 26u);
  std::vector<int> first(order.begin(), order.begin() + 20);
  std::sort(first.begin(), first.end());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(first[i], i);
  EXPECT_EQ(DrawArrivals(pods, 10000, 1.3, 1), order);
  EXPECT_NE(DrawArrivals(pods, 10000, 1.3, 2), order);
}

TracePod Pod(const std::string& name, int gpu_milli) {
  TracePod p;
  p.name = name;
  p.shape.gpu_count = 1;
  p.shape.gpu_milli = gpu_milli;
  p.shape.cpu_milli = 1000;
  return p;
}

TEST(ListedArrivalsTest, EachPodOnceInTheListedOrderAsIndexesIntoTheNameOrder) {
  std::vector<TracePod> pods{Pod("c", 100), Pod("a", 200), Pod("b", 300), Pod("a", 400)};
  std::vector<TracePod> sorted = SortedByName(pods);
  ASSERT_EQ(sorted.size(), 4u);
  EXPECT_EQ(sorted[0].shape.gpu_milli, 200);  // stable: the first "a" first
  EXPECT_EQ(sorted[1].shape.gpu_milli, 400);
  std::vector<int> order = ListedArrivals(pods);
  EXPECT_EQ(order, (std::vector<int>{3, 0, 2, 1}));
  for (size_t i = 0; i < pods.size(); ++i) {
    EXPECT_EQ(sorted[order[i]].name, pods[i].name);
    EXPECT_EQ(sorted[order[i]].shape, pods[i].shape);
  }
  SimOptions options;
  options.arrivals = ArrivalOrder::kAsListed;
  EXPECT_EQ(ArrivalsFor(pods, 1000, options, 7), order);
  options.arrivals = ArrivalOrder::kDrawn;
  EXPECT_EQ(ArrivalsFor(pods, 1000, options, 7), DrawArrivals(sorted, 1000, 1.3, 7));
  EXPECT_EQ(*ParseArrivalOrder("as-listed"), ArrivalOrder::kAsListed);
  EXPECT_EQ(*ParseArrivalOrder("drawn"), ArrivalOrder::kDrawn);
  EXPECT_FALSE(ParseArrivalOrder("shuffled").ok());
  EXPECT_EQ(ArrivalOrderName(ArrivalOrder::kAsListed), "as-listed");
}

// One GPU; in file order z (0.6) fits, a (0.6) does not, m (0.4) fills the GPU. In name
// order (a, m, z) the failure would come last, at 1.6 x capacity, and drawn orders add
// nothing past 1.3.
TEST(SimulateTest, AsListedReplaysEachPodOnceInTheFileOrder) {
  std::vector<TraceNode> nodes{{"n0", 8000, 8192, 1, "T4"}};
  std::vector<TracePod> pods{Pod("z", 600), Pod("a", 600), Pod("m", 400)};
  SimOptions options;
  options.arrivals = ArrivalOrder::kAsListed;
  options.seeds = 3;
  Result<SimReport> report = Simulate(nodes, pods, {"best-fit"}, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->options.arrivals, ArrivalOrder::kAsListed);
  const PolicyResult& r = report->policies.at(0);
  EXPECT_DOUBLE_EQ(r.arrivals, 3);
  EXPECT_DOUBLE_EQ(r.failures, 1);
  ASSERT_TRUE(r.first_failure_arrival.has_value());
  EXPECT_NEAR(*r.first_failure_arrival, 1.2, 1e-9);
  EXPECT_NEAR(r.alloc_share_final, 1.0, 1e-9);
  // The curve: 0.6 allocated at 60%, still 0.6 at 120%, full at 160% (beyond the curve).
  ASSERT_FALSE(r.curve.empty());
  EXPECT_EQ(r.curve.front().arrived_pct, 60);
  EXPECT_NEAR(r.curve.front().allocated, 0.6, 1e-9);
  EXPECT_EQ(r.curve.back().arrived_pct, 130);
  EXPECT_NEAR(r.curve.back().allocated, 0.6, 1e-9);
  EXPECT_NEAR(r.alloc_share_at_100, 0.6, 1e-9);
}

TEST(SimulateTest, RejectsUnknownPolicyAndBadOptions) {
  std::vector<TraceNode> nodes{{"n0", 8000, 8192, 1, "T4"}};
  std::vector<TracePod> pods(1);
  pods[0].name = "p";
  pods[0].shape.cpu_milli = 1000;
  EXPECT_EQ(Simulate(nodes, pods, {"nope"}, {}).status().code(), StatusCode::kInvalidArgument);
  SimOptions bad;
  bad.seeds = 0;
  EXPECT_FALSE(Simulate(nodes, pods, {"fgd"}, bad).ok());
}

// A slice of the real trace: first 50 nodes, 2 seeds, every policy. Checks facts that hold
// for any correct simulation, not which policy wins.
TEST(SimulateTest, SliceOfTheTraceGivesConsistentCurves) {
  if (!HaveTrace()) GTEST_SKIP() << "trace not found in " << TraceDir();
  Result<std::vector<TraceNode>> all = ReadNodeList(TraceDir() + "/openb_node_list_gpu_node.csv");
  Result<std::vector<TracePod>> pods = ReadPodList(TraceDir() + "/openb_pod_list_default.csv");
  ASSERT_TRUE(all.ok() && pods.ok());
  std::vector<TraceNode> nodes(all->begin(), all->begin() + 50);
  SimOptions options;
  options.seeds = 2;
  options.jobs = 2;
  int calls = 0;
  options.on_progress = [&calls](int, int) { ++calls; };
  Result<SimReport> report = Simulate(nodes, *pods, sched::PolicyNames(), options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(calls, 2 * static_cast<int>(sched::PolicyNames().size()));
  ASSERT_EQ(report->policies.size(), sched::PolicyNames().size());
  for (const PolicyResult& r : report->policies) {
    SCOPED_TRACE(r.policy);
    ASSERT_FALSE(r.curve.empty());
    EXPECT_EQ(r.curve.back().arrived_pct, 130);
    for (size_t i = 0; i < r.curve.size(); ++i) {
      const CurvePoint& c = r.curve[i];
      EXPECT_GE(c.allocated, 0);
      EXPECT_LE(c.allocated, 1 + 1e-9);
      EXPECT_LE(c.allocated, c.arrived_pct / 100.0 + 0.02);  // cannot allocate unarrived work
      EXPECT_NEAR(c.allocated + c.unallocated, 1, 1e-9);
      EXPECT_GE(c.fragmented, 0);
      EXPECT_LE(c.fragmented, c.unallocated + 1e-9);
      if (i > 0) EXPECT_GT(c.arrived_pct, r.curve[i - 1].arrived_pct);
      if (i > 0) EXPECT_GE(c.allocated, r.curve[i - 1].allocated - 1e-9);  // none departs
    }
    EXPECT_GT(r.alloc_share_at_100, 0.5);
    EXPECT_LE(r.alloc_share_final, 1);
    EXPECT_EQ(r.alloc_share_at_100_per_seed.size(), 2u);
    ASSERT_TRUE(r.first_failure_arrival.has_value());  // 130% of capacity cannot all fit
    EXPECT_GT(r.failures, 0);
    EXPECT_GT(r.placements_per_second, 0);
  }
}

TEST(SimulateTest, SameSeedsGiveSameResultsWhateverTheThreads) {
  if (!HaveTrace()) GTEST_SKIP() << "trace not found in " << TraceDir();
  Result<std::vector<TraceNode>> all = ReadNodeList(TraceDir() + "/openb_node_list_gpu_node.csv");
  Result<std::vector<TracePod>> pods = ReadPodList(TraceDir() + "/openb_pod_list_default.csv");
  ASSERT_TRUE(all.ok() && pods.ok());
  std::vector<TraceNode> nodes(all->begin(), all->begin() + 30);
  SimOptions one, two;
  one.seeds = two.seeds = 2;
  two.jobs = 2;
  Result<SimReport> a = Simulate(nodes, *pods, {"fgd", "fastgpu"}, one);
  Result<SimReport> b = Simulate(nodes, *pods, {"fgd", "fastgpu"}, two);
  ASSERT_TRUE(a.ok() && b.ok());
  for (size_t p = 0; p < 2; ++p) {
    EXPECT_EQ(a->policies[p].alloc_share_at_100_per_seed,
              b->policies[p].alloc_share_at_100_per_seed);
    EXPECT_EQ(a->policies[p].alloc_share_final, b->policies[p].alloc_share_final);
  }
}

}  // namespace
}  // namespace fastgpu::sim

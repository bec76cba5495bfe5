// The ilp-batch placer and the LP bound hook, driven through the sim's registry.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "sim/batch_policy.h"
#include "sim/simulator.h"
#include "sim/trace.h"

namespace fastgpu::sim {
namespace {

std::vector<TraceNode> Nodes() {
  std::vector<TraceNode> nodes;
  for (int n = 0; n < 30; ++n) {
    nodes.push_back(
        {"node-" + std::to_string(n), 32000, 131072, n % 3 == 0 ? 8 : 4, n % 4 == 0 ? "T4" : "G2"});
  }
  return nodes;
}

std::vector<TracePod> Pods() {
  std::mt19937 rng(3);
  std::vector<TracePod> pods;
  for (int i = 0; i < 300; ++i) {
    TracePod p;
    p.name = "pod-" + std::to_string(1000 + i);
    p.shape.cpu_milli = 1000 * (1 + rng() % 6);
    p.shape.memory_mib = 1024 * (1 + rng() % 8);
    const uint32_t kind = rng() % 10;
    if (kind < 6) {
      p.shape.gpu_count = 1;
      p.shape.gpu_milli = 50 * (2 + static_cast<int>(rng() % 17));
    } else if (kind < 9) {
      p.shape.gpu_count = 1 + static_cast<int>(rng() % 2);
      p.shape.gpu_milli = 1000;
    }
    pods.push_back(p);
  }
  return pods;
}

TEST(IlpBatchTest, RegisteredWithTheSimulator) {
  std::vector<std::string> names = BatchPlacerNames();
  EXPECT_NE(std::find(names.begin(), names.end(), "ilp-batch"), names.end());
  EXPECT_TRUE(static_cast<bool>(GetLpUpperBoundHook()));
}

TEST(IlpBatchTest, UnknownBatchPlacerIsNotFoundAndListsTheKnownOnes) {
  Result<std::unique_ptr<BatchPlacer>> placer = MakeBatchPlacer("nope", BatchOptions{});
  EXPECT_EQ(placer.status().code(), StatusCode::kNotFound);
  EXPECT_NE(placer.status().message().find("'nope'"), std::string::npos);
  EXPECT_NE(placer.status().message().find("known: ilp-batch"), std::string::npos)
      << placer.status();
}

TEST(IlpBatchTest, PlacesABatchWithoutOverCommitAndBeatsOneByOne) {
  sched::Cluster cluster = BuildCluster(Nodes());
  BatchOptions options;
  options.time_limit_seconds = 2;
  Result<std::unique_ptr<BatchPlacer>> placer = MakeBatchPlacer("ilp-batch", options);
  ASSERT_TRUE(placer.ok()) << placer.status();
  std::vector<sched::Request> requests;
  for (const TracePod& p : Pods()) requests.push_back({p.name, p.shape, 1});
  requests.resize(64);
  auto answer = (*placer)->PlaceBatch(cluster, requests);
  ASSERT_EQ(answer.size(), requests.size());
  int64_t placed_milli = 0;
  for (size_t r = 0; r < answer.size(); ++r) {
    if (!answer[r]) continue;
    Status s = cluster.Apply(*answer[r]);  // fails if the batch over-commits
    ASSERT_TRUE(s.ok()) << "request " << r << ": " << s;
    placed_milli += requests[r].shape.TotalGpuMilli();
  }
  // The default online policy on the same batch, one request after the other.
  sched::Cluster online = BuildCluster(Nodes());
  auto policy = sched::MakePolicy(sched::kDefaultPolicy, {});
  ASSERT_TRUE(policy.ok());
  int64_t online_milli = 0;
  for (const sched::Request& r : requests) {
    auto p = (*policy)->Place(online, r.shape);
    if (p.ok() && online.Apply(*p).ok()) online_milli += r.shape.TotalGpuMilli();
  }
  EXPECT_GE(placed_milli, online_milli);
  EXPECT_EQ(placed_milli, cluster.TotalGpuMilli() - cluster.FreeGpuMilli());
}

TEST(IlpBatchTest, SimulationReportsABoundAboveEveryPolicy) {
  SimOptions options;
  options.seeds = 1;
  options.batch_size = 32;
  options.batch_time_limit_seconds = 0.2;
  Result<SimReport> report = Simulate(Nodes(), Pods(), {"best-fit", "ilp-batch"}, options);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_TRUE(report->lp_upper_bound.has_value());
  EXPECT_GT(*report->lp_upper_bound, 0.5);
  EXPECT_LE(*report->lp_upper_bound, 1.0 + 1e-9);
  for (const PolicyResult& p : report->policies) {
    EXPECT_GT(p.alloc_share_at_100, 0.3) << p.policy;
    // The bound holds at 100% arrival for every policy (its recorded events up to 100%
    // include no more work than the bound's).
    EXPECT_LE(p.alloc_share_at_100, *report->lp_upper_bound + 1e-9) << p.policy;
  }
}

}  // namespace
}  // namespace fastgpu::sim

// The LP bound hook, and the ilp-batch placer driven through the simulator.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "placer/batch_placers.h"
#include "sim/lp_bound.h"
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
  std::vector<std::string> names = placer::BatchPlacerNames();
  EXPECT_NE(std::find(names.begin(), names.end(), "ilp-batch"), names.end());
  EXPECT_TRUE(static_cast<bool>(GetLpUpperBoundHook()));
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

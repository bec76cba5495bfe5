// The configuration-LP bound on the Alibaba trace at 100% arrival, per pod list, over
// 10 seeds, compared with the ranges of the placement-headroom research note (about a
// second in all). Skips when the trace folder is absent.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "optimizer/config_lp.h"
#include "sim/trace.h"

namespace fastgpu::opt {
namespace {

using sim::TracePod;

// Arrival order per the research note: the name-sorted list shuffled with the seed, then
// draws with replacement appended until the next draw's per-GPU milli would push the
// arrived total past 1.3 x capacity. Returns the tasks arrived when the arrived GPU milli
// first reaches the capacity (100% arrival).
std::vector<model::Shape> ArrivedAt100(std::vector<TracePod> pods, int64_t capacity_milli,
                                       uint64_t seed) {
  std::sort(pods.begin(), pods.end(),
            [](const TracePod& a, const TracePod& b) { return a.name < b.name; });
  std::mt19937_64 rng(seed);
  std::vector<const TracePod*> order;
  for (const TracePod& p : pods) order.push_back(&p);
  std::shuffle(order.begin(), order.end(), rng);
  int64_t total = 0;
  for (const TracePod* p : order) total += p->shape.TotalGpuMilli();
  while (true) {
    const TracePod& p = pods[rng() % pods.size()];
    if (total + p.shape.gpu_milli > capacity_milli * 13 / 10) break;
    total += p.shape.TotalGpuMilli();
    order.push_back(&p);
  }
  std::vector<model::Shape> arrived;
  int64_t arrived_milli = 0;
  for (const TracePod* p : order) {
    if (arrived_milli >= capacity_milli) break;
    arrived.push_back(p->shape);
    arrived_milli += p->shape.TotalGpuMilli();
  }
  return arrived;
}

struct ListCase {
  const char* list;
  double low_percent;  // the note's range of the relaxed optimum
  double high_percent;
};

class LpBoundTraceTest : public ::testing::TestWithParam<ListCase> {};

TEST_P(LpBoundTraceTest, BoundAt100PercentArrival) {
  const std::string dir = FASTGPU_TRACE_DIR;
  const std::string node_list = dir + "/openb_node_list_gpu_node.csv";
  if (!std::filesystem::exists(node_list)) GTEST_SKIP() << "no trace at " << dir;
  Result<std::vector<sim::TraceNode>> nodes = sim::ReadNodeList(node_list);
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  int64_t gpus = 0;
  for (const sim::TraceNode& node : *nodes) gpus += node.gpu_count;
  Result<std::vector<TracePod>> pods =
      sim::ReadPodList(dir + "/openb_pod_list_" + GetParam().list + ".csv");
  ASSERT_TRUE(pods.ok()) << pods.status();
  ASSERT_FALSE(pods->empty());
  double sum = 0, low = 100, high = 0;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    std::vector<model::Shape> arrived = ArrivedAt100(*pods, gpus * 1000, seed);
    Result<ConfigLpBound> b = GpuConfigLpBound(gpus, ItemsFromShapes(arrived));
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_TRUE(b->converged);
    const double percent = 100 * b->UpperBoundShare();
    std::printf("%s seed %2llu: tasks %zu, bound %.3f%% (primal %.3f%%, %d iterations)\n",
                GetParam().list, static_cast<unsigned long long>(seed), arrived.size(), percent,
                100 * b->primal_milli / static_cast<double>(b->capacity_milli), b->iterations);
    sum += percent;
    low = std::min(low, percent);
    high = std::max(high, percent);
  }
  std::printf("%s: mean %.2f%%, min %.2f%%, max %.2f%% (note: %.2f-%.2f)\n", GetParam().list,
              sum / 10, low, high, GetParam().low_percent, GetParam().high_percent);
  // A valid bound is not below the relaxed optimum; a tight one is not far above it.
  EXPECT_GE(sum / 10, GetParam().low_percent - 0.1);
  EXPECT_LE(sum / 10, GetParam().high_percent + 0.5);
}

INSTANTIATE_TEST_SUITE_P(
    PodLists, LpBoundTraceTest,
    ::testing::Values(ListCase{"default", 96.77, 96.98}, ListCase{"gpushare40", 95.65, 95.73},
                      ListCase{"gpushare80", 91.20, 91.47}, ListCase{"multigpu20", 97.23, 97.45},
                      ListCase{"multigpu50", 98.34, 98.54}, ListCase{"gpuspec10", 96.77, 96.98},
                      ListCase{"cpu050", 96.79, 97.00}),
    [](const auto& info) { return std::string(info.param.list); });

}  // namespace
}  // namespace fastgpu::opt

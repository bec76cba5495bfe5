#include "optimizer/config_lp.h"

#include <gtest/gtest.h>

#include <random>

#include "optimizer/batch_ilp.h"

namespace fastgpu::opt {
namespace {

double Bound(int64_t gpus, const std::map<int, int64_t>& items) {
  Result<ConfigLpBound> r = GpuConfigLpBound(gpus, items);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return -1;
  EXPECT_TRUE(r->converged);
  EXPECT_NEAR(r->upper_bound_milli, r->primal_milli, 1e-3);
  return r->upper_bound_milli;
}

TEST(ConfigLpTest, PerfectPairsFillEveryGpu) {
  EXPECT_NEAR(Bound(2, {{600, 2}, {400, 2}}), 2000, 1e-6);
}

TEST(ConfigLpTest, ItemsThatCannotShareAGpuAreBounded) {
  // Two 600s never share a GPU: 2 GPUs hold at most 1200, though demand is 1800.
  EXPECT_NEAR(Bound(2, {{600, 3}}), 1200, 1e-6);
  // One 510 + 490 pair fills a GPU; the other GPU holds one 510.
  EXPECT_NEAR(Bound(2, {{510, 3}, {490, 1}}), 1510, 1e-6);
}

TEST(ConfigLpTest, AtMostTwoLargeItemsPerGpu) {
  // Three 400s on 2 GPUs: two fit one GPU, three items in all -> 1200.
  EXPECT_NEAR(Bound(2, {{400, 3}}), 1200, 1e-6);
  // 3 items of 350 on 1 GPU: at most 2 per GPU -> 700.
  EXPECT_NEAR(Bound(1, {{350, 3}}), 700, 1e-6);
}

TEST(ConfigLpTest, WholeGpusAndCapacity) {
  EXPECT_NEAR(Bound(3, {{1000, 5}}), 3000, 1e-6);
  EXPECT_NEAR(Bound(10, {{1000, 5}}), 5000, 1e-6);
  EXPECT_NEAR(Bound(0, {{1000, 5}}), 0, 1e-6);
  EXPECT_NEAR(Bound(4, {}), 0, 1e-6);
}

TEST(ConfigLpTest, BoundsTheExactOptimumOnRandomInstances) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 5; ++trial) {
    const int gpus = 3;
    IlpProblem p;
    IlpNode node;
    node.model = "G2";
    node.free_cpu_milli = 1000000;
    node.free_memory_mib = 1000000;
    for (int g = 0; g < gpus; ++g) node.gpus.push_back({1000, 0, true});
    p.nodes.push_back(node);
    std::vector<model::Shape> shapes;
    for (int i = 0; i < 9; ++i) {
      model::Shape s;
      s.gpu_count = 1;
      s.gpu_milli = 100 + 50 * static_cast<int>(rng() % 17);
      if (s.gpu_milli >= 1000) s.gpu_milli = 1000;
      shapes.push_back(s);
      p.requests.push_back({s, 1});
    }
    Result<IlpSolution> exact = SolveBatch(p, {.time_limit_s = 10});
    ASSERT_TRUE(exact.ok());
    ASSERT_EQ(exact->status, IlpStatus::kOptimal);
    const double bound = Bound(gpus, ItemsFromShapes(shapes));
    EXPECT_GE(bound + 1e-6, static_cast<double>(exact->objective)) << "trial " << trial;
    int64_t demand = 0;
    for (const model::Shape& s : shapes) demand += s.TotalGpuMilli();
    EXPECT_LE(bound, static_cast<double>(std::min<int64_t>(demand, gpus * 1000)) + 1e-6);
  }
}

TEST(ConfigLpTest, DualBoundValidWhenStoppedEarly) {
  std::map<int, int64_t> items;
  for (int s = 110; s <= 990; s += 40) items[s] = 7;
  Result<ConfigLpBound> full = GpuConfigLpBound(40, items);
  ASSERT_TRUE(full.ok());
  Result<ConfigLpBound> early = GpuConfigLpBound(40, items, {.max_iterations = 2});
  ASSERT_TRUE(early.ok());
  EXPECT_FALSE(early->converged);
  EXPECT_GE(early->upper_bound_milli + 1e-6, full->upper_bound_milli);
  EXPECT_LE(early->primal_milli, full->primal_milli + 1e-6);
}

TEST(ConfigLpTest, ItemsFromShapes) {
  model::Shape frac;
  frac.gpu_count = 1;
  frac.gpu_milli = 250;
  model::Shape whole;
  whole.gpu_count = 4;
  whole.gpu_milli = 1000;
  model::Shape cpu;
  cpu.cpu_milli = 1000;
  auto items = ItemsFromShapes({frac, frac, whole, cpu});
  EXPECT_EQ(items, (std::map<int, int64_t>{{250, 2}, {1000, 4}}));
}

TEST(ConfigLpTest, RefusesBadInput) {
  EXPECT_FALSE(GpuConfigLpBound(-1, {}).ok());
  EXPECT_FALSE(GpuConfigLpBound(2, {{0, 1}}).ok());
  EXPECT_FALSE(GpuConfigLpBound(2, {{1001, 1}}).ok());
  EXPECT_FALSE(GpuConfigLpBound(2, {{500, -1}}).ok());
}

}  // namespace
}  // namespace fastgpu::opt

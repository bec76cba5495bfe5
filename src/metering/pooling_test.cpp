#include "metering/pooling.h"

#include <gtest/gtest.h>

namespace fastgpu::metering {
namespace {

TEST(PoolingTest, FractionsPayTheirShareDedicatedPaysWholeGpus) {
  PriceTable p;
  p.gpu_hour_millicents["A10"] = 100'000;  // $1 per GPU-hour
  std::vector<PlacedTask> tasks = {
      {"A10", 1, 250, 0, 0, 3600},   // a quarter GPU for an hour
      {"A10", 2, 1000, 0, 0, 1800},  // two GPUs for half an hour
      {"", 0, 0, 4000, 0, 3600},     // CPU-only, free here
  };
  auto c = CostOfTasks(tasks, p);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->pooled_cents, 125);
  EXPECT_EQ(c->dedicated_cents, 200);
  EXPECT_DOUBLE_EQ(c->pooled_gpu_hours, 1.25);
  EXPECT_DOUBLE_EQ(c->dedicated_gpu_hours, 2.0);
  EXPECT_DOUBLE_EQ(c->GpuHourSaving(), 0.375);
}

TEST(PoolingTest, BadInput) {
  PriceTable p;
  EXPECT_FALSE(CostOfTasks({{"A10", 1, 250, 0, 0, -1}}, p).ok());
  EXPECT_FALSE(CostOfTasks({{"A10", 1, 2500, 0, 0, 1}}, p).ok());
  EXPECT_EQ(CostOfTasks({}, p)->GpuHourSaving(), 0.0);
}

}  // namespace
}  // namespace fastgpu::metering

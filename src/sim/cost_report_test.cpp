#include "sim/cost_report.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace fastgpu::sim {
namespace {

metering::PriceTable Prices() {
  metering::PriceTable p;
  p.gpu_hour_millicents["A"] = 360'000;  // $3.60 per GPU-hour: 0.1 cent per GPU-second
  p.gpu_hour_millicents["B"] = 720'000;
  return p;
}

TEST(CostReportTest, ParsesLifetimesByHeader) {
  auto l = ParsePodLifetimes("deletion_time,name,creation_time\n100,p1,10\n,p2,5\n", "pods.csv");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->at("p1").creation_s, 10);
  EXPECT_EQ(l->at("p1").deletion_s, 100);
  EXPECT_EQ(l->at("p2").deletion_s, -1);
  auto bad = ParsePodLifetimes("name,creation_time,deletion_time\np1,x,3\n", "pods.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("pods.csv:2"), std::string::npos);
  EXPECT_FALSE(ParsePodLifetimes("name,creation_time\n", "pods.csv").ok());
}

TEST(CostReportTest, PoolingPaysSharesAndDedicatedPaysWholeGpus) {
  // One node of 1 GPU of model A: two half-GPU pods share it, one after the other a third.
  std::vector<TraceNode> nodes{{"n1", 8000, 16384, 1, "A"}};
  auto pod = [](std::string name, int milli) {
    TracePod p;
    p.name = std::move(name);
    p.shape.gpu_count = 1;
    p.shape.gpu_milli = milli;
    p.shape.cpu_milli = 1000;
    return p;
  };
  std::vector<TracePod> pods{pod("p1", 500), pod("p2", 500), pod("p3", 500), pod("p4", 500),
                             pod("p5", 300)};
  std::map<std::string, PodLifetime> life{{"p1", {0, 1000}},
                                          {"p2", {0, 2000}},
                                          {"p3", {10, 500}},     // fits nowhere at 10 s
                                          {"p4", {1000, 3000}},  // takes p1's half at 1000 s
                                          {"p5", {5, 5}}};       // no lifetime: skipped
  auto c = CostOfTrace(nodes, pods, life, "best-fit", Prices());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->pods_billed, 3);
  EXPECT_EQ(c->pods_unplaced, 1);
  EXPECT_EQ(c->pods_skipped, 1);
  // Pooled: 0.5 x (1000 + 2000 + 2000) s x 0.1c = 250c; dedicated: 5000 s x 0.1c = 500c.
  EXPECT_EQ(c->cost.pooled_cents, 250);
  EXPECT_EQ(c->cost.dedicated_cents, 500);
  EXPECT_NEAR(c->cost.GpuHourSaving(), 0.5, 1e-9);
  auto j = TraceCostToJson(*c);
  EXPECT_EQ(j.at("pooled").as_string(), "$2.50");
  EXPECT_NE(TraceCostsToTable({*c}).find("best-fit"), std::string::npos);
  EXPECT_FALSE(CostOfTrace(nodes, pods, life, "no-such-policy", Prices()).ok());
}

TEST(CostReportTest, TheModelOfTheNodeSetsThePrice) {
  std::vector<TraceNode> nodes{{"n1", 8000, 16384, 1, "B"}};
  TracePod p;
  p.name = "p1";
  p.shape.gpu_count = 1;
  p.shape.gpu_milli = 1000;
  auto c = CostOfTrace(nodes, {p}, {{"p1", {0, 3600}}}, "first-fit", Prices());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->cost.pooled_cents, 720);
  EXPECT_EQ(c->cost.dedicated_cents, 720);
}

TEST(CostReportTest, AlibabaTraceHasASaving) {
  const std::string dir = FASTGPU_TRACE_DIR;
  if (!std::filesystem::exists(dir + "/openb_pod_list_gpushare40.csv")) GTEST_SKIP();
  auto nodes = ReadNodeList(dir + "/openb_node_list_gpu_node.csv");
  auto pods = ReadPodList(dir + "/openb_pod_list_gpushare40.csv");
  auto life = ReadPodLifetimes(dir + "/openb_pod_list_gpushare40.csv");
  ASSERT_TRUE(nodes.ok() && pods.ok() && life.ok());
  metering::PriceTable prices;
  prices.default_gpu_hour_millicents = 200'000;
  auto c = CostOfTrace(*nodes, *pods, *life, "best-fit", prices);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_GT(c->pods_billed, 7000);
  EXPECT_LT(c->cost.pooled_cents, c->cost.dedicated_cents);
  EXPECT_GT(c->cost.GpuHourSaving(), 0.05);
}

}  // namespace
}  // namespace fastgpu::sim

#include "sim/timeline.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace fastgpu::sim {
namespace {

TracePod Pod(std::string name, int gpus, int milli, int64_t cpu_milli = 1000) {
  TracePod p;
  p.name = std::move(name);
  p.shape.gpu_count = gpus;
  p.shape.gpu_milli = milli;
  p.shape.cpu_milli = cpu_milli;
  p.shape.memory_mib = 1024;
  return p;
}

TimelineOptions Options(int64_t boot = 120, int64_t scale_down = 600) {
  TimelineOptions o;
  o.boot_delay_s = boot;
  o.scale_down_after_s = scale_down;
  o.policy = "best-fit";
  return o;
}

constexpr double kEps = 1e-9;

TEST(TimelineTest, APodWaitsForTheBootAndTheNodeGoesAfterItIsEmpty) {
  std::vector<TraceNode> nodes{{"n0", 8000, 16384, 2, "A"}, {"n1", 8000, 16384, 2, "A"}};
  std::vector<TracePod> pods{Pod("p", 1, 1000)};
  std::map<std::string, PodLifetime> life{{"p", {0, 3600}}};
  auto r = RunTimeline(nodes, pods, life, Options());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->pods, 1);
  EXPECT_EQ(r->pods_placed, 1);
  EXPECT_EQ(r->pods_waited, 1);
  EXPECT_DOUBLE_EQ(r->wait_p50_s, 120);
  EXPECT_DOUBLE_EQ(r->wait_p99_s, 120);
  EXPECT_EQ(r->boots, 1);
  EXPECT_EQ(r->scale_downs, 1);
  EXPECT_NEAR(r->demand_gpu_hours, 1, kEps);
  EXPECT_NEAR(r->dedicated_gpu_hours, 1, kEps);
  EXPECT_NEAR(r->placed_demand_gpu_hours, (3600.0 - 120) / 3600, kEps);
  // Two GPUs from the boot at 0 until 600 s after the pod left at 3600.
  EXPECT_NEAR(r->provisioned_gpu_hours, 2 * 4200.0 / 3600, kEps);
  // The static cluster: both nodes for the span.
  EXPECT_NEAR(r->static_gpu_hours, 4, kEps);
  EXPECT_EQ(r->span_s, 3600);
}

TEST(TimelineTest, PodsArrivingDuringABootShareTheNodeBooting) {
  std::vector<TraceNode> nodes{{"n0", 8000, 16384, 1, "A"}, {"n1", 8000, 16384, 1, "A"}};
  std::vector<TracePod> pods{Pod("a", 1, 500), Pod("b", 1, 500)};
  std::map<std::string, PodLifetime> life{{"a", {0, 1000}}, {"b", {10, 1000}}};
  auto r = RunTimeline(nodes, pods, life, Options(120, 0));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->boots, 1);  // b waits for room on the node a started, not for a node of its own
  EXPECT_EQ(r->pods_placed, 2);
  EXPECT_DOUBLE_EQ(r->wait_max_s, 120);
  // One GPU from 0 to 1001 (looked at one second after it emptied).
  EXPECT_NEAR(r->provisioned_gpu_hours, 1001.0 / 3600, kEps);
  EXPECT_NEAR(r->demand_gpu_hours, (0.5 * 1000 + 0.5 * 990) / 3600, kEps);
}

// The pool is elastic, so the engine packs onto nodes holding work: with first-fit, which
// on a static pool takes the first node that fits (here the emptied x), a pod goes to the
// busy y instead and x is given back.
TEST(TimelineTest, APodGoesToANodeHoldingWorkNotToAnEmptyOne) {
  std::vector<TraceNode> nodes{{"n0", 32000, 65536, 2, "A"}, {"n1", 32000, 65536, 2, "A"}};
  // p1 takes both GPUs of x; p2 boots y; p1 leaves at 1000; p3 comes at 1100.
  std::vector<TracePod> pods{Pod("p1", 2, 1000), Pod("p2", 1, 1000), Pod("p3", 1, 1000)};
  std::map<std::string, PodLifetime> life{
      {"p1", {0, 1000}}, {"p2", {0, 5000}}, {"p3", {1100, 2000}}};
  TimelineOptions o = Options(10, 300);
  o.policy = "first-fit";
  auto r = RunTimeline(nodes, pods, life, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->boots, 2);
  EXPECT_EQ(r->pods_placed, 3);
  EXPECT_EQ(r->pods_waited, 2);  // p1 and p2 waited for the boots; p3 found room on y
  EXPECT_EQ(r->scale_downs, 2);  // x 300 s after p1 left, y 300 s after p2 left
  // x: 2 GPUs from 0 to 1300; y: 2 GPUs from 0 to 5300. With p3 on x (the static rule), x
  // would have stayed up to 2300: 2 * (2300 + 5300) GPU-seconds.
  EXPECT_NEAR(r->provisioned_gpu_hours, 2 * (1300.0 + 5300) / 3600, kEps);
  EXPECT_NEAR(r->demand_gpu_hours, (2 * 1000.0 + 5000 + 900) / 3600, kEps);
}

TEST(TimelineTest, ACpuHeavyPodGetsTheTypeWhoseShareOfItCostsLeast) {
  // Both types have 2 GPUs; the pod takes 80% of A's CPU but half of B's.
  std::vector<TraceNode> nodes{{"a0", 40000, 65536, 2, "A"}, {"b0", 64000, 65536, 2, "B"}};
  std::vector<TracePod> pods{Pod("p", 1, 1000, 32000)};
  std::map<std::string, PodLifetime> life{{"p", {0, 100}}};
  auto r = RunTimeline(nodes, pods, life, Options());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->groups.size(), 1u);
  EXPECT_EQ(r->groups[0].gpu_model, "B");
  // A light pod ties on its GPU share: the smaller type goes first.
  std::vector<TracePod> light{Pod("p", 1, 1000, 1000)};
  r = RunTimeline(nodes, light, life, Options());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->groups.size(), 1u);
  EXPECT_EQ(r->groups[0].gpu_model, "A");
}

TEST(TimelineTest, ThePriceTableChoosesTheTypeAndPricesThePool) {
  std::vector<TraceNode> nodes{{"a0", 8000, 16384, 1, "A"}, {"b0", 8000, 16384, 1, "B"}};
  std::vector<TracePod> pods{Pod("p", 1, 1000)};
  std::map<std::string, PodLifetime> life{{"p", {0, 3600}}};
  TimelineOptions o = Options(0, 0);
  metering::PriceTable prices;
  prices.gpu_hour_millicents["A"] = 400'000;  // $4 per GPU-hour
  prices.gpu_hour_millicents["B"] = 100'000;  // $1
  o.prices = prices;
  auto r = RunTimeline(nodes, pods, life, o);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->groups.size(), 1u);
  EXPECT_EQ(r->groups[0].gpu_model, "B");
  // B for 3601 s at $1 per hour; the static cluster, both nodes for 3600 s; the pod, 1 h of B.
  EXPECT_EQ(r->provisioned_cents, 100);
  EXPECT_EQ(r->static_cents, 500);
  EXPECT_EQ(r->demand_cents, 100);
}

TEST(TimelineTest, ATypeAtItsCountMakesPodsWaitForRoom) {
  std::vector<TraceNode> nodes{{"n0", 8000, 16384, 1, "A"}};
  std::vector<TracePod> pods{Pod("a", 1, 1000), Pod("b", 1, 1000)};
  std::map<std::string, PodLifetime> life{{"a", {0, 1000}}, {"b", {500, 3000}}};
  auto r = RunTimeline(nodes, pods, life, Options(120, 60));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->boots, 1);
  EXPECT_EQ(r->pods_placed, 2);
  EXPECT_DOUBLE_EQ(r->wait_max_s, 500);  // b got the GPU when a left at 1000
  EXPECT_EQ(r->groups[0].peak_nodes, 1);
}

TEST(TimelineTest, ABootNobodyWaitsForIsCancelled) {
  // a holds the only ready GPU; b starts a second node at 500, then a leaves at 560 and b
  // takes its GPU: the second node is given back at once, after 60 s of booting.
  std::vector<TraceNode> nodes{{"n0", 8000, 16384, 1, "A"}, {"n1", 8000, 16384, 1, "A"}};
  std::vector<TracePod> pods{Pod("a", 1, 1000), Pod("b", 1, 1000)};
  std::map<std::string, PodLifetime> life{{"a", {0, 560}}, {"b", {500, 2000}}};
  auto r = RunTimeline(nodes, pods, life, Options(120, 600));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->boots, 2);
  EXPECT_EQ(r->cancelled_boots, 1);
  EXPECT_DOUBLE_EQ(r->wait_max_s, 120);  // a waited for the first boot; b 60 s
  // The first node from 0 to 2600 (600 s after b left), the second for 60 s.
  EXPECT_NEAR(r->provisioned_gpu_hours, (2600.0 + 60) / 3600, kEps);
}

TEST(TimelineTest, APodNoTypeHoldsIsUnplaceableAndAPodGoneBeforeItsNodeNeverRan) {
  std::vector<TraceNode> nodes{{"n0", 8000, 16384, 2, "A"}};
  std::vector<TracePod> pods{Pod("big", 4, 1000), Pod("short", 1, 1000)};
  std::map<std::string, PodLifetime> life{{"big", {0, 100}}, {"short", {0, 60}}};
  auto r = RunTimeline(nodes, pods, life, Options());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->pods_unplaceable, 1);
  EXPECT_EQ(r->pods_never_ran, 1);
  EXPECT_EQ(r->pods_placed, 0);
  EXPECT_EQ(r->cancelled_boots, 1);  // `short` left while its node booted
}

TEST(TimelineTest, RefusesBadOptions) {
  std::vector<TraceNode> nodes{{"n0", 8000, 16384, 2, "A"}};
  std::map<std::string, PodLifetime> life;
  TimelineOptions o = Options(-1, 0);
  EXPECT_EQ(RunTimeline(nodes, {}, life, o).status().code(), StatusCode::kInvalidArgument);
  o = Options(0, -5);
  EXPECT_EQ(RunTimeline(nodes, {}, life, o).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RunTimeline({}, {}, life, Options()).status().code(), StatusCode::kInvalidArgument);
  o = Options();
  o.policy = "no-such-policy";
  EXPECT_EQ(RunTimeline(nodes, {}, life, o).status().code(), StatusCode::kNotFound);
}

TEST(TimelineTest, TheMeanOverSeedsKeepsEachSeedsRatio) {
  TimelineResult a, b;
  a.demand_gpu_hours = b.demand_gpu_hours = 10;
  a.provisioned_gpu_hours = 11;
  b.provisioned_gpu_hours = 13;
  a.boots = 3;
  b.boots = 4;
  auto m = MeanOverSeeds({a, b});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_DOUBLE_EQ(m->provisioned_gpu_hours, 12);
  EXPECT_DOUBLE_EQ(m->ProvisionedOverDemand(), 1.2);
  EXPECT_EQ(m->boots, 4);  // 3.5 rounded
  ASSERT_EQ(m->per_seed_ratio.size(), 2u);
  EXPECT_DOUBLE_EQ(m->per_seed_ratio[1], 1.3);
  EXPECT_FALSE(MeanOverSeeds({}).ok());
}

TEST(TimelineTest, TheDefaultPodListOnAnElasticPoolNeedsFarLessThanTheStaticCluster) {
  const std::string dir = FASTGPU_TRACE_DIR;
  if (!std::filesystem::exists(dir + "/openb_pod_list_default.csv")) GTEST_SKIP();
  auto nodes = ReadNodeList(dir + "/openb_node_list_gpu_node.csv");
  auto pods = ReadPodList(dir + "/openb_pod_list_default.csv");
  auto life = ReadPodLifetimes(dir + "/openb_pod_list_default.csv");
  ASSERT_TRUE(nodes.ok() && pods.ok() && life.ok());
  TimelineOptions o = Options(120, 300);
  o.policy = "fastgpu";
  auto r = RunTimeline(*nodes, *pods, *life, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->pods_unplaceable, 0);
  EXPECT_GT(r->static_gpu_hours, 100 * r->demand_gpu_hours);  // static: over 99% idle
  EXPECT_GE(r->provisioned_gpu_hours, r->demand_gpu_hours);   // never below the demand
  EXPECT_LT(r->ProvisionedOverDemand(), 1.2);
  EXPECT_LE(r->wait_p99_s, 120);
}

}  // namespace
}  // namespace fastgpu::sim

// The placement filters: each refuses what it names, in order, and the tally says why a
// shape fits nowhere.
#include "scheduler/filters.h"

#include <gtest/gtest.h>

#include "scheduler/policy.h"

namespace fastgpu::sched {
namespace {

model::Shape Fraction(int milli, model::Isolation iso = model::Isolation::kDefault) {
  model::Shape s;
  s.gpu_count = 1;
  s.gpu_milli = milli;
  s.cpu_milli = 1000;
  s.memory_mib = 1024;
  s.isolation = iso;
  return s;
}

Cluster TwoNodes() {
  Cluster c;
  c.AddNode({"n0", "A100", 2, 40960, 8000, 65536});
  c.AddNode({"n1", "A100", 2, 40960, 8000, 65536});
  return c;
}

TEST(FiltersTest, EachGpuFilterRefusesWhatItNames) {
  GpuState gpu;
  gpu.total_memory_mib = gpu.free_memory_mib = 1000;
  EXPECT_EQ(GpuRefusal(gpu, Fraction(500)), std::nullopt);
  gpu.healthy = false;
  EXPECT_EQ(GpuRefusal(gpu, Fraction(500)), Filter::kGpuHealth);
  gpu.healthy = true;
  EXPECT_EQ(GpuRefusal(gpu, Fraction(500, model::Isolation::kMig)), Filter::kMigMode);
  gpu.mig = true;  // a MIG-mode GPU takes only MIG work
  EXPECT_EQ(GpuRefusal(gpu, Fraction(500)), Filter::kMigMode);
  EXPECT_EQ(GpuRefusal(gpu, Fraction(500, model::Isolation::kMig)), std::nullopt);
  gpu.mig = false;
  gpu.mode = model::Isolation::kMps;
  gpu.mode_holders = 1;
  gpu.free_milli = 500;
  EXPECT_EQ(GpuRefusal(gpu, Fraction(500, model::Isolation::kShared)), Filter::kIsolationMode);
  EXPECT_EQ(GpuRefusal(gpu, Fraction(500)), std::nullopt);  // fractions default to mps
  EXPECT_EQ(GpuRefusal(gpu, Fraction(600)), Filter::kGpuCompute);
  model::Shape memory = Fraction(200);
  memory.gpu_memory_mib = 2000;
  EXPECT_EQ(GpuRefusal(gpu, memory), Filter::kGpuMemory);
  EXPECT_FALSE(GpuFits(gpu, memory));
  EXPECT_TRUE(GpuFits(gpu, Fraction(200)));
}

TEST(FiltersTest, ClusterKeepsIsolationModesApartOnAGpu) {
  Cluster c = TwoNodes();
  NodePlacement mps{0, {{0, 400, 0}}, 1000, 1024, model::Isolation::kMps};
  ASSERT_TRUE(c.Apply(mps).ok());
  EXPECT_EQ(c.node(0).gpus[0].mode, model::Isolation::kMps);
  NodePlacement shared{0, {{0, 400, 0}}, 1000, 1024, model::Isolation::kShared};
  Status st = c.Apply(shared);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("runs mps work"), std::string::npos) << st.message();
  ASSERT_TRUE(c.Apply(mps).ok());  // the same mode shares
  ASSERT_TRUE(c.Release(mps).ok());
  EXPECT_EQ(c.node(0).gpus[0].mode, model::Isolation::kMps);
  ASSERT_TRUE(c.Release(mps).ok());
  EXPECT_EQ(c.node(0).gpus[0].mode, model::Isolation::kDefault);  // free again: any mode
  EXPECT_TRUE(c.Apply(shared).ok());
}

TEST(FiltersTest, PoliciesPlaceAFractionOfAnotherModeOnAnotherGpu) {
  for (const std::string& name : PolicyNames()) {
    Cluster c;
    c.AddNode({"n0", "A100", 2, 40960, 8000, 65536});
    auto policy = MakePolicy(name, {});
    ASSERT_TRUE(policy.ok());
    auto first = PlaceGang(**policy, c, {"a", Fraction(300), 1});
    ASSERT_TRUE(first.ok()) << name;
    const int used = (*first)[0].gpus[0].gpu_index;
    auto second = PlaceGang(**policy, c, {"b", Fraction(300, model::Isolation::kShared), 1});
    ASSERT_TRUE(second.ok()) << name << ": " << second.status();
    EXPECT_NE((*second)[0].gpus[0].gpu_index, used) << name << " mixed mps and shared on a GPU";
    auto third = PlaceGang(**policy, c, {"c", Fraction(800, model::Isolation::kShared), 1});
    EXPECT_FALSE(third.ok()) << name;  // only the mps GPU has 800 free
  }
}

TEST(FiltersTest, TallySaysHowManyNodesEachFilterRefused) {
  Cluster c = TwoNodes();
  c.AddNode({"n2", "T4", 1, 15360, 8000, 65536});
  ASSERT_TRUE(c.SetAvailability(1, NodeAvailability::kDrained).ok());
  ASSERT_TRUE(c.Apply({0, {{0, 1000, 40960}, {1, 1000, 40960}}, 0, 0}).ok());
  model::Shape s = Fraction(500);
  s.gpu_models = {"A100"};
  FilterTally tally = TallyRefusals(c, s);
  EXPECT_EQ(tally.nodes, 3);
  EXPECT_EQ(tally.Text(),
            "of 3 nodes, 1 take no new work, 1 lack a GPU of an allowed model, 1 lack free GPU "
            "compute");
  auto policy = MakePolicy("fastgpu", {});
  ASSERT_TRUE(policy.ok());
  auto placed = (*policy)->Place(c, s);
  ASSERT_FALSE(placed.ok());
  EXPECT_NE(placed.status().message().find(tally.Text()), std::string::npos)
      << placed.status().message();
}

}  // namespace
}  // namespace fastgpu::sched

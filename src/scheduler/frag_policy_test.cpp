// fastgpu's cost terms, each on a hand-built cluster where the term decides the node.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "scheduler/policy.h"

namespace fastgpu::sched {
namespace {

model::Shape Whole(int count, int64_t cpu_milli) {
  model::Shape s;
  s.gpu_count = count;
  s.gpu_milli = 1000;
  s.cpu_milli = cpu_milli;
  return s;
}

// Over 32 seeds: three 96-core nodes and one 128-core node, all with 8 GPUs of one model;
// how often fastgpu with `target` puts a 1-GPU task on the big node. With `big_kind`, that
// task is also placed, and must land on the big node.
int TimesTheBigNodeIsChosen(const std::vector<TargetTask>& target,
                            const model::Shape* big_kind = nullptr) {
  PolicyOptions options;
  options.target_workload = target;
  int chosen_big = 0;
  for (uint64_t seed = 0; seed < 32; ++seed) {
    options.seed = seed;
    Result<std::unique_ptr<Policy>> policy = MakePolicy("fastgpu", options);
    EXPECT_TRUE(policy.ok()) << policy.status();
    if (!policy.ok()) return -1;
    Cluster c;
    for (int i = 0; i < 3; ++i)
      c.AddNode({"small-" + std::to_string(i), "G2", 8, 0, 96000, 393216});
    const int big = c.AddNode({"big", "G2", 8, 0, 128000, 786432});
    Result<NodePlacement> r = (*policy)->Place(c, Whole(1, 4000));
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok() && r->node == big) ++chosen_big;
    if (big_kind != nullptr) {
      Result<NodePlacement> b = (*policy)->Place(c, *big_kind);
      EXPECT_TRUE(b.ok()) << b.status();
      if (b.ok()) EXPECT_EQ(b->node, big);
    }
  }
  return chosen_big;
}

// The workload is mostly 1-GPU tasks; 1% are 8-GPU tasks asking 120 cores, which only the
// 128-core node holds. The 1% is below the 95% cut of the fragmentation measure, so
// fragmentation sees the four nodes alike; their need of the big node's capacity (about 30%
// of it) is what the host-scarcity cost puts on a 1-GPU task there.
TEST(FastGpuHostScarcityTest, SmallTasksKeepOffTheOnlyHostsOfBigKinds) {
  const model::Shape big_kind = Whole(8, 120000);
  // The big task itself has only that node.
  EXPECT_EQ(TimesTheBigNodeIsChosen({{Whole(1, 4000), 0.99}, {big_kind, 0.01}}, &big_kind), 0);
}

// Without a kind that needs the big node, nothing steers the 1-GPU task: the seeded node
// order picks among equal nodes, so some seeds choose the big node.
TEST(FastGpuHostScarcityTest, NoPressureWithoutARestrictedKind) {
  EXPECT_GT(TimesTheBigNodeIsChosen({{Whole(1, 4000), 0.99}, {Whole(8, 64000), 0.01}}), 0);
}

model::Shape Fraction(int gpu_milli, int64_t cpu_milli, int64_t memory_mib) {
  model::Shape s;
  s.gpu_count = 1;
  s.gpu_milli = gpu_milli;
  s.cpu_milli = cpu_milli;
  s.memory_mib = memory_mib;
  return s;
}

// Over 32 seeds: two 1-GPU nodes alike but for their CPU and memory, a 470-milli task
// asking 12 cores and 48 GiB placed on the empty cluster; how often it lands on the node
// that has `small_cpu_milli` and `small_memory_mib`, against a node with 64 cores and
// 256 GiB. The workload is 96% 810-milli tasks asking 3 cores and 4% such 470s: the 470s
// are below the 95% cut, so the fragmentation measure sees only the 810s, for which either
// node's 530-milli hole is lost; stranding (by the mean of 4.2 cores per GPU) sees room
// on both. The fill sizes are 470 and 810.
int TimesTheSmallHostIsChosen(int64_t small_cpu_milli, int64_t small_memory_mib) {
  const model::Shape task = Fraction(470, 12000, 49152);
  PolicyOptions options;
  options.target_workload = {{Fraction(810, 3000, 4096), 0.96}, {task, 0.04}};
  int chosen_small = 0;
  for (uint64_t seed = 0; seed < 32; ++seed) {
    options.seed = seed;
    Result<std::unique_ptr<Policy>> policy = MakePolicy("fastgpu", options);
    EXPECT_TRUE(policy.ok()) << policy.status();
    if (!policy.ok()) return -1;
    Cluster c;
    const int small = c.AddNode({"small", "G2", 1, 0, small_cpu_milli, small_memory_mib});
    c.AddNode({"roomy", "G2", 1, 0, 64000, 262144});
    Result<NodePlacement> r = (*policy)->Place(c, task);
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok() && r->node == small) ++chosen_small;
  }
  return chosen_small;
}

// On the 16-core node the 470 leaves 4 cores: its 530-milli hole can take no other 470
// (12 cores), so it is lost; on the roomy node another 470 fills it to a 60-milli residual.
TEST(FastGpuFillResidualTest, HoleCountsOnlyWhereTheFillTasksCpuIsFree) {
  EXPECT_EQ(TimesTheSmallHostIsChosen(16000, 262144), 0);
}

// The same with memory: the 64 GiB node keeps 16 GiB beside the hole, less than a 470 asks.
TEST(FastGpuFillResidualTest, HoleCountsOnlyWhereTheFillTasksMemoryIsFree) {
  EXPECT_EQ(TimesTheSmallHostIsChosen(64000, 65536), 0);
}

// Where both nodes keep room for another 470, nothing tells them apart: the seeded node
// order chooses, and some seeds choose the smaller node.
TEST(FastGpuFillResidualTest, NoPreferenceWhenBothHoldAnotherFillTask) {
  EXPECT_GT(TimesTheSmallHostIsChosen(32000, 131072), 0);
}

// Over 32 seeds: two nodes alike but for their free CPU, each with the GPUs of `free_milli`
// free (the rest held by one earlier task, taking no CPU); a task of `task` placed there.
// How often it lands on the node with `small_cpu_milli` rather than on one with 64 cores.
int TimesTheTighterNodeIsChosen(const std::vector<TargetTask>& target,
                                const std::vector<int>& free_milli, const model::Shape& task,
                                int64_t small_cpu_milli) {
  PolicyOptions options;
  options.target_workload = target;
  int chosen_small = 0;
  for (uint64_t seed = 0; seed < 32; ++seed) {
    options.seed = seed;
    Result<std::unique_ptr<Policy>> policy = MakePolicy("fastgpu", options);
    EXPECT_TRUE(policy.ok()) << policy.status();
    if (!policy.ok()) return -1;
    Cluster c;
    const int gpus = static_cast<int>(free_milli.size());
    const int small = c.AddNode({"small", "G2", gpus, 0, small_cpu_milli, 262144});
    const int roomy = c.AddNode({"roomy", "G2", gpus, 0, 64000, 262144});
    for (int n : {small, roomy}) {
      NodePlacement earlier{n, {}, 0, 0};
      for (int g = 0; g < gpus; ++g) {
        if (free_milli[g] < kMilliPerGpu) earlier.gpus.push_back({g, kMilliPerGpu - free_milli[g]});
      }
      EXPECT_TRUE(c.Apply(earlier).ok());
    }
    Result<NodePlacement> r = (*policy)->Place(c, task);
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok() && r->node == small) ++chosen_small;
  }
  return chosen_small;
}

// Two 530-milli holes share the node's CPU: on the 26-core node both can still take a 470
// (12 cores each), but the 810 (3 cores) leaves 23, so one hole is lost there; the roomy
// node keeps both. Without the shared budget each hole would see the 23 cores on its own
// and the nodes would tie.
TEST(FastGpuFillResidualTest, HolesOfOneNodeShareItsCpu) {
  const std::vector<TargetTask> target = {{Fraction(810, 3000, 4096), 0.96},
                                          {Fraction(470, 12000, 4096), 0.04}};
  EXPECT_EQ(TimesTheTighterNodeIsChosen(target, {530, 530, 1000}, Fraction(810, 3000, 4096), 26000),
            0);
}

// A fully free GPU keeps the CPU a whole-GPU task needs per GPU (12 cores here): a 470
// placed beside it on the 28-core node leaves 16 cores, 4 after the whole GPU's share, too
// few for the 470 that would fill its hole; the roomy node keeps room for both.
TEST(FastGpuFillResidualTest, FreeWholeGpusKeepTheirCpuBeforeHoles) {
  const std::vector<TargetTask> target = {{Fraction(810, 3000, 4096), 0.955},
                                          {Whole(1, 12000), 0.0225},
                                          {Fraction(470, 12000, 4096), 0.0225}};
  EXPECT_EQ(TimesTheTighterNodeIsChosen(target, {1000, 1000}, Fraction(470, 12000, 4096), 28000),
            0);
}

// With the same cluster but a roomier small node (40 cores) both keep room for the whole
// GPU and a 470 beside it: the seeded node order chooses.
TEST(FastGpuFillResidualTest, NoPreferenceWhenBothKeepRoomForWholeAndFill) {
  const std::vector<TargetTask> target = {{Fraction(810, 3000, 4096), 0.955},
                                          {Whole(1, 12000), 0.0225},
                                          {Fraction(470, 12000, 4096), 0.0225}};
  EXPECT_GT(TimesTheTighterNodeIsChosen(target, {1000, 1000}, Fraction(470, 12000, 4096), 40000),
            0);
}

}  // namespace
}  // namespace fastgpu::sched

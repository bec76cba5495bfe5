// One suite, every policy: the contract in policy.h.
#include <gtest/gtest.h>

#include <random>

#include "scheduler/policy.h"

namespace fastgpu::sched {
namespace {

model::Shape Fraction(int milli, int64_t cpu, int64_t gpu_memory = 0) {
  model::Shape s;
  s.gpu_count = 1;
  s.gpu_milli = milli;
  s.cpu_milli = cpu;
  s.gpu_memory_mib = gpu_memory;
  return s;
}

model::Shape Whole(int count, int64_t cpu, std::vector<std::string> models = {}) {
  model::Shape s;
  s.gpu_count = count;
  s.gpu_milli = 1000;
  s.cpu_milli = cpu;
  s.gpu_models = std::move(models);
  return s;
}

// Independent check of whether `shape` fits anywhere.
bool FitsSomewhere(const Cluster& c, const model::Shape& s) {
  for (const NodeState& n : c.nodes()) {
    if (!n.schedulable || n.cpu_free_milli < s.cpu_milli || n.memory_free_mib < s.memory_mib) {
      continue;
    }
    if (s.gpu_count == 0) return true;
    if (!s.AllowsModel(n.gpu_model)) continue;
    int fit = 0;
    for (const GpuState& g : n.gpus) {
      if (!g.healthy) continue;
      if (s.gpu_milli == 1000) {
        fit += g.free_milli == 1000 && g.total_memory_mib >= s.gpu_memory_mib;
      } else {
        fit += g.free_milli >= s.gpu_milli && g.free_memory_mib >= s.gpu_memory_mib;
      }
    }
    if (fit >= s.gpu_count) return true;
  }
  return false;
}

Cluster RandomCluster(std::mt19937_64& rng) {
  Cluster c;
  const char* models[] = {"A100", "T4", "V100"};
  for (int i = 0; i < 24; ++i) {
    int gpus = std::uniform_int_distribution<int>(0, 8)(rng);
    c.AddNode({"n" + std::to_string(i), models[i % 3], gpus, 40000,
               std::uniform_int_distribution<int64_t>(8, 96)(rng) * 1000,
               std::uniform_int_distribution<int64_t>(16, 512)(rng) * 1024});
  }
  (void)c.SetGpuHealthy(1, 0, false);
  (void)c.SetGpuHealthy(4, 2, false);
  (void)c.SetSchedulable(7, false);
  return c;
}

model::Shape RandomShape(std::mt19937_64& rng) {
  model::Shape s;
  int kind = std::uniform_int_distribution<int>(0, 9)(rng);
  s.cpu_milli = std::uniform_int_distribution<int64_t>(0, 16)(rng) * 1000;
  s.memory_mib = std::uniform_int_distribution<int64_t>(0, 64)(rng) * 1024;
  if (kind == 0) {
    if (s.cpu_milli == 0) s.cpu_milli = 500;
  } else if (kind <= 5) {
    s.gpu_count = 1;
    s.gpu_milli = std::uniform_int_distribution<int>(1, 19)(rng) * 50;
    if (kind == 5) s.gpu_memory_mib = std::uniform_int_distribution<int64_t>(1, 30)(rng) * 1024;
  } else {
    int counts[] = {1, 2, 4, 8};
    s.gpu_count = counts[std::uniform_int_distribution<int>(0, 3)(rng)];
    s.gpu_milli = 1000;
  }
  if (s.gpu_count > 0 && kind % 3 == 0) s.gpu_models = {"T4", "V100"};
  return s;
}

class PolicyConformance : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Policy> Make(uint64_t seed = 7) {
    PolicyOptions options;
    options.seed = seed;
    options.target_workload = {{Fraction(500, 4000), 3}, {Whole(1, 8000), 2}, {Whole(4, 16000), 1}};
    Result<std::unique_ptr<Policy>> p = MakePolicy(GetParam(), options);
    EXPECT_TRUE(p.ok()) << p.status();
    return std::move(*p);
  }
};

TEST_P(PolicyConformance, NameMatchesRegistry) { EXPECT_EQ(Make()->Name(), GetParam()); }

TEST_P(PolicyConformance, NeverOverCommitsAndFailsOnlyWhenNothingFits) {
  std::mt19937_64 rng(42);
  Cluster cluster = RandomCluster(rng);
  std::unique_ptr<Policy> policy = Make();
  int placed = 0, failed = 0;
  for (int i = 0; i < 1500; ++i) {
    model::Shape shape = RandomShape(rng);
    Result<NodePlacement> p = policy->Place(cluster, shape);
    if (!p.ok()) {
      ++failed;
      EXPECT_EQ(p.status().code(), StatusCode::kResourceExhausted);
      EXPECT_FALSE(p.status().message().empty());
      EXPECT_FALSE(FitsSomewhere(cluster, shape))
          << model::DescribeShape(shape) << ": " << p.status();
      continue;
    }
    const NodeState& node = cluster.node(p->node);
    EXPECT_TRUE(node.schedulable);
    EXPECT_EQ(static_cast<int>(p->gpus.size()), shape.gpu_count);
    EXPECT_EQ(p->cpu_milli, shape.cpu_milli);
    EXPECT_EQ(p->memory_mib, shape.memory_mib);
    if (shape.gpu_count > 0) {
      EXPECT_TRUE(shape.AllowsModel(node.gpu_model)) << node.gpu_model;
    }
    for (const GpuSlot& slot : p->gpus) {
      EXPECT_TRUE(node.gpus[slot.gpu_index].healthy);
      EXPECT_EQ(slot.milli, shape.gpu_milli);
      EXPECT_EQ(slot.memory_mib, shape.gpu_milli == 1000
                                     ? node.gpus[slot.gpu_index].total_memory_mib
                                     : shape.gpu_memory_mib);
    }
    // Apply refuses any over-commit of milli, GPU memory, CPU or memory.
    ASSERT_TRUE(cluster.Apply(*p).ok()) << GetParam() << " over-committed " << node.id;
    policy->OnNodeChanged(cluster, p->node);
    ++placed;
  }
  EXPECT_GT(placed, 50);
  EXPECT_GT(failed, 50);  // the cluster filled up
  EXPECT_EQ(cluster.node(7).cpu_free_milli, cluster.node(7).cpu_total_milli);
  EXPECT_EQ(cluster.node(1).gpus[0].free_milli, 1000);  // unhealthy: untouched
}

TEST_P(PolicyConformance, SameInputAndSeedGiveSameAnswers) {
  std::mt19937_64 rng_a(5), rng_b(5);
  Cluster a = RandomCluster(rng_a), b = RandomCluster(rng_b);
  std::unique_ptr<Policy> pa = Make(3), pb = Make(3);
  for (int i = 0; i < 300; ++i) {
    model::Shape sa = RandomShape(rng_a), sb = RandomShape(rng_b);
    Result<NodePlacement> ra = pa->Place(a, sa), rb = pb->Place(b, sb);
    ASSERT_EQ(ra.ok(), rb.ok());
    if (!ra.ok()) continue;
    ASSERT_EQ(*ra, *rb);
    ASSERT_TRUE(a.Apply(*ra).ok());
    ASSERT_TRUE(b.Apply(*rb).ok());
  }
}

TEST_P(PolicyConformance, RespectsModelConstraintAndExplainsFailure) {
  Cluster c;
  c.AddNode({"a", "A100", 2, 40000, 32000, 64000});
  c.AddNode({"t", "T4", 1, 16000, 32000, 64000});
  std::unique_ptr<Policy> policy = Make();
  Result<NodePlacement> p = policy->Place(c, Whole(1, 1000, {"T4"}));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->node, 1);
  Result<NodePlacement> none = policy->Place(c, Whole(1, 1000, {"V100"}));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(none.status().message().find("allowed model"), std::string::npos);
  Result<NodePlacement> cpu = policy->Place(c, Fraction(100, 64000));
  ASSERT_FALSE(cpu.ok());
  EXPECT_NE(cpu.status().message().find("lack CPU"), std::string::npos) << cpu.status();
}

TEST_P(PolicyConformance, RespectsGpuMemoryAsk) {
  Cluster c;
  c.AddNode({"small", "A10", 1, 24000, 32000, 64000});
  c.AddNode({"big", "A100", 1, 80000, 32000, 64000});
  std::unique_ptr<Policy> policy = Make();
  Result<NodePlacement> p = policy->Place(c, Fraction(200, 1000, 40000));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->node, 1);
  ASSERT_TRUE(c.Apply(*p).ok());
  EXPECT_FALSE(policy->Place(c, Fraction(200, 1000, 60000)).ok());
  model::Shape whole = Whole(1, 1000);
  whole.gpu_memory_mib = 30000;  // only the A100 has that much, and it is partly used
  EXPECT_FALSE(policy->Place(c, whole).ok());
}

TEST_P(PolicyConformance, GangIsAllOrNothing) {
  Cluster c;
  c.AddNode({"a", "A100", 4, 40000, 64000, 256000});
  c.AddNode({"b", "A100", 4, 40000, 64000, 256000});
  std::unique_ptr<Policy> policy = Make();
  Request too_big{"job-1", Whole(4, 1000), 3};
  Result<std::vector<NodePlacement>> r = PlaceGang(*policy, c, too_big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(c.FreeGpuMilli(), 8000);
  EXPECT_EQ(c.node(0).cpu_free_milli, 64000);
  EXPECT_EQ(c.node(1).cpu_free_milli, 64000);
  Request fits{"job-2", Whole(4, 1000), 2};
  Result<std::vector<NodePlacement>> ok = PlaceGang(*policy, c, fits);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->size(), 2u);
  EXPECT_EQ(c.FreeGpuMilli(), 0);
}

TEST_P(PolicyConformance, LearnsTargetWorkloadWhenNoneGiven) {
  Result<std::unique_ptr<Policy>> p = MakePolicy(GetParam(), PolicyOptions{});
  ASSERT_TRUE(p.ok());
  Cluster c;
  c.AddNode({"a", "A100", 2, 40000, 32000, 64000});
  for (int i = 0; i < 4; ++i) {
    Result<NodePlacement> r = (*p)->Place(c, Fraction(500, 1000));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(c.Apply(*r).ok());
  }
  EXPECT_EQ(c.FreeGpuMilli(), 0);
}

INSTANTIATE_TEST_SUITE_P(AllPolicies, PolicyConformance, ::testing::ValuesIn(PolicyNames()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

TEST(PolicyRegistryTest, UnknownNameIsNotFound) {
  Result<std::unique_ptr<Policy>> p = MakePolicy("nope", PolicyOptions{});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kNotFound);
  EXPECT_NE(p.status().message().find("fastgpu"), std::string::npos);
}

}  // namespace
}  // namespace fastgpu::sched

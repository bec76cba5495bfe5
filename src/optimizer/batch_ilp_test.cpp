#include "optimizer/batch_ilp.h"

#include <gtest/gtest.h>

#include <random>

namespace fastgpu::opt {
namespace {

model::Shape Fraction(int milli, int64_t cpu_milli = 0, int64_t memory_mib = 0) {
  model::Shape s;
  s.gpu_count = 1;
  s.gpu_milli = milli;
  s.cpu_milli = cpu_milli;
  s.memory_mib = memory_mib;
  return s;
}

model::Shape Whole(int count, int64_t cpu_milli = 0) {
  model::Shape s;
  s.gpu_count = count;
  s.gpu_milli = 1000;
  s.cpu_milli = cpu_milli;
  return s;
}

IlpNode MakeNode(std::vector<int64_t> free_milli, int64_t cpu_milli = 64000,
                 int64_t memory_mib = 262144, std::string model = "G2") {
  IlpNode node;
  node.name = "n";
  node.model = std::move(model);
  node.free_cpu_milli = cpu_milli;
  node.free_memory_mib = memory_mib;
  for (int64_t m : free_milli) node.gpus.push_back({m, 16384, true});
  return node;
}

IlpSolution SolveOk(const IlpProblem& p, const IlpOptions& o = {}) {
  Result<IlpSolution> r = SolveBatch(p, o);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return {};
  EXPECT_TRUE(CheckPlacement(p, r->placements).ok()) << CheckPlacement(p, r->placements);
  EXPECT_EQ(r->objective, PlacementObjective(p, r->placements, o.placement_bonus));
  EXPECT_GE(r->objective, r->warm_start_objective);
  EXPECT_GE(r->best_bound + 1e-6, static_cast<double>(r->objective));
  return *r;
}

// The worked example: GPU units scaled to milli; GPUs of capacity 4 and 3 (400 and 300
// milli free), requests of 2, 3 and 1 units. All 6 units fit: 3 on the 3-GPU, 2+1 on the 4.
TEST(BatchIlpTest, WorkedExamplePlacesAllSixUnits) {
  IlpProblem p;
  p.nodes.push_back(MakeNode({400, 300}));
  p.requests = {{Fraction(200), 1}, {Fraction(300), 1}, {Fraction(100), 1}};
  IlpSolution s = SolveOk(p, {.warm_start = std::vector<IlpRequestPlacement>(3)});
  EXPECT_EQ(s.status, IlpStatus::kOptimal);
  EXPECT_EQ(s.objective, 600);
  EXPECT_EQ(s.warm_start_objective, 0);
  EXPECT_DOUBLE_EQ(s.relative_gap, 0);
  ASSERT_TRUE(s.placements[1].placed());
  EXPECT_EQ(s.placements[1].replicas[0].slices[0].gpu, 1);  // the 3 goes on the 3-GPU
  EXPECT_GE(*LpUpperBound(p), 600 - 1e-6);
}

TEST(BatchIlpTest, BeatsGreedyWhereBestFitIsSuboptimal) {
  IlpProblem p;
  p.nodes.push_back(MakeNode({700, 600}));
  p.requests = {{Fraction(400), 1}, {Fraction(300), 1}, {Fraction(300), 1}, {Fraction(300), 1}};
  auto greedy = GreedyPlacement(p);
  ASSERT_TRUE(CheckPlacement(p, greedy).ok());
  EXPECT_EQ(AllocatedGpuMilli(p, greedy), 1000);
  IlpSolution s = SolveOk(p);
  EXPECT_EQ(s.status, IlpStatus::kOptimal);
  EXPECT_EQ(s.objective, 1300);
  EXPECT_EQ(s.warm_start_objective, 1000);
}

TEST(BatchIlpTest, GangIsAllOrNothingAndCapacityGoesToOthers) {
  IlpProblem p;
  p.nodes.push_back(MakeNode({1000, 1000}));
  p.nodes.push_back(MakeNode({1000}));
  // Two replicas of two whole GPUs: only one replica could fit, so neither is placed.
  p.requests = {{Whole(2), 2}, {Whole(1), 1}, {Whole(2), 1}, {Fraction(500), 1}};
  IlpSolution s = SolveOk(p);
  EXPECT_EQ(s.status, IlpStatus::kOptimal);
  EXPECT_FALSE(s.placements[0].placed());
  EXPECT_TRUE(s.placements[1].placed());
  EXPECT_TRUE(s.placements[2].placed());
  EXPECT_EQ(s.objective, 3000);
  EXPECT_EQ(s.placements[2].replicas[0].node, 0);
  EXPECT_EQ(s.placements[2].replicas[0].slices.size(), 2u);
}

TEST(BatchIlpTest, GangOfFractionsPlacesEveryReplica) {
  IlpProblem p;
  p.nodes.push_back(MakeNode({1000, 1000}));
  p.requests = {{Fraction(600), 3}, {Fraction(400), 2}, {Fraction(700), 1}};
  IlpSolution s = SolveOk(p);
  // 3 x 600 cannot fit two GPUs; 2 x 400 + 700 = 1500 fits; 600 + 400 + ... gang is whole.
  EXPECT_FALSE(s.placements[0].placed());
  EXPECT_EQ(s.placements[1].replicas.size(), 2u);
  EXPECT_EQ(s.objective, 1500);
}

TEST(BatchIlpTest, CpuLimitBinds) {
  IlpProblem p;
  p.nodes.push_back(MakeNode({1000, 1000, 1000, 1000}, /*cpu_milli=*/8000));
  p.nodes.push_back(MakeNode({1000}, 64000));
  for (int i = 0; i < 4; ++i) p.requests.push_back({Whole(1, /*cpu_milli=*/4000), 1});
  IlpSolution s = SolveOk(p);
  EXPECT_EQ(s.status, IlpStatus::kOptimal);
  EXPECT_EQ(s.allocated_gpu_milli, 3000);
}

TEST(BatchIlpTest, MemoryLimitBinds) {
  IlpProblem p;
  p.nodes.push_back(MakeNode({1000, 1000}, 64000, /*memory_mib=*/10000));
  for (int i = 0; i < 4; ++i) p.requests.push_back({Fraction(500, 1000, /*memory_mib=*/4000), 1});
  IlpSolution s = SolveOk(p);
  EXPECT_EQ(s.allocated_gpu_milli, 1000);  // memory admits two of the four
}

TEST(BatchIlpTest, GpuMemoryAskBinds) {
  IlpProblem p;
  p.nodes.push_back(MakeNode({1000}));  // 16384 MiB free on the GPU
  model::Shape s1 = Fraction(300);
  s1.gpu_memory_mib = 10000;
  p.requests = {{s1, 1}, {s1, 1}, {Fraction(200), 1}};
  IlpSolution s = SolveOk(p);
  EXPECT_EQ(s.allocated_gpu_milli, 500);
}

TEST(BatchIlpTest, ModelConstraintSteersUnconstrainedWork) {
  IlpProblem p;
  p.nodes.push_back(MakeNode({1000}, 64000, 262144, "V100M16"));
  p.nodes.push_back(MakeNode({1000}, 64000, 262144, "T4"));
  model::Shape v100 = Whole(1);
  v100.gpu_models = {"V100M16"};
  p.requests = {{Whole(1), 1}, {v100, 1}};
  IlpSolution s = SolveOk(p);
  EXPECT_EQ(s.objective, 2000);
  EXPECT_EQ(s.placements[1].replicas[0].node, 0);
  EXPECT_EQ(s.placements[0].replicas[0].node, 1);
}

TEST(BatchIlpTest, UnhealthyGpuGetsNothing) {
  IlpProblem p;
  p.nodes.push_back(MakeNode({1000, 1000}));
  p.nodes[0].gpus[0].healthy = false;
  p.requests = {{Whole(2), 1}, {Fraction(500), 2}};
  IlpSolution s = SolveOk(p);
  EXPECT_FALSE(s.placements[0].placed());
  EXPECT_EQ(s.objective, 1000);
  for (const auto& rep : s.placements[1].replicas) EXPECT_EQ(rep.slices[0].gpu, 1);
}

TEST(BatchIlpTest, CpuOnlyRequestsPlacedWithBonus) {
  IlpProblem p;
  p.nodes.push_back(MakeNode({}, 8000));
  model::Shape cpu;
  cpu.cpu_milli = 3000;
  p.requests = {{cpu, 1}, {cpu, 1}, {cpu, 1}};
  IlpSolution s = SolveOk(p, {.placement_bonus = 1});
  EXPECT_EQ(s.objective, 2);
  EXPECT_EQ(s.allocated_gpu_milli, 0);
}

// A pool whose GPUs cannot be filled exactly: sizes are multiples of 7, capacity 1000.
IlpProblem HardRandomProblem(uint32_t seed, int nodes, int requests) {
  std::mt19937 rng(seed);
  IlpProblem p;
  for (int n = 0; n < nodes; ++n) {
    std::vector<int64_t> free;
    for (int g = 0; g < 4; ++g) free.push_back(rng() % 2 ? 1000 : 300 + 7 * (rng() % 100));
    p.nodes.push_back(MakeNode(free, 16000 + 1000 * (rng() % 48)));
  }
  for (int r = 0; r < requests; ++r) {
    const uint32_t kind = rng() % 10;
    if (kind < 7) {
      p.requests.push_back({Fraction(7 * (20 + rng() % 110), 1000 * (1 + rng() % 8)), 1});
    } else if (kind < 9) {
      p.requests.push_back({Whole(1 + rng() % 2, 4000), 1 + static_cast<int>(rng() % 2)});
    } else {
      p.requests.push_back({Fraction(7 * (20 + rng() % 110), 2000), 2});
    }
  }
  return p;
}

TEST(BatchIlpTest, TimeLimitReturnsFeasibleWithGap) {
  IlpProblem p = HardRandomProblem(7, 40, 200);
  IlpSolution s = SolveOk(p, {.time_limit_s = 0.2});
  EXPECT_EQ(s.status, IlpStatus::kFeasible);
  EXPECT_GT(s.relative_gap, 0);
  EXPECT_GT(s.best_bound, static_cast<double>(s.objective));
  EXPECT_GT(s.objective, 0);
}

TEST(BatchIlpTest, NeverWorseThanWarmStart) {
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    IlpProblem p = HardRandomProblem(seed, 30, 64);
    auto warm = GreedyPlacement(p);
    // Drop every other placed request: a weaker, still feasible warm start.
    for (size_t r = 0; r < warm.size(); r += 2) warm[r].replicas.clear();
    IlpSolution s = SolveOk(p, {.time_limit_s = 0.2, .warm_start = warm});
    EXPECT_EQ(s.warm_start_objective, AllocatedGpuMilli(p, warm));
    EXPECT_GE(s.objective, s.warm_start_objective);
    EXPECT_GE(s.objective, AllocatedGpuMilli(p, GreedyPlacement(p)) - 0) << "seed " << seed;
    Result<double> lp = LpUpperBound(p);
    ASSERT_TRUE(lp.ok());
    EXPECT_GE(*lp + 1e-6, static_cast<double>(s.objective));
  }
}

TEST(BatchIlpTest, CapOnCandidateNodesKeepsWarmStartNodes) {
  IlpProblem p = HardRandomProblem(11, 30, 40);
  IlpSolution s = SolveOk(p, {.time_limit_s = 0.2, .max_candidate_nodes = 3});
  EXPECT_GE(s.objective, AllocatedGpuMilli(p, GreedyPlacement(p)));
}

TEST(BatchIlpTest, IdenticalNodesBeyondTheBatchAreNotModelled) {
  IlpProblem p;
  for (int n = 0; n < 500; ++n) p.nodes.push_back(MakeNode({1000, 1000, 1000, 1000}));
  p.requests = {{Whole(2), 2}, {Fraction(500), 3}};
  IlpSolution s = SolveOk(p);
  EXPECT_EQ(s.status, IlpStatus::kOptimal);
  EXPECT_EQ(s.objective, 5500);
  EXPECT_LT(s.columns, 100);
}

TEST(BatchIlpTest, LpBoundExceedsIntegerOptimumWhenItemsDoNotPack) {
  IlpProblem p;
  p.nodes.push_back(MakeNode({1000}));
  p.requests = {{Fraction(600), 1}, {Fraction(600), 1}};
  IlpSolution s = SolveOk(p);
  EXPECT_EQ(s.objective, 600);
  Result<double> lp = LpUpperBound(p);
  ASSERT_TRUE(lp.ok());
  EXPECT_NEAR(*lp, 1000, 1e-6);
}

TEST(BatchIlpTest, RefusesBadInput) {
  IlpProblem p;
  p.nodes.push_back(MakeNode({1000}));
  p.requests = {{Fraction(500), 0}};
  EXPECT_EQ(SolveBatch(p).status().code(), StatusCode::kInvalidArgument);
  p.requests = {{Fraction(500), 1}};
  std::vector<IlpRequestPlacement> bad(1);
  bad[0].replicas.push_back({0, {{0, 700}}});
  EXPECT_EQ(SolveBatch(p, {.warm_start = bad}).status().code(), StatusCode::kInvalidArgument);
  model::Shape two_halves = Fraction(500);
  two_halves.gpu_count = 2;
  p.requests = {{two_halves, 1}};
  EXPECT_EQ(SolveBatch(p).status().code(), StatusCode::kInvalidArgument);
  p.requests = {{Fraction(500), 1}};
  p.nodes[0].gpus[0].free_milli = 1200;
  EXPECT_EQ(LpUpperBound(p).status().code(), StatusCode::kInvalidArgument);
}

// The trace's gpu_spec sometimes names a model twice; the program does not mind.
TEST(BatchIlpTest, AcceptsAModelNamedTwice) {
  IlpProblem p;
  p.nodes.push_back(MakeNode({1000}, 64000, 262144, "V100M32"));
  model::Shape s = Whole(1);
  s.gpu_models = {"V100M32", "V100M32"};
  p.requests = {{s, 1}};
  IlpSolution out = SolveOk(p);
  EXPECT_EQ(out.objective, 1000);
}

TEST(BatchIlpTest, CheckPlacementCatchesOverCommitAndPartialGangs) {
  IlpProblem p;
  p.nodes.push_back(MakeNode({1000}));
  p.requests = {{Fraction(600), 1}, {Fraction(600), 1}, {Fraction(100), 2}};
  std::vector<IlpRequestPlacement> both(3);
  both[0].replicas.push_back({0, {{0, 600}}});
  both[1].replicas.push_back({0, {{0, 600}}});
  EXPECT_FALSE(CheckPlacement(p, both).ok());
  std::vector<IlpRequestPlacement> partial(3);
  partial[2].replicas.push_back({0, {{0, 100}}});
  EXPECT_FALSE(CheckPlacement(p, partial).ok());
}

}  // namespace
}  // namespace fastgpu::opt

// The policies' caches against no cache at all, across refreshes of a learned target: an
// Engine learns the target workload from what it places (its policy keeps per-node scores,
// per-shape trees, scores shared by nodes of equal contents, filter answers kept over a new
// target and a fragmentation memo), and before each placement a policy made afresh with the
// engine's current target scans every node from nothing. Both must choose alike at every
// step, on clusters of a few node specs (so many nodes hold equal contents) with releases,
// GPU health flips and drains in between.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "scheduler/engine.h"
#include "scheduler/policy.h"
#include "scheduler/scoring_policy.h"

namespace fastgpu::sched {
namespace {

class ScoreCache : public ::testing::TestWithParam<std::string> {};

EngineNode TemplateNode(std::mt19937_64& rng, int i) {
  static const NodeSpec kSpecs[] = {
      {"", "A100", 8, 40960, 96000, 786432},
      {"", "T4", 4, 16384, 32000, 131072},
      {"", "V100", 2, 16384, 16000, 65536},
      {"", "", 0, 0, 64000, 262144},
  };
  EngineNode n;
  n.spec = kSpecs[std::uniform_int_distribution<int>(0, 3)(rng)];
  n.spec.id = "n" + std::to_string(i);
  return n;
}

model::Shape DrawShape(std::mt19937_64& rng) {
  model::Shape s;
  const int kind = std::uniform_int_distribution<int>(0, 9)(rng);
  s.cpu_milli = std::uniform_int_distribution<int64_t>(1, 4)(rng) * 2000;
  s.memory_mib = std::uniform_int_distribution<int64_t>(1, 4)(rng) * 8192;
  if (kind >= 2) {
    s.gpu_count = 1;
    s.gpu_milli = kind <= 6 ? std::uniform_int_distribution<int>(1, 4)(rng) * 250 : 1000;
    if (kind == 8) s.gpu_count = 2;
    if (kind == 9) s.gpu_models = {"T4"};
  }
  return s;
}

void RunAgainstFreshPolicy(const std::string& name, uint64_t seed, int nodes, int steps) {
  std::mt19937_64 rng(seed);
  EngineOptions options;
  options.policy = name;
  options.seed = seed;
  options.workload_window = 400;  // slides within the run
  Result<std::unique_ptr<Engine>> made = Engine::Create(options);
  ASSERT_TRUE(made.ok()) << made.status();
  Engine& engine = **made;
  std::vector<EngineNode> views;
  for (int i = 0; i < nodes; ++i) {
    views.push_back(TemplateNode(rng, i));
    ASSERT_TRUE(engine.UpsertNode(views.back()).ok());
  }
  // A pool of shapes drawn once, so that shapes and node contents repeat.
  std::vector<model::Shape> pool;
  for (int k = 0; k < 24; ++k) pool.push_back(DrawShape(rng));
  std::vector<std::string> booked;
  std::vector<TargetTask> target;  // the engine's policy's target
  int placed = 0, failed = 0, next_id = 0;
  for (int step = 0; step < steps; ++step) {
    const int event = std::uniform_int_distribution<int>(0, 99)(rng);
    const int n = std::uniform_int_distribution<int>(0, nodes - 1)(rng);
    if (event < 20 && !booked.empty()) {  // a release
      const size_t k = std::uniform_int_distribution<size_t>(0, booked.size() - 1)(rng);
      ASSERT_TRUE(engine.ReleaseAllocation(booked[k]).ok());
      booked.erase(booked.begin() + static_cast<ptrdiff_t>(k));
    } else if (event < 23 && views[n].spec.gpu_count > 0) {  // a GPU's health flips
      EngineNode& v = views[n];
      v.unhealthy.resize(v.spec.gpu_count, false);
      const int g = std::uniform_int_distribution<int>(0, v.spec.gpu_count - 1)(rng);
      v.unhealthy[g] = !v.unhealthy[g];
      ASSERT_TRUE(engine.UpsertNode(v).ok());
    } else if (event < 26) {  // drained or opened again
      EngineNode& v = views[n];
      v.availability = v.availability == NodeAvailability::kOpen ? NodeAvailability::kDrained
                                                                 : NodeAvailability::kOpen;
      ASSERT_TRUE(engine.UpsertNode(v).ok());
    } else {  // a submission: learned, then placed
      const model::Shape& shape =
          pool[std::uniform_int_distribution<size_t>(0, pool.size() - 1)(rng)];
      const int64_t version = engine.target_version();
      engine.Observe(shape);
      // The engine hands its policy the window's target only when it refreshes it.
      if (engine.target_version() != version) target = engine.workload().Target();
      PolicyOptions fresh_options;
      fresh_options.seed = seed;
      fresh_options.target_workload = target;
      Result<std::unique_ptr<Policy>> fresh = MakePolicy(name, fresh_options);
      ASSERT_TRUE(fresh.ok()) << fresh.status();
      dynamic_cast<ScoringPolicy&>(**fresh).set_use_index(false);
      Result<NodePlacement> want = (*fresh)->Place(engine.cluster(), shape);
      Result<std::vector<NodePlacement>> got = engine.Place({"r", shape, 1});
      ASSERT_EQ(got.ok(), want.ok())
          << name << " step " << step << ": " << model::DescribeShape(shape);
      if (!want.ok()) {
        EXPECT_EQ(got.status().message(), "request r: " + want.status().message())
            << name << " step " << step;
        ++failed;
        continue;
      }
      ASSERT_EQ((*got)[0], *want) << name << " step " << step << ": "
                                  << model::DescribeShape(shape);
      const std::string id = "a" + std::to_string(next_id++);
      ASSERT_TRUE(engine.AddAllocation(id, (*got)[0], /*already_applied=*/true).ok());
      booked.push_back(id);
      ++placed;
    }
  }
  EXPECT_GT(engine.target_version(), 20) << "the target was refreshed";
  EXPECT_GT(placed, steps / 4);
  EXPECT_GT(failed, 0);
}

TEST_P(ScoreCache, AgreesWithAPolicyWithoutCachesAcrossTargetRefreshes) {
  RunAgainstFreshPolicy(GetParam(), 3, 48, 2500);
}

TEST_P(ScoreCache, AgreesOnALargerClusterOfFewSpecs) {
  RunAgainstFreshPolicy(GetParam(), 8, 160, 1500);
}

INSTANTIATE_TEST_SUITE_P(CacheablePolicies, ScoreCache,
                         ::testing::Values("first-fit", "best-fit", "dot-product", "gpu-packing",
                                           "fgd", "fastgpu"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s) {
                             if (c == '-') c = '_';
                           }
                           return s;
                         });

}  // namespace
}  // namespace fastgpu::sched

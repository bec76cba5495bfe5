// The score trees and the change log against a plain scan of every node: two instances of
// each policy, one using its per-shape trees and one scanning, see the same cluster and
// the same history (placements applied, releases, health, drain and MIG marks, new nodes,
// a replaced node, a copied cluster, forks of a cluster, a new target workload, more
// shapes than keep a tree)
// and must answer every Place alike.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "scheduler/cluster.h"
#include "scheduler/policy.h"
#include "scheduler/score_tree.h"
#include "scheduler/scoring_policy.h"

namespace fastgpu::sched {
namespace {

const char* const kModels[] = {"A100", "T4", "V100"};

NodeSpec RandomSpec(std::mt19937_64& rng, int i) {
  return {"n" + std::to_string(i),
          kModels[i % 3],
          std::uniform_int_distribution<int>(0, 8)(rng),
          std::uniform_int_distribution<int64_t>(0, 4)(rng) * 10000,
          std::uniform_int_distribution<int64_t>(8, 96)(rng) * 1000,
          std::uniform_int_distribution<int64_t>(16, 512)(rng) * 1024};
}

// Shapes drawn from a pool of `kinds`, the first few far more often than the rest (so
// popular shapes keep their trees while rare ones are evicted and rebuilt).
class ShapePool {
 public:
  ShapePool(std::mt19937_64& rng, int kinds) {
    for (int k = 0; k < kinds; ++k) shapes_.push_back(Draw(rng));
  }
  const model::Shape& Next(std::mt19937_64& rng) const {
    const int popular = std::min(7, static_cast<int>(shapes_.size()) - 1);
    int k = std::uniform_int_distribution<int>(0, 99)(rng) < 70
                ? std::uniform_int_distribution<int>(0, popular)(rng)
                : std::uniform_int_distribution<int>(0, static_cast<int>(shapes_.size()) - 1)(rng);
    return shapes_[k];
  }
  const std::vector<model::Shape>& shapes() const { return shapes_; }

 private:
  static model::Shape Draw(std::mt19937_64& rng) {
    model::Shape s;
    int kind = std::uniform_int_distribution<int>(0, 11)(rng);
    s.cpu_milli = std::uniform_int_distribution<int64_t>(0, 16)(rng) * 1000;
    s.memory_mib = std::uniform_int_distribution<int64_t>(0, 64)(rng) * 1024;
    if (kind == 0) {
      if (s.cpu_milli == 0) s.cpu_milli = 500;
    } else if (kind <= 6) {
      s.gpu_count = 1;
      // Coarse sizes, so equal scores (ties) are common.
      s.gpu_milli = std::uniform_int_distribution<int>(1, 9)(rng) * 100;
      if (kind == 5) s.gpu_memory_mib = std::uniform_int_distribution<int64_t>(1, 30)(rng) * 1024;
      if (kind == 6) s.isolation = model::Isolation::kMig;
    } else {
      int counts[] = {1, 2, 4, 8};
      s.gpu_count = counts[std::uniform_int_distribution<int>(0, 3)(rng)];
      s.gpu_milli = 1000;
    }
    if (s.gpu_count > 0 && kind % 4 == 0) s.gpu_models = {"T4", "V100"};
    return s;
  }
  std::vector<model::Shape> shapes_;
};

std::unique_ptr<Policy> Make(const std::string& name, bool use_index, bool learn,
                             bool elastic = false) {
  PolicyOptions options;
  options.seed = 11;
  if (!learn) {
    model::Shape half;
    half.gpu_count = 1;
    half.gpu_milli = 500;
    half.cpu_milli = 4000;
    model::Shape whole;
    whole.gpu_count = 1;
    whole.gpu_milli = 1000;
    whole.cpu_milli = 8000;
    options.target_workload = {{half, 3}, {whole, 2}};
  }
  Result<std::unique_ptr<Policy>> p = MakePolicy(name, options);
  EXPECT_TRUE(p.ok()) << p.status();
  auto* scoring = dynamic_cast<ScoringPolicy*>(p->get());
  EXPECT_NE(scoring, nullptr) << name;
  if (scoring != nullptr) scoring->set_use_index(use_index);
  (*p)->SetElasticPool(elastic);
  return std::move(*p);
}

class ScoringIndex : public ::testing::TestWithParam<std::string> {};

// Runs `steps` random events on a random cluster; every Place must agree.
void RunAgainstScan(const std::string& name, bool learn, uint64_t seed, int steps,
                    bool elastic = false) {
  std::mt19937_64 rng(seed);
  Cluster cluster;
  int next_node = 0;
  for (; next_node < 60; ++next_node) cluster.AddNode(RandomSpec(rng, next_node));
  ShapePool pool(rng, ScoringPolicy::kIndexedShapes + 24);
  std::unique_ptr<Policy> indexed = Make(name, true, learn, elastic);
  std::unique_ptr<Policy> scanned = Make(name, false, learn, elastic);
  std::vector<NodePlacement> held;
  int placed = 0, failed = 0;
  for (int step = 0; step < steps; ++step) {
    int event = std::uniform_int_distribution<int>(0, 99)(rng);
    const int n = std::uniform_int_distribution<int>(0, cluster.size() - 1)(rng);
    const int gpus = static_cast<int>(cluster.node(n).gpus.size());
    const int g = gpus > 0 ? std::uniform_int_distribution<int>(0, gpus - 1)(rng) : 0;
    if (event < 12 && !held.empty()) {  // a release
      size_t k = std::uniform_int_distribution<size_t>(0, held.size() - 1)(rng);
      ASSERT_TRUE(cluster.Release(held[k]).ok());
      held.erase(held.begin() + static_cast<ptrdiff_t>(k));
    } else if (event < 15 && gpus > 0) {
      (void)cluster.SetGpuHealthy(n, g, !cluster.node(n).gpus[g].healthy);
    } else if (event < 18) {
      (void)cluster.SetSchedulable(n, !cluster.node(n).schedulable);
    } else if (event < 21 && gpus > 0) {
      (void)cluster.SetGpuMig(n, g, !cluster.node(n).gpus[g].mig);
    } else if (event == 21) {  // a new node
      cluster.AddNode(RandomSpec(rng, next_node++));
    } else if (event == 22) {  // a node's spec changes: its bookings go
      std::erase_if(held, [n](const NodePlacement& p) { return p.node == n; });
      NodeSpec spec = RandomSpec(rng, n);
      spec.gpu_model =
          cluster.node(n).gpu_model.empty() ? spec.gpu_model : cluster.node(n).gpu_model;
      cluster.ReplaceNode(n, spec);
    } else if (event == 23) {  // the same state in a copy (another history)
      Cluster copy = cluster;
      cluster = copy;
    } else if (event == 24 && step % 5 == 0) {  // a new target workload
      std::vector<TargetTask> target;
      for (int k = 0; k < 4; ++k) target.push_back({pool.Next(rng), 1.0 + k});
      indexed->SetTargetWorkload(target);
      scanned->SetTargetWorkload(target);
    } else {  // a placement, applied
      const model::Shape& shape = pool.Next(rng);
      Result<NodePlacement> want = scanned->Place(cluster, shape);
      Result<NodePlacement> got = indexed->Place(cluster, shape);
      ASSERT_EQ(got.ok(), want.ok()) << name << " step " << step;
      if (!want.ok()) {
        EXPECT_EQ(got.status().message(), want.status().message()) << name << " step " << step;
        ++failed;
        continue;
      }
      ASSERT_EQ(got->node, want->node)
          << name << " step " << step << ": " << model::DescribeShape(shape);
      ASSERT_EQ(*got, *want) << name << " step " << step;
      if (cluster.Apply(*got).ok()) {
        held.push_back(*got);
        ++placed;
      }
    }
  }
  EXPECT_GT(placed, steps / 10);
  EXPECT_GT(failed, 0);
}

TEST_P(ScoringIndex, AgreesWithAScanOfEveryNode) { RunAgainstScan(GetParam(), false, 5, 6000); }

TEST_P(ScoringIndex, AgreesWithAScanWhileLearningTheWorkload) {
  RunAgainstScan(GetParam(), true, 9, 3000);
}

// With the pool term (an elastic pool): releases empty nodes out and placements fill them,
// so the term moves with every event; the trees must follow it.
TEST_P(ScoringIndex, AgreesWithAScanOnAnElasticPool) {
  RunAgainstScan(GetParam(), false, 13, 4000, /*elastic=*/true);
}

// Two forks of one cluster, each open only on its own nodes (even ones in one, odd in the
// other, with versions set apart so that a node's version never means two states),
// placed on in turn by the same policies: the change log of one fork says nothing of the
// other, so a policy switching forks must check every node, as the scan does.
TEST_P(ScoringIndex, AgreesWithAScanAcrossForksOfACluster) {
  std::mt19937_64 rng(21);
  Cluster forks[2];
  for (int i = 0; i < 40; ++i) forks[0].AddNode(RandomSpec(rng, i));
  forks[1] = forks[0];
  for (int f = 0; f < 2; ++f) {
    for (int n = 0; n < forks[f].size(); ++n) {
      if (n % 2 != f) {
        ASSERT_TRUE(forks[f].SetSchedulable(n, false).ok());  // version + 1
      } else {
        ASSERT_TRUE(forks[f].SetSchedulable(n, true).ok());  // version + 2 and up
        ASSERT_TRUE(forks[f].SetSchedulable(n, true).ok());
      }
    }
  }
  ShapePool pool(rng, 6);
  std::unique_ptr<Policy> indexed = Make(GetParam(), true, false);
  std::unique_ptr<Policy> scanned = Make(GetParam(), false, false);
  int placed = 0;
  for (int step = 0; step < 600; ++step) {
    Cluster& cluster = forks[step % 2];
    const model::Shape& shape = pool.Next(rng);
    Result<NodePlacement> want = scanned->Place(cluster, shape);
    Result<NodePlacement> got = indexed->Place(cluster, shape);
    ASSERT_EQ(got.ok(), want.ok()) << GetParam() << " step " << step;
    if (!want.ok()) {
      EXPECT_EQ(got.status().message(), want.status().message());
      continue;
    }
    ASSERT_EQ(*got, *want) << GetParam() << " step " << step;
    ASSERT_EQ(got->node % 2, step % 2);
    if (cluster.Apply(*got).ok()) ++placed;
  }
  EXPECT_GT(placed, 40);
}

INSTANTIATE_TEST_SUITE_P(AllScoringPolicies, ScoringIndex,
                         ::testing::Values("first-fit", "best-fit", "dot-product", "gpu-packing",
                                           "gpu-clustering", "fgd", "fastgpu", "random"),
                         [](const auto& info) {
                           std::string s = info.param;
                           std::replace(s.begin(), s.end(), '-', '_');
                           return s;
                         });

TEST(ScoreTreeTest, BestIsTheHighestScoreThenTheLowestPosition) {
  std::mt19937_64 rng(3);
  for (int size : {0, 1, 2, 3, 7, 64, 100}) {
    ScoreTree tree;
    tree.Reset(size);
    std::vector<bool> occupied(size, false);
    std::vector<double> score(size, 0);
    for (int p = 0; p < size; ++p) {
      occupied[p] = rng() % 3 != 0;
      score[p] = static_cast<double>(rng() % 5);
      tree.Assign(p, occupied[p], score[p]);
    }
    tree.Build();
    for (int step = 0; step < 400; ++step) {
      int want = -1;
      for (int p = 0; p < size; ++p) {
        if (occupied[p] && (want < 0 || score[p] > score[want])) want = p;
      }
      ASSERT_EQ(tree.Best(), want) << "size " << size << " step " << step;
      if (size == 0) break;
      int p = static_cast<int>(rng() % size);
      occupied[p] = rng() % 4 != 0;
      score[p] = static_cast<double>(rng() % 5);
      tree.Set(p, occupied[p], score[p]);
    }
  }
}

}  // namespace
}  // namespace fastgpu::sched

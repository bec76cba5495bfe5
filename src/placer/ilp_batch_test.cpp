// The ilp-batch placer through the placer table.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "placer/batch_placers.h"
#include "scheduler/batch_placer.h"
#include "scheduler/cluster.h"

namespace fastgpu::placer {
namespace {

sched::Cluster Nodes() {
  sched::Cluster cluster;
  for (int n = 0; n < 30; ++n) {
    cluster.AddNode({"node-" + std::to_string(n), n % 4 == 0 ? "T4" : "G2", n % 3 == 0 ? 8 : 4,
                     16384, 32000, 131072});
  }
  return cluster;
}

struct Pod {
  std::string name;
  model::Shape shape;
};

std::vector<Pod> Pods() {
  std::mt19937 rng(3);
  std::vector<Pod> pods;
  for (int i = 0; i < 300; ++i) {
    Pod p;
    p.name = "pod-" + std::to_string(1000 + i);
    p.shape.cpu_milli = 1000 * (1 + rng() % 6);
    p.shape.memory_mib = 1024 * (1 + rng() % 8);
    const uint32_t kind = rng() % 10;
    if (kind < 6) {
      p.shape.gpu_count = 1;
      p.shape.gpu_milli = 50 * (2 + static_cast<int>(rng() % 17));
    } else if (kind < 9) {
      p.shape.gpu_count = 1 + static_cast<int>(rng() % 2);
      p.shape.gpu_milli = 1000;
    }
    pods.push_back(p);
  }
  return pods;
}

TEST(BatchPlacersTest, TableListsIlpBatch) {
  std::vector<std::string> names = BatchPlacerNames();
  EXPECT_NE(std::find(names.begin(), names.end(), "ilp-batch"), names.end());
  EXPECT_TRUE(IsBatchPlacer("ilp-batch"));
  EXPECT_FALSE(IsBatchPlacer("best-fit"));
  EXPECT_NE(KnownPlacersText().find("online policies: first-fit"), std::string::npos);
  EXPECT_NE(KnownPlacersText().find("; batch placers: ilp-batch"), std::string::npos);
}

TEST(BatchPlacersTest, UnknownBatchPlacerIsNotFoundAndListsTheKnownOnes) {
  Result<std::unique_ptr<sched::BatchPlacer>> placer = MakeBatchPlacer("nope", BatchOptions{});
  EXPECT_EQ(placer.status().code(), StatusCode::kNotFound);
  EXPECT_NE(placer.status().message().find("'nope'"), std::string::npos);
  EXPECT_NE(placer.status().message().find("known: ilp-batch"), std::string::npos)
      << placer.status();
}

TEST(IlpBatchTest, PlacesABatchWithoutOverCommitAndBeatsOneByOne) {
  sched::Cluster cluster = Nodes();
  BatchOptions options;
  options.time_limit_seconds = 2;
  Result<std::unique_ptr<sched::BatchPlacer>> placer = MakeBatchPlacer("ilp-batch", options);
  ASSERT_TRUE(placer.ok()) << placer.status();
  std::vector<sched::Request> requests;
  for (const Pod& p : Pods()) requests.push_back({p.name, p.shape, 1});
  requests.resize(64);
  auto answer = (*placer)->PlaceBatch(cluster, requests);
  ASSERT_EQ(answer.size(), requests.size());
  int64_t placed_milli = 0;
  for (size_t r = 0; r < answer.size(); ++r) {
    if (answer[r].empty()) continue;
    ASSERT_EQ(answer[r].size(), 1u);
    Status s = cluster.Apply(answer[r][0]);  // fails if the batch over-commits
    ASSERT_TRUE(s.ok()) << "request " << r << ": " << s;
    placed_milli += requests[r].shape.TotalGpuMilli();
  }
  // The default online policy on the same batch, one request after the other.
  sched::Cluster online = Nodes();
  auto policy = sched::MakePolicy(sched::kDefaultPolicy, {});
  ASSERT_TRUE(policy.ok());
  int64_t online_milli = 0;
  for (const sched::Request& r : requests) {
    auto p = (*policy)->Place(online, r.shape);
    if (p.ok() && online.Apply(*p).ok()) online_milli += r.shape.TotalGpuMilli();
  }
  EXPECT_GE(placed_milli, online_milli);
  EXPECT_EQ(placed_milli, cluster.TotalGpuMilli() - cluster.FreeGpuMilli());
}

// The integer program knows no MIG mode: requests that need MIG isolation go to MIG GPUs
// only, even when that leaves one unplaced while other GPUs are free.
TEST(IlpBatchTest, MigRequestsGoOnlyToMigGpus) {
  sched::Cluster cluster;
  cluster.AddNode({"plain", "A100", 2, 40000, 32000, 131072});
  cluster.AddNode({"mig", "A100", 2, 40000, 32000, 131072});
  ASSERT_TRUE(cluster.SetGpuMig(1, 0, true).ok());
  Result<std::unique_ptr<sched::BatchPlacer>> placer = MakeBatchPlacer("ilp-batch", {});
  ASSERT_TRUE(placer.ok()) << placer.status();
  model::Shape mig;
  mig.gpu_count = 1;
  mig.gpu_milli = 500;
  mig.gpu_memory_mib = 10000;
  mig.isolation = model::Isolation::kMig;
  model::Shape plain = mig;
  plain.isolation = model::Isolation::kDefault;
  auto answer = (*placer)->PlaceBatch(
      cluster, {{"a", plain, 1}, {"b", mig, 1}, {"c", mig, 1}, {"d", mig, 1}});
  ASSERT_EQ(answer.size(), 4u);
  ASSERT_EQ(answer[0].size(), 1u);
  int on_mig = 0;
  for (int r : {1, 2, 3}) {
    if (answer[r].empty()) continue;
    ASSERT_EQ(answer[r].size(), 1u) << r;
    EXPECT_EQ(answer[r][0].node, 1) << r;
    ASSERT_EQ(answer[r][0].gpus.size(), 1u);
    EXPECT_EQ(answer[r][0].gpus[0].gpu_index, 0) << r;
    ++on_mig;
  }
  EXPECT_EQ(on_mig, 2);  // the one MIG GPU holds two halves
  for (const auto& gang : answer) {
    for (const sched::NodePlacement& p : gang) EXPECT_TRUE(cluster.Apply(p).ok());
  }
}

// A gang is placed whole or not at all: one that cannot fit whole takes nothing, so the
// window's other requests get the room.
TEST(IlpBatchTest, GangsArePlacedWholeOrNotAtAll) {
  sched::Cluster cluster;
  cluster.AddNode({"a", "A100", 2, 40000, 32000, 131072});
  cluster.AddNode({"b", "A100", 2, 40000, 32000, 131072});
  Result<std::unique_ptr<sched::BatchPlacer>> placer = MakeBatchPlacer("ilp-batch", {});
  ASSERT_TRUE(placer.ok()) << placer.status();
  model::Shape gpu;
  gpu.gpu_count = 1;
  gpu.gpu_milli = 1000;
  gpu.cpu_milli = 1000;
  auto answer = (*placer)->PlaceBatch(
      cluster, {{"big", gpu, 5}, {"one", gpu, 1}, {"pair", gpu, 2}, {"one-more", gpu, 1}});
  ASSERT_EQ(answer.size(), 4u);
  EXPECT_TRUE(answer[0].empty());
  EXPECT_EQ(answer[1].size(), 1u);
  EXPECT_EQ(answer[2].size(), 2u);
  EXPECT_EQ(answer[3].size(), 1u);
  for (const auto& gang : answer) {
    for (const sched::NodePlacement& p : gang) EXPECT_TRUE(cluster.Apply(p).ok());
  }
  EXPECT_EQ(cluster.FreeGpuMilli(), 0);
}

}  // namespace
}  // namespace fastgpu::placer

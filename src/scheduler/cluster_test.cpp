#include "scheduler/cluster.h"

#include <gtest/gtest.h>

#include <optional>
#include <span>
#include <vector>

namespace fastgpu::sched {
namespace {

Cluster TwoNodes() {
  Cluster c;
  c.AddNode({"a", "H100", 2, 80000, 32000, 128000});
  c.AddNode({"b", "T4", 1, 16000, 8000, 32000});
  return c;
}

TEST(ClusterTest, AddNodeStartsFree) {
  Cluster c = TwoNodes();
  ASSERT_EQ(c.size(), 2);
  EXPECT_EQ(c.TotalGpuMilli(), 3000);
  EXPECT_EQ(c.FreeGpuMilli(), 3000);
  EXPECT_EQ(c.node(0).gpus[1].free_memory_mib, 80000);
  EXPECT_EQ(c.ModelId("T4"), 1);
  EXPECT_EQ(c.ModelId("A100"), -1);
  EXPECT_EQ(c.FindNode("b"), 1);
}

TEST(ClusterTest, ApplyAndReleaseRoundTrip) {
  Cluster c = TwoNodes();
  NodePlacement p{0, {{1, 500, 40000}}, 4000, 16000};
  uint64_t v = c.node(0).version;
  ASSERT_TRUE(c.Apply(p).ok());
  EXPECT_GT(c.node(0).version, v);
  EXPECT_EQ(c.node(0).gpus[1].free_milli, 500);
  EXPECT_EQ(c.node(0).gpus[1].free_memory_mib, 40000);
  EXPECT_EQ(c.node(0).cpu_free_milli, 28000);
  EXPECT_EQ(c.FreeGpuMilli(), 2500);
  ASSERT_TRUE(c.Release(p).ok());
  EXPECT_EQ(c.node(0).gpus[1].free_milli, 1000);
  EXPECT_EQ(c.FreeGpuMilli(), 3000);
}

TEST(ClusterTest, ApplyRefusesOverCommitAndChangesNothing) {
  Cluster c = TwoNodes();
  ASSERT_TRUE(c.Apply({0, {{0, 600, 0}}, 0, 0}).ok());
  uint64_t v = c.node(0).version;
  EXPECT_FALSE(c.Apply({0, {{0, 500, 0}}, 0, 0}).ok());               // milli
  EXPECT_FALSE(c.Apply({0, {{1, 100, 90000}}, 0, 0}).ok());           // GPU memory
  EXPECT_FALSE(c.Apply({0, {{1, 100, 0}}, 40000, 0}).ok());           // CPU
  EXPECT_FALSE(c.Apply({0, {{1, 100, 0}}, 0, 200000}).ok());          // memory
  EXPECT_FALSE(c.Apply({0, {{1, 100, 0}, {1, 100, 0}}, 0, 0}).ok());  // GPU twice
  EXPECT_FALSE(c.Apply({0, {{2, 100, 0}}, 0, 0}).ok());               // no such GPU
  EXPECT_FALSE(c.Apply({5, {}, 0, 0}).ok());                          // no such node
  // A partial success must not leak: GPU 1 fits, GPU 0 does not.
  EXPECT_FALSE(c.Apply({0, {{1, 1000, 0}, {0, 1000, 0}}, 0, 0}).ok());
  EXPECT_EQ(c.node(0).gpus[1].free_milli, 1000);
  EXPECT_EQ(c.node(0).version, v);
  EXPECT_EQ(c.FreeGpuMilli(), 2400);
}

TEST(ClusterTest, ReleaseRefusesOverRelease) {
  Cluster c = TwoNodes();
  EXPECT_FALSE(c.Release({0, {{0, 100, 0}}, 0, 0}).ok());
  EXPECT_FALSE(c.Release({0, {}, 1, 0}).ok());
  EXPECT_FALSE(c.Release({0, {}, 0, 1}).ok());
  ASSERT_TRUE(c.Apply({1, {{0, 300, 1000}}, 1000, 1000}).ok());
  EXPECT_FALSE(c.Release({1, {{0, 300, 2000}}, 1000, 1000}).ok());
  EXPECT_TRUE(c.Release({1, {{0, 300, 1000}}, 1000, 1000}).ok());
}

TEST(ClusterTest, UnhealthyGpuTakesNothingAndLeavesCapacity) {
  Cluster c = TwoNodes();
  ASSERT_TRUE(c.SetGpuHealthy(0, 1, false).ok());
  EXPECT_EQ(c.TotalGpuMilli(), 2000);
  EXPECT_FALSE(c.Apply({0, {{1, 100, 0}}, 0, 0}).ok());
  EXPECT_FALSE(c.SetGpuHealthy(0, 7, false).ok());
  EXPECT_FALSE(c.SetSchedulable(9, false).ok());
  ASSERT_TRUE(c.SetGpuHealthy(0, 1, true).ok());
  EXPECT_EQ(c.TotalGpuMilli(), 3000);
}

TEST(ClusterTest, FromNodesUsesModelMemoryAndHealth) {
  model::Node n;
  n.id = "node-1";
  n.cpu_milli = 8000;
  n.memory_mib = 16000;
  n.gpus.push_back({0, "GPU-0", "A10", 24000, true, "", false, false});
  n.gpus.push_back({1, "GPU-1", "A10", 24000, false, "XID 79", false, false});
  Result<Cluster> c = Cluster::FromNodes({n});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->node(0).gpu_model, "A10");
  EXPECT_EQ(c->node(0).gpus[0].free_memory_mib, 24000);
  EXPECT_FALSE(c->node(0).gpus[1].healthy);
  EXPECT_EQ(c->TotalGpuMilli(), 1000);
  n.gpus[1].model = "T4";
  EXPECT_FALSE(Cluster::FromNodes({n}).ok());
}

TEST(ClusterTest, ChangeLogNamesTheChangedNodes) {
  Cluster c = TwoNodes();
  EXPECT_EQ(c.change_count(), 2u);  // the two added nodes
  const uint64_t since = c.change_count();
  ASSERT_TRUE(c.Apply({1, {{0, 500, 0}}, 1000, 1000}).ok());
  ASSERT_TRUE(c.SetGpuHealthy(0, 1, false).ok());
  ASSERT_TRUE(c.SetGpuHealthy(0, 1, false).ok());  // no change: not logged
  ASSERT_TRUE(c.SetSchedulable(1, false).ok());
  ASSERT_TRUE(c.SetGpuMig(0, 0, true).ok());
  c.ReplaceNode(1, {"b", "T4", 2, 16000, 8000, 32000});
  std::optional<std::span<const int>> changes = c.ChangesSince(since);
  ASSERT_TRUE(changes.has_value());
  EXPECT_EQ(std::vector<int>(changes->begin(), changes->end()), (std::vector<int>{1, 0, 1, 0, 1}));
  EXPECT_TRUE(c.ChangesSince(c.change_count())->empty());
  EXPECT_FALSE(c.ChangesSince(c.change_count() + 1).has_value());  // the future
  ASSERT_FALSE(c.Apply({0, {{0, 2000, 0}}, 0, 0}).ok());           // refused: not logged
  EXPECT_TRUE(c.ChangesSince(c.change_count())->empty());
}

TEST(ClusterTest, ChangeLogForgetsOldChangesAndCopiesStartAnotherHistory) {
  Cluster c = TwoNodes();
  const uint64_t start = c.change_count();
  NodePlacement p{0, {}, 1000, 0};
  for (size_t i = 0; i < 3 * ChangeLog::kMinEntries; ++i) {
    ASSERT_TRUE(c.Apply(p).ok());
    ASSERT_TRUE(c.Release(p).ok());
  }
  EXPECT_FALSE(c.ChangesSince(start).has_value());  // too far back: check every node
  const uint64_t recent = c.change_count() - ChangeLog::kMinEntries;
  ASSERT_TRUE(c.ChangesSince(recent).has_value());
  EXPECT_EQ(c.ChangesSince(recent)->size(), ChangeLog::kMinEntries);

  Cluster copy = c;
  EXPECT_NE(copy.history_id(), c.history_id());
  EXPECT_EQ(copy.change_count(), c.change_count());
  EXPECT_TRUE(copy.ChangesSince(copy.change_count())->empty());
  EXPECT_FALSE(copy.ChangesSince(recent).has_value());  // a copy starts with no log
  ASSERT_TRUE(copy.SetSchedulable(1, false).ok());
  EXPECT_EQ(std::vector<int>(copy.ChangesSince(c.change_count())->begin(),
                             copy.ChangesSince(c.change_count())->end()),
            std::vector<int>{1});
  const uint64_t id = copy.history_id();
  Cluster moved = std::move(copy);
  EXPECT_EQ(moved.history_id(), id);
  EXPECT_EQ(moved.ChangesSince(c.change_count())->size(), 1u);  // the log moved along
  copy = moved;
  EXPECT_NE(copy.history_id(), id);
}

}  // namespace
}  // namespace fastgpu::sched

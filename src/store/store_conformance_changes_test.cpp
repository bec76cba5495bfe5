// The conformance suite, part 4: the change feed (ReadTx::ListChangesSince). Runs
// against every Store implementation.
#include <gtest/gtest.h>

#include "store/store_test_util.h"

namespace fastgpu::testing {
namespace {

using store::Change;
using store::ChangeKind;

class ChangesTest : public StoreConformanceTest {
 protected:
  std::vector<Change> Since(int64_t after, int limit = 1000) {
    std::vector<Change> out;
    EXPECT_TRUE(R([&](store::ReadTx& tx) -> Status {
                  FASTGPU_ASSIGN_OR_RETURN(out, tx.ListChangesSince(after, limit));
                  return OkStatus();
                }).ok());
    return out;
  }
  int64_t Latest() {
    int64_t seq = -1;
    EXPECT_TRUE(R([&](store::ReadTx& tx) -> Status {
                  FASTGPU_ASSIGN_OR_RETURN(seq, tx.LatestChangeSeq());
                  return OkStatus();
                }).ok());
    return seq;
  }
  int64_t LatestNode() {
    int64_t seq = -1;
    EXPECT_TRUE(R([&](store::ReadTx& tx) -> Status {
                  FASTGPU_ASSIGN_OR_RETURN(seq, tx.LatestNodeChangeSeq());
                  return OkStatus();
                }).ok());
    return seq;
  }
  // (kind, id) of each change, in order.
  static std::vector<std::pair<ChangeKind, std::string>> What(const std::vector<Change>& cs) {
    std::vector<std::pair<ChangeKind, std::string>> out;
    for (const Change& c : cs) out.emplace_back(c.kind, c.id);
    return out;
  }
};

TEST_P(ChangesTest, LatestNodeChangeMovesWithNodeWritesOnly) {
  EXPECT_EQ(LatestNode(), 0);
  ASSERT_TRUE(W([](store::WriteTx& tx) {
                FASTGPU_RETURN_IF_ERROR(tx.CreateTenant(MakeTenant("tenant-1", "alpha")));
                return tx.UpsertNode(MakeNode("node-1", "a1", 2)).status();
              }).ok());
  const int64_t registered = LatestNode();
  EXPECT_EQ(registered, Latest());
  ASSERT_TRUE(W([](store::WriteTx& tx) {
                return tx.CreateJob(MakeJob("job-1", "tenant-1")).status();
              }).ok());
  EXPECT_EQ(LatestNode(), registered);  // a job's write is not a node's
  EXPECT_GT(Latest(), registered);
  ASSERT_TRUE(W([](store::WriteTx& tx) {
                return tx.SetNodeState("node-1", store::NodeState::kDraining);
              }).ok());
  const int64_t drained = LatestNode();
  EXPECT_GT(drained, registered);
  // Dropping the feed's old entries drops the node's too: the answer changes, never stays.
  ASSERT_TRUE(
      W([&](store::WriteTx& tx) { return tx.DeleteChangesBefore(drained + 1).status(); }).ok());
  EXPECT_EQ(LatestNode(), 0);
}

TEST_P(ChangesTest, EveryWriteOfAJobAllocationOrNodeIsInTheFeedInOrder) {
  EXPECT_EQ(Latest(), 0);
  EXPECT_TRUE(Since(0).empty());
  ASSERT_TRUE(W([](store::WriteTx& tx) {
                FASTGPU_RETURN_IF_ERROR(tx.CreateTenant(MakeTenant("tenant-1", "alpha")));
                FASTGPU_RETURN_IF_ERROR(tx.UpsertNode(MakeNode("node-1", "a1", 2)).status());
                FASTGPU_RETURN_IF_ERROR(tx.CreateJob(MakeJob("job-1", "tenant-1")).status());
                return tx.CreateAllocations({MakeAlloc("alloc-0", "job-1", "node-1", 0)});
              }).ok());
  const int64_t first = Latest();
  ASSERT_TRUE(W([](store::WriteTx& tx) {
                FASTGPU_ASSIGN_OR_RETURN(model::Job j, tx.GetJob("job-1"));
                j.reason = "waiting";
                FASTGPU_RETURN_IF_ERROR(tx.UpdateJob(j));
                store::AllocationUpdate u;
                u.state = store::AllocationState::kRunning;
                FASTGPU_RETURN_IF_ERROR(tx.UpdateAllocation("alloc-0", u).status());
                FASTGPU_RETURN_IF_ERROR(tx.ReleaseAllocation("alloc-0", TimePoint{}));
                FASTGPU_RETURN_IF_ERROR(tx.SetNodeState("node-1", store::NodeState::kDraining));
                FASTGPU_RETURN_IF_ERROR(tx.SetNodeDrained("node-1", true));
                return tx.RevokeNodeCredentials("node-1");
              }).ok());
  std::vector<Change> all = Since(0);
  ASSERT_EQ(all.size(), 9u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_GT(all[i].seq, all[i - 1].seq);
  EXPECT_EQ(all[2].seq, first);
  using P = std::pair<ChangeKind, std::string>;
  EXPECT_EQ(What(all), (std::vector<P>{{ChangeKind::kNode, "node-1"},
                                       {ChangeKind::kJob, "job-1"},
                                       {ChangeKind::kAllocation, "alloc-0"},
                                       {ChangeKind::kJob, "job-1"},
                                       {ChangeKind::kAllocation, "alloc-0"},
                                       {ChangeKind::kAllocation, "alloc-0"},
                                       {ChangeKind::kNode, "node-1"},
                                       {ChangeKind::kNode, "node-1"},
                                       {ChangeKind::kNode, "node-1"}}));
  // Reading from a seq gives only what came after it, at most `limit`.
  const std::vector<P> what = What(all);
  EXPECT_EQ(What(Since(first)), std::vector<P>(what.begin() + 3, what.end()));
  EXPECT_EQ(Since(first, 2).size(), 2u);
  EXPECT_EQ(Latest(), all.back().seq);
}

TEST_P(ChangesTest, AHeartbeatIsAChangeOnlyWhenHealthChanges) {
  ASSERT_TRUE(W([](store::WriteTx& tx) {
                return tx.UpsertNode(MakeNode("node-1", "a1", 2)).status();
              }).ok());
  const int64_t seq = Latest();
  ASSERT_TRUE(W([](store::WriteTx& tx) {
                return tx.UpdateNodeHeartbeat("node-1", TimePoint{std::chrono::seconds(5)}, {});
              }).ok());
  EXPECT_TRUE(Since(seq).empty());
  ASSERT_TRUE(W([](store::WriteTx& tx) {
                return tx.UpdateNodeHeartbeat("node-1", TimePoint{std::chrono::seconds(6)},
                                              {{1, false, "XID 79"}});
              }).ok());
  ASSERT_EQ(Since(seq).size(), 1u);
  EXPECT_EQ(Since(seq)[0].id, "node-1");
  const int64_t after = Latest();
  ASSERT_TRUE(W([](store::WriteTx& tx) {  // the same report again: no change
                return tx.UpdateNodeHeartbeat("node-1", TimePoint{std::chrono::seconds(7)},
                                              {{1, false, "XID 79"}});
              })
                  .ok());
  EXPECT_TRUE(Since(after).empty());
}

TEST_P(ChangesTest, ARolledBackWriteLeavesNoChangeAndSeqsAreNotReused) {
  ASSERT_TRUE(
      W([](store::WriteTx& tx) { return tx.CreateTenant(MakeTenant("tenant-1", "alpha")); }).ok());
  Status failed = W([](store::WriteTx& tx) {
    FASTGPU_RETURN_IF_ERROR(tx.CreateJob(MakeJob("job-1", "tenant-1")).status());
    return Internal("boom");
  });
  EXPECT_FALSE(failed.ok());
  EXPECT_TRUE(Since(0).empty());
  ASSERT_TRUE(W([](store::WriteTx& tx) {
                return tx.CreateJob(MakeJob("job-2", "tenant-1")).status();
              }).ok());
  ASSERT_EQ(Since(0).size(), 1u);
  EXPECT_EQ(Since(0)[0].id, "job-2");
}

TEST_P(ChangesTest, DeleteChangesBeforeKeepsTheRest) {
  ASSERT_TRUE(W([](store::WriteTx& tx) {
                FASTGPU_RETURN_IF_ERROR(tx.UpsertNode(MakeNode("node-1", "a1", 2)).status());
                FASTGPU_RETURN_IF_ERROR(tx.UpsertNode(MakeNode("node-2", "a2", 2)).status());
                return tx.UpsertNode(MakeNode("node-3", "a3", 2)).status();
              }).ok());
  std::vector<Change> all = Since(0);
  ASSERT_EQ(all.size(), 3u);
  int64_t deleted = -1;
  ASSERT_TRUE(W([&](store::WriteTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(deleted, tx.DeleteChangesBefore(all[2].seq));
                return OkStatus();
              }).ok());
  EXPECT_EQ(deleted, 2);
  ASSERT_EQ(Since(0).size(), 1u);
  EXPECT_EQ(Since(0)[0].id, "node-3");
  EXPECT_EQ(Latest(), all[2].seq);
  ASSERT_TRUE(W([](store::WriteTx& tx) {
                return tx.SetNodeState("node-1", store::NodeState::kLost);
              }).ok());
  EXPECT_GT(Latest(), all[2].seq);
}

INSTANTIATE_TEST_SUITE_P(AllStores, ChangesTest, ::testing::ValuesIn(AllStoreFactories()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace fastgpu::testing

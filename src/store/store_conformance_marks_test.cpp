// The conformance suite, part 3: the control plane's typed marks and settings (node
// drain marks, log ends, the price table, budget marks, the join token's hash), and the
// same records through a FaultyStore. Runs against every Store implementation.
#include <gtest/gtest.h>

#include "store/faulty_store.h"
#include "store/store_test_util.h"

namespace fastgpu::testing {
namespace {

class MarksTest : public StoreConformanceTest {
 protected:
  void SetUp() override {
    StoreConformanceTest::SetUp();
    ASSERT_TRUE(W([](store::WriteTx& tx) {
                  FASTGPU_RETURN_IF_ERROR(tx.CreateTenant(MakeTenant("tenant-1", "alpha")));
                  FASTGPU_RETURN_IF_ERROR(tx.CreateTenant(MakeTenant("tenant-2", "bravo")));
                  FASTGPU_RETURN_IF_ERROR(tx.UpsertNode(MakeNode("node-1", "a1", 2)).status());
                  FASTGPU_RETURN_IF_ERROR(tx.UpsertNode(MakeNode("node-2", "a2", 2)).status());
                  FASTGPU_RETURN_IF_ERROR(tx.CreateJob(MakeJob("job-1", "tenant-1")).status());
                  return tx.CreateAllocations({MakeAlloc("alloc-0", "job-1", "node-1", 0),
                                               MakeAlloc("alloc-1", "job-1", "node-1", 1)});
                }).ok());
  }
  // Whether the node is drained, or the error.
  Result<bool> Drained(const std::string& node_id) {
    Result<bool> out = Internal("not run");
    Status s = R([&](store::ReadTx& tx) -> Status {
      out = tx.IsNodeDrained(node_id);
      return OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }
  Result<store::LogEnd> End(const std::string& alloc_id) {
    Result<store::LogEnd> out = Internal("not run");
    Status s = R([&](store::ReadTx& tx) -> Status {
      out = tx.GetLogEnd(alloc_id);
      return OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }
  Result<metering::PriceTable> Prices() {
    Result<metering::PriceTable> out = Internal("not run");
    Status s = R([&](store::ReadTx& tx) -> Status {
      out = tx.GetPriceTable();
      return OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }
  Result<store::BudgetOverMark> Mark(const std::string& tenant_id, int64_t period_start_ms) {
    Result<store::BudgetOverMark> out = Internal("not run");
    Status s = R([&](store::ReadTx& tx) -> Status {
      out = tx.GetBudgetOverMark(tenant_id, period_start_ms);
      return OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }
  Result<std::string> JoinHash() {
    Result<std::string> out = Internal("not run");
    Status s = R([&](store::ReadTx& tx) -> Status {
      out = tx.GetJoinTokenHash();
      return OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }
};

metering::PriceTable SomePrices() {
  metering::PriceTable p;
  p.gpu_hour_millicents = {{"H100-80GB", 249000}, {"A100-80GB", 180000}};
  p.default_gpu_hour_millicents = 100000;
  p.cpu_hour_millicents = 4000;
  p.memory_gib_hour_millicents = 5;
  p.minimum_charge_seconds = 60;
  return p;
}

void ExpectSamePrices(const metering::PriceTable& a, const metering::PriceTable& b) {
  EXPECT_EQ(a.gpu_hour_millicents, b.gpu_hour_millicents);
  EXPECT_EQ(a.default_gpu_hour_millicents, b.default_gpu_hour_millicents);
  EXPECT_EQ(a.cpu_hour_millicents, b.cpu_hour_millicents);
  EXPECT_EQ(a.memory_gib_hour_millicents, b.memory_gib_hour_millicents);
  EXPECT_EQ(a.minimum_charge_seconds, b.minimum_charge_seconds);
}

TEST_P(MarksTest, NodeDrainMarkIsSetClearedAndOutlivesStateAndRegistration) {
  EXPECT_EQ(Drained("node-1").value_or(true), false);
  EXPECT_EQ(Drained("node-x").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(W([](store::WriteTx& tx) { return tx.SetNodeDrained("node-x", true); }).code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(W([](store::WriteTx& tx) {
                FASTGPU_RETURN_IF_ERROR(tx.SetNodeDrained("node-1", true));
                return tx.SetNodeDrained("node-1", true);  // twice is OK
              }).ok());
  EXPECT_EQ(Drained("node-1").value_or(false), true);
  EXPECT_EQ(Drained("node-2").value_or(true), false);
  // The mark is not the node's state, and neither a loss nor a new registration of the
  // same agent clears it.
  ASSERT_TRUE(W([](store::WriteTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(store::NodeRecord n, tx.GetNode("node-1"));
                EXPECT_EQ(n.state, store::NodeState::kReady);
                FASTGPU_RETURN_IF_ERROR(tx.SetNodeState("node-1", store::NodeState::kLost));
                return tx.UpsertNode(MakeNode("ignored", "a1", 2)).status();
              }).ok());
  EXPECT_EQ(Drained("node-1").value_or(false), true);
  ASSERT_TRUE(W([](store::WriteTx& tx) {
                FASTGPU_RETURN_IF_ERROR(tx.SetNodeDrained("node-1", false));
                FASTGPU_RETURN_IF_ERROR(tx.SetNodeDrained("node-1", false));  // twice is OK
                return tx.SetNodeDrained("node-2", false);                    // never set
              }).ok());
  EXPECT_EQ(Drained("node-1").value_or(true), false);
  // A write that sees its own mark.
  ASSERT_TRUE(W([](store::WriteTx& tx) -> Status {
                FASTGPU_RETURN_IF_ERROR(tx.SetNodeDrained("node-2", true));
                FASTGPU_ASSIGN_OR_RETURN(bool drained, tx.IsNodeDrained("node-2"));
                return drained ? OkStatus() : Internal("own write not seen");
              }).ok());
}

TEST_P(MarksTest, LogEndIsPerAllocationAndKeptBesideTheLog) {
  EXPECT_EQ(End("alloc-0").value_or(store::LogEnd{-1, true}), store::LogEnd{});
  EXPECT_EQ(End("alloc-x").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(W([](store::WriteTx& tx) {
              return tx.SetLogEnd("alloc-x", store::LogEnd{1, false});
            }).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(W([](store::WriteTx& tx) {
              return tx.SetLogEnd("alloc-0", store::LogEnd{-1, false});
            }).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(W([](store::WriteTx& tx) -> Status {
                FASTGPU_RETURN_IF_ERROR(tx.AppendLog("alloc-0", 0, "hello\n").status());
                FASTGPU_RETURN_IF_ERROR(tx.SetLogEnd("alloc-0", store::LogEnd{40 << 20, false}));
                FASTGPU_ASSIGN_OR_RETURN(store::LogEnd own, tx.GetLogEnd("alloc-0"));
                EXPECT_EQ(own, (store::LogEnd{40 << 20, false}));
                return tx.SetLogEnd("alloc-0", store::LogEnd{41 << 20, true});
              }).ok());
  EXPECT_EQ(End("alloc-0").value_or(store::LogEnd{}), (store::LogEnd{41 << 20, true}));
  EXPECT_EQ(End("alloc-1").value_or(store::LogEnd{-1, true}),
            store::LogEnd{});  // the other replica's
  // Appending, moving and releasing the allocation leave it as it is.
  ASSERT_TRUE(W([](store::WriteTx& tx) -> Status {
                FASTGPU_RETURN_IF_ERROR(tx.AppendLog("alloc-0", 6, "more\n").status());
                store::AllocationUpdate u;
                u.state = store::AllocationState::kRunning;
                u.at = T(5000);
                FASTGPU_RETURN_IF_ERROR(tx.UpdateAllocation("alloc-0", u).status());
                return tx.ReleaseAllocation("alloc-0", T(6000));
              }).ok());
  EXPECT_EQ(End("alloc-0").value_or(store::LogEnd{}), (store::LogEnd{41 << 20, true}));
  // It may move back too: the caller decides.
  ASSERT_TRUE(W([](store::WriteTx& tx) { return tx.SetLogEnd("alloc-0", store::LogEnd{}); }).ok());
  EXPECT_EQ(End("alloc-0").value_or(store::LogEnd{-1, true}), store::LogEnd{});
}

TEST_P(MarksTest, PriceTableIsReplacedWholeAndValidated) {
  EXPECT_EQ(Prices().status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(W([](store::WriteTx& tx) { return tx.PutPriceTable(SomePrices()); }).ok());
  auto got = Prices();
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSamePrices(*got, SomePrices());
  // A new table replaces every field; models it lacks are gone.
  metering::PriceTable next;
  next.gpu_hour_millicents = {{"L4", 70000}};
  next.cpu_hour_millicents = 1;
  ASSERT_TRUE(W([&](store::WriteTx& tx) { return tx.PutPriceTable(next); }).ok());
  got = Prices();
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSamePrices(*got, next);
  // An empty table is a table (everything free), not "none".
  ASSERT_TRUE(W([](store::WriteTx& tx) { return tx.PutPriceTable(metering::PriceTable()); }).ok());
  got = Prices();
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSamePrices(*got, metering::PriceTable());
  // A negative price is refused and the stored table kept.
  ASSERT_TRUE(W([](store::WriteTx& tx) { return tx.PutPriceTable(SomePrices()); }).ok());
  metering::PriceTable bad = SomePrices();
  bad.gpu_hour_millicents["H100-80GB"] = -1;
  EXPECT_EQ(W([&](store::WriteTx& tx) { return tx.PutPriceTable(bad); }).code(),
            StatusCode::kInvalidArgument);
  got = Prices();
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSamePrices(*got, SomePrices());
}

TEST_P(MarksTest, BudgetOverMarksAreKeyedByTenantAndPeriod) {
  constexpr int64_t kNov = 1793491200000;  // 2026-11-01T00:00:00Z
  constexpr int64_t kDec = 1796083200000;  // 2026-12-01T00:00:00Z
  EXPECT_EQ(Mark("tenant-1", kNov).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(W([](store::WriteTx& tx) {
              return tx.PutBudgetOverMark(store::BudgetOverMark{"tenant-x", kNov, kNov + 1});
            }).code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(W([](store::WriteTx& tx) {
                FASTGPU_RETURN_IF_ERROR(
                    tx.PutBudgetOverMark(store::BudgetOverMark{"tenant-1", kNov, kNov + 5}));
                FASTGPU_RETURN_IF_ERROR(tx.PutBudgetOverMark(
                    store::BudgetOverMark{"tenant-1", kNov, kNov + 7}));  // replaces
                FASTGPU_RETURN_IF_ERROR(
                    tx.PutBudgetOverMark(store::BudgetOverMark{"tenant-1", kDec, kDec + 9}));
                return tx.PutBudgetOverMark(store::BudgetOverMark{"tenant-2", kNov, kNov + 11});
              }).ok());
  EXPECT_EQ(Mark("tenant-1", kNov).value_or(store::BudgetOverMark{}),
            (store::BudgetOverMark{"tenant-1", kNov, kNov + 7}));
  EXPECT_EQ(Mark("tenant-1", kDec).value_or(store::BudgetOverMark{}),
            (store::BudgetOverMark{"tenant-1", kDec, kDec + 9}));
  EXPECT_EQ(Mark("tenant-2", kNov).value_or(store::BudgetOverMark{}),
            (store::BudgetOverMark{"tenant-2", kNov, kNov + 11}));
  EXPECT_EQ(Mark("tenant-2", kDec).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(W([](store::WriteTx& tx) {
                FASTGPU_RETURN_IF_ERROR(tx.DeleteBudgetOverMark("tenant-1", kNov));
                FASTGPU_RETURN_IF_ERROR(tx.DeleteBudgetOverMark("tenant-1", kNov));  // gone: OK
                return tx.DeleteBudgetOverMark("tenant-x", kNov);  // never there: OK
              }).ok());
  EXPECT_EQ(Mark("tenant-1", kNov).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Mark("tenant-1", kDec).ok());
  EXPECT_TRUE(Mark("tenant-2", kNov).ok());
}

TEST_P(MarksTest, JoinTokenHashIsReplacedAndNeverEmpty) {
  EXPECT_EQ(JoinHash().status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(W([](store::WriteTx& tx) {
                FASTGPU_RETURN_IF_ERROR(tx.SetJoinTokenHash(std::string(64, 'a')));
                return tx.SetJoinTokenHash(std::string(64, 'b'));
              }).ok());
  EXPECT_EQ(JoinHash().value_or(""), std::string(64, 'b'));
  EXPECT_EQ(W([](store::WriteTx& tx) { return tx.SetJoinTokenHash(""); }).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(JoinHash().value_or(""), std::string(64, 'b'));
}

TEST_P(MarksTest, AFailingWriteKeepsNoneOfThem) {
  ASSERT_TRUE(W([](store::WriteTx& tx) -> Status {
                FASTGPU_RETURN_IF_ERROR(tx.SetNodeDrained("node-2", true));
                FASTGPU_RETURN_IF_ERROR(tx.PutPriceTable(metering::PriceTable()));
                return tx.SetJoinTokenHash("before");
              }).ok());
  Status s = W([](store::WriteTx& tx) -> Status {
    FASTGPU_RETURN_IF_ERROR(tx.SetNodeDrained("node-1", true));
    FASTGPU_RETURN_IF_ERROR(tx.SetNodeDrained("node-2", false));
    FASTGPU_RETURN_IF_ERROR(tx.SetLogEnd("alloc-0", store::LogEnd{99, true}));
    FASTGPU_RETURN_IF_ERROR(tx.PutPriceTable(SomePrices()));
    FASTGPU_RETURN_IF_ERROR(tx.PutBudgetOverMark(store::BudgetOverMark{"tenant-1", 0, 1}));
    FASTGPU_RETURN_IF_ERROR(tx.SetJoinTokenHash("after"));
    return Aborted("changed my mind");
  });
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_EQ(Drained("node-1").value_or(true), false);
  EXPECT_EQ(Drained("node-2").value_or(false), true);
  EXPECT_EQ(End("alloc-0").value_or(store::LogEnd{-1, true}), store::LogEnd{});
  auto prices = Prices();
  ASSERT_TRUE(prices.ok()) << prices.status();
  ExpectSamePrices(*prices, metering::PriceTable());
  EXPECT_EQ(Mark("tenant-1", 0).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(JoinHash().value_or(""), "before");
}

// FaultyStore hands the inner store's transaction through: the typed records work as
// they do without it, and a write it fails keeps none of them.
TEST_P(MarksTest, ThroughAFaultyStore) {
  store::FaultyStore faulty(std::move(store_));
  ASSERT_TRUE(faulty
                  .Write([](store::WriteTx& tx) -> Status {
                    FASTGPU_RETURN_IF_ERROR(tx.SetNodeDrained("node-1", true));
                    return tx.SetJoinTokenHash("first");
                  })
                  .ok());
  faulty.FailWrites();
  Status s = faulty.Write([](store::WriteTx& tx) -> Status {
    FASTGPU_RETURN_IF_ERROR(tx.SetNodeDrained("node-1", false));
    FASTGPU_RETURN_IF_ERROR(tx.SetLogEnd("alloc-0", store::LogEnd{5, true}));
    FASTGPU_RETURN_IF_ERROR(tx.PutPriceTable(SomePrices()));
    FASTGPU_RETURN_IF_ERROR(tx.PutBudgetOverMark(store::BudgetOverMark{"tenant-1", 0, 1}));
    return tx.SetJoinTokenHash("second");
  });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s;
  EXPECT_EQ(faulty.failed_writes(), 1);
  ASSERT_TRUE(faulty
                  .Read([](store::ReadTx& tx) -> Status {
                    FASTGPU_ASSIGN_OR_RETURN(bool drained, tx.IsNodeDrained("node-1"));
                    EXPECT_TRUE(drained);
                    FASTGPU_ASSIGN_OR_RETURN(store::LogEnd end, tx.GetLogEnd("alloc-0"));
                    EXPECT_EQ(end, store::LogEnd{});
                    EXPECT_EQ(tx.GetPriceTable().status().code(), StatusCode::kNotFound);
                    EXPECT_EQ(tx.GetBudgetOverMark("tenant-1", 0).status().code(),
                              StatusCode::kNotFound);
                    FASTGPU_ASSIGN_OR_RETURN(std::string hash, tx.GetJoinTokenHash());
                    EXPECT_EQ(hash, "first");
                    return OkStatus();
                  })
                  .ok());
}

TEST_P(MarksTest, LeaderLeaseIsReplacedWholeAndRolledBackWithItsWrite) {
  EXPECT_TRUE(R([](store::ReadTx& tx) -> Status {
                EXPECT_EQ(tx.GetLeaderLease().status().code(), StatusCode::kNotFound);
                return OkStatus();
              }).ok());
  const store::LeaderLease first{"replica-a", 1, 5000};
  ASSERT_TRUE(W([&](store::WriteTx& tx) { return tx.PutLeaderLease(first); }).ok());
  EXPECT_EQ(W([](store::WriteTx& tx) {
              return tx.PutLeaderLease({"", 2, 1});
            }).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(W([](store::WriteTx& tx) {
              return tx.PutLeaderLease({"replica-b", 0, 1});
            }).code(),
            StatusCode::kInvalidArgument);
  // A write that fails later takes its lease change back with it.
  EXPECT_EQ(W([](store::WriteTx& tx) -> Status {
              FASTGPU_RETURN_IF_ERROR(tx.PutLeaderLease({"replica-b", 2, 9000}));
              return Aborted("changed my mind");
            }).code(),
            StatusCode::kAborted);
  ASSERT_TRUE(R([&](store::ReadTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(store::LeaderLease got, tx.GetLeaderLease());
                EXPECT_EQ(got, first);
                return OkStatus();
              }).ok());
  const store::LeaderLease second{"replica-b", 2, 9000};
  ASSERT_TRUE(W([&](store::WriteTx& tx) -> Status {
                FASTGPU_RETURN_IF_ERROR(tx.PutLeaderLease(second));
                FASTGPU_ASSIGN_OR_RETURN(store::LeaderLease own, tx.GetLeaderLease());
                EXPECT_EQ(own, second);  // a write reads its own lease
                return OkStatus();
              }).ok());
  ASSERT_TRUE(R([&](store::ReadTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(store::LeaderLease got, tx.GetLeaderLease());
                EXPECT_EQ(got, second);
                return OkStatus();
              }).ok());
}

INSTANTIATE_TEST_SUITE_P(AllStores, MarksTest, ::testing::ValuesIn(AllStoreFactories()),
                         [](const ::testing::TestParamInfo<StoreFactory>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace fastgpu::testing

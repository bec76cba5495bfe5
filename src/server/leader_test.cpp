// LeaderElector and FencedStore on one shared store, with a manual clock: one leader at a
// time, a takeover only after the lease lapses, fencing of a deposed leader's writes.
#include "server/leader.h"

#include <gtest/gtest.h>

#include <vector>

#include "store/store.h"

namespace fastgpu::server {
namespace {

struct Replica {
  Replica(store::Store& s, Clock& clock, const std::string& id, bool shared = true)
      : events(),
        fenced(s, id),
        elector(
            s, clock,
            LeaderOptions{id, std::chrono::milliseconds(4000), std::chrono::milliseconds(1000),
                          shared},
            [this](int64_t g) {
              fenced.Arm(g);
              events.push_back("elected " + std::to_string(g));
            },
            [this] {
              fenced.Disarm();
              events.push_back("deposed");
            }) {
    fenced.Disarm();  // not leading until elected
  }
  Status WriteTenant(const std::string& name) {
    return fenced.Write([&](store::WriteTx& tx) {
      model::Tenant t;
      t.id = "tenant-" + name;
      t.name = name;
      return tx.CreateTenant(t);
    });
  }
  std::vector<std::string> events;  // first: the elector's callbacks use it until its end
  FencedStore fenced;
  LeaderElector elector;
};

TEST(LeaderElectorTest, OneLeaderAndATakeoverOnlyAfterTheLeaseLapses) {
  auto store = store::NewMemoryStore();
  ManualClock clock;
  Replica a(*store, clock, "a"), b(*store, clock, "b");
  ASSERT_TRUE(*a.elector.RunOnce());
  ASSERT_FALSE(*b.elector.RunOnce());
  EXPECT_EQ(a.elector.generation(), 1);
  EXPECT_EQ(b.elector.leader(), "a");
  EXPECT_TRUE(a.WriteTenant("one").ok());
  Status refused = b.WriteTenant("two");  // a follower's fenced writes are refused
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << refused;

  // a renews; b waits while the lease runs.
  for (int i = 0; i < 10; ++i) {
    clock.Advance(std::chrono::milliseconds(1000));
    ASSERT_TRUE(*a.elector.RunOnce());
    ASSERT_FALSE(*b.elector.RunOnce());
  }
  // a stops renewing (paused); within the lease b still waits, after it b takes over.
  clock.Advance(std::chrono::milliseconds(3999));
  ASSERT_FALSE(*b.elector.RunOnce());
  clock.Advance(std::chrono::milliseconds(1));
  ASSERT_TRUE(*b.elector.RunOnce());
  EXPECT_EQ(b.elector.generation(), 2);
  // a still thinks it leads until its next round, but its writes are fenced already.
  EXPECT_TRUE(a.elector.leading());
  Status fenced = a.WriteTenant("three");
  EXPECT_EQ(fenced.code(), StatusCode::kFailedPrecondition) << fenced;
  EXPECT_NE(fenced.message().find("taken over by b"), std::string::npos) << fenced;
  EXPECT_TRUE(b.WriteTenant("four").ok());
  // a's next round sees b and steps down.
  ASSERT_FALSE(*a.elector.RunOnce());
  EXPECT_FALSE(a.elector.leading());
  EXPECT_EQ(a.events, (std::vector<std::string>{"elected 1", "deposed"}));
  EXPECT_EQ(b.events, (std::vector<std::string>{"elected 2"}));
  ASSERT_TRUE(store
                  ->Read([](store::ReadTx& tx) -> Status {
                    FASTGPU_ASSIGN_OR_RETURN(auto tenants, tx.ListTenants());
                    EXPECT_EQ(tenants.size(), 2u);  // "one" and "four"
                    return OkStatus();
                  })
                  .ok());
}

TEST(LeaderElectorTest, StopHandsTheLeaseBackAtOnce) {
  auto store = store::NewMemoryStore();
  ManualClock clock;
  Replica a(*store, clock, "a"), b(*store, clock, "b");
  ASSERT_TRUE(*a.elector.RunOnce());
  a.elector.Stop();
  EXPECT_FALSE(a.elector.leading());
  ASSERT_TRUE(*b.elector.RunOnce());  // no wait for the lease to lapse
  EXPECT_EQ(b.elector.generation(), 2);
}

TEST(LeaderElectorTest, AStoreNoOtherReplicaSharesIsTakenAtOnce) {
  auto store = store::NewMemoryStore();
  ManualClock clock;
  {
    Replica before(*store, clock, "old", /*shared=*/false);
    ASSERT_TRUE(*before.elector.RunOnce());
  }  // destroyed while leading (the lease was handed back) ...
  ASSERT_TRUE(store
                  ->Write([](store::WriteTx& tx) {
                    return tx.PutLeaderLease({"crashed", 7, 1LL << 50});  // ... or not
                  })
                  .ok());
  Replica now(*store, clock, "new", /*shared=*/false);
  ASSERT_TRUE(*now.elector.RunOnce());
  EXPECT_EQ(now.elector.generation(), 8);
}

TEST(LeaderElectorTest, AFailedRenewalStopsTheLeading) {
  auto inner = store::NewMemoryStore();
  ManualClock clock;
  struct Failing final : store::Store {
    store::Store& in;
    bool fail = false;
    explicit Failing(store::Store& s) : in(s) {}
    Status Write(std::function<Status(store::WriteTx&)> fn) override {
      return fail ? Unavailable("database unreachable") : in.Write(std::move(fn));
    }
    Status Read(std::function<Status(store::ReadTx&)> fn) override { return in.Read(fn); }
    std::string_view Kind() const override { return "memory"; }
  } store(*inner);
  Replica a(store, clock, "a");
  ASSERT_TRUE(*a.elector.RunOnce());
  store.fail = true;
  EXPECT_EQ(a.elector.RunOnce().status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(a.elector.leading());
  EXPECT_EQ(a.events, (std::vector<std::string>{"elected 1", "deposed"}));
  store.fail = false;
  ASSERT_TRUE(*a.elector.RunOnce());  // its own lease, taken again with a new generation
  EXPECT_EQ(a.elector.generation(), 2);
}

}  // namespace
}  // namespace fastgpu::server

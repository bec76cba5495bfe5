// What only the PostgreSQL store does (label "postgres"; the conformance suite runs
// against it too): the copy from SQLite, a lost and regained database, a newer schema,
// bad URLs, and two replicas writing to one database.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "common/testing/postgres_server.h"
#include "common/testing/temp_dir.h"
#include "store/store.h"
#include "store/store_copy.h"
#include "store/store_test_util.h"

namespace fastgpu::testing {
namespace {

class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = PostgresServer::Start();
    if (!server.ok()) GTEST_SKIP() << server.status();
    server_ = std::move(*server);
    auto url = server_->NewDatabaseUrl();
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
  }
  std::unique_ptr<store::Store> Open() {
    store::PostgresOptions o;
    o.url = url_;
    o.read_pool_size = 2;
    auto s = store::OpenPostgresStore(o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }
  // The tenants' names after the database came back: read a few times, as each reader
  // connection reconnects on its first use.
  static std::vector<std::string> TenantNamesAfterReconnect(store::Store& s) {
    std::vector<model::Tenant> tenants;
    Status read = OkStatus();
    for (int i = 0; i < 3; ++i) {
      read = s.Read([&](store::ReadTx& tx) -> Status {
        FASTGPU_ASSIGN_OR_RETURN(tenants, tx.ListTenants());
        return OkStatus();
      });
    }
    EXPECT_TRUE(read.ok()) << read;
    std::vector<std::string> names;
    for (const model::Tenant& t : tenants) names.push_back(t.name);
    return names;
  }

  std::unique_ptr<PostgresServer> server_;
  std::string url_;
};

TEST_F(PgStoreTest, CopiesASqliteStateWholeAndOnlyIntoAnEmptyDatabase) {
  TempDir dir;
  const std::string db = dir.path() + "/fastgpu.db";
  {
    auto sq = store::OpenSqliteStore({.path = db});
    ASSERT_TRUE(sq.ok()) << sq.status();
    ASSERT_TRUE((*sq)
                    ->Write([](store::WriteTx& tx) -> Status {
                      FASTGPU_RETURN_IF_ERROR(tx.CreateTenant(MakeTenant("tenant-1", "alpha")));
                      FASTGPU_RETURN_IF_ERROR(
                          tx.CreateToken(MakeToken("tok-1", "tenant-1", std::string(64, 'e'))));
                      FASTGPU_RETURN_IF_ERROR(tx.UpsertNode(MakeNode("node-1", "a1", 2)).status());
                      FASTGPU_RETURN_IF_ERROR(tx.SetNodeDrained("node-1", true));
                      model::Job job = MakeJob("job-1", "tenant-1");
                      FASTGPU_RETURN_IF_ERROR(
                          tx.CreateJob(job, "key-1", std::string(64, 'f')).status());
                      FASTGPU_RETURN_IF_ERROR(
                          tx.CreateAllocations({MakeAlloc("alloc-1", "job-1", "node-1")}));
                      FASTGPU_RETURN_IF_ERROR(
                          tx.AppendLog("alloc-1", 0, std::string("bin\0ary\n", 8)).status());
                      FASTGPU_RETURN_IF_ERROR(tx.SetLogEnd("alloc-1", store::LogEnd{8, true}));
                      FASTGPU_RETURN_IF_ERROR(tx.PutBudgetOverMark({"tenant-1", 1000, 1500}));
                      return tx.SetJoinTokenHash(std::string(64, 'c'));
                    })
                    .ok());
  }
  std::vector<std::string> seen;
  auto copied = store::CopySqliteToPostgres(
      db, url_, [&](const store::TableCopied& t) { seen.push_back(t.table); });
  ASSERT_TRUE(copied.ok()) << copied.status();
  EXPECT_EQ(seen.size(), copied->size());
  auto pg = Open();
  ASSERT_NE(pg, nullptr);
  int64_t seq_before = 0;
  ASSERT_TRUE(
      pg->Read([&](store::ReadTx& tx) -> Status {
          FASTGPU_ASSIGN_OR_RETURN(model::Tenant t, tx.GetTenantByName("alpha"));
          EXPECT_EQ(t.id, "tenant-1");
          FASTGPU_ASSIGN_OR_RETURN(store::ApiToken tok, tx.FindTokenByHash(std::string(64, 'e')));
          EXPECT_EQ(tok.id, "tok-1");
          FASTGPU_ASSIGN_OR_RETURN(bool drained, tx.IsNodeDrained("node-1"));
          EXPECT_TRUE(drained);
          FASTGPU_ASSIGN_OR_RETURN(model::Job job, tx.GetJob("job-1"));
          EXPECT_EQ(job.spec.shape, MakeJob("job-1", "tenant-1").spec.shape);
          FASTGPU_ASSIGN_OR_RETURN(store::LogChunk log, tx.ReadLog("alloc-1", 0, 100));
          EXPECT_EQ(log.data, std::string("bin\0ary\n", 8));
          FASTGPU_ASSIGN_OR_RETURN(store::LogEnd end, tx.GetLogEnd("alloc-1"));
          EXPECT_TRUE(end.final);
          FASTGPU_ASSIGN_OR_RETURN(store::BudgetOverMark m, tx.GetBudgetOverMark("tenant-1", 1000));
          EXPECT_EQ(m.over_since_ms, 1500);
          FASTGPU_ASSIGN_OR_RETURN(std::string join, tx.GetJoinTokenHash());
          EXPECT_EQ(join, std::string(64, 'c'));
          FASTGPU_ASSIGN_OR_RETURN(seq_before, tx.LatestChangeSeq());
          EXPECT_GT(seq_before, 0);
          return OkStatus();
        }).ok());
  // The idempotency key came along, and new rows continue after the copied ones.
  ASSERT_TRUE(pg->Write([&](store::WriteTx& tx) -> Status {
                  FASTGPU_ASSIGN_OR_RETURN(
                      store::CreateJobResult again,
                      tx.CreateJob(MakeJob("job-2", "tenant-1"), "key-1", std::string(64, 'f')));
                  EXPECT_TRUE(again.existed);
                  EXPECT_EQ(again.job.id, "job-1");
                  FASTGPU_RETURN_IF_ERROR(
                      tx.CreateJob(MakeJob("job-3", "tenant-1", 5000)).status());
                  FASTGPU_ASSIGN_OR_RETURN(int64_t seq, tx.LatestChangeSeq());
                  EXPECT_GT(seq, seq_before);
                  return OkStatus();
                }).ok());
  // A second copy into the now non-empty database is refused and writes nothing.
  auto twice = store::CopySqliteToPostgres(db, url_);
  EXPECT_EQ(twice.status().code(), StatusCode::kFailedPrecondition) << twice.status();
  auto missing = store::CopySqliteToPostgres(dir.path() + "/none.db", url_);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status();
}

TEST_F(PgStoreTest, ALostDatabaseGivesUnavailableAndKeepsWhatWasAcknowledged) {
  auto s = Open();
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->Write([](store::WriteTx& tx) {
                 return tx.CreateTenant(MakeTenant("tenant-1", "alpha"));
               }).ok());
  server_->Kill();
  Status w =
      s->Write([](store::WriteTx& tx) { return tx.CreateTenant(MakeTenant("tenant-2", "beta")); });
  EXPECT_EQ(w.code(), StatusCode::kUnavailable) << w;
  Status r = s->Read([](store::ReadTx& tx) { return tx.ListTenants().status(); });
  EXPECT_EQ(r.code(), StatusCode::kUnavailable) << r;
  ASSERT_TRUE(server_->Restart().ok());
  // The same store object reconnects on its next transaction.
  Status again =
      s->Write([](store::WriteTx& tx) { return tx.CreateTenant(MakeTenant("tenant-3", "gamma")); });
  EXPECT_TRUE(again.ok()) << again;
  // alpha (acknowledged) and gamma; beta was refused.
  EXPECT_EQ(TenantNamesAfterReconnect(*s), (std::vector<std::string>{"alpha", "gamma"}));
}

// The database dies in the middle of a write transaction: the write is refused with
// Unavailable, nothing of it is kept, and what was acknowledged before stays.
TEST_F(PgStoreTest, ADatabaseLostInTheMiddleOfATransactionKeepsNothingOfIt) {
  auto s = Open();
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->Write([](store::WriteTx& tx) {
                 return tx.CreateTenant(MakeTenant("tenant-1", "alpha"));
               }).ok());
  std::atomic<bool> half_written{false}, killed{false};
  Status w = OkStatus();
  std::thread writer([&] {
    w = s->Write([&](store::WriteTx& tx) -> Status {
      FASTGPU_RETURN_IF_ERROR(tx.CreateTenant(MakeTenant("tenant-2", "beta")));
      half_written = true;
      while (!killed) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      return tx.CreateTenant(MakeTenant("tenant-3", "gamma"));
    });
  });
  while (!half_written) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server_->Kill();
  killed = true;
  writer.join();
  EXPECT_EQ(w.code(), StatusCode::kUnavailable) << w;
  ASSERT_TRUE(server_->Restart().ok());
  EXPECT_EQ(TenantNamesAfterReconnect(*s), std::vector<std::string>{"alpha"});
}

// A replica learns of another replica's commits (WatchCommits): a write committed through
// one store wakes the watch of another on the same database; a refused write does not.
TEST_F(PgStoreTest, AWatchHearsTheCommitsOfAnotherReplica) {
  auto a = Open();
  auto b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  std::atomic<int> heard{0};
  std::unique_ptr<store::CommitWatch> watch = a->WatchCommits([&] { ++heard; });
  ASSERT_NE(watch, nullptr);
  auto wait_for = [&](int n, int tries = 500) {
    for (int i = 0; i < tries && heard.load() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return heard.load();
  };
  // The watch's LISTEN may come a moment after WatchCommits returns: write until heard.
  for (int i = 0; i < 50 && heard.load() == 0; ++i) {
    ASSERT_TRUE(b->Write([&](store::WriteTx& tx) {
                   return tx.CreateTenant(
                       MakeTenant("t" + std::to_string(i), "n" + std::to_string(i)));
                 }).ok());
    wait_for(1, 20);
  }
  ASSERT_GE(heard.load(), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const int before = heard.load();
  EXPECT_FALSE(b->Write([](store::WriteTx&) { return Internal("refused"); }).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(heard.load(), before) << "a rolled-back write was announced";
  ASSERT_TRUE(b->Write([](store::WriteTx& tx) {
                 return tx.CreateTenant(MakeTenant("tenant-z", "zulu"));
               }).ok());
  EXPECT_GT(wait_for(before + 1), before);
  watch.reset();  // joins the watch's thread
}

TEST_F(PgStoreTest, RefusesANewerSchemaAndBadUrls) {
  { ASSERT_NE(Open(), nullptr); }
  {
    auto s = Open();
    ASSERT_NE(s, nullptr);
  }
  ShellRun bump =
      RunShell("psql -q '" + url_ + "' -c 'UPDATE schema_version SET version = 999' 2>&1");
  ASSERT_EQ(bump.exit_code, 0) << bump.out;
  store::PostgresOptions o;
  o.url = url_;
  auto newer = store::OpenPostgresStore(o);
  EXPECT_EQ(newer.status().code(), StatusCode::kFailedPrecondition) << newer.status();
  EXPECT_NE(newer.status().message().find("newer"), std::string::npos);

  o.url = "mysql://somewhere/db";
  EXPECT_EQ(store::OpenPostgresStore(o).status().code(), StatusCode::kInvalidArgument);
  o.url = "postgresql://fastgpu:hunter2@127.0.0.1:1/none";
  o.connect_timeout = std::chrono::seconds(2);
  auto refused = store::OpenPostgresStore(o);
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status();
  EXPECT_EQ(refused.status().message().find("hunter2"), std::string::npos) << refused.status();
}

// Two stores on one database, as two control-plane replicas: writes of both are serialised
// (a read-modify-write never loses an update), and the change feed names every write once,
// in commit order.
TEST_F(PgStoreTest, TwoReplicasWriteOneDatabaseWithoutLostUpdates) {
  auto a = Open();
  auto b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->Write([](store::WriteTx& tx) -> Status {
                 FASTGPU_RETURN_IF_ERROR(tx.CreateTenant(MakeTenant("tenant-1", "alpha")));
                 return tx.CreateJob(MakeJob("job-1", "tenant-1")).status();
               }).ok());
  // Each write reads the job's attempts and writes attempts + 1.
  constexpr int kPerReplica = 40;
  std::atomic<int> failed{0};
  auto bump = [&](store::Store& s) {
    for (int i = 0; i < kPerReplica; ++i) {
      Status st = s.Write([](store::WriteTx& tx) -> Status {
        FASTGPU_ASSIGN_OR_RETURN(model::Job job, tx.GetJob("job-1"));
        ++job.attempts;
        return tx.UpdateJob(job);
      });
      if (!st.ok()) ++failed;
    }
  };
  std::thread ta(bump, std::ref(*a)), tb(bump, std::ref(*b));
  ta.join();
  tb.join();
  EXPECT_EQ(failed.load(), 0);
  ASSERT_TRUE(b->Read([&](store::ReadTx& tx) -> Status {
                 FASTGPU_ASSIGN_OR_RETURN(model::Job job, tx.GetJob("job-1"));
                 EXPECT_EQ(job.attempts, 2 * kPerReplica);
                 FASTGPU_ASSIGN_OR_RETURN(auto changes, tx.ListChangesSince(0, 1000));
                 EXPECT_EQ(changes.size(), 1u + 2 * kPerReplica);  // the job created, every update
                 for (size_t i = 1; i < changes.size(); ++i) {
                   EXPECT_LT(changes[i - 1].seq, changes[i].seq);
                 }
                 return OkStatus();
               }).ok());
}

}  // namespace
}  // namespace fastgpu::testing

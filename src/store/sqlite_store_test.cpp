// Tests of the SQLite store alone: durability across reopen and a killed process,
// migrations, group commit, snapshots, busy databases.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include "metering/period.h"
#include "metering/price_json.h"
#include "store/sqlite_codec.h"
#include "store/sqlite_schema.h"
#include "store/store_test_util.h"

namespace fastgpu::testing {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<store::Store> Open(std::chrono::milliseconds busy = std::chrono::seconds(5)) {
    store::SqliteOptions opt;
    opt.path = path_;
    opt.busy_timeout = busy;
    auto store = store::OpenSqliteStore(opt);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }
  // Runs raw SQL on the database file with a separate connection.
  void RawExec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
    sqlite3_free(err);
    sqlite3_close(db);
  }
  int64_t CountJobs(store::Store& store) {
    int64_t n = -1;
    EXPECT_TRUE(store
                    .Read([&](store::ReadTx& tx) -> Status {
                      n = 0;
                      store::JobFilter f;
                      f.limit = 1000;
                      for (;;) {
                        FASTGPU_ASSIGN_OR_RETURN(store::JobPage page, tx.ListJobs(f));
                        n += static_cast<int64_t>(page.jobs.size());
                        if (page.next_cursor.empty()) return OkStatus();
                        f.cursor = page.next_cursor;
                      }
                    })
                    .ok());
    return n;
  }
  static Status CreateTenant(store::Store& store) {
    return store.Write(
        [](store::WriteTx& tx) { return tx.CreateTenant(MakeTenant("tenant-1", "alpha")); });
  }

  TempDir dir_;
  std::string path_ = dir_.path() + "/state.db";
};

TEST_F(SqliteStoreTest, DataSurvivesCloseAndReopen) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(CreateTenant(*store).ok());
    ASSERT_TRUE(store
                    ->Write([](store::WriteTx& tx) -> Status {
                      model::Job job = MakeJob("job-1", "tenant-1");
                      FASTGPU_RETURN_IF_ERROR(model::TransitionJob(job, model::JobState::kCancelled,
                                                                   "by user", T(3000)));
                      FASTGPU_RETURN_IF_ERROR(tx.CreateJob(job, "req-7").status());
                      FASTGPU_RETURN_IF_ERROR(tx.UpsertNode(MakeNode("node-1", "a1", 1)).status());
                      FASTGPU_RETURN_IF_ERROR(
                          tx.CreateAllocations({MakeAlloc("alloc-1", "job-1", "node-1")}));
                      FASTGPU_RETURN_IF_ERROR(tx.AppendLog("alloc-1", 0, "bytes\n").status());
                      FASTGPU_RETURN_IF_ERROR(tx.SetNodeDrained("node-1", true));
                      FASTGPU_RETURN_IF_ERROR(tx.SetLogEnd("alloc-1", store::LogEnd{9, true}));
                      return tx.SetJoinTokenHash("bootstrap");
                    })
                    .ok());
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store
                  ->Read([](store::ReadTx& tx) -> Status {
                    FASTGPU_ASSIGN_OR_RETURN(model::Job job, tx.GetJob("job-1"));
                    EXPECT_EQ(job.state, model::JobState::kCancelled);
                    EXPECT_EQ(job.events.size(), 1u);
                    EXPECT_EQ(job.spec.command, MakeJob("x", "y").spec.command);
                    FASTGPU_ASSIGN_OR_RETURN(model::Tenant t, tx.GetTenantByName("alpha"));
                    EXPECT_EQ(t.id, "tenant-1");
                    FASTGPU_ASSIGN_OR_RETURN(store::LogChunk log, tx.ReadLog("alloc-1", 0, 100));
                    EXPECT_EQ(log.data, "bytes\n");
                    FASTGPU_ASSIGN_OR_RETURN(std::string v, tx.GetJoinTokenHash());
                    EXPECT_EQ(v, "bootstrap");
                    FASTGPU_ASSIGN_OR_RETURN(bool drained, tx.IsNodeDrained("node-1"));
                    EXPECT_TRUE(drained);
                    FASTGPU_ASSIGN_OR_RETURN(store::LogEnd end, tx.GetLogEnd("alloc-1"));
                    EXPECT_EQ(end, (store::LogEnd{9, true}));
                    return OkStatus();
                  })
                  .ok());
  // The idempotency key survived too.
  ASSERT_TRUE(store
                  ->Write([](store::WriteTx& tx) -> Status {
                    FASTGPU_ASSIGN_OR_RETURN(store::CreateJobResult r,
                                             tx.CreateJob(MakeJob("job-2", "tenant-1"), "req-7"));
                    EXPECT_TRUE(r.existed);
                    EXPECT_EQ(r.job.id, "job-1");
                    return OkStatus();
                  })
                  .ok());
}

TEST_F(SqliteStoreTest, MigratesAnEmptyFileAndRecordsTheVersion) {
  std::ofstream(path_).close();  // an existing, empty file
  ASSERT_NE(Open(), nullptr);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), store::LatestSchemaVersion());
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);  // one row only
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  // Reopening applies nothing again and works.
  ASSERT_NE(Open(), nullptr);
}

TEST_F(SqliteStoreTest, UpgradesAnOlderSchemaKeepingItsData) {
  ASSERT_GE(store::LatestSchemaVersion(), 2);
  {
    auto conn = store::SqliteConn::Open(path_, /*create=*/true, std::chrono::seconds(1));
    ASSERT_TRUE(conn.ok()) << conn.status();
    ASSERT_TRUE(store::MigrateSchema(**conn, 1).ok());
  }
  RawExec(
      "INSERT INTO tenants VALUES ('tenant-1', 'alpha', 0, 0, 0, 1000);"
      "INSERT INTO jobs(id, tenant_id, spec_json, state, reason, attempts, created_at_ms,"
      " updated_at_ms) VALUES ('job-1', 'tenant-1', '" +
      store::EncodeJobSpec(MakeJob("x", "y").spec) + "', 'running', 'r', 1, 1000, 2000);");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store
                  ->Read([](store::ReadTx& tx) -> Status {
                    FASTGPU_ASSIGN_OR_RETURN(model::Job job, tx.GetJob("job-1"));
                    EXPECT_EQ(job.state, model::JobState::kRunning);
                    EXPECT_EQ(job.spec.shape, MakeJob("x", "y").spec.shape);
                    return OkStatus();
                  })
                  .ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT (SELECT version FROM schema_version), (SELECT count(*)"
                               " FROM sqlite_master WHERE name = 'jobs_by_tenant')",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), store::LatestSchemaVersion());
  EXPECT_EQ(sqlite3_column_int(stmt, 1), 1);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, UpgradeGivesOldNodesTheirTokenAsSecretAndKeepsJobKeys) {
  {
    auto conn = store::SqliteConn::Open(path_, /*create=*/true, std::chrono::seconds(1));
    ASSERT_TRUE(conn.ok()) << conn.status();
    ASSERT_TRUE(store::MigrateSchema(**conn, 2).ok());
  }
  const std::string token_hash(64, '7');
  RawExec(
      "INSERT INTO tenants VALUES ('tenant-1', 'alpha', 0, 0, 0, 1000);"
      "INSERT INTO jobs(id, tenant_id, spec_json, state, reason, attempts, created_at_ms,"
      " updated_at_ms, idempotency_key) VALUES ('job-1', 'tenant-1', '" +
      store::EncodeJobSpec(MakeJob("x", "y").spec) +
      "', 'running', 'r', 1, 1000, 2000, 'req-1');"
      "INSERT INTO nodes(id, agent_id, name, cpu_milli, memory_mib, gpus_json, simulated,"
      " token_sha256_hex, state, last_heartbeat_ms, registered_at_ms) VALUES ('node-1', 'a1',"
      " 'n', 1000, 1024, '[]', 1, '" +
      token_hash + "', 'ready', 1000, 1000);");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store
                  ->Write([&](store::WriteTx& tx) -> Status {
                    FASTGPU_ASSIGN_OR_RETURN(store::NodeRecord n, tx.GetNode("node-1"));
                    EXPECT_EQ(n.token_sha256_hex, token_hash);
                    EXPECT_EQ(n.secret_sha256_hex, token_hash);
                    FASTGPU_ASSIGN_OR_RETURN(
                        store::CreateJobResult r,
                        tx.CreateJob(MakeJob("job-2", "tenant-1"), "req-1", std::string(64, 'f')));
                    EXPECT_TRUE(r.existed);
                    EXPECT_EQ(r.job.id, "job-1");
                    EXPECT_EQ(r.request_sha256_hex, "");  // stored before hashes were kept
                    return OkStatus();
                  })
                  .ok());
}

TEST_F(SqliteStoreTest, UpgradeFindsOlderJobsByName) {
  {
    auto conn = store::SqliteConn::Open(path_, /*create=*/true, std::chrono::seconds(1));
    ASSERT_TRUE(conn.ok()) << conn.status();
    ASSERT_TRUE(store::MigrateSchema(**conn, 3).ok());
  }
  model::Job named = MakeJob("x", "y");
  named.spec.name = "hello";
  RawExec(
      "INSERT INTO tenants VALUES ('tenant-1', 'alpha', 0, 0, 0, 1000);"
      "INSERT INTO jobs(id, tenant_id, spec_json, state, reason, attempts, created_at_ms,"
      " updated_at_ms) VALUES ('job-1', 'tenant-1', '" +
      store::EncodeJobSpec(named.spec) + "', 'running', 'r', 1, 1000, 2000);");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store
                  ->Read([](store::ReadTx& tx) -> Status {
                    FASTGPU_ASSIGN_OR_RETURN(auto jobs, tx.FindJobsByName("tenant-1", "hello", 5));
                    EXPECT_EQ(jobs.size(), 1u);
                    return OkStatus();
                  })
                  .ok());
}

// Version 5 kept drain marks, log ends, prices, budget marks and the join token's hash
// as string keys of a `meta` table, in the forms the control plane wrote them; version 6
// moves each into its typed table.
TEST_F(SqliteStoreTest, UpgradeMovesMetaKeysIntoTypedRecords) {
  {
    auto conn = store::SqliteConn::Open(path_, /*create=*/true, std::chrono::seconds(1));
    ASSERT_TRUE(conn.ok()) << conn.status();
    ASSERT_TRUE(store::MigrateSchema(**conn, 5).ok());
  }
  metering::PriceTable prices;
  prices.gpu_hour_millicents = {{"H100-80GB", 249000}, {"A100-80GB", 180000}, {"T4", 1}};
  prices.default_gpu_hour_millicents = 150000;
  prices.cpu_hour_millicents = 4000;
  prices.memory_gib_hour_millicents = 500;
  prices.minimum_charge_seconds = 60;
  const std::string prices_json = boost::json::serialize(metering::PriceTableToJson(prices));
  constexpr int64_t kOverMs = 1793500000123;  // during November 2026
  const int64_t nov = metering::MonthStartMs(kOverMs);
  const std::string join_hash(64, 'c');
  const std::string spec = store::EncodeJobSpec(MakeJob("x", "y").spec);
  RawExec(
      "INSERT INTO tenants(id, name, admin, max_gpu_milli, budget_cents, created_at_ms)"
      " VALUES ('tenant-1', 'alpha', 0, 0, 100, 1000);"
      "INSERT INTO nodes(id, agent_id, name, cpu_milli, memory_mib, gpus_json, simulated,"
      " token_sha256_hex, state, last_heartbeat_ms, registered_at_ms) VALUES"
      " ('node-1', 'a1', 'n1', 1000, 1024, '[]', 1, 'h1', 'lost', 1000, 1000),"
      " ('node-2', 'a2', 'n2', 1000, 1024, '[]', 1, 'h2', 'ready', 1000, 1000);"
      "INSERT INTO jobs(id, tenant_id, spec_json, state, reason, attempts, created_at_ms,"
      " updated_at_ms) VALUES ('job-1', 'tenant-1', '" +
      spec +
      "', 'running', 'r', 1, 1000, 2000);"
      "INSERT INTO allocations(id, job_id, replica, node_id, gpu_model, slices_json, cpu_milli,"
      " memory_mib, created_at_ms, state, exit_code, signal_no, started_at_ms, ended_at_ms,"
      " message, log_bytes) VALUES"
      " ('alloc-1', 'job-1', 0, 'node-1', '', '[]', 1000, 1024, 1000, 'running', 0, 0, 1000, 0,"
      " '', 8388608),"
      " ('alloc-2', 'job-1', 1, 'node-1', '', '[]', 1000, 1024, 1000, 'running', 0, 0, 1000, 0,"
      " '', 0);"
      "INSERT INTO meta(key, value) VALUES"
      " ('node_drained/node-1', '1'),"
      " ('node_drained/node-gone', '1'),"
      " ('log_end/alloc-1', '{\"shipped_bytes\":41943040,\"final\":true}'),"
      " ('log_end/alloc-gone', '{\"shipped_bytes\":5,\"final\":false}'),"
      " ('prices', '" +
      prices_json +
      "'),"
      " ('budget_over/tenant-1/" +
      metering::MonthKey(kOverMs) + "', '" + std::to_string(kOverMs) +
      "'),"
      " ('budget_over/tenant-gone/2026-11', '5'),"
      " ('join_token_sha256', '" +
      join_hash + "');");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store
                  ->Read([&](store::ReadTx& tx) -> Status {
                    FASTGPU_ASSIGN_OR_RETURN(bool drained, tx.IsNodeDrained("node-1"));
                    EXPECT_TRUE(drained);
                    FASTGPU_ASSIGN_OR_RETURN(drained, tx.IsNodeDrained("node-2"));
                    EXPECT_FALSE(drained);
                    FASTGPU_ASSIGN_OR_RETURN(store::LogEnd end, tx.GetLogEnd("alloc-1"));
                    EXPECT_EQ(end, (store::LogEnd{41943040, true}));
                    FASTGPU_ASSIGN_OR_RETURN(end, tx.GetLogEnd("alloc-2"));
                    EXPECT_EQ(end, store::LogEnd{});
                    FASTGPU_ASSIGN_OR_RETURN(metering::PriceTable p, tx.GetPriceTable());
                    EXPECT_EQ(p.gpu_hour_millicents, prices.gpu_hour_millicents);
                    EXPECT_EQ(p.default_gpu_hour_millicents, prices.default_gpu_hour_millicents);
                    EXPECT_EQ(p.cpu_hour_millicents, prices.cpu_hour_millicents);
                    EXPECT_EQ(p.memory_gib_hour_millicents, prices.memory_gib_hour_millicents);
                    EXPECT_EQ(p.minimum_charge_seconds, prices.minimum_charge_seconds);
                    FASTGPU_ASSIGN_OR_RETURN(store::BudgetOverMark mark,
                                             tx.GetBudgetOverMark("tenant-1", nov));
                    EXPECT_EQ(mark.over_since_ms, kOverMs);
                    FASTGPU_ASSIGN_OR_RETURN(std::string hash, tx.GetJoinTokenHash());
                    EXPECT_EQ(hash, join_hash);
                    // The rest of the rows came through too.
                    FASTGPU_ASSIGN_OR_RETURN(store::LogChunk log, tx.ReadLog("alloc-1", 0, 0));
                    EXPECT_EQ(log.size_bytes, 8388608);
                    FASTGPU_ASSIGN_OR_RETURN(store::NodeRecord n, tx.GetNode("node-1"));
                    EXPECT_EQ(n.state, store::NodeState::kLost);
                    return OkStatus();
                  })
                  .ok());
  // Rows about things that do not exist were dropped with the table.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT (SELECT count(*) FROM sqlite_master WHERE name = 'meta'),"
                               " (SELECT count(*) FROM node_drains),"
                               " (SELECT count(*) FROM budget_over_marks)",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 0);
  EXPECT_EQ(sqlite3_column_int(stmt, 1), 1);
  EXPECT_EQ(sqlite3_column_int(stmt, 2), 1);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

// A data dir from version 5 that never stored any of them opens with none.
TEST_F(SqliteStoreTest, UpgradeWithoutMetaKeysStoresNone) {
  {
    auto conn = store::SqliteConn::Open(path_, /*create=*/true, std::chrono::seconds(1));
    ASSERT_TRUE(conn.ok()) << conn.status();
    ASSERT_TRUE(store::MigrateSchema(**conn, 5).ok());
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store
                  ->Read([](store::ReadTx& tx) -> Status {
                    EXPECT_EQ(tx.GetPriceTable().status().code(), StatusCode::kNotFound);
                    EXPECT_EQ(tx.GetJoinTokenHash().status().code(), StatusCode::kNotFound);
                    return OkStatus();
                  })
                  .ok());
}

TEST_F(SqliteStoreTest, RefusesADatabaseFromANewerBuild) {
  ASSERT_NE(Open(), nullptr);
  RawExec("UPDATE schema_version SET version = 999");
  store::SqliteOptions opt;
  opt.path = path_;
  auto store = store::OpenSqliteStore(opt);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("999"), std::string::npos) << store.status();
}

TEST_F(SqliteStoreTest, RefusesBadOptionsAndNonDatabases) {
  EXPECT_EQ(store::OpenSqliteStore(store::SqliteOptions{}).status().code(),
            StatusCode::kInvalidArgument);
  store::SqliteOptions bad_pool;
  bad_pool.path = path_;
  bad_pool.read_pool_size = 0;
  EXPECT_EQ(store::OpenSqliteStore(bad_pool).status().code(), StatusCode::kInvalidArgument);
  std::ofstream(path_) << "this is not a database, just some text long enough to have a header";
  store::SqliteOptions opt;
  opt.path = path_;
  auto store = store::OpenSqliteStore(opt);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInternal) << store.status();
}

TEST_F(SqliteStoreTest, ConcurrentWritersAreAllDurableAndCounted) {
  constexpr int kThreads = 8, kPerThread = 200;
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(CreateTenant(*store).ok());
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          const std::string id = "job-" + std::to_string(t) + "-" + std::to_string(i);
          Status s = store->Write(
              [&](store::WriteTx& tx) { return tx.CreateJob(MakeJob(id, "tenant-1")).status(); });
          if (!s.ok()) ++failures;
        }
      });
    }
    for (std::thread& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    store::StoreStats stats = store->Stats();
    EXPECT_EQ(stats.writes_ok, 1 + kThreads * kPerThread);
    EXPECT_EQ(stats.writes_failed, 0);
    EXPECT_LE(stats.commits, stats.writes_ok);
    EXPECT_LE(stats.max_batch, kThreads);
    EXPECT_EQ(CountJobs(*store), kThreads * kPerThread);
  }
  auto reopened = Open();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(CountJobs(*reopened), kThreads * kPerThread);
}

TEST_F(SqliteStoreTest, AFailingWriteInABatchLeavesTheOthersCommitted) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(CreateTenant(*store).ok());
  // Hold the writer inside one write until the others have queued up behind it, so
  // that they all run as the next batch.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> entered;
  auto blocker = std::async(std::launch::async, [&] {
    return store->Write([&](store::WriteTx& tx) {
      entered.set_value();
      released.wait();
      return tx.SetJoinTokenHash("blocker");
    });
  });
  entered.get_future().wait();
  constexpr int kWriters = 5;
  const int64_t commits_before = store->Stats().commits;
  std::vector<std::future<Status>> writers;
  for (int i = 0; i < kWriters; ++i) {
    writers.push_back(std::async(std::launch::async, [&store, i] {
      return store->Write([i](store::WriteTx& tx) -> Status {
        FASTGPU_RETURN_IF_ERROR(
            tx.CreateJob(MakeJob("job-" + std::to_string(i), "tenant-1")).status());
        if (i == 2) return Aborted("writer 2 gives up after writing");
        return OkStatus();
      });
    }));
  }
  while (store->Stats().queued_writes < kWriters) std::this_thread::yield();
  release.set_value();
  EXPECT_TRUE(blocker.get().ok());
  for (int i = 0; i < kWriters; ++i) {
    Status s = writers[i].get();
    if (i == 2) {
      EXPECT_EQ(s.code(), StatusCode::kAborted);
    } else {
      EXPECT_TRUE(s.ok()) << s;
    }
  }
  store::StoreStats stats = store->Stats();
  EXPECT_EQ(stats.commits, commits_before + 2);  // the blocker's, then one for the five
  EXPECT_EQ(stats.max_batch, kWriters);
  EXPECT_EQ(stats.writes_failed, 1);
  ASSERT_TRUE(store
                  ->Read([](store::ReadTx& tx) -> Status {
                    for (int i = 0; i < kWriters; ++i) {
                      Status s = tx.GetJob("job-" + std::to_string(i)).status();
                      EXPECT_EQ(s.ok(), i != 2) << i << ": " << s;
                    }
                    return OkStatus();
                  })
                  .ok());
}

TEST_F(SqliteStoreTest, ReadsSeeWholeTransactionsOnly) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(CreateTenant(*store).ok());
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 100; ++i) {
      // Two jobs per write; every other write fails after its first job.
      Status s = store->Write([i](store::WriteTx& tx) -> Status {
        FASTGPU_RETURN_IF_ERROR(
            tx.CreateJob(MakeJob("job-a" + std::to_string(i), "tenant-1")).status());
        if (i % 2) return Aborted("half-done");
        return tx.CreateJob(MakeJob("job-b" + std::to_string(i), "tenant-1")).status();
      });
      EXPECT_EQ(s.ok(), i % 2 == 0);
    }
    done = true;
  });
  int reads = 0;
  while (!done || reads < 10) {
    ++reads;
    const int64_t n = CountJobs(*store);
    EXPECT_EQ(n % 2, 0) << "a read saw half a transaction";
  }
  writer.join();
  EXPECT_EQ(CountJobs(*store), 100);
}

TEST_F(SqliteStoreTest, LockedDatabaseGivesUnavailable) {
  auto store = Open(std::chrono::milliseconds(50));
  ASSERT_NE(store, nullptr);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  Status s = store->Write([](store::WriteTx& tx) { return tx.SetJoinTokenHash("v"); });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s;
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  EXPECT_TRUE(store->Write([](store::WriteTx& tx) { return tx.SetJoinTokenHash("v"); }).ok());
}

TEST_F(SqliteStoreTest, NestedWriteIsRefused) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  Status inner;
  ASSERT_TRUE(store
                  ->Write([&](store::WriteTx&) {
                    inner = store->Write([](store::WriteTx&) { return OkStatus(); });
                    return OkStatus();
                  })
                  .ok());
  EXPECT_EQ(inner.code(), StatusCode::kFailedPrecondition);
}

// A child process streams acknowledged job ids to a pipe and is killed mid-stream;
// every id it acknowledged must be in the database afterwards.
TEST_F(SqliteStoreTest, EveryAcknowledgedWriteSurvivesSigkill) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(CreateTenant(*store).ok());
  }
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    store::SqliteOptions opt;
    opt.path = path_;
    auto store = store::OpenSqliteStore(opt);
    if (!store.ok()) _exit(2);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0;; ++i) {
          const std::string id = "job-" + std::to_string(t) + "-" + std::to_string(i);
          Status s = (*store)->Write(
              [&](store::WriteTx& tx) { return tx.CreateJob(MakeJob(id, "tenant-1")).status(); });
          if (!s.ok()) _exit(3);
          const std::string line = id + "\n";
          if (write(fds[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
            _exit(4);
          }
        }
      });
    }
    for (std::thread& th : threads) th.join();
    _exit(0);
  }
  close(fds[1]);
  std::string received;
  char buf[4096];
  auto lines = [&] { return std::count(received.begin(), received.end(), '\n'); };
  bool killed = false;
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n <= 0) break;
    received.append(buf, static_cast<size_t>(n));
    if (!killed && lines() >= 300) {
      ASSERT_EQ(kill(child, SIGKILL), 0);
      killed = true;  // keep reading what was written before the kill
    }
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  if (!received.empty() && received.back() != '\n') received.resize(received.rfind('\n') + 1);

  auto store = Open();
  ASSERT_NE(store, nullptr);
  std::set<std::string> acked;
  for (size_t pos = 0; pos < received.size();) {
    size_t nl = received.find('\n', pos);
    acked.insert(received.substr(pos, nl - pos));
    pos = nl + 1;
  }
  ASSERT_GE(acked.size(), 300u);
  ASSERT_TRUE(store
                  ->Read([&](store::ReadTx& tx) -> Status {
                    for (const std::string& id : acked) {
                      EXPECT_TRUE(tx.GetJob(id).ok()) << "acknowledged " << id << " lost";
                    }
                    return OkStatus();
                  })
                  .ok());
  EXPECT_GE(CountJobs(*store), static_cast<int64_t>(acked.size()));
}

}  // namespace
}  // namespace fastgpu::testing

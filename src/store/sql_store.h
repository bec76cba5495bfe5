// SqlStore: the Store interface over a SQL database through the SqlConn seam (internal;
// SQLite: sqlite_store.cpp, PostgreSQL: pg_store.cpp).
//
// Writes: one writer connection, owned by one writer thread. Write() queues its `fn`
// and waits. The writer thread opens one transaction (options.begin_write), then takes
// everything queued (up to max_batch): writes that arrive while BEGIN waits for the lock
// join the batch. Each `fn` runs inside its own SAVEPOINT (released on success, rolled
// back on failure), then one COMMIT, so one flush to disk makes the whole batch durable.
// Only then are the waiting callers answered. While a batch commits, new calls queue up
// and form the next batch, so the batch size grows with the load.
// Reads: a pool of read connections; each Read runs in its own read transaction
// (options.begin_read), a snapshot that stays consistent while the writer commits.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/sql_conn.h"
#include "store/store.h"

namespace fastgpu::store {

struct SqlStoreOptions {
  std::string kind;               // Store::Kind(): "sqlite", "postgres"
  const char* begin_write;        // SQL that opens a write transaction
  const char* begin_read;         // SQL that opens a read transaction (a snapshot)
  const char* commit = "COMMIT";  // SQL that commits a write transaction
  int max_batch = 512;            // Write calls per commit, >= 1
  int64_t max_log_bytes = kDefaultMaxLogBytes;
  // Store::WatchCommits; unset: nullptr (a database of one process).
  std::function<std::unique_ptr<CommitWatch>(std::function<void()>)> watch_commits;
};

std::unique_ptr<Store> NewSqlStore(const SqlStoreOptions& options, std::unique_ptr<SqlConn> writer,
                                   std::vector<std::unique_ptr<SqlConn>> readers);

}  // namespace fastgpu::store

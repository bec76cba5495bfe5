// Thin RAII wrappers over the SQLite3 C API for the SQLite store (internal).
//
// SqliteConn owns one connection and a cache of its prepared statements (the SqlConn seam,
// sql_conn.h). A connection is used by one thread at a time (opened SQLITE_OPEN_NOMUTEX);
// not thread-safe.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"
#include "store/sql_conn.h"

namespace fastgpu::store {

// Maps a SQLite result code to a Status: BUSY / LOCKED -> Unavailable, a UNIQUE or
// PRIMARY KEY constraint -> AlreadyExists, a FOREIGN KEY one -> NotFound, FULL (or an I/O
// error with ENOSPC) ->
// DiskFullError (Unavailable), an I/O error writing or syncing -> Unavailable, anything
// else -> Internal. The message carries `context` and the connection's error text.
Status SqliteStatus(int rc, sqlite3* db, std::string_view context);

class SqliteConn final : public SqlConn {
 public:
  // Opens `path` (created when `create`), with the busy timeout set.
  static Result<std::unique_ptr<SqliteConn>> Open(const std::string& path, bool create,
                                                  std::chrono::milliseconds busy_timeout);
  ~SqliteConn() override;
  SqliteConn(const SqliteConn&) = delete;
  SqliteConn& operator=(const SqliteConn&) = delete;

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  Status Exec(const char* sql) override;
  Result<SqlCursor*> Cursor(const char* sql) override;
  bool InTransaction() const override { return sqlite3_get_autocommit(db_) == 0; }
  sqlite3* db() const { return db_; }

 private:
  explicit SqliteConn(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<const char*, std::unique_ptr<SqlCursor>> cache_;
};

}  // namespace fastgpu::store

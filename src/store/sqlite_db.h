// Thin RAII wrappers over the SQLite3 C API for the SQLite store (internal).
//
// SqliteConn owns one connection and a cache of its prepared statements. A connection
// is used by one thread at a time (opened SQLITE_OPEN_NOMUTEX); not thread-safe.
// Stmt borrows a cached statement for one use and resets it when it goes out of scope,
// so no statement stays active between calls.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"

namespace fastgpu::store {

// Maps a SQLite result code to a Status: BUSY / LOCKED -> Unavailable, a UNIQUE or
// PRIMARY KEY constraint -> AlreadyExists, FULL (or an I/O error with ENOSPC) ->
// DiskFullError (Unavailable), an I/O error writing or syncing -> Unavailable, anything
// else -> Internal. The message carries `context` and the connection's error text.
Status SqliteStatus(int rc, sqlite3* db, std::string_view context);

class SqliteConn {
 public:
  // Opens `path` (created when `create`), with the busy timeout set.
  static Result<std::unique_ptr<SqliteConn>> Open(const std::string& path, bool create,
                                                  std::chrono::milliseconds busy_timeout);
  ~SqliteConn();
  SqliteConn(const SqliteConn&) = delete;
  SqliteConn& operator=(const SqliteConn&) = delete;

  // Runs SQL text whose rows, if any, are not needed (may hold several statements).
  Status Exec(const char* sql);
  // The cached prepared statement for `sql`, compiled on first use. `sql` is the
  // cache key by address: pass string literals only.
  Result<sqlite3_stmt*> Prepare(const char* sql);
  sqlite3* db() const { return db_; }
  // True while the connection is inside an explicit transaction.
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

 private:
  explicit SqliteConn(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

// One use of a cached statement:
//   Stmt q(conn, "SELECT name FROM tenants WHERE id = ?1");
//   q.Bind(1, id);
//   FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
// A failed preparation or bind is reported by the next Step / Run.
class Stmt {
 public:
  Stmt(SqliteConn& conn, const char* sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Bind by 1-based index; chainable.
  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, std::string_view text);
  Stmt& BindBlob(int i, std::string_view bytes);
  Stmt& BindNull(int i);

  // Steps once. true: a row is ready; false: done.
  Result<bool> Step();
  // Steps to completion (for statements whose rows are not needed).
  Status Run();
  // Rows changed by the last completed INSERT / UPDATE / DELETE of the connection.
  int64_t Changes() const { return sqlite3_changes64(db_); }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const;  // also reads BLOB columns as bytes
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  void NoteBind(int rc);
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  Status status_;
};

}  // namespace fastgpu::store

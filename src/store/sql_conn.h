// The SQL seam of the durable stores (internal): one connection to a database and its
// prepared statements, whatever the database (SQLite: sqlite_db.h; PostgreSQL: pg_db.h).
//
// The transactions (sql_tx.h) are written once against this seam. Statements use SQL that
// both databases accept, with parameters written ?1, ?2, ... (the PostgreSQL connection
// rewrites them to $1, $2, ...); where the two differ, the caller picks the text by
// SqlConn::dialect().
//
// A connection is used by one thread at a time; not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace fastgpu::store {

enum class SqlDialect { kSqlite, kPostgres };

// One prepared statement of a connection, used by one Stmt at a time.
class SqlCursor {
 public:
  virtual ~SqlCursor() = default;
  // Bind by 1-based index. An error is reported by the next Step.
  virtual void BindInt(int i, int64_t v) = 0;
  virtual void BindText(int i, std::string_view text) = 0;
  virtual void BindBlob(int i, std::string_view bytes) = 0;
  virtual void BindNull(int i) = 0;
  // Steps once (the first Step runs the statement). true: a row is ready.
  virtual Result<bool> Step() = 0;
  // Rows changed by the statement once it has run (INSERT / UPDATE / DELETE).
  virtual int64_t Changes() const = 0;
  // Columns of the current row, 0-based. A boolean column reads as 0 / 1.
  virtual int64_t Int(int col) const = 0;
  virtual std::string Text(int col) const = 0;  // also reads BLOB / BYTEA columns as bytes
  virtual bool IsNull(int col) const = 0;
  // Forgets the run and the bindings, so the statement can be used again.
  virtual void Reset() = 0;
};

class SqlConn {
 public:
  virtual ~SqlConn() = default;
  virtual SqlDialect dialect() const = 0;
  // Runs SQL text whose rows, if any, are not needed (may hold several statements).
  virtual Status Exec(const char* sql) = 0;
  // The cached prepared statement for `sql`, prepared on first use. `sql` is the cache
  // key by address: pass string literals only.
  virtual Result<SqlCursor*> Cursor(const char* sql) = 0;
  // True while the connection is inside an explicit transaction.
  virtual bool InTransaction() const = 0;
};

// One use of a cached statement:
//   Stmt q(conn, "SELECT name FROM tenants WHERE id = ?1");
//   q.Bind(1, id);
//   FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
// A failed preparation is reported by the first Step / Run; the statement is reset when
// the Stmt goes out of scope, so no statement stays active between calls.
class Stmt {
 public:
  Stmt(SqlConn& conn, const char* sql);
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
  // Rows changed by the statement once run.
  int64_t Changes() const { return cursor_ ? cursor_->Changes() : 0; }

  int64_t Int(int col) const { return cursor_->Int(col); }
  std::string Text(int col) const { return cursor_->Text(col); }
  bool IsNull(int col) const { return cursor_->IsNull(col); }

 private:
  SqlCursor* cursor_ = nullptr;
  Status status_;
};

}  // namespace fastgpu::store

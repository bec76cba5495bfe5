// The PostgreSQL connection of the PostgreSQL store (internal): libpq behind the SqlConn
// seam (sql_conn.h).
//
// Statements are prepared once per connection (their ?N parameters rewritten to $N) and
// run with text parameters (BYTEA ones binary) and text results. A connection that breaks
// fails what runs on it with Unavailable, and is reset by the next Exec outside a
// transaction (normally the next BEGIN), which prepares the statements again. Notices are
// dropped, not printed. Used by one thread at a time; not thread-safe.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"
#include "store/sql_conn.h"

namespace fastgpu::store {

// The Status of a failed command: a unique key -> AlreadyExists; a foreign key (the row
// it refers to is missing) -> NotFound; no space ->
// DiskFullError; a lost connection, a server shutting down, a serialization failure or
// deadlock, too many connections -> Unavailable; text PostgreSQL cannot store (a NUL
// byte, bad UTF-8) -> InvalidArgument; anything else -> Internal. `res` may be null.
Status PgStatus(const PGresult* res, PGconn* conn, std::string_view context);

// The URL with any password replaced by "***", for messages and logs.
std::string RedactPgUrl(std::string_view url);

class PgConn final : public SqlConn {
 public:
  // Connects to `url` (postgresql://user[:password]@host[:port]/database[?options]), with
  // synchronous_commit on. Unavailable when the server cannot be reached in
  // `connect_timeout`; InvalidArgument for a malformed URL.
  static Result<std::unique_ptr<PgConn>> Open(const std::string& url,
                                              std::chrono::seconds connect_timeout);
  ~PgConn() override;
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }
  Status Exec(const char* sql) override;
  Result<SqlCursor*> Cursor(const char* sql) override;
  bool InTransaction() const override;
  PGconn* raw() const { return conn_; }
  // Whether the connection is up (as last seen by libpq).
  bool Connected() const { return PQstatus(conn_) == CONNECTION_OK; }

 private:
  explicit PgConn(PGconn* conn) : conn_(conn) {}
  // Resets a broken connection; Unavailable when the server still cannot be reached.
  Status Reconnect();
  Status Setup();

  PGconn* conn_;
  std::unordered_map<const char*, std::unique_ptr<SqlCursor>> cache_;
  int next_name_ = 0;
};

// `sql` with each ?N parameter (outside quotes) written $N.
std::string PgParameters(std::string_view sql);

}  // namespace fastgpu::store

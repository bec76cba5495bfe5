#include "store/sqlite_db.h"

#include <cerrno>

#include "store/store.h"

namespace fastgpu::store {

Status SqliteStatus(int rc, sqlite3* db, std::string_view context) {
  std::string msg = std::string(context) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  const int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return Unavailable("database busy: " + msg);
  }
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return AlreadyExists(msg);
  }
  // No space left (SQLite says FULL, or a write / sync failed with ENOSPC): the caller
  // may retry once space returns, so Unavailable with a message that says what to fix.
  const bool no_space = db != nullptr && sqlite3_system_errno(db) == ENOSPC;
  if (primary == SQLITE_FULL || (primary == SQLITE_IOERR && no_space)) {
    return DiskFullError(msg);
  }
  if (rc == SQLITE_IOERR_WRITE || rc == SQLITE_IOERR_FSYNC || rc == SQLITE_IOERR_DIR_FSYNC ||
      rc == SQLITE_IOERR_TRUNCATE || rc == SQLITE_IOERR_SHMSIZE) {
    return Unavailable("the control plane cannot write its database; retry later (sqlite: " + msg +
                       ")");
  }
  return Internal("sqlite: " + msg);
}

Result<std::unique_ptr<SqliteConn>> SqliteConn::Open(const std::string& path, bool create,
                                                     std::chrono::milliseconds busy_timeout) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteStatus(rc, db, "open " + path);
    sqlite3_close_v2(db);
    return s;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
  return std::unique_ptr<SqliteConn>(new SqliteConn(db));
}

SqliteConn::~SqliteConn() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Status SqliteConn::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return SqliteStatus(rc, db_, sql);
  return OkStatus();
}

Result<sqlite3_stmt*> SqliteConn::Prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(rc, db_, std::string("prepare ") + sql);
  cache_.emplace(sql, stmt);
  return stmt;
}

Stmt::Stmt(SqliteConn& conn, const char* sql) : db_(conn.db()) {
  Result<sqlite3_stmt*> stmt = conn.Prepare(sql);
  if (stmt.ok()) {
    stmt_ = *stmt;
  } else {
    status_ = stmt.status();
  }
}

Stmt::~Stmt() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Stmt::NoteBind(int rc) {
  if (rc != SQLITE_OK && status_.ok()) status_ = SqliteStatus(rc, db_, "bind");
}

Stmt& Stmt::Bind(int i, int64_t v) {
  if (stmt_) NoteBind(sqlite3_bind_int64(stmt_, i, v));
  return *this;
}

Stmt& Stmt::Bind(int i, std::string_view text) {
  if (stmt_) {
    NoteBind(
        sqlite3_bind_text64(stmt_, i, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  return *this;
}

Stmt& Stmt::BindBlob(int i, std::string_view bytes) {
  // A zero-length blob must not bind as NULL: give SQLite a valid pointer.
  if (stmt_) {
    NoteBind(sqlite3_bind_blob64(stmt_, i, bytes.empty() ? "" : bytes.data(), bytes.size(),
                                 SQLITE_TRANSIENT));
  }
  return *this;
}

Stmt& Stmt::BindNull(int i) {
  if (stmt_) NoteBind(sqlite3_bind_null(stmt_, i));
  return *this;
}

Result<bool> Stmt::Step() {
  if (!status_.ok()) return status_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  status_ = SqliteStatus(rc, db_, sqlite3_sql(stmt_));
  return status_;
}

Status Stmt::Run() {
  for (;;) {
    FASTGPU_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return OkStatus();
  }
}

std::string Stmt::Text(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr || n <= 0) return std::string();
  return std::string(static_cast<const char*>(p), static_cast<size_t>(n));
}

}  // namespace fastgpu::store

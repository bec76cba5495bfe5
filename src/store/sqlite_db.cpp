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
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
    return NotFound("a row it refers to is missing (sqlite: " + msg + ")");
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

namespace {

// One prepared statement of a SqliteConn.
class SqliteCursor final : public SqlCursor {
 public:
  SqliteCursor(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~SqliteCursor() override { sqlite3_finalize(stmt_); }

  void BindInt(int i, int64_t v) override { Note(sqlite3_bind_int64(stmt_, i, v)); }
  void BindText(int i, std::string_view text) override {
    Note(sqlite3_bind_text64(stmt_, i, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  void BindBlob(int i, std::string_view bytes) override {
    // A zero-length blob must not bind as NULL: give SQLite a valid pointer.
    Note(sqlite3_bind_blob64(stmt_, i, bytes.empty() ? "" : bytes.data(), bytes.size(),
                             SQLITE_TRANSIENT));
  }
  void BindNull(int i) override { Note(sqlite3_bind_null(stmt_, i)); }

  Result<bool> Step() override {
    if (!bind_status_.ok()) return bind_status_;
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteStatus(rc, db_, sqlite3_sql(stmt_));
  }
  int64_t Changes() const override { return sqlite3_changes64(db_); }
  int64_t Int(int col) const override { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const override {
    const void* p = sqlite3_column_blob(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    if (p == nullptr || n <= 0) return std::string();
    return std::string(static_cast<const char*>(p), static_cast<size_t>(n));
  }
  bool IsNull(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  void Reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    bind_status_ = OkStatus();
  }

 private:
  void Note(int rc) {
    if (rc != SQLITE_OK && bind_status_.ok()) bind_status_ = SqliteStatus(rc, db_, "bind");
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  Status bind_status_;
};

}  // namespace

SqliteConn::~SqliteConn() {
  cache_.clear();  // finalizes every statement before the connection closes
  sqlite3_close_v2(db_);
}

Status SqliteConn::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return SqliteStatus(rc, db_, sql);
  return OkStatus();
}

Result<SqlCursor*> SqliteConn::Cursor(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return it->second.get();
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(rc, db_, std::string("prepare ") + sql);
  auto cursor = std::make_unique<SqliteCursor>(db_, stmt);
  SqlCursor* out = cursor.get();
  cache_.emplace(sql, std::move(cursor));
  return out;
}

}  // namespace fastgpu::store

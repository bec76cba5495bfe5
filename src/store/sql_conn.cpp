#include "store/sql_conn.h"

namespace fastgpu::store {

Stmt::Stmt(SqlConn& conn, const char* sql) {
  Result<SqlCursor*> cursor = conn.Cursor(sql);
  if (cursor.ok()) {
    cursor_ = *cursor;
  } else {
    status_ = cursor.status();
  }
}

Stmt::~Stmt() {
  if (cursor_ != nullptr) cursor_->Reset();
}

Stmt& Stmt::Bind(int i, int64_t v) {
  if (cursor_) cursor_->BindInt(i, v);
  return *this;
}

Stmt& Stmt::Bind(int i, std::string_view text) {
  if (cursor_) cursor_->BindText(i, text);
  return *this;
}

Stmt& Stmt::BindBlob(int i, std::string_view bytes) {
  if (cursor_) cursor_->BindBlob(i, bytes);
  return *this;
}

Stmt& Stmt::BindNull(int i) {
  if (cursor_) cursor_->BindNull(i);
  return *this;
}

Result<bool> Stmt::Step() {
  if (!status_.ok()) return status_;
  Result<bool> row = cursor_->Step();
  if (!row.ok()) status_ = row.status();
  return row;
}

Status Stmt::Run() {
  for (;;) {
    FASTGPU_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return OkStatus();
  }
}

}  // namespace fastgpu::store

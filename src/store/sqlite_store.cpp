// OpenSqliteStore: the Store over one SQLite database in WAL mode with synchronous=FULL
// (a SqlStore, sql_store.h: one writer connection with group commit, a pool of readers).
#include <vector>

#include "store/sql_store.h"
#include "store/sqlite_db.h"
#include "store/sqlite_schema.h"
#include "store/store.h"

namespace fastgpu::store {
namespace {

Status ExpectPragma(SqliteConn& conn, const char* sql, const std::string& want) {
  Stmt q(conn, sql);
  FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
  std::string got = row ? q.Text(0) : "";
  if (got != want) return Internal(std::string(sql) + " gave '" + got + "', wanted '" + want + "'");
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  if (options.path.empty()) return InvalidArgument("sqlite store: path is required");
  if (options.read_pool_size < 1) return InvalidArgument("sqlite store: read_pool_size < 1");
  if (options.max_batch < 1) return InvalidArgument("sqlite store: max_batch < 1");
  if (options.max_log_bytes < 0) return InvalidArgument("sqlite store: max_log_bytes < 0");
  FASTGPU_ASSIGN_OR_RETURN(std::unique_ptr<SqliteConn> writer,
                           SqliteConn::Open(options.path, /*create=*/true, options.busy_timeout));
  FASTGPU_RETURN_IF_ERROR(ExpectPragma(*writer, "PRAGMA journal_mode=WAL", "wal"));
  FASTGPU_RETURN_IF_ERROR(writer->Exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON"));
  FASTGPU_RETURN_IF_ERROR(MigrateSchema(*writer).WithContext(options.path));
  std::vector<std::unique_ptr<SqliteConn>> readers;
  for (int i = 0; i < options.read_pool_size; ++i) {
    FASTGPU_ASSIGN_OR_RETURN(
        std::unique_ptr<SqliteConn> r,
        SqliteConn::Open(options.path, /*create=*/false, options.busy_timeout));
    FASTGPU_RETURN_IF_ERROR(r->Exec("PRAGMA query_only=1"));
    readers.push_back(std::move(r));
  }
  SqlStoreOptions so;
  so.kind = "sqlite";
  so.begin_write = "BEGIN IMMEDIATE";
  so.begin_read = "BEGIN";
  so.max_batch = options.max_batch;
  so.max_log_bytes = options.max_log_bytes;
  std::vector<std::unique_ptr<SqlConn>> conns(std::make_move_iterator(readers.begin()),
                                              std::make_move_iterator(readers.end()));
  return NewSqlStore(so, std::move(writer), std::move(conns));
}

}  // namespace fastgpu::store

#include "store/store_copy.h"

#include <deque>
#include <filesystem>

#include "store/pg_db.h"
#include "store/pg_schema.h"
#include "store/sqlite_db.h"
#include "store/store.h"

namespace fastgpu::store {
namespace {

// In an order that keeps every reference valid as rows arrive.
const char* const kTables[] = {"tenants",     "api_tokens", "nodes",       "node_drains",
                               "jobs",        "job_events", "allocations", "log_chunks",
                               "idempotency", "prices",     "gpu_prices",  "budget_over_marks",
                               "join_token",  "changes",    "services"};
// Tables whose seq comes from a sequence that must continue after the copied rows.
const char* const kSequenced[] = {"api_tokens", "nodes",   "jobs",
                                  "allocations", "changes", "services"};

struct Column {
  std::string name;
  bool blob = false;
};

Result<std::vector<Column>> Columns(SqliteConn& src, const std::string& table,
                                    std::deque<std::string>& sql) {
  sql.push_back("SELECT name, type FROM pragma_table_info('" + table + "') ORDER BY cid");
  Stmt q(src, sql.back().c_str());
  std::vector<Column> out;
  for (;;) {
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({q.Text(0), q.Text(1) == "BLOB"});
  }
  if (out.empty()) return Internal("the source database has no table " + table);
  return out;
}

Result<int64_t> CopyTable(SqliteConn& src, PgConn& dst, const std::string& table,
                          std::deque<std::string>& sql) {
  FASTGPU_ASSIGN_OR_RETURN(std::vector<Column> cols, Columns(src, table, sql));
  std::string names, params;
  for (size_t i = 0; i < cols.size(); ++i) {
    names += (i ? ", " : "") + cols[i].name;
    params += (i ? ", ?" : "?") + std::to_string(i + 1);
  }
  // The statements' texts live in `sql` for the whole copy: the connections cache
  // statements by the text's address.
  sql.push_back("SELECT " + names + " FROM " + table);
  Stmt read(src, sql.back().c_str());
  sql.push_back("INSERT INTO " + table + "(" + names + ") VALUES (" + params + ")");
  const char* insert = sql.back().c_str();
  int64_t rows = 0;
  for (;;) {
    FASTGPU_ASSIGN_OR_RETURN(bool row, read.Step());
    if (!row) return rows;
    Stmt w(dst, insert);
    for (size_t i = 0; i < cols.size(); ++i) {
      const int c = static_cast<int>(i);
      if (read.IsNull(c)) {
        w.BindNull(c + 1);
      } else if (cols[i].blob) {
        w.BindBlob(c + 1, read.Text(c));
      } else {
        w.Bind(c + 1, read.Text(c));
      }
    }
    FASTGPU_RETURN_IF_ERROR(w.Run().WithContext(table));
    ++rows;
  }
}

Result<std::vector<TableCopied>> CopyAll(SqliteConn& src, PgConn& dst,
                                         const std::function<void(const TableCopied&)>& progress) {
  {
    Stmt q(dst, "SELECT count(*) FROM tenants");
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row && q.Int(0) > 0) {
      return FailedPrecondition("the PostgreSQL database already holds a FastGPU state (" +
                                std::to_string(q.Int(0)) +
                                " tenants); migrate only into an empty database");
    }
  }
  std::deque<std::string> sql;
  std::vector<TableCopied> out;
  for (const char* table : kTables) {
    FASTGPU_ASSIGN_OR_RETURN(int64_t rows, CopyTable(src, dst, table, sql));
    out.push_back({table, rows});
    if (progress) progress(out.back());
  }
  for (const char* table : kSequenced) {
    sql.push_back(std::string("SELECT setval(pg_get_serial_sequence('") + table +
                  "', 'seq'), coalesce((SELECT max(seq) FROM " + table + "), 0) + 1, false)");
    FASTGPU_RETURN_IF_ERROR(dst.Exec(sql.back().c_str()));
  }
  return out;
}

}  // namespace

Result<std::vector<TableCopied>> CopySqliteToPostgres(
    const std::string& sqlite_path, const std::string& pg_url,
    const std::function<void(const TableCopied&)>& progress) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(sqlite_path, ec)) {
    return NotFound("no FastGPU database at " + sqlite_path);
  }
  {
    // Brings the source to this build's schema (refusing one from a newer build).
    SqliteOptions so;
    so.path = sqlite_path;
    so.read_pool_size = 1;
    FASTGPU_ASSIGN_OR_RETURN(std::unique_ptr<Store> opened, OpenSqliteStore(so));
  }
  FASTGPU_ASSIGN_OR_RETURN(
      std::unique_ptr<SqliteConn> src,
      SqliteConn::Open(sqlite_path, /*create=*/false, std::chrono::milliseconds(5000)));
  FASTGPU_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> dst,
                           PgConn::Open(pg_url, std::chrono::seconds(10)));
  FASTGPU_RETURN_IF_ERROR(MigratePgSchema(*dst));
  // One snapshot of the source; one transaction on the target, under the write lock that
  // every replica's writes take.
  FASTGPU_RETURN_IF_ERROR(src->Exec("BEGIN"));
  FASTGPU_RETURN_IF_ERROR(dst->Exec(kPgBeginWrite));
  Result<std::vector<TableCopied>> copied = CopyAll(*src, *dst, progress);
  src->Exec("ROLLBACK").IgnoreError();
  if (!copied.ok()) {
    dst->Exec("ROLLBACK").IgnoreError();
    return copied.status();
  }
  FASTGPU_RETURN_IF_ERROR(dst->Exec("COMMIT").WithContext("commit"));
  return copied;
}

}  // namespace fastgpu::store

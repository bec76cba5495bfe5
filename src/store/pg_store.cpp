// OpenPostgresStore: the Store over a PostgreSQL database (a SqlStore, sql_store.h: one
// writer connection with group commit, a pool of reader connections).
//
// Several control-plane replicas may write to one database. Each write transaction first
// takes one transaction-level advisory lock, so write transactions run one at a time
// across every replica, as SQLite's single writer does: a write sees every write committed
// before it (READ COMMITTED, each statement after the lock), and the change feed's seq
// rises in commit order. Reads are REPEATABLE READ, READ ONLY snapshots that never wait.
#include <vector>

#include "store/pg_db.h"
#include "store/pg_schema.h"
#include "store/sql_store.h"
#include "store/store.h"

namespace fastgpu::store {

bool IsPostgresUrl(std::string_view url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

std::string RedactStoreUrl(std::string_view url) { return RedactPgUrl(url); }

Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options) {
  if (!IsPostgresUrl(options.url)) {
    return InvalidArgument("postgres store: the URL must start with postgresql:// (got '" +
                           RedactPgUrl(options.url) + "')");
  }
  if (options.read_pool_size < 1) return InvalidArgument("postgres store: read_pool_size < 1");
  if (options.max_batch < 1) return InvalidArgument("postgres store: max_batch < 1");
  if (options.max_log_bytes < 0) return InvalidArgument("postgres store: max_log_bytes < 0");
  FASTGPU_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> writer,
                           PgConn::Open(options.url, options.connect_timeout));
  FASTGPU_RETURN_IF_ERROR(MigratePgSchema(*writer).WithContext(RedactPgUrl(options.url)));
  std::vector<std::unique_ptr<SqlConn>> readers;
  for (int i = 0; i < options.read_pool_size; ++i) {
    FASTGPU_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> r,
                             PgConn::Open(options.url, options.connect_timeout));
    readers.push_back(std::move(r));
  }
  SqlStoreOptions so;
  so.kind = "postgres";
  so.begin_write = kPgBeginWrite;
  so.begin_read = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
  so.max_batch = options.max_batch;
  so.max_log_bytes = options.max_log_bytes;
  return NewSqlStore(so, std::move(writer), std::move(readers));
}

}  // namespace fastgpu::store

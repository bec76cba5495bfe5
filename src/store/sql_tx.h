// Transactions of the SQL stores (internal): ReadTx / WriteTx over one connection, SQLite
// or PostgreSQL (sql_conn.h).
//
// The caller (SqlStore) owns the connection and the surrounding BEGIN / SAVEPOINT /
// COMMIT; these objects only run statements. Not thread-safe: one transaction object
// per connection, used by the thread that holds the connection.
#pragma once

#include <cstdint>
#include <memory>

#include "store/sql_conn.h"
#include "store/store.h"

namespace fastgpu::store {

std::unique_ptr<ReadTx> NewSqlReadTx(SqlConn& conn);
std::unique_ptr<WriteTx> NewSqlWriteTx(SqlConn& conn, int64_t max_log_bytes);

}  // namespace fastgpu::store

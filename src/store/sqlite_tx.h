// Transactions of the SQLite store (internal): ReadTx / WriteTx over one connection.
//
// The caller (SqliteStore) owns the connection and the surrounding BEGIN / SAVEPOINT /
// COMMIT; these objects only run statements. Not thread-safe: one transaction object
// per connection, used by the thread that holds the connection.
#pragma once

#include <cstdint>
#include <memory>

#include "store/sqlite_db.h"
#include "store/store.h"

namespace fastgpu::store {

std::unique_ptr<ReadTx> NewSqliteReadTx(SqliteConn& conn);
std::unique_ptr<WriteTx> NewSqliteWriteTx(SqliteConn& conn, int64_t max_log_bytes);

}  // namespace fastgpu::store

// Copying a control plane's state from its SQLite database into PostgreSQL (for
// `fastgpu store migrate`): every table, row for row, ids, creation order (seq) and the
// change feed kept, in one PostgreSQL transaction (all or nothing).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/result.h"

namespace fastgpu::store {

struct TableCopied {
  std::string table;
  int64_t rows = 0;
};

// Copies the SQLite database at `sqlite_path` (brought to this build's schema first) into
// the PostgreSQL database at `pg_url` (its schema made when missing), reading the source
// in one snapshot. `progress` (may be empty) is called after each table. NotFound when
// there is no database file at `sqlite_path`; FailedPrecondition when the target already
// holds a state (any tenant) — nothing is written then; Unavailable when PostgreSQL
// cannot be reached. On any error nothing is stored in the target.
Result<std::vector<TableCopied>> CopySqliteToPostgres(
    const std::string& sqlite_path, const std::string& pg_url,
    const std::function<void(const TableCopied&)>& progress = {});

}  // namespace fastgpu::store

// Schema migrations of the SQLite store (internal).
//
// The schema is an ordered list of migrations; migration i (0-based) takes the database
// from version i to i + 1. The version lives in table `schema_version`. Add new
// migrations at the end; never edit a released one.
#pragma once

#include "common/status.h"
#include "store/sqlite_db.h"

namespace fastgpu::store {

// The schema version this build writes.
int LatestSchemaVersion();

// Applies the missing migrations up to `target_version` (default: the latest) in one
// transaction. FailedPrecondition when the database is from a newer build (its version
// is above LatestSchemaVersion()); InvalidArgument for a target outside 1..latest.
Status MigrateSchema(SqliteConn& conn, int target_version = LatestSchemaVersion());

}  // namespace fastgpu::store

// Schema migrations of the PostgreSQL store (internal).
//
// As for SQLite (sqlite_schema.h): an ordered list of migrations, the version in table
// `schema_version`, new migrations added at the end and released ones never edited.
// PostgreSQL's list starts at the SQLite schema's version 8 (its first migration makes
// the same tables at once), so the two numberings differ. Several control-plane replicas
// may start together: the migration runs in one transaction under an advisory lock, so
// exactly one applies it and the others find it done.
#pragma once

#include "common/status.h"
#include "store/pg_db.h"

namespace fastgpu::store {

int LatestPgSchemaVersion();

// Opens a write transaction that holds the store's write lock (a transaction-level
// advisory lock): write transactions of every replica run one at a time.
inline constexpr const char* kPgBeginWrite = "BEGIN; SELECT pg_advisory_xact_lock(4604720411)";

// Applies the missing migrations. FailedPrecondition when the database is from a newer
// build (its version is above LatestPgSchemaVersion()).
Status MigratePgSchema(PgConn& conn);

}  // namespace fastgpu::store

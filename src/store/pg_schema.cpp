#include "store/pg_schema.h"

#include <string>

#include "store/sql_conn.h"

namespace fastgpu::store {
namespace {

// Times are Unix milliseconds (BIGINT); flags are 0 / 1 (BIGINT, as in SQLite); JSON
// columns hold what has no query on its parts; `seq` columns give creation order.
const char* const kPgMigrations[] = {
    // 1: the tables of SQLite schema version 8.
    R"sql(
CREATE TABLE tenants(
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  admin BIGINT NOT NULL,
  max_gpu_milli BIGINT NOT NULL,
  budget_cents BIGINT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  allow_root BIGINT NOT NULL DEFAULT 0);
CREATE TABLE api_tokens(
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  name TEXT NOT NULL,
  sha256_hex TEXT NOT NULL UNIQUE,
  created_at_ms BIGINT NOT NULL,
  revoked BIGINT NOT NULL);
CREATE INDEX api_tokens_by_tenant ON api_tokens(tenant_id, seq);
CREATE TABLE nodes(
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  agent_id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  cpu_milli BIGINT NOT NULL,
  memory_mib BIGINT NOT NULL,
  gpus_json TEXT NOT NULL,
  simulated BIGINT NOT NULL,
  token_sha256_hex TEXT NOT NULL,
  state TEXT NOT NULL,
  last_heartbeat_ms BIGINT NOT NULL,
  registered_at_ms BIGINT NOT NULL,
  secret_sha256_hex TEXT NOT NULL DEFAULT '');
CREATE INDEX nodes_by_name ON nodes(name, seq);
CREATE TABLE node_drains(
  node_id TEXT PRIMARY KEY REFERENCES nodes(id));
CREATE TABLE jobs(
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  spec_json TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  attempts BIGINT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  idempotency_key TEXT,
  idempotency_sha256_hex TEXT,
  name TEXT NOT NULL DEFAULT '');
CREATE UNIQUE INDEX jobs_by_idempotency_key ON jobs(tenant_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_by_tenant_state ON jobs(tenant_id, state, seq);
CREATE INDEX jobs_by_state ON jobs(state, seq);
CREATE INDEX jobs_by_tenant ON jobs(tenant_id, seq);
CREATE INDEX jobs_by_tenant_name ON jobs(tenant_id, name, seq);
CREATE INDEX jobs_by_name ON jobs(name, seq);
CREATE TABLE job_events(
  job_id TEXT NOT NULL REFERENCES jobs(id),
  n BIGINT NOT NULL,
  at_ms BIGINT NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY(job_id, n));
CREATE TABLE allocations(
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  job_id TEXT NOT NULL REFERENCES jobs(id),
  replica BIGINT NOT NULL,
  node_id TEXT NOT NULL REFERENCES nodes(id),
  gpu_model TEXT NOT NULL,
  slices_json TEXT NOT NULL,
  cpu_milli BIGINT NOT NULL,
  memory_mib BIGINT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  state TEXT NOT NULL,
  exit_code BIGINT NOT NULL,
  signal_no BIGINT NOT NULL,
  started_at_ms BIGINT NOT NULL,
  ended_at_ms BIGINT NOT NULL,
  message TEXT NOT NULL,
  log_bytes BIGINT NOT NULL DEFAULT 0,
  log_shipped_bytes BIGINT NOT NULL DEFAULT 0,
  log_final BIGINT NOT NULL DEFAULT 0);
CREATE INDEX allocations_by_node ON allocations(node_id, seq);
CREATE INDEX allocations_by_job ON allocations(job_id, seq);
CREATE INDEX allocations_live ON allocations(seq)
  WHERE state IN ('pending', 'starting', 'running');
CREATE TABLE log_chunks(
  alloc_id TEXT NOT NULL REFERENCES allocations(id),
  start_byte BIGINT NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY(alloc_id, start_byte));
CREATE TABLE idempotency(
  tenant_id TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  method_path TEXT NOT NULL,
  request_sha256_hex TEXT NOT NULL,
  http_status BIGINT NOT NULL,
  response_body TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  PRIMARY KEY(tenant_id, idem_key));
CREATE INDEX idempotency_by_created ON idempotency(created_at_ms);
CREATE TABLE prices(
  id BIGINT PRIMARY KEY CHECK (id = 1),
  default_gpu_hour_millicents BIGINT NOT NULL,
  cpu_hour_millicents BIGINT NOT NULL,
  memory_gib_hour_millicents BIGINT NOT NULL,
  minimum_charge_seconds BIGINT NOT NULL);
CREATE TABLE gpu_prices(
  gpu_model TEXT PRIMARY KEY,
  gpu_hour_millicents BIGINT NOT NULL);
CREATE TABLE budget_over_marks(
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  period_start_ms BIGINT NOT NULL,
  over_since_ms BIGINT NOT NULL,
  PRIMARY KEY(tenant_id, period_start_ms));
CREATE TABLE join_token(
  id BIGINT PRIMARY KEY CHECK (id = 1),
  sha256_hex TEXT NOT NULL);
CREATE TABLE changes(
  seq BIGSERIAL PRIMARY KEY,
  kind TEXT NOT NULL,
  id TEXT NOT NULL);
CREATE INDEX changes_by_kind ON changes(kind, seq);
)sql",
    // 2: the leader lease of the control-plane replicas (SQLite version 9).
    R"sql(
CREATE TABLE leader_lease(
  id BIGINT PRIMARY KEY CHECK (id = 1),
  holder TEXT NOT NULL,
  generation BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL);
)sql",
    // 3: services (SQLite version 10).
    R"sql(
CREATE TABLE services(
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  name TEXT NOT NULL,
  spec_json TEXT NOT NULL,
  replicas BIGINT NOT NULL,
  generation BIGINT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  replica_jobs_json TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  UNIQUE(tenant_id, name));
)sql",
};

// The advisory lock that lets one replica migrate at a time.
constexpr const char* kBeginMigration = "BEGIN; SELECT pg_advisory_xact_lock(4604720410)";

Result<int> CurrentVersion(PgConn& conn) {
  Stmt q(conn, "SELECT coalesce(max(version), 0) FROM schema_version");
  FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? static_cast<int>(q.Int(0)) : 0;
}

Status MigrateLocked(PgConn& conn) {
  FASTGPU_RETURN_IF_ERROR(
      conn.Exec("CREATE TABLE IF NOT EXISTS schema_version(version BIGINT NOT NULL)"));
  FASTGPU_ASSIGN_OR_RETURN(int version, CurrentVersion(conn));
  if (version > LatestPgSchemaVersion()) {
    return FailedPrecondition("the database has schema version " + std::to_string(version) +
                              ", newer than this build's " +
                              std::to_string(LatestPgSchemaVersion()) +
                              "; run a newer fastgpu or restore a backup");
  }
  if (version == LatestPgSchemaVersion()) return OkStatus();
  for (int v = version; v < LatestPgSchemaVersion(); ++v) {
    FASTGPU_RETURN_IF_ERROR(
        conn.Exec(kPgMigrations[v]).WithContext("migration " + std::to_string(v + 1)));
  }
  FASTGPU_RETURN_IF_ERROR(conn.Exec("DELETE FROM schema_version"));
  Stmt ins(conn, "INSERT INTO schema_version(version) VALUES (?1)");
  ins.Bind(1, int64_t{LatestPgSchemaVersion()});
  return ins.Run();
}

}  // namespace

int LatestPgSchemaVersion() { return static_cast<int>(std::size(kPgMigrations)); }

Status MigratePgSchema(PgConn& conn) {
  FASTGPU_RETURN_IF_ERROR(conn.Exec(kBeginMigration));
  Status s = MigrateLocked(conn);
  if (!s.ok()) {
    conn.Exec("ROLLBACK").IgnoreError();
    return s;
  }
  return conn.Exec("COMMIT");
}

}  // namespace fastgpu::store

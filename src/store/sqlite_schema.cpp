#include "store/sqlite_schema.h"

#include <string>
#include <vector>

namespace fastgpu::store {
namespace {

// Times are Unix milliseconds. JSON columns hold what has no query on its parts
// (job spec, GPUs of a node, slices of an allocation). `seq` columns give creation order.
const char* const kMigrations[] = {
    // 1: the first schema.
    R"sql(
CREATE TABLE tenants(
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  admin INTEGER NOT NULL,
  max_gpu_milli INTEGER NOT NULL,
  budget_cents INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL);
CREATE TABLE api_tokens(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  name TEXT NOT NULL,
  sha256_hex TEXT NOT NULL UNIQUE,
  created_at_ms INTEGER NOT NULL,
  revoked INTEGER NOT NULL);
CREATE INDEX api_tokens_by_tenant ON api_tokens(tenant_id, seq);
CREATE TABLE nodes(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  agent_id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  cpu_milli INTEGER NOT NULL,
  memory_mib INTEGER NOT NULL,
  gpus_json TEXT NOT NULL,
  simulated INTEGER NOT NULL,
  token_sha256_hex TEXT NOT NULL,
  state TEXT NOT NULL,
  last_heartbeat_ms INTEGER NOT NULL,
  registered_at_ms INTEGER NOT NULL);
CREATE TABLE jobs(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  spec_json TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  idempotency_key TEXT);
CREATE UNIQUE INDEX jobs_by_idempotency_key ON jobs(tenant_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_by_tenant_state ON jobs(tenant_id, state, seq);
CREATE INDEX jobs_by_state ON jobs(state, seq);
CREATE TABLE job_events(
  job_id TEXT NOT NULL REFERENCES jobs(id),
  n INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY(job_id, n)) WITHOUT ROWID;
CREATE TABLE allocations(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  job_id TEXT NOT NULL REFERENCES jobs(id),
  replica INTEGER NOT NULL,
  node_id TEXT NOT NULL REFERENCES nodes(id),
  gpu_model TEXT NOT NULL,
  slices_json TEXT NOT NULL,
  cpu_milli INTEGER NOT NULL,
  memory_mib INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  state TEXT NOT NULL,
  exit_code INTEGER NOT NULL,
  signal_no INTEGER NOT NULL,
  started_at_ms INTEGER NOT NULL,
  ended_at_ms INTEGER NOT NULL,
  message TEXT NOT NULL,
  log_bytes INTEGER NOT NULL DEFAULT 0);
CREATE INDEX allocations_by_node ON allocations(node_id, seq);
CREATE INDEX allocations_by_job ON allocations(job_id, seq);
CREATE INDEX allocations_live ON allocations(seq)
  WHERE state IN ('pending', 'starting', 'running');
CREATE TABLE log_chunks(
  alloc_id TEXT NOT NULL REFERENCES allocations(id),
  start_byte INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY(alloc_id, start_byte)) WITHOUT ROWID;
CREATE TABLE idempotency(
  tenant_id TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  method_path TEXT NOT NULL,
  request_sha256_hex TEXT NOT NULL,
  http_status INTEGER NOT NULL,
  response_body TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY(tenant_id, idem_key));
CREATE INDEX idempotency_by_created ON idempotency(created_at_ms);
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql",
    // 2: a tenant's jobs in creation order without a sort (GET /v1/jobs pages).
    R"sql(
CREATE INDEX jobs_by_tenant ON jobs(tenant_id, seq);
)sql",
    // 3: a node's long-lived secret (re-registration needs it; a node registered before
    // this version has its current token as its secret), and the hash of the request that
    // first used a job's idempotency key (a reuse with another request is refused).
    R"sql(
ALTER TABLE nodes ADD COLUMN secret_sha256_hex TEXT NOT NULL DEFAULT '';
UPDATE nodes SET secret_sha256_hex = token_sha256_hex;
ALTER TABLE jobs ADD COLUMN idempotency_sha256_hex TEXT;
)sql",
    // 4: jobs and nodes found by name (a user names a job, or the admin a node, by its
    // name where an id is accepted); a job's name, copied out of its spec.
    R"sql(
ALTER TABLE jobs ADD COLUMN name TEXT NOT NULL DEFAULT '';
UPDATE jobs SET name = coalesce(json_extract(spec_json, '$.name'), '');
CREATE INDEX jobs_by_tenant_name ON jobs(tenant_id, name, seq);
CREATE INDEX jobs_by_name ON jobs(name, seq);
CREATE INDEX nodes_by_name ON nodes(name, seq);
)sql",
    // 5: a tenant the admin lets run jobs as root on the node (default: never).
    R"sql(
ALTER TABLE tenants ADD COLUMN allow_root INTEGER NOT NULL DEFAULT 0;
)sql",
    // 6: typed tables for what lived as string keys in `meta`, each row moved over:
    //   node_drained/<node>              -> node_drains
    //   log_end/<allocation> (JSON)      -> allocations.log_shipped_bytes, log_final
    //   prices (JSON, dollar strings)    -> prices, gpu_prices (millicents)
    //   budget_over/<tenant>/<YYYY-MM>   -> budget_over_marks (the month's first ms)
    //   join_token_sha256                -> join_token
    // Rows naming a node, allocation or tenant that does not exist are dropped, and so
    // is `meta`. Dollar amounts have at most 5 decimals below 1e9 (price_json.h), so a
    // double times 100000, rounded, is exact.
    R"sql(
CREATE TABLE node_drains(
  node_id TEXT PRIMARY KEY REFERENCES nodes(id)) WITHOUT ROWID;
ALTER TABLE allocations ADD COLUMN log_shipped_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE allocations ADD COLUMN log_final INTEGER NOT NULL DEFAULT 0;
CREATE TABLE prices(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  default_gpu_hour_millicents INTEGER NOT NULL,
  cpu_hour_millicents INTEGER NOT NULL,
  memory_gib_hour_millicents INTEGER NOT NULL,
  minimum_charge_seconds INTEGER NOT NULL);
CREATE TABLE gpu_prices(
  gpu_model TEXT PRIMARY KEY,
  gpu_hour_millicents INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE budget_over_marks(
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  period_start_ms INTEGER NOT NULL,
  over_since_ms INTEGER NOT NULL,
  PRIMARY KEY(tenant_id, period_start_ms)) WITHOUT ROWID;
CREATE TABLE join_token(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  sha256_hex TEXT NOT NULL);

INSERT INTO node_drains(node_id)
  SELECT substr(key, 14) FROM meta
  WHERE substr(key, 1, 13) = 'node_drained/' AND substr(key, 14) IN (SELECT id FROM nodes);
UPDATE allocations SET
  log_shipped_bytes = coalesce((SELECT json_extract(value, '$.shipped_bytes') FROM meta
                                WHERE key = 'log_end/' || allocations.id), 0),
  log_final = coalesce((SELECT json_extract(value, '$.final') FROM meta
                        WHERE key = 'log_end/' || allocations.id), 0)
  WHERE 'log_end/' || allocations.id IN (SELECT key FROM meta);
INSERT INTO prices(id, default_gpu_hour_millicents, cpu_hour_millicents,
                   memory_gib_hour_millicents, minimum_charge_seconds)
  SELECT 1,
    CAST(round(CAST(coalesce(json_extract(value, '$.default_gpu_hour'), 0) AS REAL) * 100000)
         AS INTEGER),
    CAST(round(CAST(coalesce(json_extract(value, '$.cpu_hour'), 0) AS REAL) * 100000)
         AS INTEGER),
    CAST(round(CAST(coalesce(json_extract(value, '$.gib_hour'), 0) AS REAL) * 100000)
         AS INTEGER),
    CAST(coalesce(json_extract(value, '$.minimum_seconds'), 0) AS INTEGER)
  FROM meta WHERE key = 'prices';
INSERT INTO gpu_prices(gpu_model, gpu_hour_millicents)
  SELECT g.key, CAST(round(CAST(g.value AS REAL) * 100000) AS INTEGER)
  FROM meta, json_each(meta.value, '$.gpu_hour') AS g WHERE meta.key = 'prices';
INSERT INTO budget_over_marks(tenant_id, period_start_ms, over_since_ms)
  SELECT substr(key, 13, length(key) - 20),
    CAST(strftime('%s', substr(key, -7) || '-01') AS INTEGER) * 1000,
    CAST(value AS INTEGER)
  FROM meta
  WHERE substr(key, 1, 12) = 'budget_over/' AND length(key) > 20 AND substr(key, -8, 1) = '/'
    AND substr(key, 13, length(key) - 20) IN (SELECT id FROM tenants)
    AND strftime('%s', substr(key, -7) || '-01') IS NOT NULL;
INSERT INTO join_token(id, sha256_hex)
  SELECT 1, value FROM meta WHERE key = 'join_token_sha256' AND value != '';
DROP TABLE meta;
)sql",
    // 7: the change feed (ReadTx::ListChangesSince): one row per write of a job, an
    // allocation or a node, in commit order (one writer; AUTOINCREMENT never reuses a seq).
    R"sql(
CREATE TABLE changes(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  id TEXT NOT NULL);
)sql",
    // 8: the latest entry of one kind without a scan (ReadTx::LatestNodeChangeSeq).
    R"sql(
CREATE INDEX changes_by_kind ON changes(kind, seq);
)sql",
    // 9: the leader lease of the control-plane replicas (ReadTx::GetLeaderLease).
    R"sql(
CREATE TABLE leader_lease(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  holder TEXT NOT NULL,
  generation INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL);
)sql",
    // 10: services (model/service.h): the spec as JSON, the desired count, the generation,
    // what the service pass last saw, and the ids of its live replica jobs (a JSON array).
    R"sql(
CREATE TABLE services(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  name TEXT NOT NULL,
  spec_json TEXT NOT NULL,
  replicas INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  replica_jobs_json TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  UNIQUE(tenant_id, name));
)sql",
};

Result<int> CurrentVersion(SqliteConn& conn) {
  Stmt q(conn, "SELECT max(version) FROM schema_version");
  FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row || q.IsNull(0)) return 0;
  return static_cast<int>(q.Int(0));
}

Status MigrateInTransaction(SqliteConn& conn, int target) {
  FASTGPU_RETURN_IF_ERROR(
      conn.Exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)"));
  FASTGPU_ASSIGN_OR_RETURN(int version, CurrentVersion(conn));
  if (version > LatestSchemaVersion()) {
    return FailedPrecondition("the database has schema version " + std::to_string(version) +
                              ", newer than this build's " + std::to_string(LatestSchemaVersion()) +
                              "; run a newer fastgpu or restore a backup");
  }
  for (int v = version; v < target; ++v) {
    FASTGPU_RETURN_IF_ERROR(
        conn.Exec(kMigrations[v]).WithContext("migration " + std::to_string(v + 1)));
  }
  if (version >= target) return OkStatus();
  FASTGPU_RETURN_IF_ERROR(conn.Exec("DELETE FROM schema_version"));
  Stmt ins(conn, "INSERT INTO schema_version(version) VALUES (?1)");
  ins.Bind(1, int64_t{target});
  return ins.Run();
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(std::size(kMigrations)); }

Status MigrateSchema(SqliteConn& conn, int target_version) {
  if (target_version < 1 || target_version > LatestSchemaVersion()) {
    return InvalidArgument("no schema version " + std::to_string(target_version));
  }
  FASTGPU_RETURN_IF_ERROR(conn.Exec("BEGIN IMMEDIATE"));
  Status s = MigrateInTransaction(conn, target_version);
  if (!s.ok()) {
    conn.Exec("ROLLBACK").IgnoreError();
    return s;
  }
  return conn.Exec("COMMIT");
}

}  // namespace fastgpu::store

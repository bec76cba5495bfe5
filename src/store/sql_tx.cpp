#include "store/sql_tx.h"

#include <set>

#include "store/sql_reader.h"

namespace fastgpu::store {
namespace {

// Runs a statement that must change exactly the row it names; NotFound otherwise.
Status RunOnOne(Stmt& q, const std::string& what) {
  FASTGPU_RETURN_IF_ERROR(q.Run());
  if (q.Changes() == 0) return NotFound(what + " not found");
  return OkStatus();
}

// `sql` (an INSERT or UPDATE of one row, by id) as this connection runs it: on PostgreSQL
// with the row's change-feed entry in the same statement (a data-modifying WITH; one round
// trip instead of two; the statement's row count is the entries written), on SQLite, in
// process, as it is (the caller then writes the entry: Changed). `kind` is the quoted
// ChangeKindName. Both alternatives are string literals, as Stmt's cache needs.
#define FASTGPU_WITH_CHANGE(pg, sql, kind)                                              \
  ((pg) ? "WITH w AS (" sql " RETURNING id) INSERT INTO changes(kind, id) SELECT " kind \
          ", id FROM w"                                                                 \
        : sql)

class SqlWriteTx final : public SqlReader<WriteTx> {
 public:
  SqlWriteTx(SqlConn& conn, int64_t max_log_bytes)
      : SqlReader(conn), max_log_bytes_(max_log_bytes) {}

  // Adds an entry to the change feed (ReadTx::ListChangesSince).
  Status Changed(ChangeKind kind, const std::string& id) {
    Stmt q(c_, "INSERT INTO changes(kind, id) VALUES (?1, ?2)");
    q.Bind(1, ChangeKindName(kind)).Bind(2, id);
    return q.Run();
  }
  Result<int64_t> DeleteChangesBefore(int64_t before) override {
    Stmt q(c_, "DELETE FROM changes WHERE seq < ?1");
    q.Bind(1, before);
    FASTGPU_RETURN_IF_ERROR(q.Run());
    return q.Changes();
  }

  Status CreateTenant(const model::Tenant& t) override {
    if (GetTenant(t.id).ok()) return AlreadyExists("tenant " + t.id + " exists");
    if (GetTenantByName(t.name).ok()) return AlreadyExists("tenant name '" + t.name + "' is taken");
    Stmt q(c_, "INSERT INTO tenants(" FASTGPU_TENANT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    q.Bind(1, t.id).Bind(2, t.name).Bind(3, int64_t{t.admin}).Bind(4, t.quota.max_gpu_milli);
    q.Bind(5, t.quota.budget_cents).Bind(6, ToUnixMillis(t.created_at));
    q.Bind(7, int64_t{t.allow_root});
    return q.Run();
  }
  Status UpdateTenantQuota(const std::string& id, const model::Quota& quota) override {
    tenant_memo_.reset();
    Stmt q(c_, "UPDATE tenants SET max_gpu_milli = ?2, budget_cents = ?3 WHERE id = ?1");
    q.Bind(1, id).Bind(2, quota.max_gpu_milli).Bind(3, quota.budget_cents);
    return RunOnOne(q, "tenant " + id);
  }
  Status SetTenantAllowRoot(const std::string& id, bool allow_root) override {
    tenant_memo_.reset();
    Stmt q(c_, "UPDATE tenants SET allow_root = ?2 WHERE id = ?1");
    q.Bind(1, id).Bind(2, int64_t{allow_root});
    return RunOnOne(q, "tenant " + id);
  }
  Status CreateToken(const ApiToken& t) override {
    FASTGPU_ASSIGN_OR_RETURN(bool taken, Exists("SELECT 1 FROM api_tokens WHERE id = ?1", t.id));
    if (taken) {
      return AlreadyExists("token " + t.id + " exists");
    }
    if (FindTokenByHash(t.sha256_hex).ok()) return AlreadyExists("token hash is taken");
    if (!GetTenant(t.tenant_id).ok()) return NotFound("tenant " + t.tenant_id + " not found");
    Stmt q(c_, "INSERT INTO api_tokens(" FASTGPU_TOKEN_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    q.Bind(1, t.id).Bind(2, t.tenant_id).Bind(3, t.name).Bind(4, t.sha256_hex);
    q.Bind(5, ToUnixMillis(t.created_at)).Bind(6, int64_t{t.revoked});
    return q.Run();
  }
  Status RevokeToken(const std::string& token_id) override {
    Stmt q(c_, "UPDATE api_tokens SET revoked = 1 WHERE id = ?1");
    q.Bind(1, token_id);
    return RunOnOne(q, "token " + token_id);
  }
  Result<UpsertNodeResult> UpsertNode(const NodeRecord& r) override {
    Result<NodeRecord> known = GetNodeByAgentId(r.agent_id);
    const bool existed = known.ok();
    if (!existed && known.status().code() != StatusCode::kNotFound) return known.status();
    if (!existed) {
      if (r.node.id.empty()) return InvalidArgument("node id is required for a new agent");
      if (GetNode(r.node.id).ok()) return AlreadyExists("node " + r.node.id + " exists");
    }
    // Insert, or on a known agent_id update everything but id and registered_at.
    Stmt q(c_, "INSERT INTO nodes(" FASTGPU_NODE_COLS
               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
               " ON CONFLICT(agent_id) DO UPDATE SET name = excluded.name,"
               " cpu_milli = excluded.cpu_milli, memory_mib = excluded.memory_mib,"
               " gpus_json = excluded.gpus_json, simulated = excluded.simulated,"
               " token_sha256_hex = excluded.token_sha256_hex, state = excluded.state,"
               " last_heartbeat_ms = excluded.last_heartbeat_ms,"
               " secret_sha256_hex = excluded.secret_sha256_hex");
    const std::string id = existed ? known->node.id : r.node.id;
    q.Bind(1, id).Bind(2, r.agent_id).Bind(3, r.node.name).Bind(4, r.node.cpu_milli);
    q.Bind(5, r.node.memory_mib).Bind(6, EncodeGpus(r.node.gpus));
    q.Bind(7, int64_t{r.node.simulated}).Bind(8, r.token_sha256_hex);
    q.Bind(9, NodeStateName(r.state)).Bind(10, ToUnixMillis(r.last_heartbeat));
    q.Bind(11, ToUnixMillis(r.registered_at)).Bind(12, r.secret_sha256_hex);
    FASTGPU_RETURN_IF_ERROR(q.Run());
    FASTGPU_RETURN_IF_ERROR(Changed(ChangeKind::kNode, id));
    return UpsertNodeResult{id, existed};
  }
  Status RevokeNodeCredentials(const std::string& node_id) override {
    Stmt q(c_, "UPDATE nodes SET token_sha256_hex = '', secret_sha256_hex = '' WHERE id = ?1");
    q.Bind(1, node_id);
    FASTGPU_RETURN_IF_ERROR(RunOnOne(q, "node " + node_id));
    return Changed(ChangeKind::kNode, node_id);
  }
  Status UpdateNodeHeartbeat(const std::string& node_id, TimePoint at,
                             const std::vector<GpuHealth>& gpu_health) override {
    FASTGPU_ASSIGN_OR_RETURN(NodeRecord n, GetNode(node_id));
    const std::vector<model::Gpu> before = n.node.gpus;
    FASTGPU_RETURN_IF_ERROR(ApplyGpuHealth(n.node, gpu_health));
    Stmt q(c_, "UPDATE nodes SET gpus_json = ?2, last_heartbeat_ms = ?3 WHERE id = ?1");
    q.Bind(1, node_id).Bind(2, EncodeGpus(n.node.gpus)).Bind(3, ToUnixMillis(at));
    FASTGPU_RETURN_IF_ERROR(RunOnOne(q, "node " + node_id));
    if (HealthChanged(before, n.node.gpus)) return Changed(ChangeKind::kNode, node_id);
    return OkStatus();
  }
  Status SetNodeState(const std::string& node_id, NodeState state) override {
    Stmt q(c_, "UPDATE nodes SET state = ?2 WHERE id = ?1");
    q.Bind(1, node_id).Bind(2, NodeStateName(state));
    FASTGPU_RETURN_IF_ERROR(RunOnOne(q, "node " + node_id));
    return Changed(ChangeKind::kNode, node_id);
  }
  Result<CreateJobResult> CreateJob(const model::Job& job, std::string_view idempotency_key,
                                    std::string_view request_sha256_hex) override {
    if (!GetTenant(job.tenant_id).ok()) return NotFound("tenant " + job.tenant_id + " not found");
      // Inserted unless the id or the tenant's idempotency key is taken (one round trip when
      // neither is); then the key's job is a replay, else the id is taken.
#define FASTGPU_INSERT_JOB                                                        \
  "INSERT INTO jobs(id, tenant_id, spec_json, state, reason, attempts,"           \
  " created_at_ms, updated_at_ms, idempotency_key, idempotency_sha256_hex, name)" \
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT DO NOTHING"
    const bool pg = c_.dialect() == SqlDialect::kPostgres;
    Stmt q(c_, FASTGPU_WITH_CHANGE(pg, FASTGPU_INSERT_JOB, "'job'"));
#undef FASTGPU_INSERT_JOB
    q.Bind(1, job.id).Bind(2, job.tenant_id).Bind(3, EncodeJobSpec(job.spec));
    q.Bind(4, model::JobStateName(job.state)).Bind(5, job.reason).Bind(6, int64_t{job.attempts});
    q.Bind(7, ToUnixMillis(job.created_at)).Bind(8, ToUnixMillis(job.updated_at));
    q.Bind(11, job.spec.name);
    if (idempotency_key.empty()) {
      q.BindNull(9).BindNull(10);
    } else {
      q.Bind(9, idempotency_key).Bind(10, request_sha256_hex);
    }
    FASTGPU_RETURN_IF_ERROR(q.Run());
    if (q.Changes() == 0) {
      if (!idempotency_key.empty()) {
        Stmt k(c_,
               "SELECT id, idempotency_sha256_hex FROM jobs"
               " WHERE tenant_id = ?1 AND idempotency_key = ?2");
        k.Bind(1, job.tenant_id).Bind(2, idempotency_key);
        FASTGPU_ASSIGN_OR_RETURN(bool row, k.Step());
        if (row) {
          std::string hash = k.IsNull(1) ? "" : k.Text(1);
          FASTGPU_ASSIGN_OR_RETURN(model::Job existing, GetJob(k.Text(0)));
          return CreateJobResult{std::move(existing), true, std::move(hash)};
        }
      }
      return AlreadyExists("job " + job.id + " exists");
    }
    FASTGPU_RETURN_IF_ERROR(InsertEvents(job, 0));
    if (!pg) FASTGPU_RETURN_IF_ERROR(Changed(ChangeKind::kJob, job.id));
    return CreateJobResult{NormalizeJobTimes(job), false};
  }
  Status UpdateJob(const model::Job& job) override {
    int64_t stored_events = 0;  // 0 for a job that is not stored: the UPDATE says so
    {
      Stmt count(c_, "SELECT count(*) FROM job_events WHERE job_id = ?1");
      count.Bind(1, job.id);
      FASTGPU_ASSIGN_OR_RETURN(bool row, count.Step());
      if (row) stored_events = count.Int(0);
    }
    if (static_cast<int64_t>(job.events.size()) < stored_events) {
      return FailedPrecondition("job " + job.id + ": events can only be appended");
    }
#define FASTGPU_UPDATE_JOB \
  "UPDATE jobs SET state = ?2, reason = ?3, attempts = ?4, updated_at_ms = ?5 WHERE id = ?1"
    const bool pg = c_.dialect() == SqlDialect::kPostgres;
    Stmt q(c_, FASTGPU_WITH_CHANGE(pg, FASTGPU_UPDATE_JOB, "'job'"));
#undef FASTGPU_UPDATE_JOB
    q.Bind(1, job.id).Bind(2, model::JobStateName(job.state)).Bind(3, job.reason);
    q.Bind(4, int64_t{job.attempts}).Bind(5, ToUnixMillis(job.updated_at));
    FASTGPU_RETURN_IF_ERROR(RunOnOne(q, "job " + job.id));
    if (!pg) FASTGPU_RETURN_IF_ERROR(Changed(ChangeKind::kJob, job.id));
    return InsertEvents(job, static_cast<size_t>(stored_events));
  }
  Result<bool> SetPendingReason(const std::string& job_id, const std::string& reason) override {
    // Found by id alone: written as a plain `state = ?3`, the condition lets PostgreSQL's
    // generic plan (made while the table was small) scan jobs_by_state, every pending job.
#define FASTGPU_SET_REASON \
  "UPDATE jobs SET reason = ?2 WHERE id = ?1 AND (state = ?3 AND reason <> ?2) IS TRUE"
    const bool pg = c_.dialect() == SqlDialect::kPostgres;
    Stmt q(c_, FASTGPU_WITH_CHANGE(pg, FASTGPU_SET_REASON, "'job'"));
#undef FASTGPU_SET_REASON
    q.Bind(1, job_id).Bind(2, reason).Bind(3, model::JobStateName(model::JobState::kPending));
    FASTGPU_RETURN_IF_ERROR(q.Run());
    if (q.Changes() == 0) return false;
    if (!pg) FASTGPU_RETURN_IF_ERROR(Changed(ChangeKind::kJob, job_id));
    return true;
  }
  Status CreateService(const model::Service& svc) override {
    if (!GetTenant(svc.tenant_id).ok()) return NotFound("tenant " + svc.tenant_id + " not found");
    // Inserted unless the id or the tenant's name is taken (both UNIQUE).
    Stmt q(c_, "INSERT INTO services(" FASTGPU_SERVICE_COLS
               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT DO NOTHING");
    q.Bind(1, svc.id).Bind(2, svc.tenant_id).Bind(3, svc.spec.name);
    BindService(q, svc, 4);
    q.Bind(10, ToUnixMillis(svc.created_at)).Bind(11, ToUnixMillis(svc.updated_at));
    FASTGPU_RETURN_IF_ERROR(q.Run());
    if (q.Changes() == 0) {
      FASTGPU_ASSIGN_OR_RETURN(bool taken, Exists("SELECT 1 FROM services WHERE id = ?1", svc.id));
      if (taken) return AlreadyExists("service " + svc.id + " exists");
      return AlreadyExists("service name '" + svc.spec.name + "' is taken");
    }
    return OkStatus();
  }
  Status UpdateService(const model::Service& svc) override {
    Stmt q(c_,
           "UPDATE services SET spec_json = ?2, replicas = ?3, generation = ?4, state = ?5,"
           " reason = ?6, replica_jobs_json = ?7, updated_at_ms = ?8 WHERE id = ?1");
    q.Bind(1, svc.id);
    BindService(q, svc, 2);
    q.Bind(8, ToUnixMillis(svc.updated_at));
    return RunOnOne(q, "service " + svc.id);
  }
  Status DeleteService(const std::string& id) override {
    Stmt q(c_, "DELETE FROM services WHERE id = ?1");
    q.Bind(1, id);
    return RunOnOne(q, "service " + id);
  }
  // One statement per allocation (with its change-feed entry on PostgreSQL): a taken id
  // inserts nothing, and a missing job or node fails the row's foreign key (NotFound).
  Status CreateAllocations(const std::vector<AllocationRecord>& records) override {
    std::set<std::string> ids;
    for (const AllocationRecord& r : records) {
      if (!ids.insert(r.alloc.id).second) {
        return AlreadyExists("allocation " + r.alloc.id + " exists");
      }
    }
#define FASTGPU_INSERT_ALLOC                                                       \
  "INSERT INTO allocations(" FASTGPU_ALLOC_COLS                                    \
  ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, 0)" \
  " ON CONFLICT DO NOTHING"
    const bool pg = c_.dialect() == SqlDialect::kPostgres;
    for (const AllocationRecord& r : records) {
      Stmt q(c_, FASTGPU_WITH_CHANGE(pg, FASTGPU_INSERT_ALLOC, "'allocation'"));
      const model::Allocation& a = r.alloc;
      q.Bind(1, a.id).Bind(2, a.job_id).Bind(3, int64_t{a.replica}).Bind(4, a.node_id);
      q.Bind(5, a.gpu_model).Bind(6, EncodeSlices(a.slices)).Bind(7, a.cpu_milli);
      q.Bind(8, a.memory_mib).Bind(9, ToUnixMillis(a.created_at));
      q.Bind(10, AllocationStateName(r.state)).Bind(11, int64_t{r.exit_code});
      q.Bind(12, int64_t{r.signal}).Bind(13, r.started_at_ms).Bind(14, r.ended_at_ms);
      q.Bind(15, r.message);
      Status st = q.Run();
      if (st.code() == StatusCode::kNotFound) {
        return NotFound("allocation " + a.id + ": job " + a.job_id + " or node " + a.node_id +
                        " not found");
      }
      FASTGPU_RETURN_IF_ERROR(st);
      if (q.Changes() == 0) return AlreadyExists("allocation " + a.id + " exists");
      if (!pg) FASTGPU_RETURN_IF_ERROR(Changed(ChangeKind::kAllocation, a.id));
    }
#undef FASTGPU_INSERT_ALLOC
    return OkStatus();
  }
  Result<AllocationRecord> UpdateAllocation(const std::string& id,
                                            const AllocationUpdate& update) override {
    FASTGPU_ASSIGN_OR_RETURN(AllocationRecord r, GetAllocation(id));
    FASTGPU_RETURN_IF_ERROR(ApplyAllocationUpdate(r, update));
    Stmt q(c_,
           "UPDATE allocations SET state = ?2, exit_code = ?3, signal_no = ?4,"
           " started_at_ms = ?5, ended_at_ms = ?6, message = ?7 WHERE id = ?1");
    q.Bind(1, id).Bind(2, AllocationStateName(r.state)).Bind(3, int64_t{r.exit_code});
    q.Bind(4, int64_t{r.signal}).Bind(5, r.started_at_ms).Bind(6, r.ended_at_ms);
    q.Bind(7, r.message);
    FASTGPU_RETURN_IF_ERROR(RunOnOne(q, "allocation " + id));
    FASTGPU_RETURN_IF_ERROR(Changed(ChangeKind::kAllocation, id));
    return r;
  }
  Status ReleaseAllocation(const std::string& id, TimePoint at) override {
    AllocationUpdate u;
    u.state = AllocationState::kReleased;
    u.at = at;
    return UpdateAllocation(id, u).status();
  }
  Status SetNodeDrained(const std::string& node_id, bool drained) override {
    FASTGPU_ASSIGN_OR_RETURN(bool known, Exists("SELECT 1 FROM nodes WHERE id = ?1", node_id));
    if (!known) return NotFound("node " + node_id + " not found");
    Stmt q(c_, drained ? "INSERT INTO node_drains(node_id) VALUES (?1) ON CONFLICT DO NOTHING"
                       : "DELETE FROM node_drains WHERE node_id = ?1");
    q.Bind(1, node_id);
    FASTGPU_RETURN_IF_ERROR(q.Run());
    return Changed(ChangeKind::kNode, node_id);
  }
  Result<int64_t> AppendLog(const std::string& alloc_id, int64_t offset,
                            std::string_view data) override {
    FASTGPU_ASSIGN_OR_RETURN(int64_t size, LogSize(alloc_id));
    FASTGPU_ASSIGN_OR_RETURN(std::string_view fresh,
                             LogBytesToAppend(size, offset, data, max_log_bytes_));
    if (fresh.empty()) return size;
    Stmt ins(c_, "INSERT INTO log_chunks(alloc_id, start_byte, data) VALUES (?1, ?2, ?3)");
    ins.Bind(1, alloc_id).Bind(2, size).BindBlob(3, fresh);
    FASTGPU_RETURN_IF_ERROR(ins.Run());
    const int64_t new_size = size + static_cast<int64_t>(fresh.size());
    Stmt upd(c_, "UPDATE allocations SET log_bytes = ?2 WHERE id = ?1");
    upd.Bind(1, alloc_id).Bind(2, new_size);
    FASTGPU_RETURN_IF_ERROR(RunOnOne(upd, "allocation " + alloc_id));
    return new_size;
  }
  Status SetLogEnd(const std::string& alloc_id, const LogEnd& end) override {
    if (end.shipped_bytes < 0) return InvalidArgument("negative shipped_bytes");
    Stmt q(c_, "UPDATE allocations SET log_shipped_bytes = ?2, log_final = ?3 WHERE id = ?1");
    q.Bind(1, alloc_id).Bind(2, end.shipped_bytes).Bind(3, int64_t{end.final});
    return RunOnOne(q, "allocation " + alloc_id);
  }
  Status PutIdempotency(const IdempotencyRecord& r) override {
    if (GetIdempotency(r.tenant_id, r.key).ok()) {
      return AlreadyExists("request id " + r.key + " used");
    }
    Stmt q(c_,
           "INSERT INTO idempotency(tenant_id, idem_key, method_path, request_sha256_hex,"
           " http_status, response_body, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    q.Bind(1, r.tenant_id).Bind(2, r.key).Bind(3, r.method_path).Bind(4, r.request_sha256_hex);
    q.Bind(5, int64_t{r.http_status}).Bind(6, r.response_body).Bind(7, ToUnixMillis(r.created_at));
    return q.Run();
  }
  Result<int64_t> DeleteIdempotencyBefore(TimePoint cutoff) override {
    Stmt q(c_, "DELETE FROM idempotency WHERE created_at_ms < ?1");
    q.Bind(1, ToUnixMillis(cutoff));
    FASTGPU_RETURN_IF_ERROR(q.Run());
    return q.Changes();
  }
  Status PutPriceTable(const metering::PriceTable& p) override {
    FASTGPU_RETURN_IF_ERROR(metering::ValidatePriceTable(p));
    Stmt q(c_,
           "INSERT INTO prices(id, default_gpu_hour_millicents, cpu_hour_millicents,"
           " memory_gib_hour_millicents, minimum_charge_seconds) VALUES (1, ?1, ?2, ?3, ?4)"
           " ON CONFLICT(id) DO UPDATE SET"
           " default_gpu_hour_millicents = excluded.default_gpu_hour_millicents,"
           " cpu_hour_millicents = excluded.cpu_hour_millicents,"
           " memory_gib_hour_millicents = excluded.memory_gib_hour_millicents,"
           " minimum_charge_seconds = excluded.minimum_charge_seconds");
    q.Bind(1, p.default_gpu_hour_millicents).Bind(2, p.cpu_hour_millicents);
    q.Bind(3, p.memory_gib_hour_millicents).Bind(4, p.minimum_charge_seconds);
    FASTGPU_RETURN_IF_ERROR(q.Run());
    Stmt clear(c_, "DELETE FROM gpu_prices");
    FASTGPU_RETURN_IF_ERROR(clear.Run());
    for (const auto& [model, millicents] : p.gpu_hour_millicents) {
      Stmt ins(c_, "INSERT INTO gpu_prices(gpu_model, gpu_hour_millicents) VALUES (?1, ?2)");
      ins.Bind(1, model).Bind(2, millicents);
      FASTGPU_RETURN_IF_ERROR(ins.Run());
    }
    return OkStatus();
  }
  Status PutBudgetOverMark(const BudgetOverMark& m) override {
    if (!GetTenant(m.tenant_id).ok()) return NotFound("tenant " + m.tenant_id + " not found");
    Stmt q(c_,
           "INSERT INTO budget_over_marks(tenant_id, period_start_ms, over_since_ms)"
           " VALUES (?1, ?2, ?3) ON CONFLICT(tenant_id, period_start_ms)"
           " DO UPDATE SET over_since_ms = excluded.over_since_ms");
    q.Bind(1, m.tenant_id).Bind(2, m.period_start_ms).Bind(3, m.over_since_ms);
    return q.Run();
  }
  Status DeleteBudgetOverMark(const std::string& tenant_id, int64_t period_start_ms) override {
    Stmt q(c_, "DELETE FROM budget_over_marks WHERE tenant_id = ?1 AND period_start_ms = ?2");
    q.Bind(1, tenant_id).Bind(2, period_start_ms);
    return q.Run();
  }
  Status PutLeaderLease(const LeaderLease& lease) override {
    FASTGPU_RETURN_IF_ERROR(ValidateLeaderLease(lease));
    Stmt q(c_,
           "INSERT INTO leader_lease(id, holder, generation, expires_at_ms) VALUES (1, ?1, ?2, ?3)"
           " ON CONFLICT(id) DO UPDATE SET holder = excluded.holder,"
           " generation = excluded.generation, expires_at_ms = excluded.expires_at_ms");
    q.Bind(1, lease.holder).Bind(2, lease.generation).Bind(3, lease.expires_at_ms);
    return q.Run();
  }
  Status SetJoinTokenHash(const std::string& sha256_hex) override {
    if (sha256_hex.empty()) return InvalidArgument("empty join token hash");
    Stmt q(c_,
           "INSERT INTO join_token(id, sha256_hex) VALUES (1, ?1)"
           " ON CONFLICT(id) DO UPDATE SET sha256_hex = excluded.sha256_hex");
    q.Bind(1, sha256_hex);
    return q.Run();
  }

 private:
  // Whether `sql` (one ?1 parameter) returns a row.
  Result<bool> Exists(const char* sql, const std::string& arg) {
    Stmt q(c_, sql);
    q.Bind(1, arg);
    return q.Step();
  }
  // Binds spec, replicas, generation, state, reason and replica jobs of a service's row
  // (FASTGPU_SERVICE_COLS' order) to ?first .. ?first+5.
  static void BindService(Stmt& q, const model::Service& svc, int first) {
    q.Bind(first, EncodeServiceSpec(svc.spec)).Bind(first + 1, int64_t{svc.replicas});
    q.Bind(first + 2, svc.generation).Bind(first + 3, model::ServiceStateName(svc.state));
    q.Bind(first + 4, svc.reason).Bind(first + 5, EncodeStringList(svc.replica_jobs));
  }
  Status InsertEvents(const model::Job& job, size_t from) {
    for (size_t n = from; n < job.events.size(); ++n) {
      const model::JobEvent& e = job.events[n];
      Stmt q(c_,
             "INSERT INTO job_events(job_id, n, at_ms, from_state, to_state, reason)"
             " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
      q.Bind(1, job.id).Bind(2, static_cast<int64_t>(n)).Bind(3, ToUnixMillis(e.at));
      q.Bind(4, model::JobStateName(e.from)).Bind(5, model::JobStateName(e.to)).Bind(6, e.reason);
      FASTGPU_RETURN_IF_ERROR(q.Run());
    }
    return OkStatus();
  }

  const int64_t max_log_bytes_;
};

}  // namespace

std::unique_ptr<ReadTx> NewSqlReadTx(SqlConn& conn) {
  return std::make_unique<SqlReader<ReadTx>>(conn);
}

std::unique_ptr<WriteTx> NewSqlWriteTx(SqlConn& conn, int64_t max_log_bytes) {
  return std::make_unique<SqlWriteTx>(conn, max_log_bytes);
}

}  // namespace fastgpu::store

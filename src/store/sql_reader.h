// The read half of the SQL stores' transactions (internal; included by sql_tx.cpp only),
// over any SqlConn (SQLite or PostgreSQL).
// SqlReader<ReadTx> is the read transaction; SqlReader<WriteTx> is the base of the
// write transaction, which reads through the same methods.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "store/sql_conn.h"
#include "store/sqlite_codec.h"
#include "store/store.h"
#include "store/store_util.h"

// Column lists, so that every query of a table decodes the same way.
#define FASTGPU_TENANT_COLS \
  "id, name, admin, max_gpu_milli, budget_cents, created_at_ms, allow_root"
#define FASTGPU_TOKEN_COLS "id, tenant_id, name, sha256_hex, created_at_ms, revoked"
#define FASTGPU_NODE_COLS                                                                      \
  "id, agent_id, name, cpu_milli, memory_mib, gpus_json, simulated, token_sha256_hex, state, " \
  "last_heartbeat_ms, registered_at_ms, secret_sha256_hex"
#define FASTGPU_JOB_COLS \
  "id, tenant_id, spec_json, state, reason, attempts, created_at_ms, updated_at_ms, seq"
#define FASTGPU_SERVICE_COLS                                                                     \
  "id, tenant_id, name, spec_json, replicas, generation, state, reason, replica_jobs_json, " \
  "created_at_ms, updated_at_ms"
#define FASTGPU_ALLOC_COLS                                                                       \
  "id, job_id, replica, node_id, gpu_model, slices_json, cpu_milli, memory_mib, created_at_ms, " \
  "state, exit_code, signal_no, started_at_ms, ended_at_ms, message, log_bytes"

namespace fastgpu::store {

// Row decoders for the column lists above.
model::Tenant TenantFromRow(const Stmt& q);
ApiToken TokenFromRow(const Stmt& q);
Result<NodeRecord> NodeFromRow(const Stmt& q);
Result<model::Job> JobFromRow(const Stmt& q);  // without events
Result<AllocationRecord> AllocFromRow(const Stmt& q);
Result<model::Service> ServiceFromRow(const Stmt& q);

template <typename Base>
class SqlReader : public Base {
 public:
  explicit SqlReader(SqlConn& conn) : c_(conn) {}

  // The last tenant read is remembered for the rest of the transaction (a submission reads
  // its tenant twice: to insert the job and to check the quota); the write transaction
  // forgets it when it writes a tenant.
  Result<model::Tenant> GetTenant(const std::string& id) override {
    if (tenant_memo_ && tenant_memo_->id == id) return *tenant_memo_;
    Stmt q(c_, "SELECT " FASTGPU_TENANT_COLS " FROM tenants WHERE id = ?1");
    q.Bind(1, id);
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("tenant " + id + " not found");
    tenant_memo_ = TenantFromRow(q);
    return *tenant_memo_;
  }
  Result<model::Tenant> GetTenantByName(const std::string& name) override {
    Stmt q(c_, "SELECT " FASTGPU_TENANT_COLS " FROM tenants WHERE name = ?1");
    q.Bind(1, name);
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("tenant '" + name + "' not found");
    return TenantFromRow(q);
  }
  Result<std::vector<model::Tenant>> ListTenants() override {
    Stmt q(c_, "SELECT " FASTGPU_TENANT_COLS " FROM tenants ORDER BY name");
    std::vector<model::Tenant> out;
    for (;;) {
      FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return out;
      out.push_back(TenantFromRow(q));
    }
  }
  Result<ApiToken> FindTokenByHash(const std::string& sha256_hex) override {
    Stmt q(c_, "SELECT " FASTGPU_TOKEN_COLS " FROM api_tokens WHERE sha256_hex = ?1");
    q.Bind(1, sha256_hex);
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("token not found");
    return TokenFromRow(q);
  }
  Result<std::vector<ApiToken>> ListTokens(const std::string& tenant_id) override {
    Stmt q(c_, "SELECT " FASTGPU_TOKEN_COLS " FROM api_tokens WHERE tenant_id = ?1 ORDER BY seq");
    q.Bind(1, tenant_id);
    std::vector<ApiToken> out;
    for (;;) {
      FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return out;
      out.push_back(TokenFromRow(q));
    }
  }
  Result<NodeRecord> GetNode(const std::string& node_id) override {
    Stmt q(c_, "SELECT " FASTGPU_NODE_COLS " FROM nodes WHERE id = ?1");
    q.Bind(1, node_id);
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("node " + node_id + " not found");
    return NodeFromRow(q);
  }
  Result<NodeRecord> GetNodeByAgentId(const std::string& agent_id) override {
    Stmt q(c_, "SELECT " FASTGPU_NODE_COLS " FROM nodes WHERE agent_id = ?1");
    q.Bind(1, agent_id);
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("no node for agent " + agent_id);
    return NodeFromRow(q);
  }
  Result<std::vector<NodeRecord>> ListNodes() override {
    Stmt q(c_, "SELECT " FASTGPU_NODE_COLS " FROM nodes ORDER BY seq");
    std::vector<NodeRecord> out;
    for (;;) {
      FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return out;
      FASTGPU_ASSIGN_OR_RETURN(NodeRecord n, NodeFromRow(q));
      out.push_back(std::move(n));
    }
  }
  Result<std::vector<NodeRecord>> FindNodesByName(const std::string& name) override {
    Stmt q(c_, "SELECT " FASTGPU_NODE_COLS " FROM nodes WHERE name = ?1 ORDER BY seq");
    q.Bind(1, name);
    std::vector<NodeRecord> out;
    for (;;) {
      FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return out;
      FASTGPU_ASSIGN_OR_RETURN(NodeRecord n, NodeFromRow(q));
      out.push_back(std::move(n));
    }
  }
  Result<bool> IsNodeDrained(const std::string& node_id) override {
    Stmt q(c_,
           "SELECT EXISTS(SELECT 1 FROM node_drains WHERE node_id = ?1) FROM nodes WHERE id = ?1");
    q.Bind(1, node_id);
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("node " + node_id + " not found");
    return q.Int(0) != 0;
  }
  Result<std::vector<model::Job>> FindJobsByName(const std::string& tenant_id,
                                                 const std::string& name, int limit) override;
  Result<model::Job> GetJob(const std::string& id) override {
    model::Job job;
    {
      Stmt q(c_, "SELECT " FASTGPU_JOB_COLS " FROM jobs WHERE id = ?1");
      q.Bind(1, id);
      FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return NotFound("job " + id + " not found");
      FASTGPU_ASSIGN_OR_RETURN(job, JobFromRow(q));
    }
    FASTGPU_RETURN_IF_ERROR(LoadEvents(job));
    return job;
  }
  Result<JobPage> ListJobs(const JobFilter& filter) override;
  Result<model::Service> GetService(const std::string& id) override {
    Stmt q(c_, "SELECT " FASTGPU_SERVICE_COLS " FROM services WHERE id = ?1");
    q.Bind(1, id);
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("service " + id + " not found");
    return ServiceFromRow(q);
  }
  Result<model::Service> GetServiceByName(const std::string& tenant_id,
                                          const std::string& name) override {
    Stmt q(c_, "SELECT " FASTGPU_SERVICE_COLS " FROM services WHERE tenant_id = ?1 AND name = ?2");
    q.Bind(1, tenant_id).Bind(2, name);
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("no service '" + name + "'");
    return ServiceFromRow(q);
  }
  Result<std::vector<model::Service>> ListServices(const std::string& tenant_id) override {
    Stmt q(c_, tenant_id.empty()
                   ? "SELECT " FASTGPU_SERVICE_COLS " FROM services ORDER BY seq"
                   : "SELECT " FASTGPU_SERVICE_COLS " FROM services WHERE tenant_id = ?1"
                     " ORDER BY seq");
    if (!tenant_id.empty()) q.Bind(1, tenant_id);
    std::vector<model::Service> out;
    for (;;) {
      FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return out;
      FASTGPU_ASSIGN_OR_RETURN(model::Service svc, ServiceFromRow(q));
      out.push_back(std::move(svc));
    }
  }
  Result<AllocationRecord> GetAllocation(const std::string& id) override {
    Stmt q(c_, "SELECT " FASTGPU_ALLOC_COLS " FROM allocations WHERE id = ?1");
    q.Bind(1, id);
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("allocation " + id + " not found");
    return AllocFromRow(q);
  }
  Result<std::vector<AllocationRecord>> ListAllocationsByNode(const std::string& node_id) override {
    Stmt q(c_, "SELECT " FASTGPU_ALLOC_COLS " FROM allocations WHERE node_id = ?1 ORDER BY seq");
    q.Bind(1, node_id);
    return AllocRows(q);
  }
  Result<std::vector<AllocationRecord>> ListAllocationsByJob(const std::string& job_id) override {
    Stmt q(c_, "SELECT " FASTGPU_ALLOC_COLS " FROM allocations WHERE job_id = ?1 ORDER BY seq");
    q.Bind(1, job_id);
    return AllocRows(q);
  }
  Result<std::vector<AllocationRecord>> ListLiveAllocations() override {
    Stmt q(c_, "SELECT " FASTGPU_ALLOC_COLS
               " FROM allocations WHERE state IN ('pending', 'starting', 'running')"
               " ORDER BY seq");
    return AllocRows(q);
  }
  Result<LogChunk> ReadLog(const std::string& alloc_id, int64_t offset,
                           int64_t limit_bytes) override;
  Result<int64_t> LogSize(const std::string& alloc_id) override {
    Stmt q(c_, "SELECT log_bytes FROM allocations WHERE id = ?1");
    q.Bind(1, alloc_id);
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("allocation " + alloc_id + " not found");
    return q.Int(0);
  }
  Result<LogEnd> GetLogEnd(const std::string& alloc_id) override {
    Stmt q(c_, "SELECT log_shipped_bytes, log_final FROM allocations WHERE id = ?1");
    q.Bind(1, alloc_id);
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("allocation " + alloc_id + " not found");
    return LogEnd{q.Int(0), q.Int(1) != 0};
  }
  Result<IdempotencyRecord> GetIdempotency(const std::string& tenant_id,
                                           const std::string& key) override {
    Stmt q(c_,
           "SELECT method_path, request_sha256_hex, http_status, response_body, created_at_ms"
           " FROM idempotency WHERE tenant_id = ?1 AND idem_key = ?2");
    q.Bind(1, tenant_id).Bind(2, key);
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("no idempotency record for " + key);
    return IdempotencyRecord{tenant_id,
                             key,
                             q.Text(0),
                             q.Text(1),
                             static_cast<int>(q.Int(2)),
                             q.Text(3),
                             FromUnixMillis(q.Int(4))};
  }
  Result<metering::PriceTable> GetPriceTable() override;
  Result<BudgetOverMark> GetBudgetOverMark(const std::string& tenant_id,
                                           int64_t period_start_ms) override {
    Stmt q(c_,
           "SELECT over_since_ms FROM budget_over_marks"
           " WHERE tenant_id = ?1 AND period_start_ms = ?2");
    q.Bind(1, tenant_id).Bind(2, period_start_ms);
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("no budget mark for tenant " + tenant_id + " in that period");
    return BudgetOverMark{tenant_id, period_start_ms, q.Int(0)};
  }
  Result<std::string> GetJoinTokenHash() override {
    Stmt q(c_, "SELECT sha256_hex FROM join_token WHERE id = 1");
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("no join token stored");
    return q.Text(0);
  }
  Result<LeaderLease> GetLeaderLease() override {
    Stmt q(c_, "SELECT holder, generation, expires_at_ms FROM leader_lease WHERE id = 1");
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("no leader lease stored");
    return LeaderLease{q.Text(0), q.Int(1), q.Int(2)};
  }
  Result<std::vector<Change>> ListChangesSince(int64_t after, int limit) override {
    Stmt q(c_, "SELECT seq, kind, id FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2");
    q.Bind(1, after).Bind(2, int64_t{std::clamp(limit, 1, 100000)});
    std::vector<Change> out;
    while (true) {
      FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      Change c;
      c.seq = q.Int(0);
      const std::string kind = q.Text(1);
      c.kind = kind == "node"         ? ChangeKind::kNode
               : kind == "allocation" ? ChangeKind::kAllocation
                                      : ChangeKind::kJob;
      c.id = q.Text(2);
      out.push_back(std::move(c));
    }
    return out;
  }
  Result<int64_t> LatestChangeSeq() override {
    Stmt q(c_, "SELECT coalesce(max(seq), 0) FROM changes");
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    return row ? q.Int(0) : 0;
  }
  Result<int64_t> LatestNodeChangeSeq() override {
    Stmt q(c_, "SELECT coalesce(max(seq), 0) FROM changes WHERE kind = 'node'");
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    return row ? q.Int(0) : 0;
  }

 protected:
  Status LoadEvents(model::Job& job);
  Result<std::vector<AllocationRecord>> AllocRows(Stmt& q) {
    std::vector<AllocationRecord> out;
    for (;;) {
      FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return out;
      FASTGPU_ASSIGN_OR_RETURN(AllocationRecord r, AllocFromRow(q));
      out.push_back(std::move(r));
    }
  }

  SqlConn& c_;
  std::optional<model::Tenant> tenant_memo_;  // the last tenant GetTenant found
};

}  // namespace fastgpu::store

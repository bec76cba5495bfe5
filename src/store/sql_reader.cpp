#include "store/sql_reader.h"

#include <boost/json.hpp>

namespace fastgpu::store {
namespace {

template <typename T>
Result<T> ParseOr(Result<T> parsed, const char* what) {
  if (!parsed.ok())
    return DataLoss(std::string("stored ") + what + ": " + parsed.status().message());
  return parsed;
}

}  // namespace

model::Tenant TenantFromRow(const Stmt& q) {
  model::Tenant t;
  t.id = q.Text(0);
  t.name = q.Text(1);
  t.admin = q.Int(2) != 0;
  t.quota.max_gpu_milli = q.Int(3);
  t.quota.budget_cents = q.Int(4);
  t.created_at = FromUnixMillis(q.Int(5));
  t.allow_root = q.Int(6) != 0;
  return t;
}

ApiToken TokenFromRow(const Stmt& q) {
  ApiToken t;
  t.id = q.Text(0);
  t.tenant_id = q.Text(1);
  t.name = q.Text(2);
  t.sha256_hex = q.Text(3);
  t.created_at = FromUnixMillis(q.Int(4));
  t.revoked = q.Int(5) != 0;
  return t;
}

Result<NodeRecord> NodeFromRow(const Stmt& q) {
  NodeRecord r;
  r.node.id = q.Text(0);
  r.agent_id = q.Text(1);
  r.node.name = q.Text(2);
  r.node.cpu_milli = q.Int(3);
  r.node.memory_mib = q.Int(4);
  FASTGPU_ASSIGN_OR_RETURN(r.node.gpus, DecodeGpus(q.Text(5)));
  r.node.simulated = q.Int(6) != 0;
  r.token_sha256_hex = q.Text(7);
  FASTGPU_ASSIGN_OR_RETURN(r.state, ParseOr(ParseNodeState(q.Text(8)), "node state"));
  r.last_heartbeat = FromUnixMillis(q.Int(9));
  r.registered_at = FromUnixMillis(q.Int(10));
  r.secret_sha256_hex = q.Text(11);
  return r;
}

Result<model::Job> JobFromRow(const Stmt& q) {
  model::Job j;
  j.id = q.Text(0);
  j.tenant_id = q.Text(1);
  FASTGPU_ASSIGN_OR_RETURN(j.spec, DecodeJobSpec(q.Text(2)));
  FASTGPU_ASSIGN_OR_RETURN(j.state, ParseOr(model::ParseJobState(q.Text(3)), "job state"));
  j.reason = q.Text(4);
  j.attempts = static_cast<int>(q.Int(5));
  j.created_at = FromUnixMillis(q.Int(6));
  j.updated_at = FromUnixMillis(q.Int(7));
  return j;
}

Result<AllocationRecord> AllocFromRow(const Stmt& q) {
  AllocationRecord r;
  r.alloc.id = q.Text(0);
  r.alloc.job_id = q.Text(1);
  r.alloc.replica = static_cast<int>(q.Int(2));
  r.alloc.node_id = q.Text(3);
  r.alloc.gpu_model = q.Text(4);
  FASTGPU_ASSIGN_OR_RETURN(r.alloc.slices, DecodeSlices(q.Text(5)));
  r.alloc.cpu_milli = q.Int(6);
  r.alloc.memory_mib = q.Int(7);
  r.alloc.created_at = FromUnixMillis(q.Int(8));
  FASTGPU_ASSIGN_OR_RETURN(r.state, ParseOr(ParseAllocationState(q.Text(9)), "allocation state"));
  r.exit_code = static_cast<int>(q.Int(10));
  r.signal = static_cast<int>(q.Int(11));
  r.started_at_ms = q.Int(12);
  r.ended_at_ms = q.Int(13);
  r.message = q.Text(14);
  return r;
}

Result<model::Service> ServiceFromRow(const Stmt& q) {
  model::Service s;
  s.id = q.Text(0);
  s.tenant_id = q.Text(1);
  FASTGPU_ASSIGN_OR_RETURN(s.spec, DecodeServiceSpec(q.Text(3)));
  s.spec.name = q.Text(2);
  s.replicas = static_cast<int>(q.Int(4));
  s.generation = q.Int(5);
  FASTGPU_ASSIGN_OR_RETURN(s.state,
                           ParseOr(model::ParseServiceState(q.Text(6)), "service state"));
  s.reason = q.Text(7);
  FASTGPU_ASSIGN_OR_RETURN(s.replica_jobs, DecodeStringList(q.Text(8), "service replica jobs"));
  s.created_at = FromUnixMillis(q.Int(9));
  s.updated_at = FromUnixMillis(q.Int(10));
  return s;
}

template <typename Base>
Status SqlReader<Base>::LoadEvents(model::Job& job) {
  Stmt q(c_,
         "SELECT at_ms, from_state, to_state, reason FROM job_events WHERE job_id = ?1"
         " ORDER BY n");
  q.Bind(1, job.id);
  job.events.clear();
  for (;;) {
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return OkStatus();
    model::JobEvent e;
    e.at = FromUnixMillis(q.Int(0));
    FASTGPU_ASSIGN_OR_RETURN(e.from, ParseOr(model::ParseJobState(q.Text(1)), "event state"));
    FASTGPU_ASSIGN_OR_RETURN(e.to, ParseOr(model::ParseJobState(q.Text(2)), "event state"));
    e.reason = q.Text(3);
    job.events.push_back(std::move(e));
  }
}

template <typename Base>
Result<JobPage> SqlReader<Base>::ListJobs(const JobFilter& filter) {
  FASTGPU_ASSIGN_OR_RETURN(int64_t after, ParseJobCursor(filter.cursor));
  const int limit = ClampJobLimit(filter.limit);
  // One statement per filter combination, so each stays cached and uses its index.
  // ?1 cursor, ?2 limit + 1 (to learn whether more follow), ?3 tenant, ?4 states (JSON).
  const char* sql;
  const bool by_tenant = !filter.tenant_id.empty(), by_state = !filter.states.empty();
  const bool pg = c_.dialect() == SqlDialect::kPostgres;
  // One state (the reconciler's pending list, `job list --state`) is compared plainly, so
  // the (state, seq) and (tenant_id, state, seq) indexes give the page in seq order
  // without reading the jobs of other states.
  const bool one_state = filter.states.size() == 1;
  if (by_tenant && one_state) {
    sql = "SELECT " FASTGPU_JOB_COLS
          " FROM jobs WHERE tenant_id = ?3 AND state = ?4 AND seq > ?1 ORDER BY seq LIMIT ?2";
  } else if (one_state) {
    sql =
        "SELECT " FASTGPU_JOB_COLS " FROM jobs WHERE state = ?4 AND seq > ?1 ORDER BY seq LIMIT ?2";
  } else if (by_tenant && by_state) {
    sql = pg ? "SELECT " FASTGPU_JOB_COLS
               " FROM jobs WHERE seq > ?1 AND tenant_id = ?3"
               " AND state IN (SELECT json_array_elements_text(?4::json)) ORDER BY seq LIMIT ?2"
             : "SELECT " FASTGPU_JOB_COLS
               " FROM jobs WHERE seq > ?1 AND tenant_id = ?3"
               " AND state IN (SELECT value FROM json_each(?4)) ORDER BY seq LIMIT ?2";
  } else if (by_tenant) {
    sql = "SELECT " FASTGPU_JOB_COLS
          " FROM jobs WHERE seq > ?1 AND tenant_id = ?3"
          " ORDER BY seq LIMIT ?2";
  } else if (by_state) {
    sql = pg ? "SELECT " FASTGPU_JOB_COLS
               " FROM jobs WHERE seq > ?1"
               " AND state IN (SELECT json_array_elements_text(?4::json)) ORDER BY seq LIMIT ?2"
             : "SELECT " FASTGPU_JOB_COLS
               " FROM jobs WHERE seq > ?1"
               " AND state IN (SELECT value FROM json_each(?4)) ORDER BY seq LIMIT ?2";
  } else {
    sql = "SELECT " FASTGPU_JOB_COLS " FROM jobs WHERE seq > ?1 ORDER BY seq LIMIT ?2";
  }
  boost::json::array states;
  for (model::JobState s : filter.states) states.emplace_back(model::JobStateName(s));
  Stmt q(c_, sql);
  q.Bind(1, after).Bind(2, int64_t{limit} + 1);
  if (by_tenant) q.Bind(3, filter.tenant_id);
  if (one_state) {
    q.Bind(4, model::JobStateName(filter.states[0]));
  } else if (by_state) {
    q.Bind(4, boost::json::serialize(states));
  }
  JobPage page;
  int64_t last_seq = 0;
  for (;;) {
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    if (static_cast<int>(page.jobs.size()) == limit) {
      page.next_cursor = FormatJobCursor(last_seq);
      break;
    }
    FASTGPU_ASSIGN_OR_RETURN(model::Job job, JobFromRow(q));
    last_seq = q.Int(8);
    page.jobs.push_back(std::move(job));
  }
  if (filter.include_events) {
    for (model::Job& job : page.jobs) FASTGPU_RETURN_IF_ERROR(LoadEvents(job));
  }
  return page;
}

template <typename Base>
Result<std::vector<model::Job>> SqlReader<Base>::FindJobsByName(const std::string& tenant_id,
                                                                const std::string& name,
                                                                int limit) {
  std::vector<model::Job> out;
  if (name.empty()) return out;
  // Both use an index on (tenant_id, name, seq) / (name, seq) (schema migration 4).
  Stmt q(c_, tenant_id.empty()
                 ? "SELECT " FASTGPU_JOB_COLS " FROM jobs WHERE name = ?1 ORDER BY seq LIMIT ?2"
                 : "SELECT " FASTGPU_JOB_COLS
                   " FROM jobs WHERE tenant_id = ?3 AND name = ?1 ORDER BY seq LIMIT ?2");
  q.Bind(1, name).Bind(2, int64_t{ClampJobLimit(limit)});
  if (!tenant_id.empty()) q.Bind(3, tenant_id);
  for (;;) {
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    FASTGPU_ASSIGN_OR_RETURN(model::Job job, JobFromRow(q));
    out.push_back(std::move(job));
  }
}

template <typename Base>
Result<LogChunk> SqlReader<Base>::ReadLog(const std::string& alloc_id, int64_t offset,
                                          int64_t limit_bytes) {
  if (offset < 0 || limit_bytes < 0) return InvalidArgument("negative log offset or limit");
  LogChunk chunk;
  FASTGPU_ASSIGN_OR_RETURN(chunk.size_bytes, LogSize(alloc_id));
  chunk.next_offset = offset;
  const int64_t end = std::min(chunk.size_bytes, offset + limit_bytes);
  if (offset >= end) return chunk;
  // Chunks from the one holding `offset` up to the one holding end - 1.
  Stmt q(c_,
         "SELECT start_byte, data FROM log_chunks WHERE alloc_id = ?1 AND start_byte >="
         " (SELECT coalesce(max(start_byte), 0) FROM log_chunks"
         "  WHERE alloc_id = ?1 AND start_byte <= ?2)"
         " AND start_byte < ?3 ORDER BY start_byte");
  q.Bind(1, alloc_id).Bind(2, offset).Bind(3, end);
  for (;;) {
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    const int64_t start = q.Int(0);
    const std::string data = q.Text(1);
    const int64_t from = std::max(offset, start) - start;
    const int64_t to = std::min(end, start + static_cast<int64_t>(data.size())) - start;
    if (to > from)
      chunk.data.append(data, static_cast<size_t>(from), static_cast<size_t>(to - from));
  }
  chunk.next_offset = offset + static_cast<int64_t>(chunk.data.size());
  return chunk;
}

template <typename Base>
Result<metering::PriceTable> SqlReader<Base>::GetPriceTable() {
  metering::PriceTable p;
  {
    Stmt q(c_,
           "SELECT default_gpu_hour_millicents, cpu_hour_millicents, memory_gib_hour_millicents,"
           " minimum_charge_seconds FROM prices WHERE id = 1");
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("no price table stored");
    p.default_gpu_hour_millicents = q.Int(0);
    p.cpu_hour_millicents = q.Int(1);
    p.memory_gib_hour_millicents = q.Int(2);
    p.minimum_charge_seconds = q.Int(3);
  }
  Stmt q(c_, "SELECT gpu_model, gpu_hour_millicents FROM gpu_prices");
  for (;;) {
    FASTGPU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return p;
    p.gpu_hour_millicents[q.Text(0)] = q.Int(1);
  }
}

template class SqlReader<ReadTx>;
template class SqlReader<WriteTx>;

}  // namespace fastgpu::store

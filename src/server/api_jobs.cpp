// Jobs and allocations: submit, list, get, cancel, logs; allocation reads.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <memory>
#include <optional>

#include "common/url_text.h"
#include "server/admission.h"
#include "server/allocation_end.h"
#include "server/api.h"
#include "server/log_end.h"
#include "server/usage_service.h"

namespace fastgpu::server {

namespace {

// Most candidates an ambiguous job name lists.
constexpr int kMaxNameMatches = 10;

}  // namespace

// The job the caller names by id or by name. A tenant sees only its own jobs: another
// tenant's job is reported as not found so that ids of others do not leak. A name must
// match exactly one of the caller's jobs (the admin: of every tenant's); several are
// FailedPrecondition (409) listing their ids. The job comes with its events.
Result<model::Job> FindJob(store::ReadTx& tx, const Principal& p, const std::string& id_or_name) {
  auto by_id = tx.GetJob(id_or_name);
  if (by_id.ok() && (p.admin || by_id->tenant_id == p.tenant_id)) return by_id;
  if (!by_id.ok() && by_id.status().code() != StatusCode::kNotFound) return by_id.status();
  FASTGPU_ASSIGN_OR_RETURN(
      std::vector<model::Job> named,
      tx.FindJobsByName(p.admin ? "" : p.tenant_id, id_or_name, kMaxNameMatches + 1));
  if (named.empty()) return NotFound("no job '" + id_or_name + "' (neither an id nor a name)");
  if (named.size() == 1) return tx.GetJob(named[0].id);
  std::string ids;
  for (size_t i = 0; i < named.size() && i < kMaxNameMatches; ++i) {
    ids += (i ? ", " : "") + named[i].id;
  }
  const std::string count = named.size() > kMaxNameMatches
                                ? "more than " + std::to_string(kMaxNameMatches)
                                : std::to_string(named.size());
  return FailedPrecondition("job name '" + id_or_name + "' matches " + count + " jobs: " + ids +
                            "; use an id");
}

namespace {

Result<int64_t> QueryInt(const HttpRequest& req, const std::string& key, int64_t fallback,
                         int64_t min, int64_t max) {
  auto it = req.query.find(key);
  if (it == req.query.end()) return fallback;
  int64_t v = 0;
  const std::string& s = it->second;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < min || v > max) {
    return InvalidArgument(key + ": must be an integer between " + std::to_string(min) + " and " +
                           std::to_string(max));
  }
  return v;
}

// Whether any live or finished allocation of the job sits on a simulated node.
Result<bool> OnSimulatedNode(store::ReadTx& tx,
                             const std::vector<store::AllocationRecord>& allocs) {
  for (const auto& a : allocs) {
    auto node = tx.GetNode(a.alloc.node_id);
    if (node.ok() && node->node.simulated) return true;
  }
  return false;
}

}  // namespace

Result<Reply> Api::SubmitJob(const Call& c) {
  const HttpRequest& req = c.req;
  const Principal& p = c.who;
  FASTGPU_ASSIGN_OR_RETURN(json::object body, ParseObject(req.body));
  std::set<std::string> models = KnownModels();
  FASTGPU_ASSIGN_OR_RETURN(model::JobSpec spec, JobSpecFromJson(body, &models));
  if (!spec.service.empty() || spec.service_generation != 0) {
    return InvalidArgument(
        "service: set by the control plane on a service's replicas; create a service with "
        "POST /v1/services");
  }
  FASTGPU_RETURN_IF_ERROR(CheckSessionSpec(spec));
  const std::string key = req.Header("idempotency-key");
  if (key.size() > 200) return InvalidArgument("Idempotency-Key: at most 200 characters");
  model::Job job;
  job.id = ids_.Next("job");
  job.tenant_id = p.tenant_id;
  job.spec = std::move(spec);
  job.state = model::JobState::kPending;
  job.reason = "submitted";
  job.created_at = job.updated_at = clock_.Now();
  // The request's fingerprint, kept with the key: a reuse for another request is refused.
  const std::string request_hash =
      key.empty() ? "" : Sha256Hex(req.method + " " + req.path + "\n" + req.body);
  store::CreateJobResult created;
  // Refusals answered 422 (Reply::Unprocessable), nothing written: the key names another
  // request, or no node of the pool could ever hold the job.
  bool key_reused = false;
  bool unplaceable = false;
  Status st = store_.Write([&](store::WriteTx& tx) -> Status {
    key_reused = unplaceable = false;
    FASTGPU_ASSIGN_OR_RETURN(created, tx.CreateJob(job, key, request_hash));
    if (created.existed && !created.request_sha256_hex.empty() &&
        created.request_sha256_hex != request_hash) {
      // Nothing of the stored job is shown: only its owner's identical request replays it.
      key_reused = true;
      return FailedPrecondition("Idempotency-Key '" + key +
                                "' was already used with a different request body; use a new "
                                "key for a new job");
    }
    // Quotas (429 when exceeded); a replay of a stored submission is not checked again.
    if (created.existed) return OkStatus();
    if (job.spec.run_as_root) {
      FASTGPU_ASSIGN_OR_RETURN(model::Tenant tenant, tx.GetTenant(job.tenant_id));
      if (!tenant.allow_root) {
        return PermissionDenied("run_as_root: tenant '" + tenant.name +
                                "' may not run jobs as root on the nodes (an admin can allow it: "
                                "fastgpu tenant allow-root " +
                                tenant.name + ")");
      }
    }
    Status admitted = admission_.Check(tx, job.spec, options_.allow_unplaceable, clock_.Now());
    unplaceable = !admitted.ok() && admitted.code() == StatusCode::kFailedPrecondition;
    FASTGPU_RETURN_IF_ERROR(admitted);
    return CheckSubmissionQuota(tx, job, clock_.NowUnixMillis());
  });
  if (key_reused || unplaceable) return Reply::Unprocessable(st);
  if (!st.ok()) return st;
  if (created.existed) return Reply::Json(JobToJson(created.job, {}, false));  // a replay
  Changed();
  return Reply::Created(JobToJson(created.job, {}, false));
}

Result<Reply> Api::ListJobs(const Call& c) {
  const HttpRequest& req = c.req;
  const Principal& p = c.who;
  store::JobFilter filter;
  filter.tenant_id = p.tenant_id;
  // The admin may name a tenant (by name or id); a tenant sees only its own jobs.
  std::string asked_tenant;
  if (p.admin) {
    auto it = req.query.find("tenant");
    filter.tenant_id = "";
    if (it != req.query.end()) asked_tenant = it->second;
  }
  if (auto it = req.query.find("state"); it != req.query.end()) {
    auto s = model::ParseJobState(it->second);
    if (!s.ok()) return s.status().WithContext("state");
    filter.states.push_back(*s);
  }
  FASTGPU_ASSIGN_OR_RETURN(int64_t limit, QueryInt(req, "limit", 100, 1, 1000));
  filter.limit = static_cast<int>(limit);
  if (auto it = req.query.find("cursor"); it != req.query.end()) filter.cursor = it->second;
  store::JobPage page;
  Status st = store_.Read([&](store::ReadTx& tx) -> Status {
    if (!asked_tenant.empty()) {
      FASTGPU_ASSIGN_OR_RETURN(model::Tenant t, FindTenant(tx, asked_tenant));
      filter.tenant_id = t.id;
    }
    FASTGPU_ASSIGN_OR_RETURN(page, tx.ListJobs(filter));
    return OkStatus();
  });
  FASTGPU_RETURN_IF_ERROR(st);
  json::array jobs;
  for (const model::Job& j : page.jobs) jobs.push_back(JobToJson(j, {}, false));
  return Reply::Json(json::object{{"jobs", std::move(jobs)}, {"next_cursor", page.next_cursor}});
}

Result<Reply> Api::GetJob(const Call& c) {
  const Principal& p = c.who;
  const std::string& id = c.Param("id");
  json::object out;
  Status st = store_.Read([&](store::ReadTx& tx) -> Status {
    FASTGPU_ASSIGN_OR_RETURN(std::string id_or_name, DecodePathSegment(id));
    FASTGPU_ASSIGN_OR_RETURN(model::Job job, FindJob(tx, p, id_or_name));
    FASTGPU_ASSIGN_OR_RETURN(auto allocs, tx.ListAllocationsByJob(job.id));
    FASTGPU_ASSIGN_OR_RETURN(bool simulated, OnSimulatedNode(tx, allocs));
    out = JobToJson(job, {}, simulated);
    json::array arr;
    for (const auto& a : allocs) {
      json::object o = AllocationRecordToJson(a);
      AddReplicaStatus(a, o);
      arr.push_back(std::move(o));
    }
    out["allocations"] = std::move(arr);
    return OkStatus();
  });
  FASTGPU_RETURN_IF_ERROR(st);
  return Reply::Json(out);
}

Result<Reply> Api::CancelJob(const Call& c) {
  const Principal& p = c.who;
  const std::string& id = c.Param("id");
  Result<Reply> reply = Mutate(c, [&](store::WriteTx& tx) -> Result<Reply> {
    FASTGPU_ASSIGN_OR_RETURN(std::string id_or_name, DecodePathSegment(id));
    FASTGPU_ASSIGN_OR_RETURN(model::Job job, FindJob(tx, p, id_or_name));
    TimePoint now = clock_.Now();
    if (model::IsTerminal(job.state)) {
      return FailedPrecondition("job " + job.id + " is already " +
                                std::string(model::JobStateName(job.state)));
    }
    FASTGPU_RETURN_IF_ERROR(
        model::TransitionJob(job, model::JobState::kCancelled,
                             "cancelled by " + (p.admin ? "the admin" : p.tenant_id), now));
    FASTGPU_RETURN_IF_ERROR(tx.UpdateJob(job));
    FASTGPU_ASSIGN_OR_RETURN(auto allocs, tx.ListAllocationsByJob(job.id));
    for (const auto& a : allocs) {
      if (a.state != store::AllocationState::kReleased) {
        FASTGPU_RETURN_IF_ERROR(
            tx.UpdateAllocation(a.alloc.id, ReleaseUpdate(a, now, "job cancelled")).status());
      }
    }
    return Reply::Json(JobToJson(job, {}, false));
  });
  if (reply.ok() && reply->succeeded()) Changed();
  return reply;
}

Result<Reply> Api::JobLogs(const Call& c) {
  const HttpRequest& req = c.req;
  const Principal& p = c.who;
  const std::string& id = c.Param("id");
  FASTGPU_ASSIGN_OR_RETURN(int64_t replica, QueryInt(req, "replica", 0, 0, 1023));
  FASTGPU_ASSIGN_OR_RETURN(int64_t offset, QueryInt(req, "offset", 0, 0, int64_t{1} << 50));
  bool follow = false;
  if (auto it = req.query.find("follow"); it != req.query.end()) {
    if (it->second != "true" && it->second != "false") {
      return InvalidArgument("follow: must be true or false");
    }
    follow = it->second == "true";
  }
  FASTGPU_ASSIGN_OR_RETURN(LogRead read, ReadReplicaLog(p, id, replica, offset));
  if (follow && !read.done) {
    // A stream holds a worker: beyond the bound the plain answer is given (the client
    // then polls).
    if (log_streams_.fetch_add(1) < options_.max_log_streams) {
      std::shared_ptr<void> slot(nullptr, [this](void*) { log_streams_.fetch_sub(1); });
      return Reply::Stream(
          "text/plain; charset=utf-8",
          {{"X-Log-Offset", std::to_string(offset)}, {"Cache-Control", "no-store"}},
          [this, p, id, replica, first = std::move(read), slot](const StreamWriter& write) {
            StreamLog(p, id, replica, first, write);
          });
    }
    log_streams_.fetch_sub(1);
  }
  json::object out;
  out["job_state"] = read.job_state;
  out["allocation_id"] = read.alloc_id;
  out["data"] = read.data;
  out["next_offset"] = read.next_offset;
  out["dropped_bytes"] = read.dropped;
  out["log_limit_bytes"] = options_.max_log_bytes;
  out["done"] = read.done;
  return Reply::Json(out);
}

void Api::StreamLog(const Principal& p, const std::string& id, int64_t replica, LogRead first,
                    const StreamWriter& write) {
  using std::chrono::milliseconds;
  using std::chrono::steady_clock;
  // The stream's lifetime and the fallback re-check are steady-clock waits, not decisions
  // recorded anywhere.
  const auto deadline = steady_clock::now() + milliseconds(options_.log_stream_max_ms);
  LogRead cur = std::move(first);
  std::optional<LogWaiters::Watch> watch;
  uint64_t seen = 0;
  for (;;) {
    if (!cur.data.empty() && !write(cur.data)) return;
    if (cur.done) return;
    const auto now = steady_clock::now();
    if (now >= deadline || !write({})) return;  // the client asks again from its offset
    if (watch && watch->alloc_id() == cur.alloc_id) {
      // Caught up: wait for the next shipment, re-checking every second (the job may
      // end, or its node be lost, without new bytes).
      if (cur.data.empty()) {
        auto left = std::chrono::duration_cast<milliseconds>(deadline - now);
        watch->Wait(seen, std::min(left, milliseconds(1000)));
      }
    } else {
      watch.reset();
      watch.emplace(log_waiters_, cur.alloc_id);
    }
    seen = watch->Version();  // before the read: a shipment after it wakes the next wait
    auto next = ReadReplicaLog(p, id, replica, cur.next_offset);
    if (!next.ok()) return;
    cur = *std::move(next);
  }
}

Result<Api::LogRead> Api::ReadReplicaLog(const Principal& p, const std::string& id, int64_t replica,
                                         int64_t offset) {
  LogRead out;
  Status st = store_.Read([&](store::ReadTx& tx) -> Status {
    FASTGPU_ASSIGN_OR_RETURN(std::string id_or_name, DecodePathSegment(id));
    FASTGPU_ASSIGN_OR_RETURN(model::Job job, FindJob(tx, p, id_or_name));
    if (replica >= job.spec.replicas) {
      return InvalidArgument("replica: the job has " + std::to_string(job.spec.replicas) +
                             " replica(s)");
    }
    FASTGPU_ASSIGN_OR_RETURN(auto allocs, tx.ListAllocationsByJob(job.id));
    // The newest allocation of the replica holds its current attempt's log.
    const store::AllocationRecord* latest = nullptr;
    for (const auto& a : allocs) {
      if (a.alloc.replica == replica) latest = &a;
    }
    out = LogRead{};
    out.job_state = model::JobStateName(job.state);
    if (latest == nullptr) {
      out.next_offset = offset;
      out.done = model::IsTerminal(job.state);
      return OkStatus();
    }
    FASTGPU_ASSIGN_OR_RETURN(store::LogChunk chunk,
                             tx.ReadLog(latest->alloc.id, offset, options_.max_log_chunk_bytes));
    FASTGPU_ASSIGN_OR_RETURN(store::LogEnd le, GetLogEnd(tx, latest->alloc.id));
    const int64_t stored = chunk.size_bytes;
    const int64_t dropped = std::max<int64_t>(0, le.shipped_bytes - stored);
    // Once the agent's final shipment is in, a marker after the stored bytes says how
    // many were dropped (offsets run on through it).
    std::string marker =
        le.final && dropped > 0 ? DroppedMarker(dropped, options_.max_log_bytes) : std::string();
    const int64_t log_end = stored + static_cast<int64_t>(marker.size());
    if (!marker.empty() && offset >= stored && offset < log_end) {
      chunk.data = marker.substr(static_cast<size_t>(offset - stored));
      chunk.next_offset = log_end;
    }
    // Every byte kept has arrived: the agent said so, or it never will (the node is
    // lost, or the replica never ran and wrote nothing).
    bool complete = le.final || (latest->started_at_ms == 0 && stored == 0);
    if (!complete) {
      auto node = tx.GetNode(latest->alloc.node_id);
      complete = !node.ok() || node->state == store::NodeState::kLost;
    }
    out.alloc_id = latest->alloc.id;
    out.data = std::move(chunk.data);
    out.next_offset = chunk.next_offset;
    out.dropped = dropped;
    // Done: nothing more will come (the job is over, its log complete, and all read).
    out.done = model::IsTerminal(job.state) && complete && chunk.next_offset >= log_end;
    return OkStatus();
  });
  if (!st.ok()) return st;
  return out;
}

void Api::AddReplicaStatus(const store::AllocationRecord& rec, json::object& out) const {
  std::optional<ReplicaEndpoint> seen;
  if (options_.replica_status != nullptr && store::IsLive(rec.state)) {
    seen = options_.replica_status->EndpointOf(rec.alloc.id);
  }
  out["endpoint"] = seen ? seen->endpoint : "";
  out["ready"] = seen && seen->ready;
}

Result<Reply> Api::GetAllocation(const Call& c) {
  const Principal& p = c.who;
  const std::string& id = c.Param("id");
  json::object out;
  Status st = store_.Read([&](store::ReadTx& tx) -> Status {
    auto rec = tx.GetAllocation(id);
    if (!rec.ok()) return rec.status();
    FASTGPU_ASSIGN_OR_RETURN(model::Job job, tx.GetJob(rec->alloc.job_id));
    if (!p.admin && job.tenant_id != p.tenant_id) return NotFound("no allocation " + id);
    out = AllocationRecordToJson(*rec);
    AddReplicaStatus(*rec, out);
    return OkStatus();
  });
  FASTGPU_RETURN_IF_ERROR(st);
  return Reply::Json(out);
}

Result<Reply> Api::ListAllocations(const Call& c) {
  const HttpRequest& req = c.req;
  const Principal& p = c.who;
  auto job_it = req.query.find("job");
  auto node_it = req.query.find("node");
  if (!p.admin && job_it == req.query.end()) {
    return PermissionDenied("only the admin may list allocations without ?job=");
  }
  json::array arr;
  Status st = store_.Read([&](store::ReadTx& tx) -> Status {
    std::vector<store::AllocationRecord> recs;
    if (job_it != req.query.end()) {
      FASTGPU_ASSIGN_OR_RETURN(model::Job job, FindJob(tx, p, job_it->second));
      FASTGPU_ASSIGN_OR_RETURN(recs, tx.ListAllocationsByJob(job.id));
    } else if (node_it != req.query.end()) {
      FASTGPU_ASSIGN_OR_RETURN(store::NodeRecord node, FindNode(tx, node_it->second));
      FASTGPU_ASSIGN_OR_RETURN(recs, tx.ListAllocationsByNode(node.node.id));
    } else {
      FASTGPU_ASSIGN_OR_RETURN(recs, tx.ListLiveAllocations());
    }
    for (const auto& r : recs) {
      json::object o = AllocationRecordToJson(r);
      AddReplicaStatus(r, o);
      arr.push_back(std::move(o));
    }
    return OkStatus();
  });
  FASTGPU_RETURN_IF_ERROR(st);
  return Reply::Json(json::object{{"allocations", std::move(arr)}});
}

}  // namespace fastgpu::server

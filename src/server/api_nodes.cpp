// Nodes: agent registration, heartbeats and logs (docs/agent-protocol.md); admin list
// and drain.
#include "common/url_text.h"
#include "protocol/agent_protocol.h"
#include "scheduler/cluster.h"
#include "server/allocation_end.h"
#include "server/api.h"
#include "server/log_end.h"
#include "server/node_usage.h"

namespace fastgpu::server {

namespace {

// Shortest node secret accepted from an agent (the agent makes 64 hex digits).
constexpr size_t kMinNodeSecretChars = 32;

struct Report {
  std::string allocation_id;
  store::AllocationUpdate update;
  TimePoint started_at{};  // the agent's start time when given (for usage records)
};

// The protocol's replica report as an allocation update; `path` names it in errors.
Result<Report> ReportFrom(const protocol::ReplicaReport& in, const std::string& path,
                          TimePoint now) {
  Report rep;
  rep.allocation_id = in.allocation_id;
  rep.update.exit_code = in.exit_code;
  rep.update.signal = in.signal;
  rep.update.message = in.message;
  const std::string& state = in.state;
  const std::string& reason = in.reason;
  const int64_t started_at = in.started_at_ms, ended_at = in.ended_at_ms;
  if (!reason.empty() && reason != kOomKilled) {
    return InvalidArgument(path + ".reason: must be \"" + std::string(kOomKilled) + "\" or empty");
  }
  if (!reason.empty() && state != "exited") {
    return InvalidArgument(path + ".reason: only an exited replica has one");
  }
  rep.update.message = WithReason(reason, rep.update.message);
  if (state == "starting") {
    rep.update.state = store::AllocationState::kStarting;
  } else if (state == "running") {
    rep.update.state = store::AllocationState::kRunning;
  } else if (state == "exited") {
    rep.update.state = store::AllocationState::kExited;
  } else if (state == "failed") {
    rep.update.state = store::AllocationState::kFailed;
  } else {
    return InvalidArgument(path + ".state: must be starting, running, exited or failed");
  }
  // The agent's own times are kept when given (they are when it happened); else now.
  int64_t at = rep.update.state == store::AllocationState::kRunning ? started_at : ended_at;
  rep.update.at = at > 0 ? FromUnixMillis(at) : now;
  if (started_at > 0) rep.started_at = FromUnixMillis(started_at);
  return rep;
}

// A protocol message (agent/protocol.h) as the answer's body.
Reply ProtocolReply(std::string body) { return Reply::Text("application/json", std::move(body)); }

// `status` (may be null) adds each GPU's utilization_pct where its agent reported one.
json::object NodeToJson(const store::NodeRecord& rec,
                        const std::vector<store::AllocationRecord>& live,
                        const ReplicaStatus* status) {
  json::array gpus;
  for (const model::Gpu& g : rec.node.gpus) {
    json::object o = GpuToJson(g);
    int64_t used = 0;
    for (const auto& a : live) {
      for (const auto& s : a.alloc.slices) {
        if (s.gpu_index == g.index) used += s.milli;
      }
    }
    o["allocated_milli"] = used;
    if (status != nullptr) {
      if (std::optional<int> pct = status->GpuPercent(rec.node.id, g.index)) {
        o["utilization_pct"] = *pct;
      }
    }
    gpus.push_back(std::move(o));
  }
  return {{"id", rec.node.id},
          {"name", rec.node.name},
          {"agent_id", rec.agent_id},
          {"state", store::NodeStateName(rec.state)},
          {"simulated", rec.node.simulated},
          {"cpu_milli", rec.node.cpu_milli},
          {"memory_mib", rec.node.memory_mib},
          {"last_heartbeat", ToUnixMillis(rec.last_heartbeat)},
          {"registered_at", ToUnixMillis(rec.registered_at)},
          {"live_allocations", static_cast<int64_t>(live.size())},
          {"overcommitted", OvercommitReason(rec, UsageOn(rec.node.id, live))},
          {"gpus", std::move(gpus)}};
}

}  // namespace

// The node the admin names by id or by name; a name must match exactly one node (several
// are FailedPrecondition, 409, listing their ids).
Result<store::NodeRecord> FindNode(store::ReadTx& tx, const std::string& id_or_name) {
  auto by_id = tx.GetNode(id_or_name);
  if (by_id.ok() || by_id.status().code() != StatusCode::kNotFound) return by_id;
  FASTGPU_ASSIGN_OR_RETURN(std::vector<store::NodeRecord> named, tx.FindNodesByName(id_or_name));
  if (named.empty()) return NotFound("no node '" + id_or_name + "' (neither an id nor a name)");
  if (named.size() == 1) return named[0];
  std::string ids;
  for (const auto& n : named) ids += (ids.empty() ? "" : ", ") + n.node.id;
  return FailedPrecondition("node name '" + id_or_name + "' matches " +
                            std::to_string(named.size()) + " nodes: " + ids + "; use an id");
}

Result<Reply> Api::RegisterNode(const Call& c) {
  FASTGPU_ASSIGN_OR_RETURN(protocol::RegisterRequest msg, protocol::DecodeRegister(c.req.body));
  store::NodeRecord rec;
  rec.node.name = msg.name;
  rec.agent_id = msg.agent_id;
  std::string secret = msg.node_secret;
  rec.node.cpu_milli = msg.cpu_milli;
  rec.node.memory_mib = msg.memory_mib;
  rec.node.simulated = msg.simulated;
  rec.node.gpus = std::move(msg.gpus);
  if (rec.agent_id.empty() || rec.agent_id.size() > 200) {
    return InvalidArgument("agent_id: must be 1-200 characters");
  }
  if (!secret.empty() && (secret.size() < kMinNodeSecretChars || secret.size() > 200)) {
    return InvalidArgument("node_secret: must be " + std::to_string(kMinNodeSecretChars) +
                           "-200 characters");
  }
  if (rec.node.gpus.size() > static_cast<size_t>(sched::kMaxGpusPerNode)) {
    return InvalidArgument("gpus: at most " + std::to_string(sched::kMaxGpusPerNode) + " per node");
  }
  for (size_t i = 1; i < rec.node.gpus.size(); ++i) {
    if (rec.node.gpus[i].model != rec.node.gpus[0].model) {
      return InvalidArgument("gpus: every GPU of a node must be the same model");
    }
  }
  rec.node.id = ids_.Next("node");
  FASTGPU_RETURN_IF_ERROR(model::ValidateNode(rec.node));
  const std::string node_token = RandomHex(32);
  rec.token_sha256_hex = Sha256Hex(node_token);
  rec.registered_at = rec.last_heartbeat = clock_.Now();
  rec.state = store::NodeState::kReady;
  std::string node_id;
  Status st = store_.Write([&](store::WriteTx& tx) -> Status {
    auto prior = tx.GetNodeByAgentId(rec.agent_id);
    if (!prior.ok() && prior.status().code() != StatusCode::kNotFound) return prior.status();
    // The join token creates nodes; a registered node is registered again only by the
    // holder of its secret, so that the join token alone never takes a node over.
    if (prior.ok() && !prior->secret_sha256_hex.empty() &&
        (secret.empty() || Sha256Hex(secret) != prior->secret_sha256_hex)) {
      const std::string& id = prior->node.id;
      return AlreadyExists("agent_id '" + rec.agent_id + "' is already registered as node " + id +
                           "; registering it again needs that node's node_secret (kept in its "
                           "agent's state file), or an admin must first revoke the node "
                           "(fastgpu node revoke " +
                           id + ")");
    }
    if (secret.empty()) secret = RandomHex(32);
    rec.secret_sha256_hex = Sha256Hex(secret);
    if (prior.ok() && prior->state == store::NodeState::kDraining)
      rec.state = store::NodeState::kDraining;
    // A drained node keeps its drain across a loss and a return (the store's drain mark).
    if (prior.ok() && prior->state == store::NodeState::kLost) {
      FASTGPU_ASSIGN_OR_RETURN(bool drained, tx.IsNodeDrained(prior->node.id));
      if (drained) rec.state = store::NodeState::kDraining;
    }
    FASTGPU_ASSIGN_OR_RETURN(store::UpsertNodeResult res, tx.UpsertNode(rec));
    node_id = res.node_id;
    return OkStatus();
  });
  FASTGPU_RETURN_IF_ERROR(st);
  NoteModels(rec.node.gpus);
  Changed();
  protocol::RegisterResponse answer;
  answer.node_id = node_id;
  answer.node_token = node_token;
  answer.node_secret = secret;
  answer.heartbeat_interval_ms = options_.heartbeat_interval_ms;
  answer.lease_ms = options_.lease_ms;
  return ProtocolReply(protocol::EncodeRegisterResponse(answer));
}

Result<Reply> Api::Heartbeat(const Call& c) {
  const HttpRequest& req = c.req;
  const std::string& node_id = c.Param("id");
  FASTGPU_ASSIGN_OR_RETURN(protocol::HeartbeatRequest msg, protocol::DecodeHeartbeat(req.body));
  TimePoint now = clock_.Now();
  std::vector<store::GpuHealth> health;
  std::vector<Report> reports;
  for (const protocol::GpuHealthReport& g : msg.gpus)
    health.push_back({g.index, g.healthy, g.health_reason});
  for (size_t i = 0; i < msg.replicas.size(); ++i) {
    FASTGPU_ASSIGN_OR_RETURN(
        Report rep, ReportFrom(msg.replicas[i], "replicas[" + std::to_string(i) + "]", now));
    reports.push_back(std::move(rep));
  }

  // The lease counts the heartbeat as soon as the node is known to be who it says (the
  // route's kNode check, before this handler), whether or not the write below can be
  // stored (e.g. while the disk is full).
  if (options_.leases != nullptr) options_.leases->Renew(node_id, now);

  // What the agent says of endpoints, readiness and GPU load (replica_status.h).
  std::map<std::string, const protocol::ReplicaReport*> reported;
  for (const protocol::ReplicaReport& r : msg.replicas) reported[r.allocation_id] = &r;
  std::map<int, int> gpu_percent;
  for (const protocol::GpuHealthReport& g : msg.gpus) gpu_percent[g.index] = g.utilization_pct;
  std::vector<ReplicaObservation> observed;

  bool changed = false;
  protocol::HeartbeatResponse answer;
  answer.lease_ms = options_.lease_ms;
  Status st = store_.Write([&](store::WriteTx& tx) -> Status {
    observed.clear();
    answer.allocations.clear();
    answer.cancel.clear();
    FASTGPU_ASSIGN_OR_RETURN(store::NodeRecord node, AuthNode(tx, req, node_id));
    for (const store::GpuHealth& h : health) {
      for (const model::Gpu& g : node.node.gpus) {
        if (g.index == h.index && g.healthy != h.healthy) changed = true;
      }
    }
    FASTGPU_RETURN_IF_ERROR(tx.UpdateNodeHeartbeat(node_id, now, health));
    if (node.state == store::NodeState::kLost) {
      FASTGPU_ASSIGN_OR_RETURN(bool drained, tx.IsNodeDrained(node_id));
      FASTGPU_RETURN_IF_ERROR(tx.SetNodeState(
          node_id, drained ? store::NodeState::kDraining : store::NodeState::kReady));
      changed = true;
    }
    for (const Report& rep : reports) {
      auto cur = tx.GetAllocation(rep.allocation_id);
      if (!cur.ok() || cur->alloc.node_id != node_id || !store::IsLive(cur->state)) {
        // Unknown here, or released / finished: the agent should stop and forget it. How a
        // replica the control plane stopped ended is kept on its released allocation.
        if (cur.ok() && cur->alloc.node_id == node_id) {
          if (auto late = LateExitUpdate(*cur, rep.update)) {
            FASTGPU_RETURN_IF_ERROR(tx.UpdateAllocation(rep.allocation_id, *late).status());
          }
        }
        if (cur.ok() || cur.status().code() == StatusCode::kNotFound) {
          answer.cancel.push_back(rep.allocation_id);
          continue;
        }
        return cur.status();
      }
      if (cur->state == rep.update.state || !store::CanAdvance(cur->state, rep.update.state))
        continue;
      if (rep.started_at != TimePoint{} && rep.update.state != store::AllocationState::kRunning &&
          store::CanAdvance(cur->state, store::AllocationState::kRunning)) {
        // First seen already finished: record when it started (metering needs both ends).
        store::AllocationUpdate ran{store::AllocationState::kRunning, rep.started_at, 0, 0, ""};
        FASTGPU_RETURN_IF_ERROR(tx.UpdateAllocation(rep.allocation_id, ran).status());
      }
      auto updated = tx.UpdateAllocation(rep.allocation_id, rep.update);
      if (!updated.ok() && updated.status().code() != StatusCode::kFailedPrecondition) {
        return updated.status();
      }
      changed = true;
    }
    FASTGPU_ASSIGN_OR_RETURN(auto recs, tx.ListAllocationsByNode(node_id));
    for (const auto& rec : recs) {
      if (!store::IsLive(rec.state)) continue;
      FASTGPU_ASSIGN_OR_RETURN(model::Job job, tx.GetJob(rec.alloc.job_id));
      protocol::DesiredReplica d;
      d.allocation = rec.alloc;
      d.replicas = job.spec.replicas;
      d.command = job.spec.command;
      d.env = job.spec.env;
      d.run_as_root = job.spec.run_as_root;
      d.image = job.spec.image;
      d.session = job.spec.session;
      d.tty = job.spec.session && job.spec.tty;
      d.port = job.spec.port;
      d.readiness = job.spec.readiness;
      answer.allocations.push_back(std::move(d));
      ReplicaObservation o;
      o.allocation_id = rec.alloc.id;
      o.job_id = rec.alloc.job_id;
      for (const model::VgpuSlice& s : rec.alloc.slices) o.gpu_indices.push_back(s.gpu_index);
      if (auto it = reported.find(rec.alloc.id); it != reported.end()) {
        o.endpoint = it->second->endpoint;
        o.ready = it->second->ready && it->second->state == "running";
      }
      observed.push_back(std::move(o));
    }
    return OkStatus();
  });
  FASTGPU_RETURN_IF_ERROR(st);
  if (options_.replica_status != nullptr) {
    options_.replica_status->ObserveNode(node_id, now, std::move(observed), gpu_percent);
  }
  if (options_.execs != nullptr) answer.execs = options_.execs->PendingFor(node_id);
  metrics_.CountHeartbeat();
  if (changed) Changed();
  return ProtocolReply(protocol::EncodeHeartbeatResponse(answer));
}

Result<Reply> Api::AppendLogs(const Call& c) {
  const HttpRequest& req = c.req;
  const std::string& node_id = c.Param("id");
  FASTGPU_ASSIGN_OR_RETURN(protocol::LogShipment msg, protocol::DecodeLogShipment(req.body));
  const std::string& alloc_id = msg.allocation_id;
  const std::string& data = msg.data;
  const int64_t offset = msg.offset;
  const bool final = msg.final;
  Status st;
  const int64_t end = offset + static_cast<int64_t>(data.size());
  int64_t next = 0;
  bool truncated = false;
  st = store_.Write([&](store::WriteTx& tx) -> Status {
    FASTGPU_RETURN_IF_ERROR(AuthNode(tx, req, node_id).status());
    auto alloc = tx.GetAllocation(alloc_id);
    if (!alloc.ok() || alloc->alloc.node_id != node_id) {
      return NotFound("no allocation " + alloc_id + " on node " + node_id);
    }
    auto size = tx.AppendLog(alloc_id, offset, data);
    if (size.ok()) {
      next = *size;
      truncated = *size < end;
    } else if (size.status().code() == StatusCode::kOutOfRange) {
      FASTGPU_ASSIGN_OR_RETURN(int64_t stored, tx.LogSize(alloc_id));
      // Past a log at its limit the agent's offsets run ahead of the stored size: the
      // bytes in between were refused (dropped), not lost in transit.
      if (stored >= options_.max_log_bytes) {
        next = end;
        truncated = true;
      } else {
        next = stored;  // resend from here
      }
    } else if (size.status().code() == StatusCode::kResourceExhausted) {
      next = end;  // at the limit: drop, do not resend
      truncated = true;
    } else {
      return size.status();
    }
    if (!truncated && !final) return OkStatus();
    // Bytes refused past the limit and the final shipment are recorded (log_end.h).
    FASTGPU_ASSIGN_OR_RETURN(store::LogEnd le, GetLogEnd(tx, alloc_id));
    if (next == end) {
      le.shipped_bytes = std::max(le.shipped_bytes, end);
      if (final) le.final = true;
    }
    return PutLogEnd(tx, alloc_id, le);
  });
  FASTGPU_RETURN_IF_ERROR(st);
  log_waiters_.Notify(alloc_id);  // followed logs of this allocation read on
  protocol::LogResponse answer;
  answer.next_offset = next;
  answer.truncated = truncated;
  return ProtocolReply(protocol::EncodeLogResponse(answer));
}

Result<Reply> Api::ListNodes(const Call&) {
  json::array out;
  Status st = store_.Read([&](store::ReadTx& tx) -> Status {
    FASTGPU_ASSIGN_OR_RETURN(auto nodes, tx.ListNodes());
    FASTGPU_ASSIGN_OR_RETURN(auto live, tx.ListLiveAllocations());
    for (const auto& n : nodes) {
      std::vector<store::AllocationRecord> mine;
      for (const auto& a : live) {
        if (a.alloc.node_id == n.node.id) mine.push_back(a);
      }
      out.push_back(NodeToJson(n, mine, options_.replica_status));
    }
    return OkStatus();
  });
  FASTGPU_RETURN_IF_ERROR(st);
  return Reply::Json(json::object{{"nodes", std::move(out)}});
}

Result<Reply> Api::GetNode(const Call& c) {
  const std::string& id_or_name = c.Param("id");
  json::object out;
  Status st = store_.Read([&](store::ReadTx& tx) -> Status {
    FASTGPU_ASSIGN_OR_RETURN(std::string decoded, DecodePathSegment(id_or_name));
    FASTGPU_ASSIGN_OR_RETURN(store::NodeRecord node, FindNode(tx, decoded));
    FASTGPU_ASSIGN_OR_RETURN(auto allocs, tx.ListAllocationsByNode(node.node.id));
    std::vector<store::AllocationRecord> live;
    for (auto& a : allocs) {
      if (store::IsLive(a.state)) live.push_back(std::move(a));
    }
    out = NodeToJson(node, live, options_.replica_status);
    return OkStatus();
  });
  FASTGPU_RETURN_IF_ERROR(st);
  return Reply::Json(std::move(out));
}

Result<Reply> Api::SetDrain(const Call& c, bool drain) {
  const std::string& id_or_name = c.Param("id");
  Result<Reply> reply = Mutate(c, [&](store::WriteTx& tx) -> Result<Reply> {
    FASTGPU_ASSIGN_OR_RETURN(std::string decoded, DecodePathSegment(id_or_name));
    FASTGPU_ASSIGN_OR_RETURN(store::NodeRecord node, FindNode(tx, decoded));
    const std::string& node_id = node.node.id;
    if (drain) {
      FASTGPU_RETURN_IF_ERROR(tx.SetNodeDrained(node_id, true));
      if (node.state == store::NodeState::kReady) {
        FASTGPU_RETURN_IF_ERROR(tx.SetNodeState(node_id, store::NodeState::kDraining));
        node.state = store::NodeState::kDraining;
      }
    } else {
      FASTGPU_RETURN_IF_ERROR(tx.SetNodeDrained(node_id, false));
      if (node.state == store::NodeState::kDraining) {
        FASTGPU_RETURN_IF_ERROR(tx.SetNodeState(node_id, store::NodeState::kReady));
        node.state = store::NodeState::kReady;
      }
    }
    return Reply::Json(NodeToJson(node, {}, options_.replica_status));
  });
  if (reply.ok() && reply->succeeded()) Changed();
  return reply;
}

Result<Reply> Api::RevokeNode(const Call& c) {
  const std::string& id_or_name = c.Param("id");
  return Mutate(c, [&](store::WriteTx& tx) -> Result<Reply> {
    FASTGPU_ASSIGN_OR_RETURN(std::string decoded, DecodePathSegment(id_or_name));
    FASTGPU_ASSIGN_OR_RETURN(store::NodeRecord found, FindNode(tx, decoded));
    const std::string& node_id = found.node.id;
    FASTGPU_RETURN_IF_ERROR(tx.RevokeNodeCredentials(node_id));
    FASTGPU_ASSIGN_OR_RETURN(store::NodeRecord node, tx.GetNode(node_id));
    FASTGPU_ASSIGN_OR_RETURN(auto allocs, tx.ListAllocationsByNode(node_id));
    std::vector<store::AllocationRecord> live;
    for (auto& a : allocs) {
      if (store::IsLive(a.state)) live.push_back(std::move(a));
    }
    return Reply::Json(NodeToJson(node, live, options_.replica_status));
  });
}

}  // namespace fastgpu::server

// Nodes: agent registration, heartbeats and logs (docs/agent-protocol.md); admin list
// and drain.
#include "common/url_text.h"
#include "scheduler/cluster.h"
#include "server/allocation_end.h"
#include "server/api.h"
#include "server/log_end.h"
#include "server/node_usage.h"

namespace fastgpu::server {

namespace {

// Shortest node secret accepted from an agent (the agent makes 64 hex digits).
constexpr size_t kMinNodeSecretChars = 32;

// A drained node keeps its drain across a loss and a return: the mark lives in meta.
std::string DrainKey(const std::string& node_id) { return "node_drained/" + node_id; }

Result<Gpu> GpuFromJson(const json::value& v, const std::string& path) {
  if (!v.is_object()) return InvalidArgument(path + ": must be an object");
  FieldReader r(v.as_object(), path);
  Gpu g;
  FASTGPU_RETURN_IF_ERROR(r.Int("index", g.index, 0, 1023, true));
  FASTGPU_RETURN_IF_ERROR(r.String("uuid", g.uuid, true));
  FASTGPU_RETURN_IF_ERROR(r.String("model", g.model, true));
  FASTGPU_RETURN_IF_ERROR(r.Int("memory_mib", g.memory_mib, 1, int64_t{1} << 30, true));
  FASTGPU_RETURN_IF_ERROR(r.Bool("healthy", g.healthy));
  FASTGPU_RETURN_IF_ERROR(r.String("health_reason", g.health_reason));
  FASTGPU_RETURN_IF_ERROR(r.Bool("mig_enabled", g.mig_enabled));
  FASTGPU_RETURN_IF_ERROR(r.Bool("simulated", g.simulated));
  FASTGPU_RETURN_IF_ERROR(r.Finish());
  return g;
}

struct Report {
  std::string allocation_id;
  AllocationUpdate update;
  TimePoint started_at{};  // the agent's start time when given (for usage records)
};

Result<Report> ReportFromJson(const json::value& v, const std::string& path, TimePoint now) {
  if (!v.is_object()) return InvalidArgument(path + ": must be an object");
  FieldReader r(v.as_object(), path);
  Report rep;
  std::string state;
  int64_t pid = 0, started_at = 0, ended_at = 0;
  FASTGPU_RETURN_IF_ERROR(r.String("allocation_id", rep.allocation_id, true));
  FASTGPU_RETURN_IF_ERROR(r.String("state", state, true));
  FASTGPU_RETURN_IF_ERROR(r.Int("pid", pid, 0, int64_t{1} << 40));
  FASTGPU_RETURN_IF_ERROR(r.Int("exit_code", rep.update.exit_code, -1000, 1000));
  FASTGPU_RETURN_IF_ERROR(r.Int("signal", rep.update.signal, 0, 128));
  FASTGPU_RETURN_IF_ERROR(r.Int("started_at", started_at, 0, int64_t{1} << 50));
  FASTGPU_RETURN_IF_ERROR(r.Int("ended_at", ended_at, 0, int64_t{1} << 50));
  FASTGPU_RETURN_IF_ERROR(r.String("message", rep.update.message));
  std::string reason;
  FASTGPU_RETURN_IF_ERROR(r.String("reason", reason));
  FASTGPU_RETURN_IF_ERROR(r.Finish());
  if (!reason.empty() && reason != kOomKilled) {
    return InvalidArgument(path + ".reason: must be \"" + std::string(kOomKilled) + "\" or empty");
  }
  if (!reason.empty() && state != "exited") {
    return InvalidArgument(path + ".reason: only an exited replica has one");
  }
  rep.update.message = WithReason(reason, rep.update.message);
  if (state == "starting") {
    rep.update.state = AllocationState::kStarting;
  } else if (state == "running") {
    rep.update.state = AllocationState::kRunning;
  } else if (state == "exited") {
    rep.update.state = AllocationState::kExited;
  } else if (state == "failed") {
    rep.update.state = AllocationState::kFailed;
  } else {
    return InvalidArgument(path + ".state: must be starting, running, exited or failed");
  }
  // The agent's own times are kept when given (they are when it happened); else now.
  int64_t at = rep.update.state == AllocationState::kRunning ? started_at : ended_at;
  rep.update.at = at > 0 ? FromUnixMillis(at) : now;
  if (started_at > 0) rep.started_at = FromUnixMillis(started_at);
  return rep;
}

json::object NodeToJson(const NodeRecord& rec, const std::vector<AllocationRecord>& live) {
  json::array gpus;
  for (const Gpu& g : rec.node.gpus) {
    json::object o = GpuToJson(g);
    int64_t used = 0;
    for (const auto& a : live) {
      for (const auto& s : a.alloc.slices) {
        if (s.gpu_index == g.index) used += s.milli;
      }
    }
    o["allocated_milli"] = used;
    gpus.push_back(std::move(o));
  }
  return {{"id", rec.node.id},
          {"name", rec.node.name},
          {"agent_id", rec.agent_id},
          {"state", NodeStateName(rec.state)},
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
Result<NodeRecord> FindNode(ReadTx& tx, const std::string& id_or_name) {
  auto by_id = tx.GetNode(id_or_name);
  if (by_id.ok() || by_id.status().code() != StatusCode::kNotFound) return by_id;
  FASTGPU_ASSIGN_OR_RETURN(std::vector<NodeRecord> named, tx.FindNodesByName(id_or_name));
  if (named.empty()) return NotFound("no node '" + id_or_name + "' (neither an id nor a name)");
  if (named.size() == 1) return named[0];
  std::string ids;
  for (const auto& n : named) ids += (ids.empty() ? "" : ", ") + n.node.id;
  return FailedPrecondition("node name '" + id_or_name + "' matches " +
                            std::to_string(named.size()) + " nodes: " + ids + "; use an id");
}

HttpResponse Api::RegisterNode(const HttpRequest& req) {
  auto who = auth_.Authenticate(req.Header("authorization"));
  if (!who.ok()) return ErrorResponse(who.status());
  if (who->kind != Principal::Kind::kJoin) {
    return ErrorResponse(PermissionDenied("registering a node needs the join token"));
  }
  auto body = ParseObject(req.body);
  if (!body.ok()) return ErrorResponse(body.status());
  FieldReader r(*body);
  NodeRecord rec;
  std::string secret;
  Status st = r.String("name", rec.node.name, true);
  if (st.ok()) st = r.String("agent_id", rec.agent_id, true);
  if (st.ok()) st = r.String("node_secret", secret);
  if (st.ok()) st = r.Int("cpu_milli", rec.node.cpu_milli, 0, int64_t{1} << 40, true);
  if (st.ok()) st = r.Int("memory_mib", rec.node.memory_mib, 0, int64_t{1} << 40, true);
  if (st.ok()) st = r.Bool("simulated", rec.node.simulated);
  auto gpus = st.ok() ? r.Array("gpus") : Result<const json::array*>(st);
  if (!gpus.ok()) return ErrorResponse(gpus.status());
  if (*gpus != nullptr) {
    for (size_t i = 0; i < (*gpus)->size(); ++i) {
      auto g = GpuFromJson((**gpus)[i], "gpus[" + std::to_string(i) + "]");
      if (!g.ok()) return ErrorResponse(g.status());
      rec.node.gpus.push_back(std::move(*g));
    }
  }
  if (st = r.Finish(); !st.ok()) return ErrorResponse(st);
  if (rec.agent_id.empty() || rec.agent_id.size() > 200) {
    return ErrorResponse(InvalidArgument("agent_id: must be 1-200 characters"));
  }
  if (!secret.empty() && (secret.size() < kMinNodeSecretChars || secret.size() > 200)) {
    return ErrorResponse(InvalidArgument("node_secret: must be " +
                                         std::to_string(kMinNodeSecretChars) + "-200 characters"));
  }
  if (rec.node.gpus.size() > static_cast<size_t>(sched::kMaxGpusPerNode)) {
    return ErrorResponse(
        InvalidArgument("gpus: at most " + std::to_string(sched::kMaxGpusPerNode) + " per node"));
  }
  for (size_t i = 1; i < rec.node.gpus.size(); ++i) {
    if (rec.node.gpus[i].model != rec.node.gpus[0].model) {
      return ErrorResponse(InvalidArgument("gpus: every GPU of a node must be the same model"));
    }
  }
  rec.node.id = ids_.Next("node");
  if (st = ValidateNode(rec.node); !st.ok()) return ErrorResponse(st);
  const std::string node_token = RandomHex(32);
  rec.token_sha256_hex = Sha256Hex(node_token);
  rec.registered_at = rec.last_heartbeat = clock_.Now();
  rec.state = NodeState::kReady;
  std::string node_id;
  st = store_.Write([&](WriteTx& tx) -> Status {
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
    if (prior.ok() && prior->state == NodeState::kDraining) rec.state = NodeState::kDraining;
    if (prior.ok() && prior->state == NodeState::kLost &&
        tx.GetMeta(DrainKey(prior->node.id)).ok()) {
      rec.state = NodeState::kDraining;
    }
    FASTGPU_ASSIGN_OR_RETURN(UpsertNodeResult res, tx.UpsertNode(rec));
    node_id = res.node_id;
    return OkStatus();
  });
  if (!st.ok()) return ErrorResponse(st);
  NoteModels(rec.node.gpus);
  Changed();
  return JsonResponse(200, json::object{{"node_id", node_id},
                                        {"node_token", node_token},
                                        {"node_secret", secret},
                                        {"heartbeat_interval_ms", options_.heartbeat_interval_ms},
                                        {"lease_ms", options_.lease_ms}});
}

HttpResponse Api::Heartbeat(const HttpRequest& req, const std::string& node_id) {
  auto body = ParseObject(req.body);
  if (!body.ok()) return ErrorResponse(body.status());
  TimePoint now = clock_.Now();
  FieldReader r(*body);
  std::vector<GpuHealth> health;
  std::vector<Report> reports;
  auto gpus = r.Array("gpus");
  if (!gpus.ok()) return ErrorResponse(gpus.status());
  for (size_t i = 0; *gpus != nullptr && i < (*gpus)->size(); ++i) {
    std::string path = "gpus[" + std::to_string(i) + "]";
    const json::value& v = (**gpus)[i];
    if (!v.is_object()) return ErrorResponse(InvalidArgument(path + ": must be an object"));
    FieldReader g(v.as_object(), path);
    GpuHealth h;
    Status st = g.Int("index", h.index, 0, 1023, true);
    if (st.ok()) st = g.Bool("healthy", h.healthy);
    if (st.ok()) st = g.String("health_reason", h.reason);
    if (st.ok()) st = g.Finish();
    if (!st.ok()) return ErrorResponse(st);
    health.push_back(std::move(h));
  }
  auto replicas = r.Array("replicas");
  if (!replicas.ok()) return ErrorResponse(replicas.status());
  for (size_t i = 0; *replicas != nullptr && i < (*replicas)->size(); ++i) {
    auto rep = ReportFromJson((**replicas)[i], "replicas[" + std::to_string(i) + "]", now);
    if (!rep.ok()) return ErrorResponse(rep.status());
    reports.push_back(std::move(*rep));
  }
  if (Status st = r.Finish(); !st.ok()) return ErrorResponse(st);

  // The lease counts the heartbeat as soon as the node is known to be who it says,
  // whether or not the write below can be stored (e.g. while the disk is full).
  Status st =
      store_.Read([&](ReadTx& tx) -> Status { return AuthNode(tx, req, node_id).status(); });
  if (!st.ok()) return ErrorResponse(st);
  if (options_.leases != nullptr) options_.leases->Renew(node_id, now);

  bool changed = false;
  json::array allocations, cancel;
  st = store_.Write([&](WriteTx& tx) -> Status {
    FASTGPU_ASSIGN_OR_RETURN(NodeRecord node, AuthNode(tx, req, node_id));
    for (const GpuHealth& h : health) {
      for (const Gpu& g : node.node.gpus) {
        if (g.index == h.index && g.healthy != h.healthy) changed = true;
      }
    }
    FASTGPU_RETURN_IF_ERROR(tx.UpdateNodeHeartbeat(node_id, now, health));
    if (node.state == NodeState::kLost) {
      bool drained = tx.GetMeta(DrainKey(node_id)).ok();
      FASTGPU_RETURN_IF_ERROR(
          tx.SetNodeState(node_id, drained ? NodeState::kDraining : NodeState::kReady));
      changed = true;
    }
    for (const Report& rep : reports) {
      auto cur = tx.GetAllocation(rep.allocation_id);
      if (!cur.ok() || cur->alloc.node_id != node_id || !IsLive(cur->state)) {
        // Unknown here, or released / finished: the agent should stop and forget it. How a
        // replica the control plane stopped ended is kept on its released allocation.
        if (cur.ok() && cur->alloc.node_id == node_id) {
          if (auto late = LateExitUpdate(*cur, rep.update)) {
            FASTGPU_RETURN_IF_ERROR(tx.UpdateAllocation(rep.allocation_id, *late).status());
          }
        }
        if (cur.ok() || cur.status().code() == StatusCode::kNotFound) {
          cancel.emplace_back(rep.allocation_id);
          continue;
        }
        return cur.status();
      }
      if (cur->state == rep.update.state || !CanAdvance(cur->state, rep.update.state)) continue;
      if (rep.started_at != TimePoint{} && rep.update.state != AllocationState::kRunning &&
          CanAdvance(cur->state, AllocationState::kRunning)) {
        // First seen already finished: record when it started (metering needs both ends).
        AllocationUpdate ran{AllocationState::kRunning, rep.started_at, 0, 0, ""};
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
      if (!IsLive(rec.state)) continue;
      FASTGPU_ASSIGN_OR_RETURN(Job job, tx.GetJob(rec.alloc.job_id));
      json::object a = AllocationToJson(rec.alloc);
      a.erase("node_id");
      a.erase("created_at");
      a["replicas"] = job.spec.replicas;
      json::object spec = JobSpecToJson(job.spec);
      a["command"] = spec["command"];
      a["env"] = spec["env"];
      if (job.spec.run_as_root) a["run_as_root"] = true;
      if (!job.spec.image.empty()) a["image"] = spec["image"];
      allocations.push_back(std::move(a));
    }
    return OkStatus();
  });
  if (!st.ok()) return ErrorResponse(st);
  metrics_.CountHeartbeat();
  if (changed) Changed();
  return JsonResponse(200, json::object{{"lease_ms", options_.lease_ms},
                                        {"allocations", std::move(allocations)},
                                        {"cancel", std::move(cancel)}});
}

HttpResponse Api::AppendLogs(const HttpRequest& req, const std::string& node_id) {
  auto body = ParseObject(req.body);
  if (!body.ok()) return ErrorResponse(body.status());
  FieldReader r(*body);
  std::string alloc_id, data;
  int64_t offset = 0;
  bool final = false;
  Status st = r.String("allocation_id", alloc_id, true);
  if (st.ok()) st = r.Int("offset", offset, 0, int64_t{1} << 50, true);
  if (st.ok()) st = r.String("data", data, true);
  if (st.ok()) st = r.Bool("final", final);
  if (st.ok()) st = r.Finish();
  if (!st.ok()) return ErrorResponse(st);
  const int64_t end = offset + static_cast<int64_t>(data.size());
  int64_t next = 0;
  bool truncated = false;
  st = store_.Write([&](WriteTx& tx) -> Status {
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
    FASTGPU_ASSIGN_OR_RETURN(LogEnd le, GetLogEnd(tx, alloc_id));
    if (next == end) {
      le.shipped_bytes = std::max(le.shipped_bytes, end);
      if (final) le.final = true;
    }
    return PutLogEnd(tx, alloc_id, le);
  });
  if (!st.ok()) return ErrorResponse(st);
  log_waiters_.Notify(alloc_id);  // followed logs of this allocation read on
  return JsonResponse(200, json::object{{"next_offset", next}, {"truncated", truncated}});
}

HttpResponse Api::ListNodes() {
  json::array out;
  Status st = store_.Read([&](ReadTx& tx) -> Status {
    FASTGPU_ASSIGN_OR_RETURN(auto nodes, tx.ListNodes());
    FASTGPU_ASSIGN_OR_RETURN(auto live, tx.ListLiveAllocations());
    for (const auto& n : nodes) {
      std::vector<AllocationRecord> mine;
      for (const auto& a : live) {
        if (a.alloc.node_id == n.node.id) mine.push_back(a);
      }
      out.push_back(NodeToJson(n, mine));
    }
    return OkStatus();
  });
  if (!st.ok()) return ErrorResponse(st);
  return JsonResponse(200, json::object{{"nodes", std::move(out)}});
}

HttpResponse Api::SetDrain(const HttpRequest& req, const Principal& p,
                           const std::string& id_or_name, bool drain) {
  HttpResponse resp = Mutate(req, p, [&](WriteTx& tx) -> Result<HttpResponse> {
    FASTGPU_ASSIGN_OR_RETURN(std::string decoded, DecodePathSegment(id_or_name));
    FASTGPU_ASSIGN_OR_RETURN(NodeRecord node, FindNode(tx, decoded));
    const std::string& node_id = node.node.id;
    if (drain) {
      FASTGPU_RETURN_IF_ERROR(tx.PutMeta(DrainKey(node_id), "1"));
      if (node.state == NodeState::kReady) {
        FASTGPU_RETURN_IF_ERROR(tx.SetNodeState(node_id, NodeState::kDraining));
        node.state = NodeState::kDraining;
      }
    } else {
      FASTGPU_RETURN_IF_ERROR(tx.DeleteMeta(DrainKey(node_id)));
      if (node.state == NodeState::kDraining) {
        FASTGPU_RETURN_IF_ERROR(tx.SetNodeState(node_id, NodeState::kReady));
        node.state = NodeState::kReady;
      }
    }
    return JsonResponse(200, NodeToJson(node, {}));
  });
  if (resp.status == 200) Changed();
  return resp;
}

HttpResponse Api::RevokeNode(const HttpRequest& req, const Principal& p,
                             const std::string& id_or_name) {
  return Mutate(req, p, [&](WriteTx& tx) -> Result<HttpResponse> {
    FASTGPU_ASSIGN_OR_RETURN(std::string decoded, DecodePathSegment(id_or_name));
    FASTGPU_ASSIGN_OR_RETURN(NodeRecord found, FindNode(tx, decoded));
    const std::string& node_id = found.node.id;
    FASTGPU_RETURN_IF_ERROR(tx.RevokeNodeCredentials(node_id));
    FASTGPU_ASSIGN_OR_RETURN(NodeRecord node, tx.GetNode(node_id));
    FASTGPU_ASSIGN_OR_RETURN(auto allocs, tx.ListAllocationsByNode(node_id));
    std::vector<AllocationRecord> live;
    for (auto& a : allocs) {
      if (IsLive(a.state)) live.push_back(std::move(a));
    }
    return JsonResponse(200, NodeToJson(node, live));
  });
}

}  // namespace fastgpu::server

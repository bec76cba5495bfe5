// The routes of interactive sessions (docs/sessions.md): the CLI's WebSocket
// (GET /v1/jobs/{id}/attach) and the agent's (GET /v1/nodes/{id}/sessions/{alloc}), both
// handed to the SessionRelay once authorized.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/url_text.h"
#include "protocol/agent_protocol.h"
#include "protocol/session_frames.h"
#include "server/allocation_end.h"
#include "server/api.h"

namespace fastgpu::server {

namespace {

// Whether the client asked for stderr frames apart (protocol::kStderrQuery).
bool ReadsStderr(const HttpRequest& req) {
  auto it = req.query.find(protocol::kStderrQuery);
  return it != req.query.end() && it->second == "1";
}

bool AsksForWebSocket(const HttpRequest& req) {
  std::string upgrade = req.Header("upgrade");
  std::transform(upgrade.begin(), upgrade.end(), upgrade.begin(),
                 [](unsigned char ch) { return std::tolower(ch); });
  return upgrade == "websocket";
}

}  // namespace

Status Api::CheckSessionSpec(model::JobSpec& spec) const {
  if (!spec.session) {
    if (spec.tty || spec.idle_timeout_s != 0) {
      return InvalidArgument("tty and idle_timeout_s are only for sessions (session: true)");
    }
    return OkStatus();
  }
  if (spec.replicas != 1) return InvalidArgument("replicas: a session has exactly one replica");
  const int64_t max = options_.session_idle_timeout_s;
  if (spec.idle_timeout_s <= 0 || (max > 0 && spec.idle_timeout_s > max)) {
    spec.idle_timeout_s = max;
  }
  return OkStatus();
}

Status Api::ServesSessions() const {
  if (options_.sessions == nullptr) return Unavailable("this control plane serves no sessions");
  // Sessions meet on the leader (docs/ha.md): the agent's WebSocket and the client's must
  // reach the same relay, so a follower answers 503 and clients move to the next address.
  if (options_.leader != nullptr && !options_.leader->leading()) {
    const std::string leader = options_.leader->leader();
    return Unavailable("this control-plane replica (" + options_.leader->replica_id() +
                       ") does not lead; sessions and job exec are served by the leader" +
                       (leader.empty() ? std::string() : " (" + leader + ")"));
  }
  return OkStatus();
}

Result<Reply> Api::AttachSession(const Call& c) {
  FASTGPU_RETURN_IF_ERROR(ServesSessions());
  model::Job job;
  FASTGPU_RETURN_IF_ERROR(store_.Read([&](store::ReadTx& tx) -> Status {
    FASTGPU_ASSIGN_OR_RETURN(std::string id_or_name, DecodePathSegment(c.Param("id")));
    FASTGPU_ASSIGN_OR_RETURN(job, FindJob(tx, c.who, id_or_name));
    return OkStatus();
  }));
  SessionRelay* relay = options_.sessions;
  if (auto exec = c.req.query.find("exec"); exec != c.req.query.end()) {
    // A `job exec` of this job: the relay knows it by the exec's id.
    std::optional<ExecEntry> e =
        options_.execs != nullptr ? options_.execs->Get(exec->second) : std::nullopt;
    if (!e || e->job_id != job.id) {
      return NotFound("no exec '" + exec->second + "' of job " + job.id);
    }
    if (!AsksForWebSocket(c.req)) {
      return InvalidArgument("this route needs a WebSocket upgrade (Upgrade: websocket)");
    }
    return Reply::WebSocket(
        [relay, id = e->id, err = ReadsStderr(c.req)](std::shared_ptr<WebSocketConn> conn) {
          relay->AttachClient(id, std::move(conn), err);
        });
  }
  if (!job.spec.session) {
    return FailedPrecondition("job " + job.id + " is not a session (fastgpu run -it starts one)");
  }
  if (model::IsTerminal(job.state) && !relay->Known(job.id)) {
    return FailedPrecondition("session " + job.id + " has ended (" +
                              std::string(model::JobStateName(job.state)) + ": " + job.reason +
                              ")");
  }
  if (!AsksForWebSocket(c.req)) {
    return InvalidArgument("this route needs a WebSocket upgrade (Upgrade: websocket)");
  }
  return Reply::WebSocket(
      [relay, id = job.id, err = ReadsStderr(c.req)](std::shared_ptr<WebSocketConn> conn) {
        relay->AttachClient(id, std::move(conn), err);
      });
}

Result<Reply> Api::AgentSession(const Call& c) {
  FASTGPU_RETURN_IF_ERROR(ServesSessions());
  const std::string& node_id = c.Param("id");
  std::string exec_id;
  if (auto it = c.req.query.find("exec"); it != c.req.query.end()) exec_id = it->second;
  model::Job job;
  std::string alloc_id;
  FASTGPU_RETURN_IF_ERROR(store_.Read([&](store::ReadTx& tx) -> Status {
    FASTGPU_RETURN_IF_ERROR(AuthNode(tx, c.req, node_id).status());
    FASTGPU_ASSIGN_OR_RETURN(alloc_id, DecodePathSegment(c.Param("alloc")));
    auto alloc = tx.GetAllocation(alloc_id);
    if (!alloc.ok() || alloc->alloc.node_id != node_id) {
      return NotFound("no allocation " + alloc_id + " on node " + node_id);
    }
    FASTGPU_ASSIGN_OR_RETURN(job, tx.GetJob(alloc->alloc.job_id));
    return OkStatus();
  }));
  SessionRelay* relay = options_.sessions;
  if (!exec_id.empty()) {
    std::optional<ExecEntry> e =
        options_.execs != nullptr ? options_.execs->Get(exec_id) : std::nullopt;
    if (!e || e->allocation_id != alloc_id || e->node_id != node_id) {
      return NotFound("no exec '" + exec_id + "' of allocation " + alloc_id);
    }
    if (!AsksForWebSocket(c.req)) {
      return InvalidArgument("this route needs a WebSocket upgrade (Upgrade: websocket)");
    }
    options_.execs->Connected(exec_id);
    relay->Open(exec_id, std::chrono::seconds(options_.session_idle_timeout_s));
    return Reply::WebSocket([relay, exec_id](std::shared_ptr<WebSocketConn> conn) {
      relay->AttachAgent(exec_id, std::move(conn));
    });
  }
  if (!job.spec.session) return FailedPrecondition("job " + job.id + " is not a session");
  if (model::IsTerminal(job.state)) {
    return FailedPrecondition("session " + job.id + " has ended: " + job.reason);
  }
  if (!AsksForWebSocket(c.req)) {
    return InvalidArgument("this route needs a WebSocket upgrade (Upgrade: websocket)");
  }
  relay->Open(job.id, std::chrono::seconds(job.spec.idle_timeout_s));
  return Reply::WebSocket([relay, id = job.id](std::shared_ptr<WebSocketConn> conn) {
    relay->AttachAgent(id, std::move(conn));
  });
}

// The pending execs of a node, for agents whose heartbeats may reach a follower (only the
// leader holds execs: docs/sessions.md).
Result<Reply> Api::AgentExecs(const Call& c) {
  if (options_.execs == nullptr) return Unavailable("this control plane serves no sessions");
  FASTGPU_RETURN_IF_ERROR(ServesSessions());
  const std::string& node_id = c.Param("id");
  FASTGPU_RETURN_IF_ERROR(store_.Read(
      [&](store::ReadTx& tx) -> Status { return AuthNode(tx, c.req, node_id).status(); }));
  protocol::PendingExecs pending;
  pending.execs = options_.execs->PendingFor(node_id);
  return Reply::Text("application/json", protocol::EncodePendingExecs(pending));
}

Result<Reply> Api::ExecInJob(const Call& c) {
  if (options_.execs == nullptr) return Unavailable("this control plane serves no sessions");
  FASTGPU_RETURN_IF_ERROR(ServesSessions());
  FASTGPU_ASSIGN_OR_RETURN(json::object body, ParseObject(c.req.body));
  std::vector<std::string> command;
  int replica = 0;
  bool tty = false;
  model::JsonObjectReader r(body);
  r.StrList("command", command, model::Need::kRequired)
      .Int("replica", replica, 0, 1023)
      .Bool("tty", tty);
  FASTGPU_RETURN_IF_ERROR(r.Finish());
  if (command.empty() || command[0].empty()) return InvalidArgument("command: must not be empty");
  ExecEntry e;
  FASTGPU_RETURN_IF_ERROR(store_.Read([&](store::ReadTx& tx) -> Status {
    FASTGPU_ASSIGN_OR_RETURN(std::string id_or_name, DecodePathSegment(c.Param("id")));
    FASTGPU_ASSIGN_OR_RETURN(model::Job job, FindJob(tx, c.who, id_or_name));
    if (!job.spec.image.empty()) {
      return FailedPrecondition("job exec into a job with an image is not supported yet");
    }
    FASTGPU_ASSIGN_OR_RETURN(auto allocs, tx.ListAllocationsByJob(job.id));
    for (const auto& a : allocs) {
      if (a.alloc.replica == replica && a.state == store::AllocationState::kRunning) {
        e.job_id = job.id;
        e.allocation_id = a.alloc.id;
        e.node_id = a.alloc.node_id;
      }
    }
    if (e.allocation_id.empty()) {
      return FailedPrecondition("replica " + std::to_string(replica) + " of job " + job.id +
                                " is not running (" + std::string(model::JobStateName(job.state)) +
                                ")");
    }
    return OkStatus();
  }));
  e.id = ids_.Next("exec");
  e.command = std::move(command);
  e.tty = tty;
  options_.execs->Add(e);
  options_.sessions->Open(e.id, std::chrono::seconds(options_.session_idle_timeout_s));
  return Reply::Created(json::object{{"id", e.id},
                                     {"job_id", e.job_id},
                                     {"allocation_id", e.allocation_id},
                                     {"replica", replica}});
}

void Api::SweepSessions() {
  if (options_.sessions == nullptr) return;
  if (options_.execs != nullptr) {
    for (const std::string& id :
         options_.execs->Expire(std::chrono::seconds(60), std::chrono::hours(24))) {
      options_.sessions->End(id, "the node did not start the command within 60 s");
    }
  }
  for (const ExpiredSession& e : options_.sessions->Expired()) {
    if (e.job_id.rfind("exec-", 0) == 0) {  // an exec: only its connection ends
      options_.sessions->End(e.job_id, e.reason);
      continue;
    }
    Status st = store_.Write([&](store::WriteTx& tx) -> Status {
      FASTGPU_ASSIGN_OR_RETURN(model::Job job, tx.GetJob(e.job_id));
      if (model::IsTerminal(job.state)) return OkStatus();
      TimePoint now = clock_.Now();
      FASTGPU_RETURN_IF_ERROR(
          model::TransitionJob(job, model::JobState::kCancelled, e.reason, now));
      FASTGPU_RETURN_IF_ERROR(tx.UpdateJob(job));
      FASTGPU_ASSIGN_OR_RETURN(auto allocs, tx.ListAllocationsByJob(job.id));
      for (const auto& a : allocs) {
        if (a.state != store::AllocationState::kReleased) {
          FASTGPU_RETURN_IF_ERROR(
              tx.UpdateAllocation(a.alloc.id, ReleaseUpdate(a, now, e.reason)).status());
        }
      }
      return OkStatus();
    });
    if (!st.ok()) {
      spdlog::warn("sessions: cannot end {}: {}", e.job_id, st.ToString());
      continue;
    }
    spdlog::info("sessions: {} ended: {}", e.job_id, e.reason);
    options_.sessions->End(e.job_id, e.reason);
    Changed();
  }
}

}  // namespace fastgpu::server

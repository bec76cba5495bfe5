// The agent protocol (docs/agent-protocol.md): its message types and their one JSON form,
// used by both peers: the node agent encodes requests and decodes answers, the control
// plane (server/api_nodes.cpp) decodes requests and encodes answers. The messages are the
// protocol's own types, versioned apart from the public API: a change to the API's JSON
// does not change what agents read.
//
// Compatibility, both directions: every top-level message carries "protocol_version" (the
// sender's kAgentProtocolVersion; absent means 1, the form before the field existed). A
// receiver ignores fields it does not know (a newer peer's additions) and gives optional
// fields that are absent their defaults (an older peer's omissions); it refuses only a peer
// older than kMinAgentProtocolVersion. A change an older peer could not ignore needs a new
// minimum, not just a new version.
//
// Nested model values (a GPU at registration, a slice of an allocation) have the model's
// JSON form (model/json.h). Decoding is strict about types, ranges and required fields and
// returns InvalidArgument naming the field's path ("replicas[1].exit_code: ..."); nothing
// throws. Pure functions (Boost.JSON inside), thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "model/allocation.h"
#include "model/gpu.h"
#include "model/json.h"

namespace fastgpu::protocol {

// The version this build speaks, and the oldest peer it still understands. Version 1 is
// the protocol as first documented; messages without "protocol_version" are version 1.
inline constexpr int kAgentProtocolVersion = 1;
inline constexpr int kMinAgentProtocolVersion = 1;

// Agent -> control plane: POST /v1/nodes/register.
struct RegisterRequest {
  std::string name;
  std::string agent_id;
  std::string node_secret;  // the node's secret; "" = none yet (the control plane makes one)
  int64_t cpu_milli = 0;
  int64_t memory_mib = 0;
  bool simulated = false;
  std::vector<model::Gpu> gpus;
  int protocol_version = kAgentProtocolVersion;  // the sender's; last (aggregate order)
};

// Control plane -> agent: the answer to a registration.
struct RegisterResponse {
  std::string node_id;
  std::string node_token;
  std::string node_secret;  // the secret to present next time ("" from an older server)
  int64_t heartbeat_interval_ms = 0;
  int64_t lease_ms = 0;
  int protocol_version = kAgentProtocolVersion;  // the sender's; last (aggregate order)
};

// A replica as the agent reports it in a heartbeat.
struct ReplicaReport {
  std::string allocation_id;
  std::string state;  // "starting", "running", "exited", "failed"
  int pid = 0;
  int exit_code = 0;
  int signal = 0;
  int64_t started_at_ms = 0;  // 0: not started
  int64_t ended_at_ms = 0;    // 0: not ended
  std::string message;
  // Why it ended, when the agent knows more than the exit status: "OOMKilled" (the
  // kernel's OOM killer killed a process of its group at its memory limit). "" = none.
  std::string reason;
  // Where a replica with a port listens: "<advertise host>:<port>" ("" = no port). JSON
  // "endpoint", absent when "".
  std::string endpoint;
  // The replica runs and its readiness probe (or, without one, its start) says it serves.
  // Default false; JSON "ready", absent when false.
  bool ready = false;
};

// The health of one GPU as a heartbeat reports it.
struct GpuHealthReport {
  int index = 0;  // the GPU's index on the node, as registered
  bool healthy = true;
  std::string health_reason;  // why not healthy ("XID 79 ..."); "" when healthy
  // How busy the GPU is, 0..100 (NVML's GPU utilisation over its last sample period; a
  // simulated GPU's comes from its replicas, docs/agent.md). -1 = unknown (the default);
  // JSON "utilization_pct", absent when unknown.
  int utilization_pct = -1;
};

// Agent -> control plane: POST /v1/nodes/{id}/heartbeat.
struct HeartbeatRequest {
  std::vector<GpuHealthReport> gpus;
  std::vector<ReplicaReport> replicas;
  int protocol_version = kAgentProtocolVersion;  // the sender's; last (aggregate order)
};

// One allocation the control plane wants running on this node.
struct DesiredReplica {
  model::Allocation allocation;  // id, job_id, replica, gpu_model, slices, cpu_milli, memory_mib
  int replicas = 1;
  std::vector<std::string> command;
  std::map<std::string, std::string> env;
  // Run as root in the sandbox instead of as an unprivileged uid: only for a tenant the
  // admin allowed to (tenant setting allow_root). Default false; JSON "run_as_root".
  bool run_as_root = false;
  // The job's OCI image ("" = a plain process): the replica runs in a container
  // (container.h); the field is absent from the JSON when empty.
  std::string image;
  // An interactive session (docs/sessions.md): the agent connects the command's stdin and
  // output to the control plane over a WebSocket it opens itself, under a pseudo-terminal
  // when `tty`. Default false; JSON "session" and "tty", absent when false.
  bool session = false;
  bool tty = false;
  // The replica gets a TCP port from the agent (PORT in its environment) and is reported
  // with its endpoint. Default false; JSON "port", absent when false.
  bool port = false;
  // port only: how the agent judges it ready (model::ReadinessProbe's JSON form). Default
  // kNone: ready once running; JSON "readiness", absent when kNone.
  model::ReadinessProbe readiness;
};

// A command to run inside a running replica's environment (`fastgpu job exec`,
// docs/sessions.md), relayed like a session: the agent opens
// GET /v1/nodes/{id}/sessions/{allocation_id}?exec={exec_id} for it.
struct ExecRequest {
  std::string exec_id;
  std::string allocation_id;
  std::vector<std::string> command;
  bool tty = false;
};

// Control plane -> agent: the answer to a heartbeat.
struct HeartbeatResponse {
  int64_t lease_ms = 0;
  std::vector<DesiredReplica> allocations;
  std::vector<std::string> cancel;
  // Commands to start in running replicas (JSON "execs"; absent when none). Listed until
  // the agent's WebSocket for each has connected; the agent starts each id once.
  std::vector<ExecRequest> execs;
  int protocol_version = kAgentProtocolVersion;  // the sender's; last (aggregate order)
};

// A piece of a replica's output sent with POST /v1/nodes/{id}/logs. (The control plane's
// store has its own LogChunk, a piece read back; the names differ so that the two
// layouts never meet in one namespace.)
struct LogShipment {
  std::string allocation_id;
  int64_t offset = 0;
  std::string data;  // valid UTF-8
  // Set on the replica's last shipment, sent once it has ended and every byte of its
  // output was shipped (or refused): offset + data.size() is then the log's final size,
  // and the control plane's `job logs` may say done.
  bool final = false;
  int protocol_version = kAgentProtocolVersion;  // the sender's; last (aggregate order)
};

// Control plane -> agent: the answer to a log shipment.
struct LogResponse {
  int64_t next_offset = 0;                       // where the agent's next shipment starts
  bool truncated = false;                        // some bytes were dropped at the log's size limit
  int protocol_version = kAgentProtocolVersion;  // the sender's; last (aggregate order)
};

// ---- agent side: requests out, answers in ----
std::string EncodeRegister(const RegisterRequest& req);
Result<RegisterResponse> DecodeRegisterResponse(std::string_view body);
std::string EncodeHeartbeat(const HeartbeatRequest& req);
Result<HeartbeatResponse> DecodeHeartbeatResponse(std::string_view body);
std::string EncodeLogShipment(const LogShipment& chunk);
// The answer's next_offset.
Result<int64_t> DecodeLogResponse(std::string_view body);

// ---- control plane side: requests in, answers out ----
// Each decoder also refuses a peer older than kMinAgentProtocolVersion.
Result<RegisterRequest> DecodeRegister(std::string_view body);
std::string EncodeRegisterResponse(const RegisterResponse& resp);
Result<HeartbeatRequest> DecodeHeartbeat(std::string_view body);
std::string EncodeHeartbeatResponse(const HeartbeatResponse& resp);
Result<LogShipment> DecodeLogShipment(std::string_view body);
std::string EncodeLogResponse(const LogResponse& resp);

// A DesiredReplica as JSON and back (the state file keeps them in this form).
std::string EncodeDesiredReplica(const DesiredReplica& d);
Result<DesiredReplica> DecodeDesiredReplica(std::string_view json);

// The decoders and encoders behind the functions above (model/json.h's scheme, so that
// JsonObjectReader::Field/List and boost::json::value_from work with these types).
Status JsonDecode(const boost::json::value& v, const std::string& path,
                  model::UnknownFields unknown, GpuHealthReport& out);
Status JsonDecode(const boost::json::value& v, const std::string& path,
                  model::UnknownFields unknown, ReplicaReport& out);
Status JsonDecode(const boost::json::value& v, const std::string& path,
                  model::UnknownFields unknown, DesiredReplica& out);
Status JsonDecode(const boost::json::value& v, const std::string& path,
                  model::UnknownFields unknown, ExecRequest& out);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v,
                const GpuHealthReport& g);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v, const ReplicaReport& r);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v, const DesiredReplica& d);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v, const ExecRequest& e);

// ---- pending execs: GET /v1/nodes/{id}/execs (docs/sessions.md) ----
// With several control-plane replicas only the leader knows the execs it accepted, while
// the agent's heartbeats may go to a follower; an agent given several addresses also asks
// the leader for its node's pending execs. The answer: {"protocol_version", "execs"}.
struct PendingExecs {
  std::vector<ExecRequest> execs;
  int protocol_version = kAgentProtocolVersion;  // the sender's; last (aggregate order)
};
std::string EncodePendingExecs(const PendingExecs& pending);
Result<PendingExecs> DecodePendingExecs(std::string_view body);

// Makes `bytes` valid UTF-8: each byte that does not start or continue a valid
// sequence becomes U+FFFD. When `hold_incomplete` is set, an incomplete sequence at the
// very end is not converted but left out, and `*consumed` (optional) says how many input
// bytes the output covers (so the caller can send the rest later).
std::string SanitizeUtf8(std::string_view bytes, bool hold_incomplete = false,
                         size_t* consumed = nullptr);

}  // namespace fastgpu::protocol

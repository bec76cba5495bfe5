// The agent side of docs/agent-protocol.md: message types and their JSON form.
//
// Pure functions (Boost.JSON inside), thread-safe. Parsing is strict about types and
// required fields and returns InvalidArgument naming the field; unknown fields are
// ignored so that the control plane can add some.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "model/allocation.h"
#include "model/gpu.h"

namespace fastgpu {

struct RegisterRequest {
  std::string name;
  std::string agent_id;
  std::string node_secret;  // the node's secret; "" = none yet (the control plane makes one)
  int64_t cpu_milli = 0;
  int64_t memory_mib = 0;
  bool simulated = false;
  std::vector<Gpu> gpus;
};

struct RegisterResponse {
  std::string node_id;
  std::string node_token;
  std::string node_secret;  // the secret to present next time ("" from an older server)
  int64_t heartbeat_interval_ms = 0;
  int64_t lease_ms = 0;
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
};

struct HeartbeatRequest {
  std::vector<Gpu> gpus;  // index, healthy, health_reason are what counts
  std::vector<ReplicaReport> replicas;
  std::string message;  // free text, as in RegisterRequest
};

// One allocation the control plane wants running on this node.
struct DesiredReplica {
  Allocation allocation;  // id, job_id, replica, gpu_model, slices, cpu_milli, memory_mib
  int replicas = 1;
  std::vector<std::string> command;
  std::map<std::string, std::string> env;
  // The job's OCI image ("" = a plain process): the replica runs in a container
  // (container.h); the field is absent from the JSON when empty.
  std::string image;
};

struct HeartbeatResponse {
  int64_t lease_ms = 0;
  std::vector<DesiredReplica> allocations;
  std::vector<std::string> cancel;
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
};

std::string EncodeRegister(const RegisterRequest& req);
Result<RegisterResponse> DecodeRegisterResponse(std::string_view body);
std::string EncodeHeartbeat(const HeartbeatRequest& req);
Result<HeartbeatResponse> DecodeHeartbeatResponse(std::string_view body);
std::string EncodeLogShipment(const LogShipment& chunk);
// The answer's next_offset.
Result<int64_t> DecodeLogResponse(std::string_view body);

// A DesiredReplica as JSON and back (the state file keeps them in this form).
std::string EncodeDesiredReplica(const DesiredReplica& d);
Result<DesiredReplica> DecodeDesiredReplica(std::string_view json);

// Makes `bytes` valid UTF-8: each byte that does not start or continue a valid
// sequence becomes U+FFFD. When `hold_incomplete` is set, an incomplete sequence at the
// very end is not converted but left out, and `*consumed` (optional) says how many input
// bytes the output covers (so the caller can send the rest later).
std::string SanitizeUtf8(std::string_view bytes, bool hold_incomplete = false,
                         size_t* consumed = nullptr);

}  // namespace fastgpu

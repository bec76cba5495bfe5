// The agent's state file: what it must remember across its own restart.
//
// A small JSON file in the data dir, written atomically (temp file, fsync, rename,
// fsync of the folder; mode 0600): the agent id, the node's secret, the node id and
// token the control plane gave it,
// each replica it holds (its allocation, process handle with start times, state, log
// offsets) and the ids of allocations it already ran and forgot (so that a late
// listing never starts one twice). Pure data plus load/save; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/file_env.h"
#include "agent/launcher.h"
#include "common/result.h"
#include "protocol/agent_protocol.h"

namespace fastgpu::agent {

struct ReplicaRecord {
  protocol::DesiredReplica desired;
  std::string state = "starting";  // starting, running, exited, failed
  ProcessHandle handle;
  std::string dir;  // <data_dir>/replicas/<allocation id>
  // The replica's cgroup name (Cgroups::Create; its folders and procs files derive from
  // it); "" when it runs without a cgroup.
  std::string cgroup;
  int64_t uid = -1;  // the sandbox uid (and gid) it runs as; -1: the agent's user
  std::vector<std::string> mig_instances;
  std::vector<std::string> mps_gpus;  // UUIDs of the GPUs whose MPS daemon it uses
  int exit_code = 0;
  int signal = 0;
  int64_t started_at_ms = 0;
  int64_t ended_at_ms = 0;
  std::string message;
  std::string note;               // what the isolation gives (soft limits, simulated...)
  std::string reason;             // why it ended, when known: "OOMKilled"
  int64_t log_file_offset = 0;    // bytes of output.log already shipped
  int64_t log_server_offset = 0;  // the control plane's offset for the next chunk
  bool log_final_sent = false;    // the final shipment (LogShipment::final) was accepted
  int64_t stop_sent_at_ms = 0;    // when SIGTERM was sent; 0 = not stopping
  bool kill_sent = false;         // SIGKILL sent after the grace period
  bool unlisted = false;          // no longer desired: forget once it has ended
  int port = 0;                   // the TCP port given to it as PORT; 0 = none

  const std::string& id() const { return desired.allocation.id; }
  bool ended() const { return state == "exited" || state == "failed"; }
  std::string log_path() const { return dir + "/output.log"; }
  std::string status_path() const { return dir + "/exit-status"; }
};

struct AgentState {
  std::string agent_id;
  std::string node_id;
  std::string node_token;
  // The node's long-lived secret: the control plane registers this agent_id again only
  // for it (docs/agent-protocol.md). Kept across restarts and re-registrations.
  std::string node_secret;
  std::vector<ReplicaRecord> replicas;
  std::vector<std::string> finished;  // most recent last, at most kMaxFinished
  static constexpr size_t kMaxFinished = 4096;
};

// NotFound when the file does not exist; DataLoss when it cannot be parsed. Read through
// `env` (file_env.h).
Result<AgentState> LoadAgentState(const std::string& path, FileEnv& env = PosixFileEnv());
// Atomic replace through `env` (WriteFileAtomically); Internal on an I/O error (the old
// file is then left as it was).
Status SaveAgentState(const std::string& path, const AgentState& state,
                      FileEnv& env = PosixFileEnv());

}  // namespace fastgpu::agent

// ExecTable: the commands `fastgpu job exec` asked to run inside running replicas
// (docs/sessions.md), from the request until the node's agent has connected the exec's
// WebSocket. The heartbeat answer lists each pending exec of the node (PendingFor); the
// agent starts it and connects; the session relay then carries it like a session, keyed by
// the exec id. Kept in memory only: an exec does not outlive a restart of the control plane.
// Times come from the borrowed clock's monotonic reading. Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "protocol/agent_protocol.h"

namespace fastgpu::server {

struct ExecEntry {
  std::string id;  // "exec-<hex>"
  std::string job_id;
  std::string allocation_id;
  std::string node_id;
  std::vector<std::string> command;
  bool tty = false;
  MonoTime created{};
  bool connected = false;  // the agent's WebSocket has connected
};

class ExecTable {
 public:
  // `clock` is borrowed and must outlive the table.
  explicit ExecTable(const Clock& clock) : clock_(clock) {}

  // Records `e` (its `created` is set to now).
  void Add(ExecEntry e);
  std::optional<ExecEntry> Get(const std::string& id) const;
  // The execs of `node_id` whose agent has not connected yet, for its heartbeat answer.
  std::vector<protocol::ExecRequest> PendingFor(const std::string& node_id) const;
  // The agent's WebSocket for `id` connected: no longer pending.
  void Connected(const std::string& id);
  // Forgets execs whose agent did not connect within `pending_max` (returned, so that
  // their clients can be told) and connected ones older than `kept_max`.
  std::vector<std::string> Expire(std::chrono::milliseconds pending_max,
                                  std::chrono::milliseconds kept_max);

 private:
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, ExecEntry> execs_;
};

}  // namespace fastgpu::server

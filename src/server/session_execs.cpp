#include "server/session_execs.h"

namespace fastgpu::server {

void ExecTable::Add(ExecEntry e) {
  std::lock_guard lock(mu_);
  e.created = clock_.MonotonicNow();
  std::string id = e.id;
  execs_[id] = std::move(e);
}

std::optional<ExecEntry> ExecTable::Get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = execs_.find(id);
  if (it == execs_.end()) return std::nullopt;
  return it->second;
}

std::vector<protocol::ExecRequest> ExecTable::PendingFor(const std::string& node_id) const {
  std::vector<protocol::ExecRequest> out;
  std::lock_guard lock(mu_);
  for (const auto& [id, e] : execs_) {
    if (e.node_id != node_id || e.connected) continue;
    out.push_back({e.id, e.allocation_id, e.command, e.tty});
  }
  return out;
}

void ExecTable::Connected(const std::string& id) {
  std::lock_guard lock(mu_);
  if (auto it = execs_.find(id); it != execs_.end()) it->second.connected = true;
}

std::vector<std::string> ExecTable::Expire(std::chrono::milliseconds pending_max,
                                           std::chrono::milliseconds kept_max) {
  std::vector<std::string> out;
  const MonoTime now = clock_.MonotonicNow();
  std::lock_guard lock(mu_);
  for (auto it = execs_.begin(); it != execs_.end();) {
    const auto age = now - it->second.created;
    if (!it->second.connected && age >= pending_max) {
      out.push_back(it->first);
      it = execs_.erase(it);
    } else if (it->second.connected && age >= kept_max) {
      it = execs_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

}  // namespace fastgpu::server

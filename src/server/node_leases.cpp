#include "server/node_leases.h"

#include <algorithm>

namespace fastgpu::server {

void NodeLeases::Renew(const std::string& node_id, TimePoint at) {
  std::lock_guard lock(mu_);
  TimePoint& last = renewed_[node_id];
  last = std::max(last, at);
}

TimePoint NodeLeases::LastSeen(const std::string& node_id, TimePoint stored) const {
  std::lock_guard lock(mu_);
  TimePoint last = std::max(stored, started_at_);
  auto it = renewed_.find(node_id);
  return it == renewed_.end() ? last : std::max(last, it->second);
}

}  // namespace fastgpu::server

#include "server/pool_sim_provider.h"

#include <spdlog/spdlog.h>

namespace fastgpu::server {

SimulatedProvider::SimulatedProvider(Clock& clock, SimulatedNodeLauncher launcher,
                                     std::map<std::string, std::chrono::seconds> boot_delays)
    : clock_(clock), launcher_(std::move(launcher)), boot_delays_(std::move(boot_delays)) {}

SimulatedProvider::~SimulatedProvider() {
  std::map<std::string, Node> nodes;
  {
    std::lock_guard lock(mu_);
    nodes.swap(nodes_);
  }
  // The agents stop outside the lock.
}

Status SimulatedProvider::Create(const NodeRequest& request) {
  std::lock_guard lock(mu_);
  if (nodes_.count(request.name) > 0) {
    return AlreadyExists("simulated node " + request.name + " exists");
  }
  auto delay = boot_delays_.find(request.group);
  Node node;
  node.request = request;
  node.start_at = clock_.MonotonicNow() +
                  (delay == boot_delays_.end() ? std::chrono::seconds(0) : delay->second);
  nodes_.emplace(request.name, std::move(node));
  return OkStatus();
}

Status SimulatedProvider::Delete(const std::string& group, const std::string& name) {
  std::unique_ptr<SimulatedNode> stopping;
  {
    std::lock_guard lock(mu_);
    auto it = nodes_.find(name);
    if (it == nodes_.end() || it->second.request.group != group) return OkStatus();
    stopping = std::move(it->second.running);
    nodes_.erase(it);
  }
  return OkStatus();  // `stopping` stops its agent here, outside the lock
}

Result<std::vector<std::string>> SimulatedProvider::List(const std::string& group) {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, node] : nodes_) {
    if (node.request.group == group) names.push_back(name);
  }
  return names;
}

void SimulatedProvider::Tick(MonoTime now) {
  std::vector<NodeRequest> due;
  {
    std::lock_guard lock(mu_);
    for (auto& [name, node] : nodes_) {
      if (node.running == nullptr && node.start_at <= now) due.push_back(node.request);
    }
  }
  for (const NodeRequest& request : due) {
    auto started = launcher_(request);  // may register over HTTP: outside the lock
    std::lock_guard lock(mu_);
    auto it = nodes_.find(request.name);
    if (!started.ok()) {
      spdlog::warn("pool: simulated node {} did not start: {}", request.name,
                   started.status().ToString());
      if (it != nodes_.end()) it->second.start_at = now + std::chrono::seconds(1);
      continue;
    }
    if (it != nodes_.end()) it->second.running = std::move(started).value();
  }
}

int SimulatedProvider::started() const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& [name, node] : nodes_) n += node.running != nullptr ? 1 : 0;
  return n;
}

}  // namespace fastgpu::server

#include "server/replica_status.h"

#include <algorithm>
#include <set>

#include "server/prometheus_text.h"

namespace fastgpu::server {

ReplicaStatus::ReplicaStatus(const Clock& clock, std::chrono::milliseconds stale_after)
    : clock_(clock), stale_after_(stale_after) {}

bool ReplicaStatus::FreshLocked(TimePoint updated) const {
  return clock_.Now() - updated <= stale_after_;
}

void ReplicaStatus::PurgeStaleLocked() {
  const TimePoint now = clock_.Now();
  if (now - last_purge_ < stale_after_) return;
  last_purge_ = now;
  std::vector<std::string> stale;
  for (const auto& [id, e] : allocations_) {
    if (!FreshLocked(e.updated)) stale.push_back(id);
  }
  for (const std::string& id : stale) ForgetLocked(id);
  std::erase_if(gpus_, [&](const auto& kv) { return !FreshLocked(kv.second.second); });
}

void ReplicaStatus::ObserveNode(const std::string& node_id, TimePoint at,
                                std::vector<ReplicaObservation> live,
                                const std::map<int, int>& gpu_percent) {
  std::lock_guard lock(mu_);
  PurgeStaleLocked();
  // The node's previous allocations: those it no longer lists are forgotten.
  std::vector<std::string>& mine = by_node_[node_id];
  std::set<std::string> listed;
  for (const ReplicaObservation& o : live) listed.insert(o.allocation_id);
  for (const std::string& id : mine) {
    if (listed.count(id)) continue;
    auto it = allocations_.find(id);
    if (it == allocations_.end() || it->second.node_id != node_id) continue;
    auto job = by_job_.find(it->second.seen.job_id);
    if (job != by_job_.end()) {
      job->second.erase(id);
      if (job->second.empty()) by_job_.erase(job);
    }
    allocations_.erase(it);
  }
  mine.clear();
  for (ReplicaObservation& o : live) {
    mine.push_back(o.allocation_id);
    by_job_[o.job_id].insert(o.allocation_id);
    Entry& e = allocations_[o.allocation_id];
    e.node_id = node_id;
    e.updated = at;
    e.seen = std::move(o);
  }
  if (mine.empty()) by_node_.erase(node_id);
  for (auto it = gpus_.lower_bound(std::make_pair(node_id, -1));
       it != gpus_.end() && it->first.first == node_id;) {
    it = gpu_percent.count(it->first.second) ? std::next(it) : gpus_.erase(it);
  }
  for (const auto& [index, percent] : gpu_percent) {
    if (percent < 0) {
      gpus_.erase(std::make_pair(node_id, index));
    } else {
      gpus_[std::make_pair(node_id, index)] = {std::min(percent, 100), at};
    }
  }
}

void ReplicaStatus::Forget(const std::string& allocation_id) {
  std::lock_guard lock(mu_);
  ForgetLocked(allocation_id);
}

void ReplicaStatus::ForgetLocked(const std::string& allocation_id) {
  auto it = allocations_.find(allocation_id);
  if (it == allocations_.end()) return;
  auto job = by_job_.find(it->second.seen.job_id);
  if (job != by_job_.end()) {
    job->second.erase(allocation_id);
    if (job->second.empty()) by_job_.erase(job);
  }
  auto node = by_node_.find(it->second.node_id);
  if (node != by_node_.end()) {
    std::erase(node->second, allocation_id);
    if (node->second.empty()) by_node_.erase(node);
  }
  allocations_.erase(it);
}

std::vector<ReplicaEndpoint> ReplicaStatus::EndpointsOfJob(const std::string& job_id) const {
  std::lock_guard lock(mu_);
  std::vector<ReplicaEndpoint> out;
  auto job = by_job_.find(job_id);
  if (job == by_job_.end()) return out;
  for (const std::string& id : job->second) {
    auto it = allocations_.find(id);
    if (it == allocations_.end() || !FreshLocked(it->second.updated)) continue;
    const Entry& e = it->second;
    out.push_back({id, e.seen.job_id, e.seen.endpoint, e.seen.ready, e.updated});
  }
  return out;
}

std::optional<ReplicaEndpoint> ReplicaStatus::EndpointOf(const std::string& allocation_id) const {
  std::lock_guard lock(mu_);
  auto it = allocations_.find(allocation_id);
  if (it == allocations_.end() || !FreshLocked(it->second.updated)) return std::nullopt;
  const Entry& e = it->second;
  return ReplicaEndpoint{allocation_id, e.seen.job_id, e.seen.endpoint, e.seen.ready, e.updated};
}

std::optional<double> ReplicaStatus::AllocationGpuUtilization(
    const std::string& allocation_id) const {
  std::lock_guard lock(mu_);
  auto it = allocations_.find(allocation_id);
  if (it == allocations_.end() || !FreshLocked(it->second.updated)) return std::nullopt;
  std::set<int> indices(it->second.seen.gpu_indices.begin(), it->second.seen.gpu_indices.end());
  double sum = 0;
  int known = 0;
  for (int index : indices) {
    auto g = gpus_.find(std::make_pair(it->second.node_id, index));
    if (g == gpus_.end() || !FreshLocked(g->second.second)) continue;
    sum += g->second.first;
    ++known;
  }
  if (known == 0) return std::nullopt;
  return sum / known;
}

std::optional<int> ReplicaStatus::GpuPercent(const std::string& node_id, int gpu_index) const {
  std::lock_guard lock(mu_);
  auto g = gpus_.find(std::make_pair(node_id, gpu_index));
  if (g == gpus_.end() || !FreshLocked(g->second.second)) return std::nullopt;
  return g->second.first;
}

std::vector<GpuUtilization> ReplicaStatus::GpuUtilizations() const {
  std::lock_guard lock(mu_);
  std::vector<GpuUtilization> out;
  for (const auto& [key, value] : gpus_) {
    if (!FreshLocked(value.second)) continue;
    out.push_back({key.first, key.second, value.first, value.second});
  }
  return out;
}

std::string ReplicaStatus::RenderMetrics() const {
  std::string out;
  PromHeader("fastgpu_gpu_utilization_percent",
             "GPU utilisation (0-100) as its node's agent last reported it", "gauge", out);
  for (const GpuUtilization& g : GpuUtilizations()) {
    out += "fastgpu_gpu_utilization_percent{node=\"" + PromEscape(g.node_id) + "\",gpu=\"" +
           std::to_string(g.gpu_index) + "\"} " + std::to_string(g.percent) + "\n";
  }
  return out;
}

bool ReplicaJobReady(const model::Job& job, const ReplicaStatus* status) {
  if (job.state != model::JobState::kRunning) return false;
  if (!job.spec.port || status == nullptr) return true;
  for (const ReplicaEndpoint& e : status->EndpointsOfJob(job.id)) {
    if (e.ready) return true;
  }
  return false;
}

}  // namespace fastgpu::server

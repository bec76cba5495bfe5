#include "server/pool_history.h"

#include <algorithm>

#include "server/metrics.h"

namespace fastgpu::server {

std::optional<PoolSample> SampleOf(const PoolSnapshot& snapshot, int64_t at_ms) {
  if (!snapshot.allocation) return std::nullopt;
  PoolSample s;
  s.at_ms = at_ms;
  s.capacity_milli = snapshot.capacity_milli;
  s.allocated_milli = snapshot.allocated_milli;
  s.free_milli = snapshot.free_milli;
  s.fragmentation_ratio = snapshot.fragmentation_ratio;
  s.fragmented_milli = snapshot.fragmented_milli;
  for (const auto& [tenant, pending] : snapshot.pending_by_tenant) {
    s.pending_jobs += pending.jobs;
    s.oldest_pending_seconds = std::max(s.oldest_pending_seconds, pending.oldest_seconds);
  }
  return s;
}

json::object PoolSampleToJson(const PoolSample& s) {
  auto optional = [](const std::optional<double>& v) -> json::value {
    return v ? json::value(*v) : json::value(nullptr);
  };
  return {{"at", s.at_ms},
          {"capacity_milli", s.capacity_milli},
          {"allocated_milli", s.allocated_milli},
          {"free_milli", s.free_milli},
          {"fragmentation_ratio", optional(s.fragmentation_ratio)},
          {"fragmented_milli", optional(s.fragmented_milli)},
          {"pending_jobs", s.pending_jobs},
          {"oldest_pending_seconds", s.oldest_pending_seconds}};
}

PoolHistory::PoolHistory(size_t capacity) : capacity_(std::max<size_t>(1, capacity)) {}

void PoolHistory::Add(const PoolSample& s) {
  std::lock_guard lock(mu_);
  if (samples_.size() == capacity_) samples_.pop_front();
  samples_.push_back(s);
}

std::vector<PoolSample> PoolHistory::Since(int64_t since_ms, size_t limit) const {
  std::lock_guard lock(mu_);
  auto first = std::lower_bound(samples_.begin(), samples_.end(), since_ms,
                                [](const PoolSample& s, int64_t t) { return s.at_ms < t; });
  size_t n = static_cast<size_t>(samples_.end() - first);
  if (n > limit) first += static_cast<std::ptrdiff_t>(n - limit);
  return std::vector<PoolSample>(first, samples_.end());
}

PoolSampler::PoolSampler(Metrics& metrics, Clock& clock, PoolHistory& history,
                         std::chrono::milliseconds interval)
    : metrics_(metrics),
      clock_(clock),
      history_(history),
      interval_(std::max(interval, std::chrono::milliseconds(1))) {}

PoolSampler::~PoolSampler() { Stop(); }

void PoolSampler::Start() {
  thread_ = std::thread([this] { Run(); });
}

void PoolSampler::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool PoolSampler::SampleOnce() {
  std::optional<PoolSample> s = SampleOf(metrics_.pool(), clock_.NowUnixMillis());
  if (!s) return false;
  history_.Add(*s);
  return true;
}

void PoolSampler::Run() {
  MonoTime next = clock_.MonotonicNow() + interval_;
  std::unique_lock lock(mu_);
  while (!clock_.WaitUntil(lock, cv_, next, [this] { return stopping_; })) {
    lock.unlock();
    SampleOnce();
    lock.lock();
    // The next tick on the grid; ticks missed while the machine was busy are skipped.
    const MonoTime now = clock_.MonotonicNow();
    while (next <= now) next += interval_;
  }
}

}  // namespace fastgpu::server

#include "server/request_rate.h"

#include <algorithm>

namespace fastgpu::server {

namespace {

int64_t UnixSecond(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

RequestRate::RequestRate(TimePoint started_at, std::chrono::seconds window)
    : window_(std::max(window, std::chrono::seconds(1))), started_at_(started_at) {}

void RequestRate::Prune(Series& s, int64_t now_s) const {
  while (!s.buckets.empty() && s.buckets.front().first <= now_s - window_.count()) {
    s.buckets.pop_front();
  }
}

void RequestRate::Record(const std::string& service, TimePoint at) {
  const int64_t sec = UnixSecond(at);
  std::lock_guard lock(mu_);
  Series& s = services_[service];
  s.last = std::max(s.last, at);
  if (!s.buckets.empty() && s.buckets.back().first >= sec) {
    // The clock may hand two threads readings in either order: a late reading counts in
    // the newest bucket.
    ++s.buckets.back().second;
  } else {
    s.buckets.emplace_back(sec, 1);
  }
  Prune(s, s.buckets.back().first);
}

double RequestRate::Rate(const std::string& service, TimePoint now) const {
  const int64_t now_s = UnixSecond(now);
  std::lock_guard lock(mu_);
  auto it = services_.find(service);
  if (it == services_.end()) return 0;
  int64_t n = 0;
  for (const auto& [sec, count] : it->second.buckets) {
    if (sec > now_s - window_.count() && sec <= now_s) n += count;
  }
  return static_cast<double>(n) / static_cast<double>(window_.count());
}

TimePoint RequestRate::LastRequest(const std::string& service) const {
  std::lock_guard lock(mu_);
  auto it = services_.find(service);
  if (it == services_.end()) return started_at_;
  return std::max(started_at_, it->second.last);
}

void RequestRate::BeginWait(const std::string& service) {
  std::lock_guard lock(mu_);
  ++services_[service].waiting;
}

void RequestRate::EndWait(const std::string& service) {
  std::lock_guard lock(mu_);
  auto it = services_.find(service);
  if (it != services_.end() && it->second.waiting > 0) --it->second.waiting;
}

int RequestRate::Waiting(const std::string& service) const {
  std::lock_guard lock(mu_);
  auto it = services_.find(service);
  return it == services_.end() ? 0 : it->second.waiting;
}

std::vector<std::string> RequestRate::Active(TimePoint now) const {
  const int64_t now_s = UnixSecond(now);
  std::vector<std::string> out;
  std::lock_guard lock(mu_);
  for (const auto& [name, s] : services_) {
    const bool recent = !s.buckets.empty() && s.buckets.back().first > now_s - window_.count();
    if (recent || s.waiting > 0) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void RequestRate::Restart(TimePoint at) {
  std::lock_guard lock(mu_);
  started_at_ = std::max(started_at_, at);
}

}  // namespace fastgpu::server

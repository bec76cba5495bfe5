#include "server/log_waiters.h"

namespace fastgpu::server {

LogWaiters::Watch::Watch(LogWaiters& waiters, std::string alloc_id)
    : waiters_(waiters), alloc_id_(std::move(alloc_id)) {
  std::lock_guard lock(waiters_.mu_);
  ++waiters_.entries_[alloc_id_].watches;
}

LogWaiters::Watch::~Watch() {
  std::lock_guard lock(waiters_.mu_);
  auto it = waiters_.entries_.find(alloc_id_);
  if (it != waiters_.entries_.end() && --it->second.watches <= 0) waiters_.entries_.erase(it);
}

uint64_t LogWaiters::Watch::Version() const {
  std::lock_guard lock(waiters_.mu_);
  return waiters_.entries_[alloc_id_].version;
}

uint64_t LogWaiters::Watch::Wait(uint64_t seen, std::chrono::milliseconds timeout) {
  std::unique_lock lock(waiters_.mu_);
  Entry& e = waiters_.entries_[alloc_id_];  // kept while this watch lives
  waiters_.cv_.wait_for(lock, timeout, [&] { return e.version > seen; });
  return e.version;
}

void LogWaiters::Notify(const std::string& alloc_id) {
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(alloc_id);
    if (it == entries_.end()) return;
    ++it->second.version;
  }
  cv_.notify_all();
}

int LogWaiters::watched() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(entries_.size());
}

}  // namespace fastgpu::server

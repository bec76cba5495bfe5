#include "server/log_limiter.h"

namespace fastgpu::server {

LogLimiter::LogLimiter(std::chrono::steady_clock::duration interval, Now now)
    : interval_(interval), now_(std::move(now)) {}

std::optional<uint64_t> LogLimiter::Allow() {
  auto now = now_();
  std::lock_guard lock(mu_);
  if (last_ && now - *last_ < interval_) {
    ++suppressed_;
    return std::nullopt;
  }
  last_ = now;
  uint64_t n = suppressed_;
  suppressed_ = 0;
  return n;
}

std::string SuppressedSuffix(uint64_t suppressed) {
  return suppressed == 0 ? "" : " (" + std::to_string(suppressed) + " similar suppressed)";
}

}  // namespace fastgpu::server

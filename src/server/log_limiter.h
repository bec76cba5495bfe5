// LogLimiter: lets a repeated log line through at most once per interval and counts the
// ones it held back, so that a fault that repeats thousands of times a second (accept
// failing with EMFILE, say) logs once, then once per interval with the count suppressed.
//
// Thread-safe (one mutex). The time source is injectable for tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace fastgpu::server {

class LogLimiter {
 public:
  using Now = std::function<std::chrono::steady_clock::time_point()>;
  // `interval`: the least time between two lines let through (default 10 s).
  explicit LogLimiter(std::chrono::steady_clock::duration interval = std::chrono::seconds(10),
                      Now now = &std::chrono::steady_clock::now);

  // Whether to log this occurrence: the number of occurrences suppressed since the last
  // one let through (0 for the first), or nullopt to stay quiet.
  std::optional<uint64_t> Allow();

 private:
  const std::chrono::steady_clock::duration interval_;
  const Now now_;
  std::mutex mu_;
  std::optional<std::chrono::steady_clock::time_point> last_;
  uint64_t suppressed_ = 0;
};

// " (N similar suppressed)" for N > 0, "" for 0: the suffix of a limited log line.
std::string SuppressedSuffix(uint64_t suppressed);

}  // namespace fastgpu::server

// Clock: where FastGPU code gets the time.
//
// Nothing in `model`, `scheduler` or the reconciler reads the wall clock directly;
// it takes a Clock&, so tests and the simulator run the production code with a
// ManualClock. SystemClock is thread-safe; ManualClock is thread-safe too (its
// time is an atomic), so a test may advance it while a server thread reads it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace fastgpu {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  // The current time. Never goes backwards for ManualClock; SystemClock follows the OS.
  virtual TimePoint Now() const = 0;
  // Milliseconds since the Unix epoch, as stored in databases and JSON.
  int64_t NowUnixMillis() const;
};

// The real wall clock. Use SystemClock::Default() for a process-wide instance.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  static SystemClock& Default();
};

// A clock that moves only when told to. Starts at `start` (default: the Unix epoch
// plus one day, so that "zero" timestamps stand out in tests).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint(std::chrono::hours(24)));
  TimePoint Now() const override;
  // Moves the clock forward by `d`; negative durations are ignored.
  void Advance(std::chrono::milliseconds d);
  // Sets the clock to `t` if `t` is later than now; otherwise does nothing.
  void AdvanceTo(TimePoint t);

 private:
  std::atomic<int64_t> now_ms_;
};

int64_t ToUnixMillis(TimePoint t);
TimePoint FromUnixMillis(int64_t ms);
// RFC 3339 in UTC with milliseconds: "2026-11-25T10:11:01.000Z".
std::string FormatRfc3339(TimePoint t);

}  // namespace fastgpu

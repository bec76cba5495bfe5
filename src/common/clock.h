// Clock: where FastGPU code gets the time, and how it waits for time to pass.
//
// Nothing in `model`, `scheduler`, the reconciler or the agent's loop reads the wall
// clock or sleeps directly; it takes a Clock&, so tests and the simulator run the
// production code with a ManualClock. A Clock has two readings, as Envoy's TimeSource
// does: Now() (wall time, for timestamps that are stored or shown) and MonotonicNow()
// (never jumps, for intervals, deadlines and timeouts). The waits (SleepUntil, WaitUntil)
// follow the monotonic reading: on a ManualClock they block until a test advances the
// clock past their deadline (like abseil's SimulatedClock), so a loop with a 10 s interval
// is driven in microseconds and deterministically.
//
// Thread safety: every method of SystemClock and ManualClock may be called from any
// thread; a test may advance a ManualClock while server or agent threads read it or wait
// on it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>

namespace fastgpu {

using TimePoint = std::chrono::system_clock::time_point;
// A reading of a clock's monotonic timeline (steady_clock's type; a ManualClock's
// timeline is its own, starting at the epoch of that type).
using MonoTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  // The current time. Never goes backwards for ManualClock; SystemClock follows the OS.
  virtual TimePoint Now() const = 0;
  // Milliseconds since the Unix epoch, as stored in databases and JSON.
  int64_t NowUnixMillis() const;
  // A time that never goes backwards and does not jump with the wall clock: the time
  // elapsed between two readings is the time that passed (on this clock).
  virtual MonoTime MonotonicNow() const = 0;

  // Blocks the caller until MonotonicNow() >= deadline (at once when it already is).
  virtual void SleepUntil(MonoTime deadline) const = 0;
  void SleepFor(std::chrono::nanoseconds d) const { SleepUntil(MonotonicNow() + d); }

  // Waits until done() is true or MonotonicNow() >= deadline, whichever comes first.
  // `lock` holds the mutex that guards what done() reads; it is held whenever done() is
  // called and released while blocked. Whoever changes what done() reads does so under
  // that mutex and then notifies `cv`. Returns done() as last evaluated: true when the
  // wait ended because of it (done() is checked before the deadline, so a wait whose
  // deadline has passed still returns true when done() is).
  virtual bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable_any& cv,
                         MonoTime deadline, const std::function<bool()>& done) const = 0;
  bool WaitFor(std::unique_lock<std::mutex>& lock, std::condition_variable_any& cv,
               std::chrono::nanoseconds timeout, const std::function<bool()>& done) const {
    return WaitUntil(lock, cv, MonotonicNow() + timeout, done);
  }
};

// The real clocks: system_clock for Now(), steady_clock for MonotonicNow() and the waits.
// Use SystemClock::Default() for a process-wide instance.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  MonoTime MonotonicNow() const override { return std::chrono::steady_clock::now(); }
  void SleepUntil(MonoTime deadline) const override;
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable_any& cv,
                 MonoTime deadline, const std::function<bool()>& done) const override;
  static SystemClock& Default();
};

// A clock that moves only when told to. Starts at `start` (default: the Unix epoch
// plus one day, so that "zero" timestamps stand out in tests); its monotonic reading
// starts at MonoTime() and moves by the same amounts. Threads blocked in SleepUntil or
// WaitUntil wake when Advance/AdvanceTo reaches their deadline (or, for WaitUntil, when
// their condition variable is notified), never because real time passed. A WaitUntil's
// done() runs while the clock's own lock is held: it may read Now() and MonotonicNow()
// but must not call the clock's other methods.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint(std::chrono::hours(24)));
  TimePoint Now() const override;
  MonoTime MonotonicNow() const override;
  void SleepUntil(MonoTime deadline) const override;
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable_any& cv,
                 MonoTime deadline, const std::function<bool()>& done) const override;

  // Moves the clock forward by `d` and wakes the waits it makes due; negative durations
  // are ignored.
  void Advance(std::chrono::milliseconds d);
  // Sets the clock to `t` if `t` is later than now (waking the waits it makes due);
  // otherwise does nothing.
  void AdvanceTo(TimePoint t);

  // How many threads are blocked in SleepUntil/WaitUntil with a deadline still ahead.
  int Waiters() const;
  // Blocks (in real time, at most `real_timeout`) until at least `n` threads are blocked
  // with a deadline still ahead: a test advances the clock only once the code under test
  // waits on it, so that no advance is lost. False on timeout.
  bool AwaitWaiters(int n, std::chrono::milliseconds real_timeout = std::chrono::seconds(10)) const;
  // The earliest deadline of a blocked thread; MonoTime::max() when none waits.
  MonoTime NextDeadline() const;

 private:
  struct Waiter {
    MonoTime deadline;
    std::condition_variable_any* cv;  // the caller's (WaitUntil) or sleep_cv_ (SleepUntil)
  };
  // Moves the time by `ms` > 0 and notifies the waits now due; mu_ held.
  void AdvanceLocked(int64_t ms);

  std::atomic<int64_t> now_ms_;  // changed only under mu_; read without it
  const int64_t start_ms_;
  mutable std::mutex mu_;                           // guards waiters_; held to move the time
  mutable std::list<Waiter*> waiters_;              // the blocked threads' own records
  mutable std::condition_variable_any sleep_cv_;    // SleepUntil's waits
  mutable std::condition_variable_any changed_cv_;  // for AwaitWaiters
};

int64_t ToUnixMillis(TimePoint t);
TimePoint FromUnixMillis(int64_t ms);
// RFC 3339 in UTC with milliseconds: "2026-11-25T10:11:01.000Z".
std::string FormatRfc3339(TimePoint t);

}  // namespace fastgpu

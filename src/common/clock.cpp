#include "common/clock.h"

#include <algorithm>
#include <ctime>
#include <iterator>
#include <thread>

namespace fastgpu {

int64_t Clock::NowUnixMillis() const { return ToUnixMillis(Now()); }

SystemClock& SystemClock::Default() {
  static SystemClock clock;
  return clock;
}

void SystemClock::SleepUntil(MonoTime deadline) const { std::this_thread::sleep_until(deadline); }

bool SystemClock::WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable_any& cv,
                            MonoTime deadline, const std::function<bool()>& done) const {
  return cv.wait_until(lock, deadline, done);
}

namespace {

// Two held locks as one Lockable, so that a condition_variable_any releases both while it
// blocks and takes them back (the caller's first, then the clock's) when it wakes.
class BothLocks {
 public:
  BothLocks(std::unique_lock<std::mutex>& first, std::unique_lock<std::mutex>& second)
      : first_(first), second_(second) {}
  void lock() {
    first_.lock();
    second_.lock();
  }
  void unlock() {
    second_.unlock();
    first_.unlock();
  }

 private:
  std::unique_lock<std::mutex>& first_;
  std::unique_lock<std::mutex>& second_;
};

}  // namespace

ManualClock::ManualClock(TimePoint start)
    : now_ms_(ToUnixMillis(start)), start_ms_(ToUnixMillis(start)) {}

TimePoint ManualClock::Now() const { return FromUnixMillis(now_ms_.load()); }

MonoTime ManualClock::MonotonicNow() const {
  return MonoTime(std::chrono::milliseconds(now_ms_.load() - start_ms_));
}

void ManualClock::SleepUntil(MonoTime deadline) const {
  std::unique_lock lock(mu_);
  Waiter self{deadline, &sleep_cv_};
  auto it = waiters_.insert(waiters_.end(), &self);
  changed_cv_.notify_all();
  while (MonotonicNow() < deadline) sleep_cv_.wait(lock);
  waiters_.erase(it);
  changed_cv_.notify_all();
}

bool ManualClock::WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable_any& cv,
                            MonoTime deadline, const std::function<bool()>& done) const {
  // The time is checked and the wait begun under mu_, and Advance moves the time and
  // notifies under mu_: no advance can fall between the check and the wait.
  std::unique_lock clock_lock(mu_);
  Waiter self{deadline, &cv};
  auto it = waiters_.insert(waiters_.end(), &self);
  changed_cv_.notify_all();
  BothLocks both(lock, clock_lock);
  bool result = false;
  for (;;) {
    if (done()) {
      result = true;
      break;
    }
    if (MonotonicNow() >= deadline) break;
    cv.wait(both);
  }
  waiters_.erase(it);
  changed_cv_.notify_all();
  return result;
}

void ManualClock::AdvanceLocked(int64_t ms) {
  now_ms_.fetch_add(ms);
  const MonoTime now = MonotonicNow();
  for (Waiter* w : waiters_) {
    if (w->deadline <= now) w->cv->notify_all();
  }
  changed_cv_.notify_all();
}

void ManualClock::Advance(std::chrono::milliseconds d) {
  if (d.count() <= 0) return;
  std::lock_guard lock(mu_);
  AdvanceLocked(d.count());
}

void ManualClock::AdvanceTo(TimePoint t) {
  std::lock_guard lock(mu_);
  const int64_t target = ToUnixMillis(t);
  const int64_t cur = now_ms_.load();
  if (target > cur) AdvanceLocked(target - cur);
}

int ManualClock::Waiters() const {
  std::lock_guard lock(mu_);
  const MonoTime now = MonotonicNow();
  int n = 0;
  for (const Waiter* w : waiters_) n += w->deadline > now ? 1 : 0;
  return n;
}

bool ManualClock::AwaitWaiters(int n, std::chrono::milliseconds real_timeout) const {
  std::unique_lock lock(mu_);
  return changed_cv_.wait_for(lock, real_timeout, [&] {
    const MonoTime now = MonotonicNow();
    int ahead = 0;
    for (const Waiter* w : waiters_) ahead += w->deadline > now ? 1 : 0;
    return ahead >= n;
  });
}

MonoTime ManualClock::NextDeadline() const {
  std::lock_guard lock(mu_);
  MonoTime next = MonoTime::max();
  for (const Waiter* w : waiters_) next = std::min(next, w->deadline);
  return next;
}

int64_t ToUnixMillis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TimePoint FromUnixMillis(int64_t ms) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(ms)));
}

std::string FormatRfc3339(TimePoint t) {
  int64_t ms = ToUnixMillis(t);
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  int millis = static_cast<int>(ms % 1000);
  if (millis < 0) {
    millis += 1000;
    secs -= 1;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof(out), "%s.%03dZ", buf, millis);
  return out;
}

}  // namespace fastgpu

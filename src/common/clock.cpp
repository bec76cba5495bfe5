#include "common/clock.h"

#include <ctime>

namespace fastgpu {

int64_t Clock::NowUnixMillis() const { return ToUnixMillis(Now()); }

SystemClock& SystemClock::Default() {
  static SystemClock clock;
  return clock;
}

ManualClock::ManualClock(TimePoint start) : now_ms_(ToUnixMillis(start)) {}

TimePoint ManualClock::Now() const { return FromUnixMillis(now_ms_.load()); }

void ManualClock::Advance(std::chrono::milliseconds d) {
  if (d.count() > 0) now_ms_.fetch_add(d.count());
}

void ManualClock::AdvanceTo(TimePoint t) {
  int64_t target = ToUnixMillis(t);
  int64_t cur = now_ms_.load();
  while (target > cur && !now_ms_.compare_exchange_weak(cur, target)) {
  }
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

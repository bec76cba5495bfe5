#include "metering/period.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <string>

namespace fastgpu::metering {
namespace {

using std::chrono::days;
using std::chrono::milliseconds;
using std::chrono::sys_days;
using std::chrono::year_month_day;

year_month_day MonthOf(int64_t unix_ms) {
  auto tp = std::chrono::floor<days>(std::chrono::sys_time<milliseconds>(milliseconds(unix_ms)));
  year_month_day ymd{tp};
  return ymd.year() / ymd.month() / std::chrono::day{1};
}

int64_t ToMs(const year_month_day& ymd) {
  return std::chrono::duration_cast<milliseconds>(sys_days(ymd).time_since_epoch()).count();
}

}  // namespace

int64_t MonthStartMs(int64_t unix_ms) { return ToMs(MonthOf(unix_ms)); }

int64_t NextMonthStartMs(int64_t unix_ms) {
  return ToMs(MonthOf(unix_ms) + std::chrono::months{1});
}

std::string MonthKey(int64_t unix_ms) {
  year_month_day ymd = MonthOf(unix_ms);
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()));
  return buf;
}

Result<int64_t> ParseInstantMs(std::string_view text) {
  const std::string t(text);
  auto bad = [&] {
    return InvalidArgument("'" + t +
                           "' is not a time (use 2026-11-25, 2026-11-25T10:00:00Z or Unix ms)");
  };
  if (t.empty()) return bad();
  if (t.find('-') == std::string::npos) {
    int64_t ms = 0;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), ms);
    if (ec != std::errc() || ptr != t.data() + t.size() || ms < 0) return bad();
    return ms;
  }
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0, n = 0;
  if (std::sscanf(t.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10) return bad();
  if (t.size() > 10) {
    int m = 0;
    if (std::sscanf(t.c_str() + 10, "T%2d:%2d:%2d%n", &h, &mi, &s, &m) != 3 || m != 9) {
      return bad();
    }
    size_t pos = 19;
    if (pos < t.size() && t[pos] == '.') {
      int k = 0;
      if (std::sscanf(t.c_str() + pos, ".%3d%n", &ms, &k) != 1 || k != 4) return bad();
      pos += 4;
    }
    if (pos + 1 != t.size() || t[pos] != 'Z') return bad();
  }
  year_month_day ymd{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                     std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return bad();
  return ToMs(ymd) + ((h * 60 + mi) * 60 + s) * int64_t{1000} + ms;
}

}  // namespace fastgpu::metering

#include "metering/period.h"

#include <chrono>
#include <cstdio>

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

}  // namespace fastgpu::metering

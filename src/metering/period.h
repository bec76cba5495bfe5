// Budget periods: a tenant's budget is spent per calendar month in UTC.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace fastgpu::metering {

// Unix milliseconds of the first instant of the UTC calendar month holding `unix_ms`.
int64_t MonthStartMs(int64_t unix_ms);
// The first instant of the next UTC month.
int64_t NextMonthStartMs(int64_t unix_ms);
// "2026-11" for any instant of November 2026 (UTC).
std::string MonthKey(int64_t unix_ms);

// An instant as users write it: Unix milliseconds ("1795600800000"), a UTC date
// ("2026-11-25", its midnight) or RFC 3339 in UTC ("2026-11-25T10:00:00Z", optional
// ".mmm"). InvalidArgument naming the text otherwise.
Result<int64_t> ParseInstantMs(std::string_view text);

}  // namespace fastgpu::metering

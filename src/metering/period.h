// Budget periods: a tenant's budget is spent per calendar month in UTC.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace fastgpu::metering {

// Unix milliseconds of the first instant of the UTC calendar month holding `unix_ms`.
int64_t MonthStartMs(int64_t unix_ms);
// The first instant of the next UTC month.
int64_t NextMonthStartMs(int64_t unix_ms);
// "2026-11" for any instant of November 2026 (UTC).
std::string MonthKey(int64_t unix_ms);

}  // namespace fastgpu::metering

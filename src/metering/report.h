// Usage reports: metered records grouped by job, service, GPU model or UTC day, priced.
//
// Amounts are exact in microcents until they are rounded to cents, once, per cell: one
// job's use of one GPU model on one UTC day (a record is split at UTC midnight; the
// split never changes its billed seconds). A row's cents are the sum of its cells'
// rounded cents and the total (the bill) is the sum of all cells, so the rows of every
// grouping (job, model, day) add up to the same total to the cent, and a month's bill is
// the sum of its days'. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "metering/pricing.h"

namespace fastgpu::metering {

enum class GroupBy { kJob, kModel, kDay, kService };
Result<GroupBy> ParseGroupBy(std::string_view text);  // "job", "model", "day", "service"
std::string_view GroupByName(GroupBy by);

struct UsageRow {
  // job id, GPU model ("cpu-only" for none), "2026-11-25", or the service's name (kNoService
  // for the plain jobs)
  std::string key;
  int64_t billed_seconds = 0;     // replica-seconds billed
  int64_t gpu_milli_seconds = 0;  // GPU held (billed share, milli) x seconds
  int64_t microcents = 0;         // exact (unrounded) charge of the row
  int64_t cents = 0;              // sum of the row's cells, each rounded half up
  double GpuHours() const { return static_cast<double>(gpu_milli_seconds) / 3.6e6; }
};

// The by-service row of the jobs that are no service's replicas.
inline constexpr std::string_view kNoService = "-";

struct UsageReport {
  GroupBy by = GroupBy::kJob;
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  std::vector<UsageRow> rows;  // sorted by key
  int64_t total_cents = 0;     // the bill: the sum of every cell's rounded charge
};

// Prices the parts of `records` that fall in [from_ms, to_ms). A record running past
// `to_ms` is clipped there (its end is unknown yet or later); the minimum charge applies
// to records that start inside the window. Records are split at UTC midnight for the
// by-day grouping; the split never changes a record's total. InvalidArgument for a
// bad record, price table or window.
Result<UsageReport> BuildReport(const std::vector<UsageRecord>& records, const PriceTable& prices,
                                GroupBy by, int64_t from_ms, int64_t to_ms);

// "key,billed_seconds,gpu_hours,cost" with a header line and a closing "total" line.
std::string ReportToCsv(const UsageReport& report);
// {"by":..,"from":..,"to":..,"rows":[{"key","billed_seconds","gpu_hours",
//  "gpu_milli_seconds","cents","cost"}],"total_cents":..,"total":"$.."}; gpu_hours is
// rounded to 6 decimals (gpu_milli_seconds is exact), money is integer cents plus "$1.23".
std::string ReportToJson(const UsageReport& report);

}  // namespace fastgpu::metering

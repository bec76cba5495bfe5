#include "metering/report.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <tuple>

#include "metering/json_text.h"

namespace fastgpu::metering {
namespace {

constexpr int64_t kDayMs = 86'400'000;

std::string DayKey(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

struct Slice {
  int64_t start_ms;
  int64_t seconds;
};

// Splits a record's billed seconds over UTC days without changing their sum.
std::vector<Slice> SplitByDay(int64_t start, int64_t end, int64_t billed) {
  std::vector<Slice> out;
  int64_t t = start;
  int64_t given = 0;
  while (true) {
    int64_t next_midnight = (t / kDayMs + 1) * kDayMs;
    bool last = next_midnight >= end;
    int64_t upto = last ? billed : std::min(billed, CeilDiv(next_midnight - start, 1000));
    out.push_back({t, upto - given});
    given = upto;
    if (last) break;
    t = next_midnight;
  }
  return out;
}

// GPU-hours to 6 decimals (what the CSV shows); exact in gpu_milli_seconds.
double RoundedGpuHours(const UsageRow& row) { return std::round(row.GpuHours() * 1e6) / 1e6; }

}  // namespace

Result<GroupBy> ParseGroupBy(std::string_view text) {
  if (text == "job") return GroupBy::kJob;
  if (text == "model") return GroupBy::kModel;
  if (text == "day") return GroupBy::kDay;
  if (text == "service") return GroupBy::kService;
  return InvalidArgument("unknown grouping '" + std::string(text) +
                         "' (use job, service, model or day)");
}

std::string_view GroupByName(GroupBy by) {
  switch (by) {
    case GroupBy::kJob:
      return "job";
    case GroupBy::kModel:
      return "model";
    case GroupBy::kDay:
      return "day";
    case GroupBy::kService:
      return "service";
  }
  return "job";
}

Result<UsageReport> BuildReport(const std::vector<UsageRecord>& records, const PriceTable& prices,
                                GroupBy by, int64_t from_ms, int64_t to_ms) {
  FASTGPU_RETURN_IF_ERROR(ValidatePriceTable(prices));
  if (to_ms < from_ms) return InvalidArgument("report window ends before it starts");
  // The unit of rounding is the cell: one job's use of one GPU model on one UTC day. Each
  // cell's exact microcents are rounded to cents once; every row is a sum of whole cells
  // and the total is the sum of all cells, so the rows of every grouping add up to the
  // same total, and a month's bill is the sum of its days' bills.
  struct Cell {
    std::string row_key;
    int64_t microcents = 0;
  };
  std::map<std::string, UsageRow> rows;
  std::map<std::tuple<std::string, std::string, std::string>, Cell> cells;
  for (const UsageRecord& rec : records) {
    FASTGPU_RETURN_IF_ERROR(ValidateUsageRecord(rec).WithContext(rec.allocation_id));
    int64_t start = std::max(rec.start_ms, from_ms);
    int64_t end = std::min(rec.end_ms, to_ms);
    if (end < start || (end == start && rec.start_ms < from_ms)) continue;
    UsageRecord clipped = rec;
    clipped.start_ms = start;
    clipped.end_ms = end;
    PriceTable p = prices;
    if (rec.start_ms < from_ms) p.minimum_charge_seconds = 0;
    int64_t billed = BilledSeconds(clipped, p);
    if (billed == 0) continue;
    int64_t share_milli = clipped.gpu_count * BilledGpuShareMicro(clipped) / 1000;
    const std::string model = rec.gpu_model.empty() ? "cpu-only" : rec.gpu_model;
    for (const Slice& s : SplitByDay(start, std::max(end, start + 1), billed)) {
      if (s.seconds == 0) continue;
      int64_t micro = ChargeMicrocents(clipped, s.seconds, p);
      const std::string day = DayKey(s.start_ms);
      std::string key;
      switch (by) {
        case GroupBy::kJob:
          key = rec.job_id;
          break;
        case GroupBy::kModel:
          key = model;
          break;
        case GroupBy::kDay:
          key = day;
          break;
        case GroupBy::kService:
          key = rec.service.empty() ? std::string(kNoService) : rec.service;
          break;
      }
      UsageRow& row = rows[key];
      row.key = key;
      row.billed_seconds += s.seconds;
      row.gpu_milli_seconds += share_milli * s.seconds;
      row.microcents += micro;
      Cell& cell = cells[{rec.job_id, model, day}];
      cell.row_key = key;
      cell.microcents += micro;
    }
  }
  UsageReport report;
  report.by = by;
  report.from_ms = from_ms;
  report.to_ms = to_ms;
  for (const auto& [id, cell] : cells) {
    const int64_t cents = RoundToCents(cell.microcents);
    rows[cell.row_key].cents += cents;
    report.total_cents += cents;
  }
  for (auto& [key, row] : rows) report.rows.push_back(row);
  return report;
}

std::string ReportToCsv(const UsageReport& r) {
  std::string out = std::string(GroupByName(r.by)) + ",billed_seconds,gpu_hours,cost\n";
  char buf[64];
  for (const UsageRow& row : r.rows) {
    std::snprintf(buf, sizeof(buf), "%.6f", row.GpuHours());
    char cost[32];
    std::snprintf(cost, sizeof(cost), "%lld.%02lld", static_cast<long long>(row.cents / 100),
                  static_cast<long long>(row.cents % 100));
    out += row.key + "," + std::to_string(row.billed_seconds) + "," + buf + "," + cost + "\n";
  }
  char total[32];
  std::snprintf(total, sizeof(total), "%lld.%02lld", static_cast<long long>(r.total_cents / 100),
                static_cast<long long>(r.total_cents % 100));
  out += std::string("total,,,") + total + "\n";
  return out;
}

std::string ReportToJson(const UsageReport& r) {
  boost::json::object o;
  o["by"] = std::string(GroupByName(r.by));
  o["from"] = r.from_ms;
  o["to"] = r.to_ms;
  boost::json::array rows;
  for (const UsageRow& row : r.rows) {
    rows.push_back(boost::json::object{{"key", row.key},
                                       {"billed_seconds", row.billed_seconds},
                                       {"gpu_hours", RoundedGpuHours(row)},
                                       {"gpu_milli_seconds", row.gpu_milli_seconds},
                                       {"cents", row.cents},
                                       {"cost", FormatCents(row.cents)}});
  }
  o["rows"] = std::move(rows);
  o["total_cents"] = r.total_cents;
  o["total"] = FormatCents(r.total_cents);
  return JsonText(o);
}

}  // namespace fastgpu::metering

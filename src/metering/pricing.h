// Prices and per-second charges for metered GPU, CPU and memory use.
//
// Money is integer throughout: prices in millicents (1/1000 cent) per hour, charges in
// microcents (1/1,000,000 cent), bills in whole cents. A fraction of a GPU pays its
// fraction; a memory-heavy fraction pays by the larger of its compute share and its
// memory share. Plain value types and pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace fastgpu::metering {

struct PriceTable {
  // Price of one whole GPU for one hour, per GPU model, in millicents ($2.49 = 249000).
  std::map<std::string, int64_t> gpu_hour_millicents;
  // For models not in the table. Default 0: unlisted models are free.
  int64_t default_gpu_hour_millicents = 0;
  int64_t cpu_hour_millicents = 0;         // per core-hour; default 0
  int64_t memory_gib_hour_millicents = 0;  // per GiB-hour of main memory; default 0
  // Every usage record is billed for at least this many seconds; default 0 (none).
  int64_t minimum_charge_seconds = 0;

  int64_t GpuHourMillicents(std::string_view model) const;
};

// Refuses negative prices and minimums.
Status ValidatePriceTable(const PriceTable& prices);

// Parses a price in dollars ("2.49", "0.0005") into millicents; at most 5 decimals.
Result<int64_t> ParseDollarsToMillicents(std::string_view text);
// "$2.49" from cents; "-$0.01" for negatives.
std::string FormatCents(int64_t cents);

// What one allocation held, and for how long.
struct UsageRecord {
  std::string allocation_id;
  std::string job_id;
  std::string tenant_id;
  std::string gpu_model;          // empty for CPU-only replicas
  int gpu_count = 0;              // GPUs held
  int gpu_milli = 0;              // per GPU, 1..1000
  int64_t gpu_memory_mib = 0;     // memory cap per GPU (0 = none asked)
  int64_t gpu_total_memory_mib = 0;  // the GPU's memory (for the memory share)
  int64_t cpu_milli = 0;
  int64_t memory_mib = 0;
  int64_t start_ms = 0;           // Unix milliseconds
  int64_t end_ms = 0;             // Unix milliseconds; >= start_ms
  // The service the job is a replica of, by the service's name (docs/services.md); "" for
  // a plain job. Only the by-service grouping reads it.
  std::string service;
};

Status ValidateUsageRecord(const UsageRecord& record);

// The billed seconds of a record: its length rounded up to the whole second, at least
// the table's minimum.
int64_t BilledSeconds(const UsageRecord& record, const PriceTable& prices);

// The GPU share billed per GPU, in parts per million: max(gpu_milli / 1000,
// gpu_memory_mib / gpu_total_memory_mib), at most 1,000,000.
int64_t BilledGpuShareMicro(const UsageRecord& record);

// Charge for `seconds` of the record's shape, in microcents (rounded half up).
int64_t ChargeMicrocents(const UsageRecord& record, int64_t seconds, const PriceTable& prices);

// Rounds microcents to whole cents, half up (half away from zero for negatives).
int64_t RoundToCents(int64_t microcents);

}  // namespace fastgpu::metering

// The table of named batch placers (sched::BatchPlacer, scheduler/batch_placer.h):
// placement methods that decide a window of pending requests at once, for `fastgpu sim
// --policies` and `fastgpu server --placer` alike. Names that the scheduler's policy
// registry (sched::MakePolicy) does not know are looked up here, in a fixed table
// (batch_placers.cpp; a new placer is one file plus one table line, see
// batch_placers_internal.h).
//
// Thread-safety: the functions are thread-safe; each placer serves one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "scheduler/batch_placer.h"
#include "scheduler/policy.h"

namespace fastgpu::placer {

struct BatchOptions {
  int batch_size = 64;            // requests per PlaceBatch call (the driver's window); default 64
  double time_limit_seconds = 1;  // solver budget per call; default 1 s
  uint64_t seed = 0;              // seeds the warm start's policy; default 0
  // The workload to measure against; default empty (learned: SetTargetWorkload).
  std::vector<sched::TargetTask> target_workload;
};

// A new placer by name; NotFound (listing the names) when the table has none by it.
Result<std::unique_ptr<sched::BatchPlacer>> MakeBatchPlacer(std::string_view name,
                                                            const BatchOptions& options);
// The names in the table, in table order: "ilp-batch".
std::vector<std::string> BatchPlacerNames();
// Whether `name` is in the table.
bool IsBatchPlacer(std::string_view name);
// Every placement method a driver accepts, for messages: "online policies: first-fit, ...;
// batch placers: ilp-batch".
std::string KnownPlacersText();

}  // namespace fastgpu::placer

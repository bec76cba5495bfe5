// The saving of pooling: what a set of placed tasks costs when each pays for the share
// of GPU it holds, against what it would cost if every task held whole GPUs (a
// fraction rounded up to one dedicated GPU), under the same price table.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "metering/pricing.h"

namespace fastgpu::metering {

struct PlacedTask {
  std::string gpu_model;    // model of the GPUs it was placed on; empty for CPU-only
  int gpu_count = 0;
  int gpu_milli = 0;        // per GPU, 1..1000
  int64_t cpu_milli = 0;
  int64_t memory_mib = 0;
  int64_t duration_s = 0;   // how long it ran
};

struct PoolingCost {
  int64_t pooled_cents = 0;        // each task pays its share
  int64_t dedicated_cents = 0;     // each GPU task holds whole GPUs
  double pooled_gpu_hours = 0;
  double dedicated_gpu_hours = 0;
  // 1 - pooled / dedicated GPU-hours (0 when nothing used a GPU).
  double GpuHourSaving() const {
    return dedicated_gpu_hours > 0 ? 1.0 - pooled_gpu_hours / dedicated_gpu_hours : 0.0;
  }
};

// InvalidArgument for a negative duration or amount, or a bad price table.
Result<PoolingCost> CostOfTasks(const std::vector<PlacedTask>& tasks, const PriceTable& prices);

}  // namespace fastgpu::metering

#include "metering/pooling.h"

namespace fastgpu::metering {

Result<PoolingCost> CostOfTasks(const std::vector<PlacedTask>& tasks, const PriceTable& prices) {
  FASTGPU_RETURN_IF_ERROR(ValidatePriceTable(prices));
  PoolingCost cost;
  int64_t pooled_micro = 0, dedicated_micro = 0;
  int64_t pooled_milli_s = 0, dedicated_milli_s = 0;
  for (size_t i = 0; i < tasks.size(); ++i) {
    const PlacedTask& t = tasks[i];
    if (t.duration_s < 0) return InvalidArgument("task " + std::to_string(i) + ": negative duration");
    UsageRecord r;
    r.gpu_model = t.gpu_model;
    r.gpu_count = t.gpu_count;
    r.gpu_milli = t.gpu_milli;
    r.cpu_milli = t.cpu_milli;
    r.memory_mib = t.memory_mib;
    r.end_ms = t.duration_s * 1000;
    FASTGPU_RETURN_IF_ERROR(ValidateUsageRecord(r).WithContext("task " + std::to_string(i)));
    pooled_micro += ChargeMicrocents(r, t.duration_s, prices);
    pooled_milli_s += static_cast<int64_t>(t.gpu_count) * t.gpu_milli * t.duration_s;
    if (t.gpu_count > 0) r.gpu_milli = 1000;
    dedicated_micro += ChargeMicrocents(r, t.duration_s, prices);
    dedicated_milli_s += static_cast<int64_t>(t.gpu_count) * 1000 * t.duration_s;
  }
  cost.pooled_cents = RoundToCents(pooled_micro);
  cost.dedicated_cents = RoundToCents(dedicated_micro);
  cost.pooled_gpu_hours = static_cast<double>(pooled_milli_s) / 3.6e6;
  cost.dedicated_gpu_hours = static_cast<double>(dedicated_milli_s) / 3.6e6;
  return cost;
}

}  // namespace fastgpu::metering

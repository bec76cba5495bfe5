// GPU health: turns raw inventory readings and XID events into healthy / unhealthy
// with a reason, as reported in the heartbeat (the control plane gives an unhealthy GPU
// no new work and requeues what ran on it).
//
// A GPU is unhealthy when it no longer answers (fell off the bus), when a fatal XID
// was seen on it, when its uncorrectable ECC error count is above the threshold, or
// when it runs hotter than the threshold. XID and fell-off-the-bus verdicts stick until
// the agent restarts (they need an operator: a GPU reset or a reboot); ECC and
// temperature follow the current reading.
//
// Thread safety: HealthTracker is used by one thread (the agent loop).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/gpu_inventory.h"

namespace fastgpu::agent {

struct HealthThresholds {
  // XIDs that make a GPU unhealthy. Default: 48 (double-bit ECC), 61/62 (internal
  // micro-controller), 64 (ECC page retirement failure), 74 (NVLink), 79 (fell off the
  // bus), 92 (high single-bit ECC rate), 94/95 (contained/uncontained ECC), 119/120 (GSP).
  std::set<int> fatal_xids = {48, 61, 62, 64, 74, 79, 92, 94, 95, 119, 120};
  // Unhealthy when the volatile uncorrectable ECC count is above this. Default 0.
  int64_t max_uncorrected_ecc = 0;
  // Unhealthy above this temperature in °C. Default 95; 0 disables the check.
  int max_temperature_c = 95;
};

// "XID 79 (fell off the bus)" and the like; the bare number for XIDs it does not name.
std::string DescribeXid(int xid);

class HealthTracker {
 public:
  explicit HealthTracker(HealthThresholds thresholds) : thresholds_(std::move(thresholds)) {}

  // Records events (a fatal XID makes its GPU unhealthy until restart).
  void Observe(const std::vector<GpuEvent>& events);
  // Fills gpu.healthy / gpu.health_reason of each sample from the thresholds, the
  // sticky verdicts and the reading itself, and returns the GPUs.
  std::vector<model::Gpu> Evaluate(const std::vector<GpuSample>& samples);

 private:
  HealthThresholds thresholds_;
  std::map<int, std::string> sticky_;  // gpu index -> reason
};

}  // namespace fastgpu::agent

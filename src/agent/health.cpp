#include "agent/health.h"

namespace fastgpu::agent {

std::string DescribeXid(int xid) {
  std::string what;
  switch (xid) {
    case 13:
      what = "graphics engine exception";
      break;
    case 31:
      what = "GPU memory page fault";
      break;
    case 43:
      what = "GPU stopped processing";
      break;
    case 45:
      what = "preemptive cleanup";
      break;
    case 48:
      what = "double-bit ECC error";
      break;
    case 61:
    case 62:
      what = "internal micro-controller error";
      break;
    case 63:
      what = "ECC page retirement or row remapping recorded";
      break;
    case 64:
      what = "ECC page retirement or row remapping failure";
      break;
    case 74:
      what = "NVLink error";
      break;
    case 79:
      what = "fell off the bus";
      break;
    case 92:
      what = "high single-bit ECC error rate";
      break;
    case 94:
      what = "contained ECC error";
      break;
    case 95:
      what = "uncontained ECC error";
      break;
    case 119:
    case 120:
      what = "GSP error";
      break;
    default:
      break;
  }
  std::string out = "XID " + std::to_string(xid);
  if (!what.empty()) out += " (" + what + ")";
  return out;
}

void HealthTracker::Observe(const std::vector<GpuEvent>& events) {
  for (const GpuEvent& e : events) {
    if (thresholds_.fatal_xids.count(e.xid) == 0) continue;
    if (sticky_.count(e.gpu_index) == 0) sticky_[e.gpu_index] = DescribeXid(e.xid);
  }
}

std::vector<model::Gpu> HealthTracker::Evaluate(const std::vector<GpuSample>& samples) {
  std::vector<model::Gpu> out;
  out.reserve(samples.size());
  for (const GpuSample& s : samples) {
    model::Gpu gpu = s.gpu;
    if (!s.present && sticky_.count(gpu.index) == 0) {
      sticky_[gpu.index] = "GPU no longer answers (fell off the bus)";
    }
    std::string reason;
    if (auto it = sticky_.find(gpu.index); it != sticky_.end()) {
      reason = it->second;
    } else if (s.ecc_uncorrected > thresholds_.max_uncorrected_ecc) {
      reason = std::to_string(s.ecc_uncorrected) + " uncorrectable ECC errors (threshold " +
               std::to_string(thresholds_.max_uncorrected_ecc) + ")";
    } else if (thresholds_.max_temperature_c > 0 &&
               s.temperature_c > thresholds_.max_temperature_c) {
      reason = "temperature " + std::to_string(s.temperature_c) + " C above " +
               std::to_string(thresholds_.max_temperature_c) + " C";
    }
    gpu.healthy = reason.empty();
    gpu.health_reason = reason;
    out.push_back(std::move(gpu));
  }
  return out;
}

}  // namespace fastgpu::agent

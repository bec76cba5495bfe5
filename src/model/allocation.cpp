#include "model/allocation.h"

#include <set>

namespace fastgpu::model {

int64_t Allocation::TotalGpuMilli() const {
  int64_t total = 0;
  for (const VgpuSlice& s : slices) total += s.milli;
  return total;
}

Status ValidateSlice(const VgpuSlice& s, const Gpu& gpu) {
  std::string where = "slice on gpu " + std::to_string(s.gpu_index);
  if (s.milli < 1 || s.milli > 1000) return InvalidArgument(where + ": milli must be 1..1000");
  if (s.memory_mib < 0 || s.memory_mib > gpu.memory_mib) {
    return InvalidArgument(where + ": memory_mib must be 0.." + std::to_string(gpu.memory_mib));
  }
  if (s.isolation == Isolation::kDefault)
    return InvalidArgument(where + ": isolation not resolved");
  if (s.isolation == Isolation::kExclusive && s.milli != 1000) {
    return InvalidArgument(where + ": exclusive isolation needs the whole GPU");
  }
  if (s.isolation == Isolation::kMig && !gpu.mig_enabled) {
    return InvalidArgument(where + ": GPU is not in MIG mode");
  }
  return OkStatus();
}

Status ValidateAllocation(const Allocation& a, const Node& node) {
  if (a.node_id != node.id) return InvalidArgument("allocation is for another node");
  if (a.replica < 0) return InvalidArgument("replica must not be negative");
  if (a.cpu_milli < 0 || a.cpu_milli > node.cpu_milli) {
    return InvalidArgument("allocation cpu_milli exceeds the node's");
  }
  if (a.memory_mib < 0 || a.memory_mib > node.memory_mib) {
    return InvalidArgument("allocation memory_mib exceeds the node's");
  }
  std::set<int> used;
  for (const VgpuSlice& s : a.slices) {
    if (s.gpu_index < 0 || s.gpu_index >= static_cast<int>(node.gpus.size())) {
      return InvalidArgument("slice names gpu " + std::to_string(s.gpu_index) +
                             " which the node does not have");
    }
    if (!used.insert(s.gpu_index).second) {
      return InvalidArgument("allocation uses gpu " + std::to_string(s.gpu_index) + " twice");
    }
    FASTGPU_RETURN_IF_ERROR(ValidateSlice(s, node.gpus[s.gpu_index]));
  }
  return OkStatus();
}

}  // namespace fastgpu::model

// Checks shared by the isolation modes (isolation_internal.h).
#include "agent/isolation_internal.h"

namespace fastgpu::agent {

std::string GpuName(int index) { return "GPU " + std::to_string(index); }

int64_t SliceMemoryMib(const model::VgpuSlice& s, int64_t gpu_memory_mib) {
  if (s.memory_mib > 0) return s.memory_mib;
  return gpu_memory_mib * s.milli / 1000;
}

Status CheckPlainGpu(model::Isolation iso, const SliceRequest& r) {
  const std::string mode(model::IsolationName(iso));
  const model::Gpu& g = r.gpu.gpu;
  const std::string name = GpuName(g.index);
  if (g.mig_enabled) {
    return FailedPrecondition(mode + " isolation: " + name +
                              " is in MIG mode; only mig slices can use it");
  }
  if (!r.slice.gpu_uuid.empty() && r.slice.gpu_uuid != g.uuid) {
    return InvalidArgument("slice names " + r.slice.gpu_uuid + " but " + name + " is " + g.uuid);
  }
  if (r.slice.memory_mib > g.memory_mib) {
    return InvalidArgument("slice on " + name + " asks " + std::to_string(r.slice.memory_mib) +
                           " MiB; the GPU has " + std::to_string(g.memory_mib));
  }
  return OkStatus();
}

Result<SliceGrant> PlaceFraction(model::Isolation iso, const SliceRequest& r) {
  const std::string mode(model::IsolationName(iso));
  const model::Gpu& g = r.gpu.gpu;
  const std::string name = GpuName(g.index);
  if (r.others.modes.count(model::Isolation::kExclusive)) {
    return ResourceExhausted(name + " is held exclusively by another replica");
  }
  for (model::Isolation m : r.others.modes) {
    if (m != iso) {
      return FailedPrecondition(mode + " isolation: " + name + " already runs " +
                                std::string(model::IsolationName(m)) +
                                " replicas; modes are not mixed on one GPU");
    }
  }
  const int64_t mine = SliceMemoryMib(r.slice, g.memory_mib);
  if (r.others.milli + r.slice.milli > 1000) {
    return ResourceExhausted(name + " would be oversubscribed: " + std::to_string(r.others.milli) +
                             " + " + std::to_string(r.slice.milli) + " milli > 1000");
  }
  if (r.others.memory_mib + mine > g.memory_mib) {
    return ResourceExhausted(
        name + " memory would be oversubscribed: " + std::to_string(r.others.memory_mib) + " + " +
        std::to_string(mine) + " MiB > " + std::to_string(g.memory_mib) + " MiB");
  }
  return SliceGrant{g.index, g.uuid, "", r.slice.milli, mine};
}

Status CheckOneGpu(model::Isolation iso, const model::Allocation& a) {
  const std::string mode(model::IsolationName(iso));
  if (a.slices.size() > 1) {
    return FailedPrecondition(std::string(mode) +
                              " isolation gives one GPU per replica; this allocation has " +
                              std::to_string(a.slices.size()) + " slices");
  }
  return OkStatus();
}

Status FractionalMode::CheckAllocation(const model::Allocation& allocation) const {
  return CheckOneGpu(Kind(), allocation);
}

Result<SliceGrant> FractionalMode::PlaceSlice(const SliceRequest& request) const {
  FASTGPU_RETURN_IF_ERROR(CheckPlainGpu(Kind(), request));
  return PlaceFraction(Kind(), request);
}

void FractionalMode::SetShare(const SliceGrant& grant, VgpuPlan* plan) {
  plan->env["FASTGPU_GPU_MILLI"] = std::to_string(grant.milli);
  plan->env["FASTGPU_GPU_MEMORY_MIB"] = std::to_string(grant.memory_mib);
}

}  // namespace fastgpu::agent

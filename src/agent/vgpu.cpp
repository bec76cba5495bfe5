#include "agent/vgpu.h"

#include <algorithm>
#include <set>

namespace fastgpu {
namespace {

std::string GpuName(int index) { return "GPU " + std::to_string(index); }

// Memory a slice holds: its cap, or its compute share of the GPU when it names none.
int64_t SliceMemoryMib(const VgpuSlice& s, int64_t gpu_memory_mib) {
  if (s.memory_mib > 0) return s.memory_mib;
  return gpu_memory_mib * s.milli / 1000;
}

}  // namespace

std::string MpsPipeDirectory(const std::string& mps_root, const std::string& gpu_uuid) {
  return mps_root + "/" + gpu_uuid + "/pipe";
}

Result<VgpuPlan> PlanVgpu(const DesiredReplica& want, const std::vector<GpuSample>& gpus,
                          const std::vector<Allocation>& placed,
                          const std::vector<std::string>& placed_mig, const std::string& mps_root) {
  const Allocation& a = want.allocation;
  VgpuPlan plan;
  plan.env["FASTGPU_JOB_ID"] = a.job_id;
  plan.env["FASTGPU_REPLICA"] = std::to_string(a.replica);
  plan.env["FASTGPU_REPLICAS"] = std::to_string(want.replicas);
  plan.env["FASTGPU_ALLOCATION_ID"] = a.id;
  if (a.slices.empty()) {
    plan.env["CUDA_VISIBLE_DEVICES"] = "";
    plan.env["FASTGPU_ISOLATION"] = "none";
    return plan;
  }
  const Isolation iso = a.slices[0].isolation;
  const std::string mode(IsolationName(iso));
  for (const VgpuSlice& s : a.slices) {
    if (s.isolation != iso) {
      return InvalidArgument("the slices of one allocation must share one isolation mode");
    }
  }
  if (iso == Isolation::kDefault) return InvalidArgument("slice without an explicit isolation");
  if (iso == Isolation::kVm) return Unimplemented("vm isolation is not available yet");
  if ((iso == Isolation::kMps || iso == Isolation::kShared) && a.slices.size() > 1) {
    return FailedPrecondition(mode + " isolation gives one GPU per replica; this allocation has " +
                              std::to_string(a.slices.size()) + " slices");
  }
  std::set<std::string> mig_in_use(placed_mig.begin(), placed_mig.end());
  std::vector<std::string> visible;
  bool simulated = false;
  int milli = 0;
  int64_t memory_mib = 0;
  std::set<int> seen;
  for (const VgpuSlice& s : a.slices) {
    auto it = std::find_if(gpus.begin(), gpus.end(),
                           [&](const GpuSample& g) { return g.gpu.index == s.gpu_index; });
    if (it == gpus.end()) {
      return InvalidArgument("slice names " + GpuName(s.gpu_index) + ", which this node lacks");
    }
    if (!seen.insert(s.gpu_index).second) {
      return InvalidArgument(GpuName(s.gpu_index) + " appears twice in the allocation");
    }
    const GpuSample& g = *it;
    const std::string name = GpuName(g.gpu.index);
    simulated = simulated || g.gpu.simulated;
    if (!g.present || !g.gpu.healthy) {
      return FailedPrecondition(mode + " isolation: " + name + " is unhealthy (" +
                                g.gpu.health_reason + ")");
    }
    if (s.milli < 1 || s.milli > 1000) {
      return InvalidArgument("slice on " + name + ": milli must be 1..1000");
    }
    if (iso == Isolation::kMig) {
      if (!g.gpu.mig_enabled) {
        return FailedPrecondition("mig isolation: " + name + " is not in MIG mode");
      }
      const MigInstance* chosen = nullptr;
      if (!s.gpu_uuid.empty() && s.gpu_uuid != g.gpu.uuid) {
        for (const MigInstance& m : g.mig_instances) {
          if (m.uuid == s.gpu_uuid) chosen = &m;
        }
        if (chosen == nullptr) {
          return InvalidArgument("slice names " + s.gpu_uuid + ", which is neither " + name +
                                 " nor one of its MIG instances");
        }
        if (mig_in_use.count(chosen->uuid)) {
          return FailedPrecondition("mig isolation: instance " + chosen->uuid + " is in use");
        }
      } else {
        for (const MigInstance& m : g.mig_instances) {
          if (mig_in_use.count(m.uuid) || m.memory_mib < s.memory_mib) continue;
          if (chosen == nullptr || m.memory_mib < chosen->memory_mib) chosen = &m;
        }
        if (chosen == nullptr) {
          return FailedPrecondition("mig isolation: " + name + " has no free MIG instance with " +
                                    std::to_string(s.memory_mib) +
                                    " MiB (the agent never creates instances)");
        }
      }
      mig_in_use.insert(chosen->uuid);
      plan.mig_instances.push_back(chosen->uuid);
      visible.push_back(chosen->uuid);
      memory_mib = chosen->memory_mib;
      continue;
    }
    if (g.gpu.mig_enabled) {
      return FailedPrecondition(mode + " isolation: " + name +
                                " is in MIG mode; only mig slices can use it");
    }
    if (!s.gpu_uuid.empty() && s.gpu_uuid != g.gpu.uuid) {
      return InvalidArgument("slice names " + s.gpu_uuid + " but " + name + " is " + g.gpu.uuid);
    }
    if (s.memory_mib > g.gpu.memory_mib) {
      return InvalidArgument("slice on " + name + " asks " + std::to_string(s.memory_mib) +
                             " MiB; the GPU has " + std::to_string(g.gpu.memory_mib));
    }
    int used_milli = 0;
    int64_t used_memory = 0;
    std::set<Isolation> modes;
    for (const Allocation& p : placed) {
      if (p.id == a.id) continue;
      for (const VgpuSlice& ps : p.slices) {
        if (ps.gpu_index != s.gpu_index) continue;
        used_milli += ps.milli;
        used_memory += SliceMemoryMib(ps, g.gpu.memory_mib);
        modes.insert(ps.isolation);
      }
    }
    if (iso == Isolation::kExclusive) {
      if (s.milli != 1000) return InvalidArgument("exclusive isolation takes whole GPUs");
      if (!modes.empty()) {
        return ResourceExhausted("exclusive isolation: " + name + " already runs other replicas");
      }
    } else {
      if (modes.count(Isolation::kExclusive)) {
        return ResourceExhausted(name + " is held exclusively by another replica");
      }
      for (Isolation m : modes) {
        if (m != iso) {
          return FailedPrecondition(mode + " isolation: " + name + " already runs " +
                                    std::string(IsolationName(m)) +
                                    " replicas; modes are not mixed on one GPU");
        }
      }
      int64_t mine = SliceMemoryMib(s, g.gpu.memory_mib);
      if (used_milli + s.milli > 1000) {
        return ResourceExhausted(name + " would be oversubscribed: " + std::to_string(used_milli) +
                                 " + " + std::to_string(s.milli) + " milli > 1000");
      }
      if (used_memory + mine > g.gpu.memory_mib) {
        return ResourceExhausted(
            name + " memory would be oversubscribed: " + std::to_string(used_memory) + " + " +
            std::to_string(mine) + " MiB > " + std::to_string(g.gpu.memory_mib) + " MiB");
      }
      milli = s.milli;
      memory_mib = mine;
    }
    visible.push_back(g.gpu.uuid);
  }
  std::string devices;
  for (const std::string& v : visible) devices += (devices.empty() ? "" : ",") + v;
  plan.env["CUDA_VISIBLE_DEVICES"] = devices;
  plan.env["FASTGPU_ISOLATION"] = mode;
  const VgpuSlice& first = a.slices[0];
  if (iso == Isolation::kMps) {
    plan.env["CUDA_MPS_PIPE_DIRECTORY"] = MpsPipeDirectory(mps_root, visible[0]);
    plan.env["CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"] = std::to_string(std::max(1, milli / 10));
    plan.env["CUDA_MPS_PINNED_DEVICE_MEM_LIMIT"] = "0=" + std::to_string(memory_mib) + "MB";
    plan.env["FASTGPU_GPU_MILLI"] = std::to_string(milli);
    plan.env["FASTGPU_GPU_MEMORY_MIB"] = std::to_string(memory_mib);
    if (simulated) {
      plan.note = "simulated GPU: MPS environment set as on a real GPU, but no MPS daemon runs";
    } else {
      plan.mps_gpus.push_back(first.gpu_index);
    }
  } else if (iso == Isolation::kShared) {
    plan.env["FASTGPU_GPU_MILLI"] = std::to_string(milli);
    plan.env["FASTGPU_GPU_MEMORY_MIB"] = std::to_string(memory_mib);
    plan.note =
        "shared isolation: time-sliced GPU; compute share and memory are soft limits, "
        "not enforced";
    if (simulated) plan.note += " (simulated GPU)";
  } else if (iso == Isolation::kMig) {
    plan.env["FASTGPU_GPU_MEMORY_MIB"] = std::to_string(memory_mib);
    if (simulated) plan.note = "simulated GPU: MIG instance UUIDs are simulated";
  } else if (simulated) {
    plan.note = "simulated GPUs: whole-GPU environment set, no device behind it";
  }
  return plan;
}

}  // namespace fastgpu

#include "agent/vgpu.h"

#include <algorithm>
#include <set>

#include "agent/isolation.h"
#include "agent/isolation_internal.h"

namespace fastgpu::agent {
namespace {

// The variables every workload gets.
void SetReplicaEnv(const protocol::DesiredReplica& want, VgpuPlan* plan) {
  const model::Allocation& a = want.allocation;
  plan->env["FASTGPU_JOB_ID"] = a.job_id;
  plan->env["FASTGPU_REPLICA"] = std::to_string(a.replica);
  plan->env["FASTGPU_REPLICAS"] = std::to_string(want.replicas);
  plan->env["FASTGPU_ALLOCATION_ID"] = a.id;
}

// The mode all of the allocation's slices share.
Result<const IsolationMode*> ModeOf(const model::Allocation& a) {
  const model::Isolation iso = a.slices[0].isolation;
  for (const model::VgpuSlice& s : a.slices) {
    if (s.isolation != iso) {
      return InvalidArgument("the slices of one allocation must share one isolation mode");
    }
  }
  FASTGPU_ASSIGN_OR_RETURN(const IsolationMode* mode, FindIsolationMode(iso));
  FASTGPU_RETURN_IF_ERROR(mode->CheckAllocation(a));
  return mode;
}

// The slice's GPU, when the node has it (once in the allocation), it is healthy and the
// slice's share is a share.
Result<const GpuSample*> SliceGpu(const model::VgpuSlice& s, const std::vector<GpuSample>& gpus,
                                  std::string_view mode, std::set<int>* seen) {
  auto it = std::find_if(gpus.begin(), gpus.end(),
                         [&](const GpuSample& g) { return g.gpu.index == s.gpu_index; });
  if (it == gpus.end()) {
    return InvalidArgument("slice names " + GpuName(s.gpu_index) + ", which this node lacks");
  }
  if (!seen->insert(s.gpu_index).second) {
    return InvalidArgument(GpuName(s.gpu_index) + " appears twice in the allocation");
  }
  const std::string name = GpuName(it->gpu.index);
  if (!it->present || !it->gpu.healthy) {
    return FailedPrecondition(std::string(mode) + " isolation: " + name + " is unhealthy (" +
                              it->gpu.health_reason + ")");
  }
  if (s.milli < 1 || s.milli > 1000) {
    return InvalidArgument("slice on " + name + ": milli must be 1..1000");
  }
  return &*it;
}

// What the replicas in `placed` other than `self` hold on `gpu`.
GpuUse UseOf(const model::Gpu& gpu, const std::string& self,
             const std::vector<model::Allocation>& placed) {
  GpuUse use;
  for (const model::Allocation& p : placed) {
    if (p.id == self) continue;
    for (const model::VgpuSlice& ps : p.slices) {
      if (ps.gpu_index != gpu.index) continue;
      use.milli += ps.milli;
      use.memory_mib += SliceMemoryMib(ps, gpu.memory_mib);
      use.modes.insert(ps.isolation);
    }
  }
  return use;
}

}  // namespace

std::string MpsPipeDirectory(const std::string& mps_root, const std::string& gpu_uuid) {
  return mps_root + "/" + gpu_uuid + "/pipe";
}

Result<VgpuPlan> PlanVgpu(const protocol::DesiredReplica& want, const std::vector<GpuSample>& gpus,
                          const std::vector<model::Allocation>& placed,
                          const std::vector<std::string>& placed_mig, const std::string& mps_root) {
  const model::Allocation& a = want.allocation;
  VgpuPlan plan;
  SetReplicaEnv(want, &plan);
  if (a.slices.empty()) {
    plan.env["CUDA_VISIBLE_DEVICES"] = "";
    plan.env["FASTGPU_ISOLATION"] = "none";
    return plan;
  }
  FASTGPU_ASSIGN_OR_RETURN(const IsolationMode* mode, ModeOf(a));
  std::set<std::string> mig_in_use(placed_mig.begin(), placed_mig.end());
  std::set<int> seen;
  std::vector<SliceGrant> grants;
  PlanContext context{mps_root, false};
  for (const model::VgpuSlice& s : a.slices) {
    FASTGPU_ASSIGN_OR_RETURN(const GpuSample* gpu, SliceGpu(s, gpus, mode->Name(), &seen));
    context.simulated = context.simulated || gpu->gpu.simulated;
    SliceRequest request{a, s, *gpu, UseOf(gpu->gpu, a.id, placed), mig_in_use};
    FASTGPU_ASSIGN_OR_RETURN(SliceGrant grant, mode->PlaceSlice(request));
    if (!grant.mig_instance.empty()) {
      mig_in_use.insert(grant.mig_instance);
      plan.mig_instances.push_back(grant.mig_instance);
    }
    grants.push_back(std::move(grant));
  }
  std::string devices;
  for (const SliceGrant& g : grants) devices += (devices.empty() ? "" : ",") + g.device;
  plan.env["CUDA_VISIBLE_DEVICES"] = devices;
  plan.env["FASTGPU_ISOLATION"] = std::string(mode->Name());
  mode->SetEnvironment(grants, context, &plan);
  return plan;
}

}  // namespace fastgpu::agent

// mig: an existing MIG instance. CUDA_VISIBLE_DEVICES=<MIG instance uuid>; the slice
// names the instance, or its GPU (then the smallest free instance with enough memory is
// taken). Instances are never created or destroyed by the agent. The workload may open
// the GPU's capability nodes (<gpu_dev_dir>/nvidia-caps). Enforced by the hardware.
#include "agent/isolation_internal.h"

namespace fastgpu::agent {
namespace {

class Mig final : public IsolationMode {
 public:
  model::Isolation Kind() const override { return model::Isolation::kMig; }

  Result<SliceGrant> PlaceSlice(const SliceRequest& r) const override {
    const GpuSample& g = r.gpu;
    const std::string name = GpuName(g.gpu.index);
    if (!g.gpu.mig_enabled) {
      return FailedPrecondition("mig isolation: " + name + " is not in MIG mode");
    }
    Result<const MigInstance*> chosen =
        !r.slice.gpu_uuid.empty() && r.slice.gpu_uuid != g.gpu.uuid ? Named(r) : SmallestFree(r);
    if (!chosen.ok()) return chosen.status();
    const MigInstance& m = **chosen;
    return SliceGrant{g.gpu.index, m.uuid, m.uuid, r.slice.milli, m.memory_mib};
  }

  void SetEnvironment(const std::vector<SliceGrant>& grants, const PlanContext& context,
                      VgpuPlan* plan) const override {
    plan->env["FASTGPU_GPU_MEMORY_MIB"] = std::to_string(grants.back().memory_mib);
    if (context.simulated) plan->note = "simulated GPU: MIG instance UUIDs are simulated";
  }

  std::vector<std::string> DeviceNodes(const IsolationServices& services) const override {
    // A MIG instance is opened through the capability nodes of its GPU and compute
    // instances (nvidia-caps/nvidia-cap<N>); the driver checks each capability.
    return {services.gpu_dev_dir + "/nvidia-caps"};
  }

 private:
  // The instance the slice names by UUID, when it is free.
  static Result<const MigInstance*> Named(const SliceRequest& r) {
    for (const MigInstance& m : r.gpu.mig_instances) {
      if (m.uuid != r.slice.gpu_uuid) continue;
      if (r.mig_in_use.count(m.uuid)) {
        return FailedPrecondition("mig isolation: instance " + m.uuid + " is in use");
      }
      return &m;
    }
    return InvalidArgument("slice names " + r.slice.gpu_uuid + ", which is neither " +
                           GpuName(r.gpu.gpu.index) + " nor one of its MIG instances");
  }

  // The smallest free instance with the slice's memory.
  static Result<const MigInstance*> SmallestFree(const SliceRequest& r) {
    const MigInstance* chosen = nullptr;
    for (const MigInstance& m : r.gpu.mig_instances) {
      if (r.mig_in_use.count(m.uuid) || m.memory_mib < r.slice.memory_mib) continue;
      if (chosen == nullptr || m.memory_mib < chosen->memory_mib) chosen = &m;
    }
    if (chosen == nullptr) {
      return FailedPrecondition(
          "mig isolation: " + GpuName(r.gpu.gpu.index) + " has no free MIG instance with " +
          std::to_string(r.slice.memory_mib) + " MiB (the agent never creates instances)");
    }
    return chosen;
  }
};

}  // namespace

const IsolationMode& MigIsolation() {
  static const Mig mode;
  return mode;
}

}  // namespace fastgpu::agent

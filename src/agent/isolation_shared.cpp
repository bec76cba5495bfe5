// shared: a time-sliced share of one GPU with soft limits only. CUDA_VISIBLE_DEVICES=<uuid>
// and the share in FASTGPU_GPU_MILLI / FASTGPU_GPU_MEMORY_MIB; nothing enforces them, and
// the replica's message says so.
#include "agent/isolation_internal.h"

namespace fastgpu::agent {
namespace {

class Shared final : public IsolationMode {
 public:
  model::Isolation Kind() const override { return model::Isolation::kShared; }

  Status CheckAllocation(const model::Allocation& allocation) const override {
    return CheckOneGpu(Kind(), allocation);
  }

  Result<SliceGrant> PlaceSlice(const SliceRequest& r) const override {
    FASTGPU_RETURN_IF_ERROR(CheckPlainGpu(Kind(), r));
    return PlaceFraction(Kind(), r);
  }

  void SetEnvironment(const std::vector<SliceGrant>& grants, const PlanContext& context,
                      VgpuPlan* plan) const override {
    const SliceGrant& g = grants.front();
    plan->env["FASTGPU_GPU_MILLI"] = std::to_string(g.milli);
    plan->env["FASTGPU_GPU_MEMORY_MIB"] = std::to_string(g.memory_mib);
    plan->note =
        "shared isolation: time-sliced GPU; compute share and memory are soft limits, "
        "not enforced";
    if (context.simulated) plan->note += " (simulated GPU)";
  }
};

}  // namespace

const IsolationMode& SharedIsolation() {
  static const Shared mode;
  return mode;
}

}  // namespace fastgpu::agent

// exclusive: whole GPUs, no other replica on them. CUDA_VISIBLE_DEVICES=<uuid>,...
// Enforced by this placement check only.
#include "agent/isolation_internal.h"

namespace fastgpu::agent {
namespace {

class Exclusive final : public IsolationMode {
 public:
  model::Isolation Kind() const override { return model::Isolation::kExclusive; }

  Result<SliceGrant> PlaceSlice(const SliceRequest& r) const override {
    FASTGPU_RETURN_IF_ERROR(CheckPlainGpu(Kind(), r));
    if (r.slice.milli != 1000) return InvalidArgument("exclusive isolation takes whole GPUs");
    if (!r.others.modes.empty()) {
      return ResourceExhausted("exclusive isolation: " + GpuName(r.gpu.gpu.index) +
                               " already runs other replicas");
    }
    return SliceGrant{r.gpu.gpu.index, r.gpu.gpu.uuid, "", 1000, r.gpu.gpu.memory_mib};
  }

  void SetEnvironment(const std::vector<SliceGrant>&, const PlanContext& context,
                      VgpuPlan* plan) const override {
    if (context.simulated) {
      plan->note = "simulated GPUs: whole-GPU environment set, no device behind it";
    }
  }
};

}  // namespace

const IsolationMode& ExclusiveIsolation() {
  static const Exclusive mode;
  return mode;
}

}  // namespace fastgpu::agent

// shared: a time-sliced share of one GPU with soft limits only. CUDA_VISIBLE_DEVICES=<uuid>
// and the share in FASTGPU_GPU_MILLI / FASTGPU_GPU_MEMORY_MIB; nothing enforces them, and
// the replica's message says so.
#include "agent/isolation_internal.h"

namespace fastgpu::agent {
namespace {

class Shared final : public FractionalMode {
 public:
  model::Isolation Kind() const override { return model::Isolation::kShared; }

  void SetEnvironment(const std::vector<SliceGrant>& grants, const PlanContext& context,
                      VgpuPlan* plan) const override {
    SetShare(grants.front(), plan);
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

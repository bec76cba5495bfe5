#include "sim/lp_bound.h"

#include <mutex>

#include "optimizer/config_lp.h"

namespace fastgpu::sim {
namespace {

struct LpHook {
  std::mutex mu;
  LpUpperBoundHook hook = &LpBoundShare;
};

LpHook& GetLpHook() {
  static LpHook hook;
  return hook;
}

}  // namespace

void SetLpUpperBoundHook(LpUpperBoundHook hook) {
  LpHook& h = GetLpHook();
  std::lock_guard<std::mutex> lock(h.mu);
  h.hook = std::move(hook);
}

LpUpperBoundHook GetLpUpperBoundHook() {
  LpHook& h = GetLpHook();
  std::lock_guard<std::mutex> lock(h.mu);
  return h.hook;
}

Result<double> LpBoundShare(const sched::Cluster& empty, const std::vector<model::Shape>& arrived) {
  int64_t gpus = 0;
  for (const sched::NodeState& node : empty.nodes()) {
    for (const sched::GpuState& gpu : node.gpus) gpus += gpu.healthy ? 1 : 0;
  }
  FASTGPU_ASSIGN_OR_RETURN(opt::ConfigLpBound bound,
                           opt::GpuConfigLpBound(gpus, opt::ItemsFromShapes(arrived)));
  return bound.UpperBoundShare();
}

}  // namespace fastgpu::sim

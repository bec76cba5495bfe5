// The simulator's LP upper bound: an optional hook that bounds the GPU milli any policy
// could allocate once `arrived` tasks (in arrival order) have come, on `cluster` empty.
// When set the simulator reports `lp_upper_bound` (a share of capacity at 100% arrival);
// when unset the field is omitted. Default: the optimizer's GPU configuration LP
// (LpBoundShare); SetLpUpperBoundHook(nullptr) turns it off.
//
// Thread-safety: the functions are thread-safe.
#pragma once

#include <functional>
#include <vector>

#include "common/result.h"
#include "model/shape.h"
#include "scheduler/cluster.h"

namespace fastgpu::sim {

using LpUpperBoundHook = std::function<Result<double>(const sched::Cluster& empty_cluster,
                                                      const std::vector<model::Shape>& arrived)>;
void SetLpUpperBoundHook(LpUpperBoundHook hook);
LpUpperBoundHook GetLpUpperBoundHook();

// The share of the pool's GPU capacity no policy can exceed once `arrived` came (the
// optimizer's GPU configuration LP); the default LpUpperBoundHook.
Result<double> LpBoundShare(const sched::Cluster& empty, const std::vector<model::Shape>& arrived);

}  // namespace fastgpu::sim

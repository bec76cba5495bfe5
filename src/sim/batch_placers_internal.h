// Factories of the built-in batch placers and the LP upper bound (internal to the sim
// module; use MakeBatchPlacer and GetLpUpperBoundHook). A new batch placer is one file
// defining its factory, its declaration here and one line in the table of
// batch_policy.cpp.
#pragma once

#include <memory>
#include <vector>

#include "common/result.h"
#include "model/shape.h"
#include "scheduler/cluster.h"
#include "sim/batch_policy.h"

namespace fastgpu::sim {

// `ilp-batch` (ilp_batch.cpp): the optimizer's integer program, warm-started from the
// default online policy. NotFound when the default online policy is not registered.
Result<std::unique_ptr<BatchPlacer>> MakeIlpBatch(const BatchOptions& options);

// The share of the pool's GPU capacity no policy can exceed once `arrived` came
// (ilp_batch.cpp, the optimizer's GPU configuration LP); the default LpUpperBoundHook.
Result<double> LpBoundShare(const sched::Cluster& empty, const std::vector<model::Shape>& arrived);

}  // namespace fastgpu::sim

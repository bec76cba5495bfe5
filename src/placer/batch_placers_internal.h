// Factories of the built-in batch placers (internal to the placer module; use
// MakeBatchPlacer). A new batch placer is one file defining its factory, its declaration
// here and one line in the table of batch_placers.cpp.
#pragma once

#include <memory>

#include "common/result.h"
#include "placer/batch_placers.h"
#include "scheduler/batch_placer.h"

namespace fastgpu::placer {

// `ilp-batch` (ilp_batch.cpp): the optimizer's integer program, warm-started from the
// default online policy. NotFound when the default online policy is not registered.
Result<std::unique_ptr<sched::BatchPlacer>> MakeIlpBatch(const BatchOptions& options);

}  // namespace fastgpu::placer

// Factories of the built-in policies (internal to the scheduler module; use MakePolicy).
#pragma once

#include <memory>

#include "scheduler/policy.h"

namespace fastgpu::sched {

std::unique_ptr<Policy> MakeFirstFit(const PolicyOptions& options);
std::unique_ptr<Policy> MakeBestFit(const PolicyOptions& options);
std::unique_ptr<Policy> MakeDotProduct(const PolicyOptions& options);
std::unique_ptr<Policy> MakeGpuPacking(const PolicyOptions& options);
std::unique_ptr<Policy> MakeGpuClustering(const PolicyOptions& options);
std::unique_ptr<Policy> MakeRandom(const PolicyOptions& options);
std::unique_ptr<Policy> MakeFgd(const PolicyOptions& options);
std::unique_ptr<Policy> MakeFastGpu(const PolicyOptions& options);

}  // namespace fastgpu::sched

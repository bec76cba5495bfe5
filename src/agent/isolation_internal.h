// The built-in isolation modes and the checks they share (internal to the agent module;
// use FindIsolationMode). Each mode lives in its own isolation_<name>.cpp.
#pragma once

#include <string>

#include "agent/isolation.h"

namespace fastgpu::agent {

const IsolationMode& ExclusiveIsolation();  // isolation_exclusive.cpp
const IsolationMode& MigIsolation();        // isolation_mig.cpp
const IsolationMode& MpsIsolation();        // isolation_mps.cpp
const IsolationMode& SharedIsolation();     // isolation_shared.cpp
const IsolationMode& VmIsolation();         // isolation_vm.cpp

// "GPU <index>", as messages name a GPU.
std::string GpuName(int index);

// Memory a slice holds: its cap, or its compute share of the GPU when it names none.
int64_t SliceMemoryMib(const model::VgpuSlice& slice, int64_t gpu_memory_mib);

// For modes that take a whole physical GPU or a share of one (not a MIG instance): the
// GPU is not in MIG mode (FailedPrecondition), the slice names this GPU's UUID or none
// and asks no more memory than the GPU has (InvalidArgument).
Status CheckPlainGpu(model::Isolation mode, const SliceRequest& request);

// For fractional modes (mps, shared): the slice fits beside the other replicas on its
// GPU: none holds it exclusively (ResourceExhausted), none uses another mode
// (FailedPrecondition), and compute and memory add up to at most the GPU's
// (ResourceExhausted). Grants the slice's milli and memory on the GPU.
Result<SliceGrant> PlaceFraction(model::Isolation mode, const SliceRequest& request);

// FailedPrecondition unless the allocation has exactly one slice (one GPU per replica).
Status CheckOneGpu(model::Isolation mode, const model::Allocation& allocation);

// The base of the fractional modes (mps, shared): a share of one plain GPU per replica.
// It gives CheckAllocation (CheckOneGpu) and PlaceSlice (CheckPlainGpu, then
// PlaceFraction), and SetShare for the variables every share carries; a mode adds Kind,
// SetEnvironment and whatever else differs.
class FractionalMode : public IsolationMode {
 public:
  Status CheckAllocation(const model::Allocation& allocation) const final;
  Result<SliceGrant> PlaceSlice(const SliceRequest& request) const final;

 protected:
  ~FractionalMode() = default;
  // FASTGPU_GPU_MILLI and FASTGPU_GPU_MEMORY_MIB: the share `grant` holds.
  static void SetShare(const SliceGrant& grant, VgpuPlan* plan);
};

}  // namespace fastgpu::agent

// Virtual GPUs and allocations: what the scheduler hands to a node for one replica.
//
// Plain value types; validation is pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "model/gpu.h"
#include "model/shape.h"

namespace fastgpu::model {

// A slice of one physical GPU given to one replica.
struct VgpuSlice {
  int gpu_index = 0;                            // index on the node
  std::string gpu_uuid;                         // physical GPU (or MIG instance) UUID
  int milli = 0;                                // compute share, 1..1000
  int64_t memory_mib = 0;                       // memory cap; for whole GPUs, the GPU's memory
  Isolation isolation = Isolation::kExclusive;  // never kDefault once placed
  // ---- vm isolation ----
  // The vGPU type a `vm` fraction takes (model::VmGpuType::name; milli is its share);
  // "" otherwise. JSON "vm_type", absent when empty.
  std::string vm_type;
  friend bool operator==(const VgpuSlice&, const VgpuSlice&) = default;
};

// One replica's placement on one node.
struct Allocation {
  std::string id;  // "alloc-<hex>"
  std::string job_id;
  int replica = 0;  // 0-based replica index within the job's gang
  std::string node_id;
  std::string gpu_model;          // model of the GPUs used (empty for CPU-only)
  std::vector<VgpuSlice> slices;  // one per GPU used; empty for CPU-only replicas
  int64_t cpu_milli = 0;
  int64_t memory_mib = 0;
  TimePoint created_at{};
  int64_t TotalGpuMilli() const;
};

// Checks a slice against the GPU it claims: milli 1..1000, memory within the GPU,
// an explicit isolation that suits the slice (exclusive only for whole GPUs).
Status ValidateSlice(const VgpuSlice& slice, const Gpu& gpu);

// Checks that an allocation fits its node: each slice names a GPU of the node, no
// GPU is used twice, CPU and memory within the node's.
Status ValidateAllocation(const Allocation& alloc, const Node& node);

}  // namespace fastgpu::model

// Helpers shared by the batch optimiser's files: the kind of a request and whether one
// replica fits a GPU or a node. Internal to src/optimizer; pure functions.
#pragma once

#include <cstdint>

#include "optimizer/batch_ilp.h"

namespace fastgpu::opt::internal {

enum class Kind { kCpuOnly, kFraction, kWhole };

inline Kind KindOf(const model::Shape& shape) {
  if (shape.gpu_count == 0) return Kind::kCpuOnly;
  return shape.IsFractional() ? Kind::kFraction : Kind::kWhole;
}

// GPU milli one replica takes.
inline int64_t ReplicaGpuMilli(const model::Shape& shape) { return shape.TotalGpuMilli(); }

// Whether a fractional replica fits on `gpu` as it stands.
inline bool FractionFits(const IlpGpu& gpu, const model::Shape& shape) {
  return gpu.healthy && gpu.free_milli >= shape.gpu_milli &&
         (shape.gpu_memory_mib == 0 || gpu.free_memory_mib >= shape.gpu_memory_mib);
}

// Whether `gpu` can be given whole to a replica of `shape`.
inline bool WholeFits(const IlpGpu& gpu, const model::Shape& shape) {
  return gpu.healthy && gpu.free_milli >= 1000 &&
         (shape.gpu_memory_mib == 0 || gpu.free_memory_mib >= shape.gpu_memory_mib);
}

// Whether the node's model, CPU and memory admit one replica (GPUs not checked).
inline bool NodeAdmits(const IlpNode& node, const model::Shape& shape) {
  if (shape.gpu_count > 0 && !shape.AllowsModel(node.model)) return false;
  return node.free_cpu_milli >= shape.cpu_milli && node.free_memory_mib >= shape.memory_mib;
}

}  // namespace fastgpu::opt::internal

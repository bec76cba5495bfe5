// Placement values: where one replica goes (NodePlacement) and what a workload asks
// for (Request: one Shape per replica, several replicas forming a gang).
//
// Plain value types; copy freely. No I/O, no threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/shape.h"

namespace fastgpu::sched {

// The part of one GPU given to one replica.
struct GpuSlot {
  int gpu_index = 0;       // index of the GPU on its node
  int milli = 0;           // compute share, 1..1000
  int64_t memory_mib = 0;  // GPU memory taken (0 when the shape asks none; all for a whole GPU)
  friend bool operator==(const GpuSlot&, const GpuSlot&) = default;
};

// One replica's place: a node (by index in the Cluster), its GPU slots (empty for
// CPU-only work, one per GPU otherwise), and the CPU and memory it takes there.
struct NodePlacement {
  int node = -1;              // index into Cluster::nodes(); -1 = none
  std::vector<GpuSlot> gpus;  // distinct gpu_index values
  int64_t cpu_milli = 0;
  int64_t memory_mib = 0;
  // The isolation mode its GPU slots run in (Shape::EffectiveIsolation); the Cluster keeps
  // other modes' fractions off those GPUs. kDefault (the default): not said, not tracked.
  model::Isolation isolation = model::Isolation::kDefault;
  int64_t TotalGpuMilli() const;
  friend bool operator==(const NodePlacement&, const NodePlacement&) = default;
};

// A workload to place: `replicas` copies of `shape`, all or nothing (a gang).
struct Request {
  std::string id;  // caller's id (job id, trace task name); used only in messages
  model::Shape shape;
  int replicas = 1;  // default 1; >= 1
};

}  // namespace fastgpu::sched

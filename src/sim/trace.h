// Reading the Alibaba GPU trace's CSV files (cluster-trace-gpu-v2023, "openb" format).
//
// Node list columns: sn, cpu_milli, memory_mib, gpu, model. Pod list columns: name,
// cpu_milli, memory_mib, num_gpu, gpu_milli, gpu_spec (optional; models split by '|');
// other columns are ignored. Columns are found by the header's names, in any order.
// A bad row fails with InvalidArgument "<file>:<line>: <what>" (lines count from 1, the
// header being line 1). Pure functions of their input; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "model/shape.h"
#include "scheduler/cluster.h"
#include "scheduler/engine.h"

namespace fastgpu::sim {

struct TraceNode {
  std::string name;
  int64_t cpu_milli = 0;
  int64_t memory_mib = 0;
  int gpu_count = 0;
  std::string model;
};

struct TracePod {
  std::string name;
  model::Shape shape;  // gpu_count/gpu_milli as in the trace; CPU-only: gpu_count 0
};

// From CSV text; `source` names the file in error messages.
Result<std::vector<TraceNode>> ParseNodeList(const std::string& text, const std::string& source);
Result<std::vector<TracePod>> ParsePodList(const std::string& text, const std::string& source);
// From a file (NotFound when it cannot be opened).
Result<std::vector<TraceNode>> ReadNodeList(const std::string& path);
Result<std::vector<TracePod>> ReadPodList(const std::string& path);

// A cluster of the trace nodes (GPU memory unknown: 0).
sched::Cluster BuildCluster(const std::vector<TraceNode>& nodes);
// A node of such a cluster as the engine takes it (Engine::UpsertNode), nothing booked.
sched::EngineNode EngineNodeOf(const sched::NodeState& n);

}  // namespace fastgpu::sim

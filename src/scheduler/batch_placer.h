// BatchPlacer: a placement method that decides a window of requests at once (for example
// the exact integer program of src/optimizer behind `ilp-batch`), where a Policy decides
// one replica at a time. The engine (engine.h, Engine::PlaceBatch) drives it for the
// control plane and the simulator alike; the named implementations live in src/placer.
//
// Thread-safety: one BatchPlacer serves one thread at a time (the engine's). It may use
// threads of its own only within one PlaceBatch call (its solver's).
#pragma once

#include <string_view>
#include <vector>

#include "scheduler/cluster.h"
#include "scheduler/placement.h"
#include "scheduler/policy.h"

namespace fastgpu::sched {

class BatchPlacer {
 public:
  virtual ~BatchPlacer() = default;
  virtual std::string_view Name() const = 0;
  // One entry per request, in order: where each of its replicas goes (request.replicas
  // placements), or empty when the placer leaves the request unplaced (a gang is placed
  // whole or not at all). Reads `cluster` only. Must not over-commit the cluster, taking
  // the returned placements together, nor use an unschedulable node, an unhealthy GPU, a
  // model the shape does not allow, or a GPU not in MIG mode for a shape that needs one.
  virtual std::vector<std::vector<NodePlacement>> PlaceBatch(
      const Cluster& cluster, const std::vector<Request>& requests) = 0;
  // The workload to measure against from now on (as Policy::SetTargetWorkload; the
  // control plane's engine learns it from submitted shapes). Default: ignored.
  virtual void SetTargetWorkload(const std::vector<TargetTask>& target) { (void)target; }
};

}  // namespace fastgpu::sched

// BatchPlacer: a placement policy that decides a window of requests at once (for
// example the exact integer program in src/optimizer), pluggable into `fastgpu sim`.
//
// The simulator collects up to --batch-size arrivals (default 64), calls PlaceBatch
// with the cluster as it stands, applies the placements it returns in request order
// (a placement that no longer applies counts as a failure), and counts a nullopt as a
// failed arrival. Policy names that the scheduler registry (sched::MakePolicy) does
// not know are looked up here, in a fixed table (batch_policy.cpp; a new placer is one
// file plus one table line, see batch_placers_internal.h).
//
// Thread-safety: one BatchPlacer serves one simulation thread; the registry functions
// are thread-safe. A BatchPlacer may not start threads of its own beyond what its
// solver needs within one PlaceBatch call.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "scheduler/cluster.h"
#include "scheduler/placement.h"
#include "scheduler/policy.h"

namespace fastgpu::sim {

struct BatchOptions {
  int batch_size = 64;            // requests per PlaceBatch call; default 64
  double time_limit_seconds = 1;  // solver budget per call; default 1 s
  uint64_t seed = 0;              // the run's seed
  // The workload the trace was drawn from (as given to online policies).
  std::vector<sched::TargetTask> target_workload;
};

class BatchPlacer {
 public:
  virtual ~BatchPlacer() = default;
  virtual std::string_view Name() const = 0;
  // One entry per request, in order: where its single replica goes (gangs of several
  // replicas are placed by the simulator one replica per request), or nullopt when the
  // placer leaves it unplaced. Must not over-commit the cluster, taking the returned
  // placements together.
  virtual std::vector<std::optional<sched::NodePlacement>> PlaceBatch(
      const sched::Cluster& cluster, const std::vector<sched::Request>& requests) = 0;
};

// A new placer by name; NotFound (listing the names) when the table has none by it.
Result<std::unique_ptr<BatchPlacer>> MakeBatchPlacer(std::string_view name,
                                                     const BatchOptions& options);
// The names in the table, in table order: "ilp-batch".
std::vector<std::string> BatchPlacerNames();

// Optional LP upper bound on the GPU milli any policy could allocate once `arrived`
// tasks (in arrival order) have come, on `cluster` empty. When set the simulator
// reports `lp_upper_bound` (a share of capacity at 100% arrival); when unset the field
// is omitted. Default: the optimizer's GPU configuration LP (LpBoundShare);
// SetLpUpperBoundHook(nullptr) turns it off.
using LpUpperBoundHook = std::function<Result<double>(const sched::Cluster& empty_cluster,
                                                      const std::vector<model::Shape>& arrived)>;
void SetLpUpperBoundHook(LpUpperBoundHook hook);
LpUpperBoundHook GetLpUpperBoundHook();

}  // namespace fastgpu::sim

// The trace simulator: replays a pod list on a node list through placement policies.
//
// Arrivals `drawn` (the default; as in Weng et al., USENIX ATC'23 and their public
// simulator): the pod list is
// sorted by name and shuffled with the seed; pods drawn with replacement from the sorted
// list are appended until the next draw's per-GPU milli would push the total GPU demand
// past max_arrival x capacity. Pods arrive one at a time, none departs; each is placed at
// once or fails (and still counts as arrived). After every arrival the simulator records
// the arrived GPU demand, the allocated GPU milli and the fragmented GPU milli (against
// the target workload built from the pod list), each over capacity. The figure "at x%"
// is the mean over the events whose arrived share rounds to x%.
// Arrivals `as-listed`: every pod of the list arrives once, in the file's order (no
// shuffle, no draw), the same order for every seed (a seed then only seeds the policy);
// as with `drawn`, the list itself is never cut, and max_arrival only bounds the curve.
//
// Online policies run inside the control plane's own placement engine (sched::Engine),
// which by default learns the target workload from the arrivals as the control plane
// does (SimOptions::learn_workload).
//
// Thread-safety: Simulate may run seeds and policies on `jobs` threads of its own; each
// run has its own Engine (or Cluster and batch placer). The functions are otherwise pure.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "scheduler/cluster.h"
#include "scheduler/policy.h"
#include "sim/trace.h"

namespace fastgpu::sim {

// How the pods arrive (see the file comment).
enum class ArrivalOrder {
  kDrawn,     // shuffled with the seed, then drawn with replacement up to max_arrival
  kAsListed,  // each pod once, in the order of the pod list
};
std::string_view ArrivalOrderName(ArrivalOrder order);  // "drawn", "as-listed"
// InvalidArgument for another name.
Result<ArrivalOrder> ParseArrivalOrder(std::string_view name);

struct SimOptions {
  ArrivalOrder arrivals = ArrivalOrder::kDrawn;  // default drawn (the paper's method)
  double max_arrival = 1.3;             // arrived GPU demand / capacity to stop at; default 1.3
  int seeds = 10;                       // runs per policy, averaged; default 10
  uint64_t seed_base = 0;               // seeds are seed_base, seed_base + 1, ...; default 0
  int jobs = 1;                         // threads running (policy, seed) pairs; default 1
  int batch_size = 64;                  // for batch placers; default 64
  double batch_time_limit_seconds = 1;  // for batch placers; default 1 s
  double target_coverage = 0.95;  // share of pods the fragmentation metric covers; default 0.95
  // Default true: online policies learn the target workload from the arrivals, as the
  // control plane does (sched::Engine); false: they are given the whole pod list's
  // workload up front (the paper's method). Batch placers always get the whole list's.
  bool learn_workload = true;
  // Called after each finished run with (done, total); from the worker threads, one
  // call at a time. Default none.
  std::function<void(int done, int total)> on_progress;
};

struct CurvePoint {
  int arrived_pct = 0;     // arrived GPU demand, % of capacity
  double allocated = 0;    // allocated share of GPU capacity (0..1), mean over seeds
  double unallocated = 0;  // 1 - allocated
  double fragmented = 0;   // fragmented share of GPU capacity (0..1)
};

struct PolicyResult {
  std::string policy;
  double alloc_share_at_100 = 0;  // mean over seeds
  std::vector<double> alloc_share_at_100_per_seed;
  double alloc_share_at_max = 0;                // at round(max_arrival * 100) %
  double alloc_share_final = 0;                 // after the last arrival
  std::optional<double> first_failure_arrival;  // arrived share at the first failure (mean)
  double frag_share_at_100 = 0;
  double placements_per_second = 0;  // arrivals handled / time spent in the policy and Apply
  double arrivals = 0;               // mean per seed
  double failures = 0;               // mean per seed
  std::vector<CurvePoint> curve;     // 0% .. max in 1% steps
};

struct SimReport {
  int nodes = 0;
  int64_t capacity_gpus = 0;
  int pods = 0;
  int target_kinds = 0;  // task kinds the fragmentation metric measures against
  SimOptions options;
  std::vector<PolicyResult> policies;
  std::optional<double> lp_upper_bound;  // from the optimizer's hook, when set
};

// The arrival order of one seed: indexes into `pods` sorted by name (see the method above).
std::vector<int> DrawArrivals(const std::vector<TracePod>& pods_by_name, int64_t capacity_milli,
                              double max_arrival, uint64_t seed);

// The pod list sorted by name (stable), as Simulate sorts it before drawing arrivals.
std::vector<TracePod> SortedByName(const std::vector<TracePod>& pods);

// The arrival order `as-listed`: for each pod of `pods` in its listed order, its index in
// SortedByName(pods) (the indexes an order refers to). Each pod once.
std::vector<int> ListedArrivals(const std::vector<TracePod>& pods);

// The arrival order Simulate uses for `seed`: indexes into SortedByName(pods).
std::vector<int> ArrivalsFor(const std::vector<TracePod>& pods, int64_t capacity_milli,
                             const SimOptions& options, uint64_t seed);

// Runs every policy (scheduler registry first, then batch placers) on every seed.
// InvalidArgument for an unknown policy name or bad options; a policy's Internal error
// (a placement that does not apply) stops the run.
Result<SimReport> Simulate(const std::vector<TraceNode>& nodes, const std::vector<TracePod>& pods,
                           const std::vector<std::string>& policies, const SimOptions& options);

}  // namespace fastgpu::sim

// The trace's economy on an elastic pool: `fastgpu sim --timeline`.
//
// The pod list is replayed in time: each pod arrives at its creation_time and leaves at
// its deletion_time (seconds). The pool starts empty and is made of the node list's node
// types (GPU model, GPU count, CPU, memory), each up to its count in the list. Pods are
// placed by the control plane's placement engine (sched::Engine, learning the workload as
// the control plane does) on the nodes that are up; a pod that fits none waits, and the
// pool grows as the control plane's does: a pod that fits no ready node and no room already
// booting starts a node of the cheapest type that holds it (price per hour by the price
// table; without one, the type with the fewest GPUs, then the least CPU and memory), which
// takes `boot_delay_s` to join. A node that has been empty for `scale_down_after_s` is
// given back. Waiting pods are retried in arrival order whenever room appears.
//
// What it measures: the fractional demand (GPUs asked, fractions as fractions, x time
// alive: the physical limit), what the elastic pool provisioned (GPUs of nodes booting or
// up x time), what the whole node list costs for the trace's span (a static cluster), and
// whole GPUs per pod (dedicated); the wait the boot delays add; costs under a price table.
//
// Pure functions of their input; thread-safe (each run has its own engine).
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "metering/pricing.h"
#include "sim/cost_report.h"
#include "sim/trace.h"

namespace fastgpu::sim {

struct TimelineOptions {
  int64_t boot_delay_s = 120;        // a new node's time to join; default 120 s
  int64_t scale_down_after_s = 300;  // an empty node is given back after this; default 300 s
  std::string policy = "fastgpu";    // a scheduler policy name
  uint64_t seed = 0;                 // the policy's seed
  std::optional<metering::PriceTable> prices;  // default none: no costs, cheapest = smallest
  int samples = 2000;  // points of the demand/provisioned series kept for a plot; default 2000
  // Called now and then with the share of events handled (0..1). Default none.
  std::function<void(double done)> on_progress;
};

// One node type of the elastic pool.
struct NodeGroupResult {
  std::string name;  // "<model>x<gpus>", with "-<cores>c-<GiB>g" where one model and count differ
  std::string gpu_model;
  int gpus = 0;
  int max_nodes = 0;   // its count in the node list
  int peak_nodes = 0;  // most nodes booting or up at once
  int64_t boots = 0;   // nodes started
  double provisioned_gpu_hours = 0;
  double used_gpu_hours = 0;  // what the pods on its nodes asked (fractions as fractions)
};

// One point of the series: at `t_s` (seconds since the first arrival), the fractional GPU
// demand of the pods alive and the GPUs of the nodes booting or up.
struct TimelinePoint {
  int64_t t_s = 0;
  double demand_gpus = 0;
  int provisioned_gpus = 0;
};

struct TimelineResult {
  std::string policy;
  int64_t pods = 0;                    // pods with a positive lifetime
  int64_t pods_skipped = 0;            // no lifetime in the trace (or none positive)
  int64_t pods_placed = 0;             // placed at some point of their lifetime
  int64_t pods_waited = 0;             // placed after their arrival (a boot or a full pool)
  int64_t pods_never_ran = 0;          // left before any node could hold them
  int64_t pods_unplaceable = 0;        // fit no node type at all
  int64_t span_s = 0;                  // first arrival to last departure
  double demand_gpu_hours = 0;         // Σ GPUs asked (fractions as fractions) x time alive
  double provisioned_gpu_hours = 0;    // Σ GPUs of nodes booting or up x time
  double static_gpu_hours = 0;         // the whole node list for the span
  double dedicated_gpu_hours = 0;      // Σ whole GPUs per pod x time alive
  double placed_demand_gpu_hours = 0;  // demand while placed (what ran)
  double wait_p50_s = 0, wait_p99_s = 0, wait_max_s = 0;  // over placed pods
  int peak_provisioned_gpus = 0;
  double peak_demand_gpus = 0;
  int64_t boots = 0, scale_downs = 0;
  int64_t cancelled_boots = 0;  // boots given back before they joined: nobody waited for them
  std::vector<NodeGroupResult> groups;
  // Under TimelineOptions::prices (else 0): the elastic pool's nodes for their time
  // provisioned, the static cluster for the span, and the demand at the price of the
  // model each pod ran on (pods that never ran: not counted).
  std::optional<int64_t> provisioned_cents, static_cents, demand_cents;
  std::vector<TimelinePoint> series;  // at most TimelineOptions::samples points
  // MeanOverSeeds: provisioned / demand of each seed's run, in seed order.
  std::vector<double> per_seed_ratio;
  double ProvisionedOverDemand() const {
    return demand_gpu_hours > 0 ? provisioned_gpu_hours / demand_gpu_hours : 0;
  }
};

// Replays `pods` (lifetimes by name from ReadPodLifetimes) on an elastic pool of the node
// types of `nodes`. InvalidArgument for bad options (negative delays, an empty node list)
// or a bad price table; NotFound for an unknown policy.
Result<TimelineResult> RunTimeline(const std::vector<TraceNode>& nodes,
                                   const std::vector<TracePod>& pods,
                                   const std::map<std::string, PodLifetime>& lifetimes,
                                   const TimelineOptions& options);

// The mean of runs of one policy with different seeds: every count and figure is the mean
// (rounded for counts), the waits the mean of the seeds' percentiles, the series and the
// node groups those of the first run. InvalidArgument for no runs.
Result<TimelineResult> MeanOverSeeds(const std::vector<TimelineResult>& runs);

boost::json::object TimelineToJson(const TimelineResult& result, const TimelineOptions& options);
std::string TimelineToTable(const std::vector<TimelineResult>& results,
                            const TimelineOptions& options);
// Demand and provisioned GPUs over time of each result into an SVG (gnuplot).
Status WriteTimelinePlot(const std::vector<TimelineResult>& results, const std::string& svg_path,
                         const std::string& title, const std::string& gnuplot = "gnuplot");

}  // namespace fastgpu::sim

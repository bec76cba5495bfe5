// Pool metrics: what an operator of a GPU pool watches, measured by the reconciler's passes
// and rendered on GET /metrics by Metrics (metrics.h).
//
// PoolSnapshot is the value Metrics renders: pending jobs per tenant and the age of the
// oldest, GPU milli allocated per node and per GPU, the pool's capacity, allocated and
// free GPU milli, the share of the free milli that is fragmented against the learned
// workload, and the configuration-LP upper bound of the GPU milli the pool could hold for
// the work it has now (optimizer/config_lp.h).
//
// PoolObserver fills it from what a pass already has: the pending jobs the placing pass
// lists (no extra scan of the jobs; only the tenants' names are read, when an unknown
// tenant shows up), and the engine's Cluster after that pass placed (the gauges per node
// and per GPU are rebuilt only when a node's engine version moved). The engine follows
// the store's change feed every pass, so a pass that places nothing still measures an
// up-to-date pool: ObserveIdle, at most every kIdleRefresh, with no store read; the ages
// of the pending jobs keep growing from the times ObservePending saw.
// Costly measures are rate-limited on the reconciler's clock (a ManualClock in tests):
// fragmentation at most every kFragmentationEvery, the LP bound at most every
// kLpBoundEvery and only when the work (GPU count, item sizes) changed, each LP solve
// limited to kLpMaxIterations column-generation rounds (a few milliseconds on the
// 1,213-node trace with ~7,600 tasks; the bound stays valid when stopped early).
//
// Thread-safety: a PoolObserver is used by one thread at a time (the reconciler's pass,
// under its pass mutex); it publishes complete snapshots to the thread-safe Metrics.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "model/job.h"
#include "scheduler/engine.h"
#include "store/records.h"
#include "store/store.h"

namespace fastgpu::server {

class Metrics;

// GPU milli held by live allocations per node and per GPU (from the engine's Cluster), the
// nodes in the order of their ids. Flat, so that a pass rebuilds it with a few allocations
// (not one per node and GPU); the ids are shared from build to build while the nodes stay.
struct AllocationGauges {
  std::shared_ptr<const std::vector<std::string>> node_ids;  // sorted; never null
  std::vector<int64_t> node_milli;  // by position in node_ids; -1: not in the engine
  // Node k's GPUs are gpu_milli[gpu_begin[k] .. gpu_begin[k + 1]), by GPU index.
  std::vector<size_t> gpu_begin;  // node_ids->size() + 1 entries
  std::vector<int64_t> gpu_milli;
};

// The gauges of the pool as of the latest pass that measured them.
struct PoolSnapshot {
  struct Pending {
    int64_t jobs = 0;
    double oldest_seconds = 0;  // since the oldest pending job (last) entered pending; 0: none
  };
  std::map<std::string, Pending> pending_by_tenant;  // tenant name -> pending
  // Null until a pass read the pool; shared (immutable) so that a snapshot copies cheaply.
  std::shared_ptr<const AllocationGauges> allocation;
  int64_t capacity_milli = 0;                 // healthy GPUs of nodes not lost, x 1000
  int64_t allocated_milli = 0;                // held by live allocations, on any node
  int64_t free_milli = 0;                     // free on healthy GPUs of nodes that take new work
  std::optional<double> fragmented_milli;     // of free_milli's nodes; unset until computed
  std::optional<double> fragmentation_ratio;  // fragmented / free (0 when nothing is free)
  std::optional<double> lp_bound_milli;       // unset until computed
};

// Appends the snapshot's metrics (HELP, TYPE and samples) in Prometheus text.
void RenderPoolSnapshot(const PoolSnapshot& snapshot, std::string& out);

// When the job last entered pending: its creation, or its latest requeue.
TimePoint PendingSince(const model::Job& job);

class PoolObserver {
 public:
  static constexpr auto kFragmentationEvery = std::chrono::seconds(5);
  static constexpr auto kLpBoundEvery = std::chrono::seconds(60);
  static constexpr auto kIdleRefresh = std::chrono::seconds(5);
  static constexpr int kLpMaxIterations = 1000;

  // Borrows `metrics` (it must outlive the observer).
  explicit PoolObserver(Metrics& metrics) : metrics_(metrics) {}

  // The placing pass listed `pending` (oldest first, at most the pass's limit): counts
  // and ages per tenant as of `now`; tenants with nothing pending show 0. Reads the
  // tenants' names when a tenant is not known yet; a read error is returned (the
  // snapshot keeps its previous pending values).
  Status ObservePending(store::Store& store, const std::vector<model::Job>& pending, TimePoint now);

  // After a placing pass: the allocations and free milli from `engine` (up to date with
  // the store, holding this pass's placements; `nodes` are the records of its nodes); the
  // work for the LP bound is the engine's bookings plus `pending` (a placed job counts
  // once either way).
  void ObservePool(const sched::Engine& engine, const std::vector<store::NodeRecord>& nodes,
                   const std::vector<model::Job>& pending, TimePoint now);

  // A pass that places nothing: the pending jobs' ages as of `now`, and, at most every
  // kIdleRefresh, ObservePool with the pending jobs last seen.
  void ObserveIdle(const sched::Engine& engine, const std::vector<store::NodeRecord>& nodes,
                   TimePoint now);

 private:
  Metrics& metrics_;
  PoolSnapshot snapshot_;
  std::map<std::string, std::string> tenant_names_;  // tenant id -> name
  std::map<std::string, TimePoint> oldest_since_;    // tenant name -> its oldest pending's
  // The pending jobs' shapes and replicas as ObservePending last saw them (the LP bound's
  // work between passes that list them).
  std::vector<std::pair<model::Shape, int>> pending_work_;
  // ObservePool's work; `add_pending` adds the pending jobs' items to the LP work.
  void ObservePoolWith(const sched::Engine& engine, const std::vector<store::NodeRecord>& nodes,
                       TimePoint now,
                       const std::function<void(std::map<int, int64_t>&)>& add_pending);
  // Rebuilds the allocation gauges and totals from the engine.
  void BuildGauges(const sched::Engine& engine, const std::vector<store::NodeRecord>& nodes);

  std::optional<TimePoint> pool_at_;  // last ObservePool
  // The nodes' engine versions summed and their states when the gauges were last built:
  // while they are the same, the gauges are kept (versions only rise).
  std::optional<std::pair<uint64_t, std::vector<store::NodeState>>> gauges_of_;
  std::vector<int> measured_;  // engine indexes of the nodes that take new work
  // The gauges' node order: the ids sorted, and each record's position among them (for the
  // `nodes` last given; rebuilt when their ids differ).
  std::shared_ptr<const std::vector<std::string>> sorted_ids_;
  std::vector<size_t> sorted_pos_;
  std::optional<TimePoint> fragmentation_at_;
  std::optional<TimePoint> lp_at_;                      // the work last compared with lp_work_
  std::pair<int64_t, std::map<int, int64_t>> lp_work_;  // (GPUs, items) of the last bound
};

// Times one reconciler pass (steady clock, like the API's latency) and records it in
// `metrics` when destroyed, however the pass ends.
class PassTimer {
 public:
  explicit PassTimer(Metrics& metrics);
  ~PassTimer();
  PassTimer(const PassTimer&) = delete;
  PassTimer& operator=(const PassTimer&) = delete;

 private:
  Metrics& metrics_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace fastgpu::server

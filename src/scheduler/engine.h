// Engine: the one placement engine that the control plane and the simulator both drive.
//
// It owns the pool as the scheduler sees it (a Cluster), the placement policy and the
// workload the policy measures against, and lives as long as its driver: events change
// it (a node registered, changed, unhealthy, drained or lost; an allocation made or
// released), and placements are asked of it one request at a time (Place, with the
// policy) or a window at a time (PlaceBatch, with a BatchPlacer the driver owns). Nothing is
// rebuilt per pass, so the policy's per-node caches (keyed by node version) and its learned
// workload survive from one placement to the next; this is how Mesos's allocator keeps
// its state (addSlave / removeSlave / recoverResources).
//
// Nodes and allocations are named by the driver's ids. A node never leaves the Cluster
// (its index stays valid); a deleted or lost node is kept unschedulable.
//
// Workload knowledge: without EngineOptions::target_workload the engine learns the target
// from Observe()d shapes (a WorkloadWindow); with it, the target is fixed.
//
// Thread-safety: none; one thread at a time (the reconciler's pass, or one simulation).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "scheduler/batch_placer.h"
#include "scheduler/cluster.h"
#include "scheduler/placement.h"
#include "scheduler/policy.h"
#include "scheduler/workload.h"

namespace fastgpu::sched {

struct EngineOptions {
  std::string policy = std::string(kDefaultPolicy);  // a registry name
  uint64_t seed = 0;                                 // the policy's seed; default 0
  // A fixed target workload; default empty: learned from Observe() (see WorkloadWindow).
  std::vector<TargetTask> target_workload;
  int workload_window = WorkloadWindow::kDefaultCapacity;  // shapes the learning keeps
  // Nodes that empty out are given back (an autoscaled pool): the policy packs work onto
  // nodes that hold work already (Policy::SetElasticPool). Default false: a static pool.
  bool elastic_pool = false;
};

// What the engine needs to know of a node, as its driver sees it now.
struct EngineNode {
  NodeSpec spec;                // totals (sized to hold what the node's allocations hold)
  std::vector<bool> unhealthy;  // by GPU index; missing = healthy
  std::vector<bool> mig;        // by GPU index: in MIG mode; missing = not
  // ---- vm isolation ----
  std::vector<GpuVmSizes> vm;  // by GPU index: what it offers to `vm` work; missing = nothing
  NodeAvailability availability = NodeAvailability::kOpen;  // default open to new work
  friend bool operator==(const EngineNode&, const EngineNode&) = default;
};

class Engine {
 public:
  // NotFound for an unknown policy name.
  static Result<std::unique_ptr<Engine>> Create(const EngineOptions& options);

  // Adds the node with this spec.id, or brings a known one up to date (a changed spec
  // re-applies its allocations on the new totals; flags are set where they differ).
  // Returns its index in cluster(). FailedPrecondition when an allocation no longer fits
  // the new spec (it is dropped from the engine's books; the caller decides what it means).
  Result<int> UpsertNode(const EngineNode& node);
  // The index of a known node, or -1.
  int NodeIndex(const std::string& id) const;
  // Opens or closes a known node to new work (its view's `availability`: why it is
  // closed). OutOfRange for a bad index.
  Status SetAvailability(int index, NodeAvailability availability);

  // Books an allocation that exists (found in the store, or just made by Place): applies
  // `placement` (placement.node is a cluster index) unless `already_applied`. GPU health
  // does not stop it (work already there holds its place). FailedPrecondition when it
  // does not fit (double booking); AlreadyExists for a known id.
  Status AddAllocation(const std::string& id, const NodePlacement& placement,
                       bool already_applied = false);
  // Gives an allocation's resources back; NotFound for an unknown id.
  Status ReleaseAllocation(const std::string& id);
  bool HasAllocation(const std::string& id) const { return allocs_.contains(id); }
  // Ids of every booked allocation.
  std::vector<std::string> AllocationIds() const;
  // Every booking: allocation id -> its placement.
  const std::unordered_map<std::string, NodePlacement>& allocations() const { return allocs_; }

  // Learns one submitted shape (nothing when the target is fixed).
  void Observe(const model::Shape& shape);

  // Places every replica of `request` and applies them (all or nothing). The caller books
  // each under an id with AddAllocation(id, p, /*already_applied=*/true) or gives them
  // back with Unplace. ResourceExhausted (with why) when it fits nowhere now.
  //
  // A `vm` fraction takes a vGPU type's share: it is tried at each type size the pool's
  // GPUs offer that holds it, smallest first, and its slots carry that size (0.3 on GPUs
  // offering 0.25 and 0.5 takes 0.5). ResourceExhausted with VmRefusal's text when no GPU
  // offers a size that holds it.
  Result<std::vector<NodePlacement>> Place(const Request& request);
  // Why no GPU of the pool can ever take `shape`'s `vm` share, whatever is free: "no GPU
  // offers a vm type of at least 0.3 (types offered: 0.25)" or "no GPU offers whole-GPU vm
  // passthrough". "" for other shapes, and when some GPU of the pool (of any model,
  // drained, lost or busy ones included) offers it. O(distinct offers) after the first call
  // following a change of offers.
  std::string VmRefusal(const model::Shape& shape);
  // The share a `vm` fraction of `milli` takes now: the smallest type size some GPU offers
  // that is at least `milli`; 0 when none does.
  int VmShareFor(int milli);
  // Places a window of requests with `placer` in one call (on the cluster as it stands)
  // and applies its answers request by request, in order. A request is placed only when
  // every replica got a place that still applies (a schedulable node, healthy GPUs of an
  // allowed model, in MIG mode where the shape needs it, room left): its replicas are then
  // applied like Place's (the caller books each with AddAllocation(id, p, true) or gives
  // them back with Unplace). Otherwise what its replicas took is given back and its entry
  // is ResourceExhausted, saying why; InvalidArgument for a request with no replicas (the
  // placer does not see it). One entry per request, in order.
  std::vector<Result<std::vector<NodePlacement>>> PlaceBatch(const std::vector<Request>& requests,
                                                             BatchPlacer& placer);
  // Gives back placements from Place or PlaceBatch that were never booked.
  void Unplace(const std::vector<NodePlacement>& placements);

  // Moves on every event after which a request refused before could fit: an allocation
  // released (ReleaseAllocation, Unplace), a node added or its view changed (UpsertNode
  // with a view unlike the last one: totals, health, MIG mode or availability), a node
  // opened to new work (SetAvailability). Placing (Place, PlaceBatch, AddAllocation) never
  // moves it: more work never makes a refused request fit (a policy refuses only when no
  // node passes the filters of filters.h, and every filter is monotone in what is free).
  // A request that Place refused while this was E is refused again while it is still E
  // (gangs too: identical replicas placed greedily fit iff the nodes' room for them adds up
  // to the gang, and room only shrinks); a driver may skip it. Starts at 0.
  uint64_t freed_epoch() const { return freed_epoch_; }

  const Cluster& cluster() const { return cluster_; }
  const Policy& policy() const { return *policy_; }
  const WorkloadWindow& workload() const { return workload_; }
  bool learning() const { return learning_; }
  // How many times the learned target changed (Observe re-estimated it); 0 while nothing
  // was learned. A driver that hands the target on (to a BatchPlacer) does so when it moves.
  int64_t target_version() const { return target_version_; }

 private:
  explicit Engine(const EngineOptions& options, std::unique_ptr<Policy> policy);
  Status ApplyHeld(const NodePlacement& placement);
  void SetFlags(int index, const EngineNode& node);
  // The distinct vm type sizes of every node's view (vm_sizes_), rebuilt when stale.
  const std::vector<int>& VmSizes();

  Cluster cluster_;
  std::unique_ptr<Policy> policy_;
  WorkloadWindow workload_;
  bool learning_;
  int64_t target_version_ = 0;
  uint64_t freed_epoch_ = 0;
  std::unordered_map<std::string, int> node_index_;
  std::vector<EngineNode> nodes_;  // by cluster index: the view last given
  std::unordered_map<std::string, NodePlacement> allocs_;
  std::vector<std::vector<std::string>> node_allocs_;  // by cluster index
  // ---- vm isolation ----
  std::vector<int> vm_sizes_;   // distinct vGPU type shares offered in the pool, ascending
  bool vm_passthrough_ = false;  // some GPU offers whole-GPU passthrough
  bool vm_stale_ = true;        // a node's offers changed since vm_sizes_ was built
};

}  // namespace fastgpu::sched

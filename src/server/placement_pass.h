// The pieces of one placement pass of the reconciler (reconciler.cpp, PlacePending): the
// long-lived engine brought up to date with the registered nodes and their live
// allocations; the note that names over-committed nodes; the pool as feasibility
// diagnostics see it; and the allocations a placement becomes. Functions over values read
// in one transaction; no I/O, no clock. Thread-compatible.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/result.h"
#include "model/job.h"
#include "scheduler/cluster.h"
#include "scheduler/engine.h"
#include "scheduler/feasibility.h"
#include "scheduler/policy.h"
#include "store/records.h"

namespace fastgpu::server {

// Brings the long-lived engine up to date with the nodes and live allocations read this
// pass (one transaction): allocations it books that are no longer live are released,
// nodes are added or updated, live allocations it does not book yet are booked. A live
// allocation always holds its resources: a node that now reports less than its live
// allocations hold is sized to hold them and is over-committed (no new work) until they
// fit in what it reports; an allocation that does not fit beside the others (a store that
// books a GPU twice) closes its node the same way. New work only on ready nodes with
// credentials. Costs O(nodes + live allocations) comparisons; nothing is rebuilt, so the
// policy's caches and learned workload survive.
struct PoolSync {
  std::map<std::string, std::string> overcommitted;  // node id -> why
  std::vector<const store::NodeRecord*> record_of;   // engine node index -> its record (or null)
};
PoolSync SyncEngine(sched::Engine& engine, const std::vector<store::NodeRecord>& nodes,
                    const std::vector<store::AllocationRecord>& live);

// Said in the reason of every job left busy, so an over-committed ready node is visible
// ("; no new work on over-committed node(s): ..."); "" when there is none.
std::string OvercommitNote(const std::vector<store::NodeRecord>& nodes,
                           const std::map<std::string, std::string>& overcommitted);

// The pool as feasibility diagnostics see it (same order as `nodes`), over-committed
// nodes marked so.
std::vector<sched::PoolNode> DiagnosisPool(const std::vector<store::NodeRecord>& nodes,
                                           const std::vector<store::AllocationRecord>& live,
                                           const std::map<std::string, std::string>& overcommitted);

// The allocations one placed job becomes, and where, in words ("node-1 (GPU 0 1)").
struct PlacementPlan {
  std::string job_id;
  std::vector<store::AllocationRecord> allocs;
  std::string where;
};
// `record_of` maps the placements' node indexes (the engine's) to node records.
PlacementPlan PlanAllocations(const model::Job& job,
                              const std::vector<sched::NodePlacement>& placements,
                              const std::vector<const store::NodeRecord*>& record_of,
                              model::Isolation iso, TimePoint now, IdGenerator& ids);

}  // namespace fastgpu::server

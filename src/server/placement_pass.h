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

// Keeping the long-lived engine up to date with the store. A live allocation always holds
// its resources: a node that now reports less than its live allocations hold is sized to
// hold them and is over-committed (no new work) until they fit in what it reports; an
// allocation that does not fit beside the others (a store that books a GPU twice) closes
// its node the same way. New work only on ready nodes with credentials. Nothing is
// rebuilt, so the policy's caches and learned workload survive.
using Overcommitted = std::map<std::string, std::string>;  // node id -> why

// The node as the engine sees it, given its live allocations `mine`; sets or clears
// overcommitted[n's id].
sched::EngineNode NodeView(const store::NodeRecord& n,
                           const std::vector<const store::AllocationRecord*>& mine,
                           Overcommitted& overcommitted);

// Everything, from the nodes and live allocations read in one transaction: bookings no
// longer live are released, nodes added or updated, live allocations not booked yet
// booked. O(nodes + live allocations) comparisons. Returns the over-committed nodes.
Overcommitted SyncEngine(sched::Engine& engine, const std::vector<store::NodeRecord>& nodes,
                         const std::vector<store::AllocationRecord>& live);

// A node that changed, with its live allocations, read in one transaction.
struct ChangedNode {
  store::NodeRecord record;
  std::vector<store::AllocationRecord> live;
};
// Only what changed (the change feed's allocations and nodes, read in one transaction):
// O(changes). `overcommitted` is kept up to date for the nodes it sees.
void SyncChanges(sched::Engine& engine, const std::vector<store::AllocationRecord>& allocs,
                 const std::vector<ChangedNode>& nodes, Overcommitted& overcommitted);

// Engine node index -> the record of that node in `nodes` (null for none).
std::vector<const store::NodeRecord*> RecordsByIndex(const sched::Engine& engine,
                                                     const std::vector<store::NodeRecord>& nodes);

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

// The pieces of one placement pass of the reconciler (reconciler.cpp, PlacePending): the
// pool as the scheduler sees it, built from the registered nodes and their live
// allocations; the note that names over-committed nodes; the pool as feasibility
// diagnostics see it; one job's placement (MIG only on GPUs in MIG mode); and the
// allocations a placement becomes. Pure functions over values read in one transaction;
// no I/O, no clock. Thread-compatible.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/result.h"
#include "model/job.h"
#include "scheduler/cluster.h"
#include "scheduler/feasibility.h"
#include "scheduler/policy.h"
#include "store/records.h"

namespace fastgpu::server {

// The pool as the scheduler sees it this pass: every node, its live allocations applied
// (before health marks, which Apply refuses), new work only on ready nodes. A live
// allocation always holds its resources here: a node that now reports less than its live
// allocations hold is sized to hold them, and is over-committed (no new work) until they
// fit in what it reports. Node i of `cluster` is nodes[i].
struct PassPool {
  sched::Cluster cluster;
  std::map<std::string, std::string> overcommitted;  // node id -> why
};
PassPool BuildPassPool(const std::vector<store::NodeRecord>& nodes,
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

// Places all replicas of `request` (isolation `iso`) on `cluster` with `policy`, or none.
// MIG replicas go only to GPUs in MIG mode.
Result<std::vector<sched::NodePlacement>> PlaceJob(sched::Policy& policy, sched::Cluster& cluster,
                                                   const std::vector<store::NodeRecord>& nodes,
                                                   const sched::Request& request,
                                                   model::Isolation iso);

// The allocations one placed job becomes, and where, in words ("node-1 (GPU 0 1)").
struct PlacementPlan {
  std::string job_id;
  std::vector<store::AllocationRecord> allocs;
  std::string where;
};
PlacementPlan PlanAllocations(const model::Job& job,
                              const std::vector<sched::NodePlacement>& placements,
                              const std::vector<store::NodeRecord>& nodes, model::Isolation iso,
                              TimePoint now, IdGenerator& ids);

}  // namespace fastgpu::server

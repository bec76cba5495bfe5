// NodeUsage: what a node's live allocations hold, set against what the node reports.
//
// A node may come to report less than its live allocations hold (its agent registered
// again with less CPU, memory or fewer GPUs while work was running). Those allocations
// still hold their resources: the scheduler counts them, and the node is over-committed
// (it gets no new work, and says why) until it has room again. Pure functions;
// thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "scheduler/feasibility.h"
#include "store/records.h"

namespace fastgpu::server {

struct NodeUsage {
  int64_t cpu_milli = 0;
  int64_t memory_mib = 0;
  std::map<int, int64_t> gpu_milli;       // by GPU index
  std::map<int, int64_t> gpu_memory_mib;  // by GPU index
};

// The sum of the live allocations of `allocs` that are on `node_id` (others skipped).
NodeUsage UsageOn(const std::string& node_id, const std::vector<store::AllocationRecord>& allocs);
// The sum of the live allocations of `allocs`, all on one node.
NodeUsage UsageOf(const std::vector<const store::AllocationRecord*>& allocs);

// Why `node` holds more than it reports, e.g. "live allocations hold 4000 CPU milli, the
// node reports 2000", or "" when everything fits.
std::string OvercommitReason(const store::NodeRecord& node, const NodeUsage& usage);

// Every node of `nodes` (same order) as feasibility diagnostics see it: the totals it
// reports, what `live` leaves free of them (never below zero), and whether it is open
// (ready and not over-committed), drained (draining), lost or over-committed (with
// OvercommitReason as its why).
std::vector<sched::PoolNode> PoolView(const std::vector<store::NodeRecord>& nodes,
                                      const std::vector<store::AllocationRecord>& live);

}  // namespace fastgpu::server

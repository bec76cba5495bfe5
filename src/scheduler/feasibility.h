// Feasibility: why a request fits nowhere, in words a user can act on.
//
// The policies answer "where does this replica go now?". Diagnose answers what a user
// whose job waits asks: could this pool ever hold the request, and if so, what stands in
// the way now? A request the pool cannot place now is one of:
//   kNoNodes  the pool has no node at all (a fresh pool: its first agent is on its way);
//   kNever    no registered node could hold it even empty and with every GPU healthy,
//             drained and lost nodes included (they may come back): the pool as it is
//             will never run it (too many GPUs for the gang, more GPU memory than any GPU
//             has, MIG on a pool without MIG mode, a GPU model the pool lacks, ...);
//   kBlocked  the pool could hold it, but only with nodes that take no new work (drained,
//             lost, over-committed) or GPUs that are unhealthy; the reason names them;
//   kBusy     the open, healthy part of the pool could hold it when empty: it waits for
//             running work to end, and the reason says what holds the capacity.
// Capacity is counted per replica and node, all dimensions at once (a node with 4 GPUs
// and 8 CPU holds 2 replicas of "1 GPU, 4 CPU"); replicas of a gang may span nodes.
//
// Pure functions on value types; no I/O, no threads; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scheduler/cluster.h"
#include "scheduler/placement.h"

namespace fastgpu::sched {

struct PoolGpu {
  int index = 0;                  // the GPU's index on its node
  int64_t memory_mib = 0;         // total; 0 = unknown (memory asks cannot use it)
  bool healthy = true;            // default true
  std::string health_reason;      // said when unhealthy ("XID 79")
  bool mig_enabled = false;       // default false; MIG isolation needs it
  int free_milli = kMilliPerGpu;  // default all free
  int64_t free_memory_mib = 0;    // what allocations leave of memory_mib
};

// One registered node: what it has in total, what is free now, and whether it is open.
struct PoolNode {
  std::string id;
  std::string gpu_model;  // empty without GPUs
  std::vector<PoolGpu> gpus;
  int64_t cpu_milli = 0;  // totals
  int64_t memory_mib = 0;
  int64_t cpu_free_milli = 0;  // free now
  int64_t memory_free_mib = 0;
  NodeAvailability availability = NodeAvailability::kOpen;  // default open
  std::string why;  // for kOvercommitted: what it holds beyond what it reports
};

// Copies the free amounts of `state` (the scheduler's view, placements of this pass
// applied) into `node`: CPU, memory and, by GPU index, GPU compute and memory.
void SetFreeFrom(const NodeState& state, PoolNode& node);

enum class Verdict { kNoNodes, kNever, kBlocked, kBusy };

struct Diagnosis {
  Verdict verdict = Verdict::kBusy;
  // What stands in the way, without the verdict's words, e.g. "the gang needs 5 GPUs at
  // once; the whole pool has 4" or "node node-1 is drained".
  std::string detail;
  // The reason as a user reads it, e.g. "never fits in this pool as it is: the gang needs
  // 5 GPUs at once; the whole pool has 4", "waiting for capacity: all 4 GPUs are
  // allocated", "waiting: no nodes registered yet".
  std::string Text() const;
};

// Why `request` cannot be placed in `pool` now. For kBusy the free amounts of the nodes
// are read; when they show room for the whole request (the policy found none all the
// same), `fallback` (the policy's own message) is the detail. Never fails.
Diagnosis Diagnose(const std::vector<PoolNode>& pool, const Request& request,
                   const std::string& fallback = "");

// Whether `request` could ever be placed in `pool`, judged as Diagnose judges kNever
// (every node empty and healthy, drained and lost nodes included): kNoNodes for an empty
// pool, kNever with its detail, or kBusy (meaning: it could fit) otherwise.
Diagnosis CheckEverFits(const std::vector<PoolNode>& pool, const Request& request);

}  // namespace fastgpu::sched

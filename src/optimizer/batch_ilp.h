// Exact batch placement: the integer program "place a batch of requests on the pool so
// that the GPU capacity allocated is largest", solved by COIN-OR CBC.
//
// Constraints: each GPU's free compute (milli) and, where a request asks for it, free GPU
// memory; each node's free CPU and memory; the requests' GPU-model constraints; every
// request placed at most once; a request's replicas placed all together or not at all (a
// gang). A fractional replica (1 GPU, milli < 1000) takes part of one GPU; a replica of
// whole GPUs (milli == 1000) takes that many fully free GPUs of one node; a CPU-only
// replica takes CPU and memory only. Unhealthy GPUs get nothing.
//
// The input types here are plain values of this module's own, independent of the
// scheduler's Cluster. Node and GPU numbers in a solution are indexes into
// IlpProblem::nodes and IlpNode::gpus.
//
// Thread-safety: every function is reentrant; concurrent calls on different (or const
// shared) problems are safe. CBC and Clp print nothing (their logs are silenced).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "model/shape.h"

namespace fastgpu::opt {

struct IlpGpu {
  int64_t free_milli = 1000;    // free compute, 0..1000
  int64_t free_memory_mib = 0;  // free GPU memory; checked only against memory asks
  bool healthy = true;          // false: gets no new work
};

struct IlpNode {
  std::string name;   // used only in messages
  std::string model;  // GPU model of every GPU of the node
  int64_t free_cpu_milli = 0;
  int64_t free_memory_mib = 0;
  std::vector<IlpGpu> gpus;
};

struct IlpRequest {
  model::Shape shape;  // per replica; gpu_memory_mib 0 = no memory ask
  int replicas = 1;    // gang size, >= 1
};

struct IlpProblem {
  std::vector<IlpNode> nodes;
  std::vector<IlpRequest> requests;
};

// The part of one GPU given to one replica.
struct IlpSlice {
  int gpu = 0;        // index into IlpNode::gpus
  int64_t milli = 0;  // 1..1000
};

struct IlpReplicaPlacement {
  int node = -1;                 // index into IlpProblem::nodes
  std::vector<IlpSlice> slices;  // one per GPU used; empty for CPU-only replicas
};

// A request's placement: every replica, or none (empty = not placed).
struct IlpRequestPlacement {
  std::vector<IlpReplicaPlacement> replicas;
  bool placed() const { return !replicas.empty(); }
};

enum class IlpStatus {
  kOptimal,     // proven optimal
  kFeasible,    // a placement, not proven optimal (time limit); see best_bound and gap
  kNoSolution,  // nothing placed, though the bound says something might fit (SolveBatch
                // always holds the greedy placement, so this needs both it and CBC empty)
};
const char* IlpStatusName(IlpStatus status);  // "optimal", "feasible", "no_solution"

struct IlpSolution {
  IlpStatus status = IlpStatus::kNoSolution;
  std::vector<IlpRequestPlacement> placements;  // one per request, in request order
  int64_t objective = 0;  // GPU milli placed + placement_bonus per placed request
  int64_t allocated_gpu_milli = 0;
  double best_bound = 0;             // upper bound on the objective (== objective if optimal)
  double relative_gap = 0;           // (best_bound - objective) / max(1, best_bound)
  int64_t warm_start_objective = 0;  // objective of the warm start the solver began from
  int columns = 0;                   // size of the integer program solved
  int rows = 0;
  double solve_seconds = 0;
};

struct IlpOptions {
  // Wall-clock budget of the branch and bound, seconds. Default 1.
  double time_limit_s = 1.0;
  // Added to the objective for each placed request (a tie-break that makes CPU-only
  // requests worth placing). Default 0: the objective is exactly the GPU milli placed.
  int64_t placement_bonus = 0;
  // Stop when the relative gap falls below this. Default 0 (prove optimality).
  double relative_gap_limit = 0;
  // Keep at most this many candidate nodes per request (the best-fitting by free GPU
  // milli, plus any the warm start uses). Default 0: all nodes (exact). A positive cap
  // makes the model smaller and the answer no longer provably optimal for the full pool.
  int max_candidate_nodes = 0;
  // A starting placement (e.g. from an online heuristic). Must be feasible; the solver's
  // answer is never worse. Default none: the module's own greedy placement is used.
  std::optional<std::vector<IlpRequestPlacement>> warm_start = std::nullopt;
};

// Solves the batch. InvalidArgument for a malformed problem (bad shape, replicas < 1,
// negative amounts) or an infeasible warm start; Internal if the solver fails.
Result<IlpSolution> SolveBatch(const IlpProblem& problem, const IlpOptions& options = {});

// The optimum of the integer program's LP relaxation (GPU milli, with the bonus when
// given): no placement of the batch allocates more. Same errors as SolveBatch.
Result<double> LpUpperBound(const IlpProblem& problem, const IlpOptions& options = {});

// A feasible placement by a greedy rule: requests by GPU milli, largest first; each
// replica on the node and GPUs that leave the least free GPU milli (best fit); a gang
// that does not fit entirely is left out. Never fails on a valid problem.
std::vector<IlpRequestPlacement> GreedyPlacement(const IlpProblem& problem);

// OK when `placements` (one per request) respects every constraint above; otherwise
// InvalidArgument naming the first violation.
Status CheckPlacement(const IlpProblem& problem,
                      const std::vector<IlpRequestPlacement>& placements);

// GPU milli of the placed requests, and the objective with `placement_bonus`.
int64_t AllocatedGpuMilli(const IlpProblem& problem,
                          const std::vector<IlpRequestPlacement>& placements);
int64_t PlacementObjective(const IlpProblem& problem,
                           const std::vector<IlpRequestPlacement>& placements,
                           int64_t placement_bonus);

// OK when the problem is well formed: amounts >= 0, GPU free milli 0..1000, replicas >= 1,
// and each shape CPU-only (no GPU milli), a fraction (1 GPU, 1..999) or whole GPUs (1000).
Status ValidateProblem(const IlpProblem& problem);

}  // namespace fastgpu::opt

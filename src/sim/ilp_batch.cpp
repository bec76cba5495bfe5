// The `ilp-batch` batch placer: each batch of arrivals is placed by the exact integer
// program of src/optimizer (COIN-OR CBC), warm-started from the default online policy
// run over the same batch; and the LP upper bound hook (the GPU configuration LP).
//
// Listed in the batch placer table of batch_policy.cpp: `fastgpu sim --policies
// ilp-batch`; LpBoundShare is the default `lp_upper_bound` of every simulation report.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "optimizer/batch_ilp.h"
#include "optimizer/config_lp.h"
#include "sim/batch_placers_internal.h"
#include "sim/batch_policy.h"

namespace fastgpu::sim {
namespace {

// Candidate nodes kept per request (best fitting first, plus the warm start's): keeps a
// batch of 64 on the 1,213-node trace cluster to a program CBC can work in a second.
constexpr int kMaxCandidateNodes = 48;

opt::IlpProblem ToProblem(const sched::Cluster& cluster,
                          const std::vector<sched::Request>& requests) {
  opt::IlpProblem problem;
  for (const sched::NodeState& node : cluster.nodes()) {
    opt::IlpNode n;
    n.name = node.id;
    n.model = node.gpu_model;
    n.free_cpu_milli = node.schedulable ? node.cpu_free_milli : 0;
    n.free_memory_mib = node.schedulable ? node.memory_free_mib : 0;
    for (const sched::GpuState& gpu : node.gpus) {
      n.gpus.push_back({gpu.free_milli, gpu.free_memory_mib, gpu.healthy && node.schedulable});
    }
    problem.nodes.push_back(std::move(n));
  }
  for (const sched::Request& r : requests) problem.requests.push_back({r.shape, 1});
  return problem;
}

opt::IlpReplicaPlacement ToReplica(const sched::NodePlacement& p) {
  opt::IlpReplicaPlacement rep;
  rep.node = p.node;
  for (const sched::GpuSlot& slot : p.gpus) rep.slices.push_back({slot.gpu_index, slot.milli});
  return rep;
}

sched::NodePlacement FromReplica(const sched::Cluster& cluster, const model::Shape& shape,
                                 const opt::IlpReplicaPlacement& rep) {
  sched::NodePlacement p;
  p.node = rep.node;
  p.cpu_milli = shape.cpu_milli;
  p.memory_mib = shape.memory_mib;
  for (const opt::IlpSlice& s : rep.slices) {
    const sched::GpuState& gpu = cluster.node(rep.node).gpus[s.gpu];
    const bool whole = shape.gpu_milli >= sched::kMilliPerGpu;
    p.gpus.push_back(
        {s.gpu, static_cast<int>(s.milli), whole ? gpu.free_memory_mib : shape.gpu_memory_mib});
  }
  return p;
}

class IlpBatchPlacer final : public BatchPlacer {
 public:
  explicit IlpBatchPlacer(BatchOptions options) : options_(std::move(options)) {}

  std::string_view Name() const override { return "ilp-batch"; }

  std::vector<std::optional<sched::NodePlacement>> PlaceBatch(
      const sched::Cluster& cluster, const std::vector<sched::Request>& requests) override {
    opt::IlpProblem problem = ToProblem(cluster, requests);
    // Warm start: the default online policy placing the batch one request after the
    // other on a scratch copy. A fresh policy each time: its per-node caches are keyed by
    // node versions, which a scratch copy shares with the real cluster.
    std::vector<opt::IlpRequestPlacement> warm(requests.size());
    sched::PolicyOptions popts;
    popts.seed = options_.seed;
    popts.target_workload = options_.target_workload;
    Result<std::unique_ptr<sched::Policy>> policy = sched::MakePolicy(sched::kDefaultPolicy, popts);
    sched::Cluster scratch = cluster;
    for (size_t r = 0; policy.ok() && r < requests.size(); ++r) {
      Result<sched::NodePlacement> p = (*policy)->Place(scratch, requests[r].shape);
      if (!p.ok() || !scratch.Apply(*p).ok()) continue;
      (*policy)->OnNodeChanged(scratch, p->node);
      warm[r].replicas.push_back(ToReplica(*p));
    }
    opt::IlpOptions ilp;
    ilp.time_limit_s = options_.time_limit_seconds;
    ilp.placement_bonus = 1;  // CPU-only requests are worth placing too
    ilp.max_candidate_nodes = kMaxCandidateNodes;
    if (opt::CheckPlacement(problem, warm).ok()) ilp.warm_start = std::move(warm);
    Result<opt::IlpSolution> solution = opt::SolveBatch(problem, ilp);
    // Should the solver fail, the warm start (the online policy's answer) stands.
    const std::vector<opt::IlpRequestPlacement>& chosen =
        solution.ok() ? solution->placements
                      : (ilp.warm_start ? *ilp.warm_start
                                        : std::vector<opt::IlpRequestPlacement>(requests.size()));
    std::vector<std::optional<sched::NodePlacement>> out(requests.size());
    for (size_t r = 0; r < requests.size() && r < chosen.size(); ++r) {
      const opt::IlpRequestPlacement& p = chosen[r];
      if (p.placed()) out[r] = FromReplica(cluster, requests[r].shape, p.replicas.front());
    }
    return out;
  }

 private:
  BatchOptions options_;
};

}  // namespace

Result<std::unique_ptr<BatchPlacer>> MakeIlpBatch(const BatchOptions& options) {
  // Fails early (NotFound) if the default policy is not registered.
  FASTGPU_RETURN_IF_ERROR(sched::MakePolicy(sched::kDefaultPolicy, {}).status());
  return std::unique_ptr<BatchPlacer>(std::make_unique<IlpBatchPlacer>(options));
}

Result<double> LpBoundShare(const sched::Cluster& empty, const std::vector<model::Shape>& arrived) {
  int64_t gpus = 0;
  for (const sched::NodeState& node : empty.nodes()) {
    for (const sched::GpuState& gpu : node.gpus) gpus += gpu.healthy ? 1 : 0;
  }
  FASTGPU_ASSIGN_OR_RETURN(opt::ConfigLpBound bound,
                           opt::GpuConfigLpBound(gpus, opt::ItemsFromShapes(arrived)));
  return bound.UpperBoundShare();
}

}  // namespace fastgpu::sim

// The `ilp-batch` batch placer: each window of requests is placed by the exact integer
// program of src/optimizer (COIN-OR CBC), warm-started from the default online policy
// run over the same window. The program knows GPU models but not MIG mode: requests that
// need MIG isolation are left out of it and placed after it by the default policy.
//
// Listed in the batch placer table of batch_placers.cpp: `fastgpu sim --policies
// ilp-batch`, `fastgpu server --placer ilp-batch`.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "optimizer/batch_ilp.h"
#include "placer/batch_placers_internal.h"

namespace fastgpu::placer {
namespace {

// Candidate nodes kept per request (best fitting first, plus the warm start's): keeps a
// batch of 64 on the 1,213-node trace cluster to a program CBC can work in a second.
constexpr int kMaxCandidateNodes = 48;

bool NeedsMig(const model::Shape& shape) {
  return shape.NeedsGpu() && shape.EffectiveIsolation() == model::Isolation::kMig;
}

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
  for (const sched::Request& r : requests) problem.requests.push_back({r.shape, r.replicas});
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

class IlpBatchPlacer final : public sched::BatchPlacer {
 public:
  explicit IlpBatchPlacer(BatchOptions options) : options_(std::move(options)) {}

  std::string_view Name() const override { return "ilp-batch"; }

  void SetTargetWorkload(const std::vector<sched::TargetTask>& target) override {
    options_.target_workload = target;
  }

  std::vector<std::vector<sched::NodePlacement>> PlaceBatch(
      const sched::Cluster& cluster, const std::vector<sched::Request>& all) override {
    // The program's requests: all but those needing MIG (placed below, after it).
    std::vector<sched::Request> requests;
    std::vector<size_t> at;  // requests[i] is all[at[i]]
    std::vector<size_t> mig;
    for (size_t r = 0; r < all.size(); ++r) {
      if (NeedsMig(all[r].shape)) {
        mig.push_back(r);
      } else {
        requests.push_back(all[r]);
        at.push_back(r);
      }
    }
    std::vector<std::vector<sched::NodePlacement>> out(all.size());
    if (!requests.empty()) {
      std::vector<std::vector<sched::NodePlacement>> solved = Solve(cluster, requests);
      for (size_t i = 0; i < solved.size(); ++i) out[at[i]] = std::move(solved[i]);
    }
    if (mig.empty()) return out;
    Result<std::unique_ptr<sched::Policy>> policy = NewPolicy();
    if (!policy.ok()) return out;
    sched::Cluster scratch = cluster;
    for (const std::vector<sched::NodePlacement>& gang : out) {
      for (const sched::NodePlacement& p : gang) {
        scratch.Apply(p).IgnoreError();  // checked by the engine when applied
      }
    }
    for (size_t r : mig) {
      Result<std::vector<sched::NodePlacement>> gang = sched::PlaceGang(**policy, scratch, all[r]);
      if (gang.ok()) out[r] = std::move(*gang);
    }
    return out;
  }

 private:
  // A fresh default policy: its per-node caches are keyed by node versions, which a
  // scratch copy shares with the real cluster.
  Result<std::unique_ptr<sched::Policy>> NewPolicy() const {
    sched::PolicyOptions popts;
    popts.seed = options_.seed;
    popts.target_workload = options_.target_workload;
    return sched::MakePolicy(sched::kDefaultPolicy, popts);
  }

  std::vector<std::vector<sched::NodePlacement>> Solve(
      const sched::Cluster& cluster, const std::vector<sched::Request>& requests) const {
    opt::IlpProblem problem = ToProblem(cluster, requests);
    // Warm start: the default online policy placing the window one request after the
    // other on a scratch copy.
    std::vector<opt::IlpRequestPlacement> warm(requests.size());
    Result<std::unique_ptr<sched::Policy>> policy = NewPolicy();
    sched::Cluster scratch = cluster;
    for (size_t r = 0; policy.ok() && r < requests.size(); ++r) {
      Result<std::vector<sched::NodePlacement>> gang =
          sched::PlaceGang(**policy, scratch, requests[r]);
      if (!gang.ok()) continue;
      for (const sched::NodePlacement& p : *gang) warm[r].replicas.push_back(ToReplica(p));
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
    std::vector<std::vector<sched::NodePlacement>> out(requests.size());
    for (size_t r = 0; r < requests.size() && r < chosen.size(); ++r) {
      for (const opt::IlpReplicaPlacement& rep : chosen[r].replicas) {
        out[r].push_back(FromReplica(cluster, requests[r].shape, rep));
      }
    }
    return out;
  }

  BatchOptions options_;
};

}  // namespace

Result<std::unique_ptr<sched::BatchPlacer>> MakeIlpBatch(const BatchOptions& options) {
  // Fails early (NotFound) if the default policy is not registered.
  FASTGPU_RETURN_IF_ERROR(sched::MakePolicy(sched::kDefaultPolicy, {}).status());
  return std::unique_ptr<sched::BatchPlacer>(std::make_unique<IlpBatchPlacer>(options));
}

}  // namespace fastgpu::placer

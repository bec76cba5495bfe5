// Validation of problems and placements, and the objective of a placement.
#include <set>
#include <string>

#include "optimizer/batch_ilp.h"
#include "optimizer/ilp_internal.h"

namespace fastgpu::opt {

using internal::Kind;
using internal::KindOf;

const char* IlpStatusName(IlpStatus status) {
  switch (status) {
    case IlpStatus::kOptimal:
      return "optimal";
    case IlpStatus::kFeasible:
      return "feasible";
    case IlpStatus::kNoSolution:
      return "no_solution";
  }
  return "unknown";
}

Status ValidateProblem(const IlpProblem& problem) {
  for (size_t n = 0; n < problem.nodes.size(); ++n) {
    const IlpNode& node = problem.nodes[n];
    const std::string where = "node " + std::to_string(n) + " (" + node.name + ")";
    if (node.free_cpu_milli < 0 || node.free_memory_mib < 0) {
      return InvalidArgument(where + ": negative free CPU or memory");
    }
    for (const IlpGpu& gpu : node.gpus) {
      if (gpu.free_milli < 0 || gpu.free_milli > 1000 || gpu.free_memory_mib < 0) {
        return InvalidArgument(where + ": GPU free milli outside 0..1000 or negative memory");
      }
    }
  }
  for (size_t r = 0; r < problem.requests.size(); ++r) {
    const IlpRequest& request = problem.requests[r];
    // Only what the program relies on; product rules (isolation, repeated model names)
    // are the caller's business.
    const model::Shape& shape = request.shape;
    const std::string who = "request " + std::to_string(r);
    if (shape.gpu_count < 0 || shape.cpu_milli < 0 || shape.memory_mib < 0 ||
        shape.gpu_memory_mib < 0) {
      return InvalidArgument(who + ": negative amount");
    }
    if (shape.gpu_count == 0 && shape.gpu_milli != 0) {
      return InvalidArgument(who + ": gpu_milli without GPUs");
    }
    if (shape.gpu_count > 0 && (shape.gpu_milli < 1 || shape.gpu_milli > 1000)) {
      return InvalidArgument(who + ": gpu_milli must be 1..1000");
    }
    if (shape.gpu_count > 1 && shape.gpu_milli != 1000) {
      return InvalidArgument(who + ": several GPUs must be whole (gpu_milli 1000)");
    }
    if (request.replicas < 1) {
      return InvalidArgument("request " + std::to_string(r) + ": replicas must be >= 1");
    }
  }
  return OkStatus();
}

Status CheckPlacement(const IlpProblem& problem,
                      const std::vector<IlpRequestPlacement>& placements) {
  if (placements.size() != problem.requests.size()) {
    return InvalidArgument("placement count " + std::to_string(placements.size()) +
                           " differs from request count " +
                           std::to_string(problem.requests.size()));
  }
  std::vector<IlpNode> left = problem.nodes;
  for (size_t r = 0; r < placements.size(); ++r) {
    const IlpRequest& request = problem.requests[r];
    const model::Shape& shape = request.shape;
    const auto& replicas = placements[r].replicas;
    const std::string who = "request " + std::to_string(r);
    if (replicas.empty()) continue;
    if (static_cast<int>(replicas.size()) != request.replicas) {
      return InvalidArgument(who + ": gang placed partly (" + std::to_string(replicas.size()) +
                             " of " + std::to_string(request.replicas) + " replicas)");
    }
    for (const IlpReplicaPlacement& rep : replicas) {
      if (rep.node < 0 || rep.node >= static_cast<int>(left.size())) {
        return InvalidArgument(who + ": bad node index " + std::to_string(rep.node));
      }
      IlpNode& node = left[rep.node];
      if (!internal::NodeAdmits(node, shape)) {
        return InvalidArgument(who + ": node " + std::to_string(rep.node) +
                               " lacks CPU, memory or the GPU model");
      }
      node.free_cpu_milli -= shape.cpu_milli;
      node.free_memory_mib -= shape.memory_mib;
      if (static_cast<int>(rep.slices.size()) != shape.gpu_count) {
        return InvalidArgument(who + ": replica has " + std::to_string(rep.slices.size()) +
                               " GPUs, shape asks " + std::to_string(shape.gpu_count));
      }
      std::set<int> seen;
      for (const IlpSlice& slice : rep.slices) {
        if (slice.gpu < 0 || slice.gpu >= static_cast<int>(node.gpus.size()) ||
            !seen.insert(slice.gpu).second) {
          return InvalidArgument(who + ": bad or repeated GPU index " + std::to_string(slice.gpu));
        }
        if (slice.milli != shape.gpu_milli) {
          return InvalidArgument(who + ": slice milli differs from the shape's");
        }
        IlpGpu& gpu = node.gpus[slice.gpu];
        const bool fits = KindOf(shape) == Kind::kWhole ? internal::WholeFits(gpu, shape)
                                                        : internal::FractionFits(gpu, shape);
        if (!fits) {
          return InvalidArgument(who + ": GPU " + std::to_string(slice.gpu) + " of node " +
                                 std::to_string(rep.node) + " is over-committed or unhealthy");
        }
        gpu.free_milli -= slice.milli;
        gpu.free_memory_mib =
            KindOf(shape) == Kind::kWhole ? 0 : gpu.free_memory_mib - shape.gpu_memory_mib;
      }
    }
  }
  return OkStatus();
}

int64_t AllocatedGpuMilli(const IlpProblem& problem,
                          const std::vector<IlpRequestPlacement>& placements) {
  int64_t total = 0;
  for (size_t r = 0; r < placements.size() && r < problem.requests.size(); ++r) {
    if (!placements[r].placed()) continue;
    total += internal::ReplicaGpuMilli(problem.requests[r].shape) * problem.requests[r].replicas;
  }
  return total;
}

int64_t PlacementObjective(const IlpProblem& problem,
                           const std::vector<IlpRequestPlacement>& placements,
                           int64_t placement_bonus) {
  int64_t placed = 0;
  for (const IlpRequestPlacement& p : placements) placed += p.placed() ? 1 : 0;
  return AllocatedGpuMilli(problem, placements) + placement_bonus * placed;
}

}  // namespace fastgpu::opt

// GreedyPlacement: best-fit, largest request first; the solver's default warm start.
#include <algorithm>
#include <limits>
#include <numeric>

#include "optimizer/batch_ilp.h"
#include "optimizer/ilp_internal.h"

namespace fastgpu::opt {
namespace {

using internal::Kind;
using internal::KindOf;

int64_t FreeGpuMilli(const IlpNode& node) {
  int64_t total = 0;
  for (const IlpGpu& gpu : node.gpus) total += gpu.healthy ? gpu.free_milli : 0;
  return total;
}

// Places one replica of `shape` on `nodes` (changing them) by best fit; false if none fits.
bool PlaceReplica(std::vector<IlpNode>& nodes, const model::Shape& shape,
                  IlpReplicaPlacement& out) {
  const Kind kind = KindOf(shape);
  int best_node = -1;
  int best_gpu = -1;
  // Best fit: the smallest free GPU milli left on the chosen GPU (fractions) or node.
  int64_t best_key = std::numeric_limits<int64_t>::max();
  for (int n = 0; n < static_cast<int>(nodes.size()); ++n) {
    const IlpNode& node = nodes[n];
    if (!internal::NodeAdmits(node, shape)) continue;
    if (kind == Kind::kFraction) {
      for (int g = 0; g < static_cast<int>(node.gpus.size()); ++g) {
        if (!internal::FractionFits(node.gpus[g], shape)) continue;
        const int64_t key = node.gpus[g].free_milli * 100000 + FreeGpuMilli(node);
        if (key < best_key) best_key = key, best_node = n, best_gpu = g;
      }
    } else {
      int whole = 0;
      for (const IlpGpu& gpu : node.gpus) whole += internal::WholeFits(gpu, shape) ? 1 : 0;
      if (whole < shape.gpu_count) continue;
      const int64_t key = FreeGpuMilli(node);
      if (key < best_key) best_key = key, best_node = n;
    }
  }
  if (best_node < 0) return false;
  IlpNode& node = nodes[best_node];
  node.free_cpu_milli -= shape.cpu_milli;
  node.free_memory_mib -= shape.memory_mib;
  out.node = best_node;
  out.slices.clear();
  if (kind == Kind::kFraction) {
    IlpGpu& gpu = node.gpus[best_gpu];
    gpu.free_milli -= shape.gpu_milli;
    gpu.free_memory_mib -= shape.gpu_memory_mib;
    out.slices.push_back({best_gpu, shape.gpu_milli});
  } else if (kind == Kind::kWhole) {
    for (int g = 0; g < static_cast<int>(node.gpus.size()) &&
                    static_cast<int>(out.slices.size()) < shape.gpu_count;
         ++g) {
      if (!internal::WholeFits(node.gpus[g], shape)) continue;
      node.gpus[g].free_milli = 0;
      node.gpus[g].free_memory_mib = 0;
      out.slices.push_back({g, 1000});
    }
  }
  return true;
}

}  // namespace

std::vector<IlpRequestPlacement> GreedyPlacement(const IlpProblem& problem) {
  std::vector<IlpRequestPlacement> result(problem.requests.size());
  std::vector<int> order(problem.requests.size());
  std::iota(order.begin(), order.end(), 0);
  auto weight = [&](int r) {
    const IlpRequest& q = problem.requests[r];
    return internal::ReplicaGpuMilli(q.shape) * q.replicas;
  };
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return weight(a) > weight(b); });
  std::vector<IlpNode> nodes = problem.nodes;
  for (int r : order) {
    const IlpRequest& request = problem.requests[r];
    std::vector<IlpNode> trial = nodes;
    std::vector<IlpReplicaPlacement> replicas(request.replicas);
    bool ok = true;
    for (auto& rep : replicas) {
      if (!PlaceReplica(trial, request.shape, rep)) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    nodes = std::move(trial);
    result[r].replicas = std::move(replicas);
  }
  return result;
}

}  // namespace fastgpu::opt

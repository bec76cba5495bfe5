// Builds the batch integer program and maps placements to and from its columns.
#include "optimizer/ilp_model.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "optimizer/ilp_internal.h"

namespace fastgpu::opt::internal {
namespace {

int64_t GpuKey(int node, int gpu) { return (static_cast<int64_t>(node) << 20) | gpu; }
int64_t ReqKey(int request, int64_t key) { return (static_cast<int64_t>(request) << 40) | key; }

int64_t FreeGpuMilli(const IlpNode& node) {
  int64_t total = 0;
  for (const IlpGpu& gpu : node.gpus) total += gpu.healthy ? gpu.free_milli : 0;
  return total;
}

std::string NodeClassKey(const IlpNode& node) {
  std::string key = node.model + "|" + std::to_string(node.free_cpu_milli) + "|" +
                    std::to_string(node.free_memory_mib);
  for (const IlpGpu& gpu : node.gpus) {
    key += "|" + std::to_string(gpu.free_milli) + "," + std::to_string(gpu.free_memory_mib) +
           (gpu.healthy ? "h" : "u");
  }
  return key;
}

// Nodes kept in the model: all but the surplus of identical nodes (see the header).
std::vector<bool> KeptNodes(const IlpProblem& problem,
                            const std::vector<IlpRequestPlacement>* warm_start) {
  int64_t replicas = 0;
  for (const IlpRequest& r : problem.requests) replicas += r.replicas;
  std::vector<bool> kept(problem.nodes.size(), false);
  std::unordered_map<std::string, int64_t> seen;
  for (size_t n = 0; n < problem.nodes.size(); ++n) {
    kept[n] = seen[NodeClassKey(problem.nodes[n])]++ < replicas;
  }
  if (warm_start != nullptr) {
    for (const IlpRequestPlacement& p : *warm_start) {
      for (const IlpReplicaPlacement& rep : p.replicas) {
        if (rep.node >= 0 && rep.node < static_cast<int>(kept.size())) kept[rep.node] = true;
      }
    }
  }
  return kept;
}

// Whether node n can host one replica of `shape` (GPUs included). A whole-GPU replica
// needs every fully free GPU of the node to suit it (they are pooled per node).
bool CanHost(const IlpNode& node, const model::Shape& shape) {
  if (!NodeAdmits(node, shape)) return false;
  switch (KindOf(shape)) {
    case Kind::kCpuOnly:
      return true;
    case Kind::kFraction:
      return std::any_of(node.gpus.begin(), node.gpus.end(),
                         [&](const IlpGpu& g) { return FractionFits(g, shape); });
    case Kind::kWhole: {
      int fits = 0;
      int free = 0;
      for (const IlpGpu& g : node.gpus) {
        fits += WholeFits(g, shape) ? 1 : 0;
        free += (g.healthy && g.free_milli >= 1000) ? 1 : 0;
      }
      return fits >= shape.gpu_count && fits == free;
    }
  }
  return false;
}

// How many replicas of `shape` the node's CPU and memory allow (capped at `cap`).
int64_t NodeReplicaCap(const IlpNode& node, const model::Shape& shape, int64_t cap) {
  if (shape.cpu_milli > 0) cap = std::min(cap, node.free_cpu_milli / shape.cpu_milli);
  if (shape.memory_mib > 0) cap = std::min(cap, node.free_memory_mib / shape.memory_mib);
  return cap;
}

}  // namespace

int IlpModel::AddColumn(IlpVar var, double ub, double objective_weight) {
  vars.push_back(var);
  col_lb.push_back(0);
  col_ub.push_back(ub);
  objective.push_back(objective_weight);
  return columns() - 1;
}

int IlpModel::AddRow(double lb, double ub) {
  row_lb.push_back(lb);
  row_ub.push_back(ub);
  return rows() - 1;
}

void IlpModel::AddElement(int row, int col, double value) {
  elem_row.push_back(row);
  elem_col.push_back(col);
  elem_value.push_back(value);
}

namespace {

using Terms = std::vector<std::pair<int, double>>;  // (column, coefficient) of one row

// The terms of the capacity rows, gathered while the columns are added: per GPU (keyed by
// GpuKey) its used compute and memory, per node its CPU, memory and whole-GPU demand.
struct CapacityTerms {
  explicit CapacityTerms(int num_nodes)
      : node_cpu(num_nodes), node_mem(num_nodes), node_whole(num_nodes) {}
  std::map<int64_t, Terms> gpu_use, gpu_mem;
  std::vector<Terms> node_cpu, node_mem, node_whole;
};

// The kept nodes that can host one replica of request `ri`, in index order; with
// options.max_candidate_nodes, only that many: the warm start's nodes first, then the
// nodes with the least free GPU milli (best fit).
std::vector<int> CandidateNodes(const IlpProblem& problem, const IlpOptions& options,
                                const std::vector<bool>& kept,
                                const std::vector<IlpRequestPlacement>* warm_start, size_t ri) {
  const int num_nodes = static_cast<int>(problem.nodes.size());
  std::vector<int> candidates;
  for (int n = 0; n < num_nodes; ++n) {
    if (kept[n] && CanHost(problem.nodes[n], problem.requests[ri].shape)) candidates.push_back(n);
  }
  if (options.max_candidate_nodes > 0 &&
      static_cast<int>(candidates.size()) > options.max_candidate_nodes) {
    std::vector<bool> in_warm(num_nodes, false);
    if (warm_start != nullptr && ri < warm_start->size()) {
      for (const auto& rep : (*warm_start)[ri].replicas) in_warm[rep.node] = true;
    }
    std::stable_sort(candidates.begin(), candidates.end(), [&](int a, int b) {
      return std::make_tuple(!in_warm[a], FreeGpuMilli(problem.nodes[a])) <
             std::make_tuple(!in_warm[b], FreeGpuMilli(problem.nodes[b]));
    });
    candidates.resize(options.max_candidate_nodes);
    std::sort(candidates.begin(), candidates.end());
  }
  return candidates;
}

// The columns of request `r` on node `n` (one per suitable GPU for a fraction, one for the
// node otherwise), with their terms in `terms`; none when the node's CPU or memory cannot
// take a replica.
std::vector<int> AddNodeColumns(IlpModel& m, const IlpProblem& problem, int r, int n,
                                CapacityTerms& terms) {
  const IlpRequest& req = problem.requests[r];
  const model::Shape& shape = req.shape;
  const IlpNode& node = problem.nodes[n];
  std::vector<int> cols;
  const int64_t node_cap = NodeReplicaCap(node, shape, req.replicas);
  if (node_cap <= 0) return cols;
  const Kind kind = KindOf(shape);
  if (kind == Kind::kFraction) {
    for (int g = 0; g < static_cast<int>(node.gpus.size()); ++g) {
      const IlpGpu& gpu = node.gpus[g];
      if (!FractionFits(gpu, shape)) continue;
      int64_t cap = std::min(node_cap, gpu.free_milli / shape.gpu_milli);
      if (shape.gpu_memory_mib > 0) {
        cap = std::min(cap, gpu.free_memory_mib / shape.gpu_memory_mib);
      }
      const int col = m.AddColumn({VarKind::kFrac, r, n, g}, static_cast<double>(cap), 0);
      terms.gpu_use[GpuKey(n, g)].push_back({col, static_cast<double>(shape.gpu_milli)});
      if (shape.gpu_memory_mib > 0) {
        terms.gpu_mem[GpuKey(n, g)].push_back({col, static_cast<double>(shape.gpu_memory_mib)});
      }
      cols.push_back(col);
    }
  } else {
    int64_t cap = node_cap;
    if (kind == Kind::kWhole) {
      int free = 0;
      for (const IlpGpu& g : node.gpus) free += WholeFits(g, shape) ? 1 : 0;
      cap = std::min<int64_t>(cap, free / shape.gpu_count);
    }
    const VarKind vk = kind == Kind::kWhole ? VarKind::kWhole : VarKind::kCpu;
    const int col = m.AddColumn({vk, r, n, -1}, static_cast<double>(cap), 0);
    if (kind == Kind::kWhole) terms.node_whole[n].push_back({col, shape.gpu_count});
    cols.push_back(col);
  }
  return cols;
}

// Request `r`'s place column and gang row, and its columns on every candidate node.
void AddRequest(IlpModel& m, const IlpProblem& problem, const IlpOptions& options,
                const std::vector<int>& candidates, int r, CapacityTerms& terms) {
  const IlpRequest& req = problem.requests[r];
  const model::Shape& shape = req.shape;
  const double weight =
      static_cast<double>(ReplicaGpuMilli(shape) * req.replicas + options.placement_bonus);
  m.place_col.push_back(m.AddColumn({VarKind::kPlace, r, -1, -1}, 1, weight));
  const int gang_row = m.AddRow(0, 0);
  m.AddElement(gang_row, m.place_col.back(), -req.replicas);
  for (int n : candidates) {
    for (int col : AddNodeColumns(m, problem, r, n, terms)) {
      m.AddElement(gang_row, col, 1);
      if (shape.cpu_milli > 0) {
        terms.node_cpu[n].push_back({col, static_cast<double>(shape.cpu_milli)});
      }
      if (shape.memory_mib > 0) {
        terms.node_mem[n].push_back({col, static_cast<double>(shape.memory_mib)});
      }
    }
  }
}

// Whole GPUs: take[g] per fully free GPU of a node that hosts whole-GPU replicas.
void AddWholeGpuRows(IlpModel& m, const IlpProblem& problem, CapacityTerms& terms) {
  for (int n = 0; n < static_cast<int>(problem.nodes.size()); ++n) {
    if (terms.node_whole[n].empty()) continue;
    const int row = m.AddRow(-1e30, 0);
    for (auto [col, count] : terms.node_whole[n]) m.AddElement(row, col, count);
    const IlpNode& node = problem.nodes[n];
    for (int g = 0; g < static_cast<int>(node.gpus.size()); ++g) {
      const IlpGpu& gpu = node.gpus[g];
      if (!gpu.healthy || gpu.free_milli < 1000) continue;
      const int col = m.AddColumn({VarKind::kTake, -1, n, g}, 1, 0);
      m.AddElement(row, col, -1);
      terms.gpu_use[GpuKey(n, g)].push_back({col, 1000.0});
    }
  }
}

// Per-GPU compute and memory rows.
void AddGpuRows(IlpModel& m, const IlpProblem& problem, const CapacityTerms& terms) {
  for (const auto& [key, row_terms] : terms.gpu_use) {
    const IlpGpu& gpu = problem.nodes[key >> 20].gpus[key & 0xfffff];
    const int row = m.AddRow(-1e30, static_cast<double>(gpu.free_milli));
    for (auto [col, coef] : row_terms) m.AddElement(row, col, coef);
  }
  for (const auto& [key, row_terms] : terms.gpu_mem) {
    const IlpGpu& gpu = problem.nodes[key >> 20].gpus[key & 0xfffff];
    const int row = m.AddRow(-1e30, static_cast<double>(gpu.free_memory_mib));
    for (auto [col, coef] : row_terms) m.AddElement(row, col, coef);
  }
}

// Node CPU and memory rows, only where the node could be over-committed.
void AddNodeCapacityRows(IlpModel& m, const IlpProblem& problem, const CapacityTerms& terms) {
  auto add_capacity_row = [&](const Terms& row_terms, int64_t free) {
    double most = 0;
    for (auto [col, coef] : row_terms) most += coef * m.col_ub[col];
    if (most <= static_cast<double>(free)) return;
    const int row = m.AddRow(-1e30, static_cast<double>(free));
    for (auto [col, coef] : row_terms) m.AddElement(row, col, coef);
  };
  for (int n = 0; n < static_cast<int>(problem.nodes.size()); ++n) {
    add_capacity_row(terms.node_cpu[n], problem.nodes[n].free_cpu_milli);
    add_capacity_row(terms.node_mem[n], problem.nodes[n].free_memory_mib);
  }
}

// Symmetry: among identical GPUs of a node, used compute does not grow with the index.
void AddSymmetryRows(IlpModel& m, const IlpProblem& problem, const CapacityTerms& terms) {
  for (int n = 0; n < static_cast<int>(problem.nodes.size()); ++n) {
    const IlpNode& node = problem.nodes[n];
    std::map<std::tuple<int64_t, int64_t, bool>, int> last_of_group;
    for (int g = 0; g < static_cast<int>(node.gpus.size()); ++g) {
      auto it = terms.gpu_use.find(GpuKey(n, g));
      if (it == terms.gpu_use.end()) continue;
      const IlpGpu& gpu = node.gpus[g];
      auto group = std::make_tuple(gpu.free_milli, gpu.free_memory_mib, gpu.healthy);
      auto prev = last_of_group.find(group);
      if (prev != last_of_group.end()) {
        const int row = m.AddRow(0, 1e30);
        for (auto [col, coef] : terms.gpu_use.at(GpuKey(n, prev->second))) {
          m.AddElement(row, col, coef);
        }
        for (auto [col, coef] : it->second) m.AddElement(row, col, -coef);
      }
      last_of_group[group] = g;
    }
  }
}

}  // namespace

IlpModel BuildIlpModel(const IlpProblem& problem, const IlpOptions& options,
                       const std::vector<IlpRequestPlacement>* warm_start) {
  IlpModel m;
  const std::vector<bool> kept = KeptNodes(problem, warm_start);
  CapacityTerms terms(static_cast<int>(problem.nodes.size()));
  for (size_t ri = 0; ri < problem.requests.size(); ++ri) {
    const std::vector<int> candidates = CandidateNodes(problem, options, kept, warm_start, ri);
    AddRequest(m, problem, options, candidates, static_cast<int>(ri), terms);
  }
  AddWholeGpuRows(m, problem, terms);
  AddGpuRows(m, problem, terms);
  AddNodeCapacityRows(m, problem, terms);
  AddSymmetryRows(m, problem, terms);
  return m;
}

std::vector<IlpRequestPlacement> ExtractPlacement(const IlpProblem& problem, const IlpModel& model,
                                                  const double* x) {
  std::vector<IlpRequestPlacement> out(problem.requests.size());
  std::vector<bool> placed(problem.requests.size(), false);
  for (size_t r = 0; r < problem.requests.size(); ++r) placed[r] = x[model.place_col[r]] > 0.5;
  // GPUs taken whole, per node, handed out in index order.
  std::map<int, std::vector<int>> taken;
  for (int c = 0; c < model.columns(); ++c) {
    const IlpVar& v = model.vars[c];
    if (v.kind == VarKind::kTake && x[c] > 0.5) taken[v.node].push_back(v.gpu);
  }
  std::map<int, size_t> next_taken;
  for (int c = 0; c < model.columns(); ++c) {
    const IlpVar& v = model.vars[c];
    if (v.kind == VarKind::kPlace || v.kind == VarKind::kTake || !placed[v.request]) continue;
    const long count = std::lround(x[c]);
    const model::Shape& shape = problem.requests[v.request].shape;
    for (long i = 0; i < count; ++i) {
      IlpReplicaPlacement rep;
      rep.node = v.node;
      if (v.kind == VarKind::kFrac) {
        rep.slices.push_back({v.gpu, shape.gpu_milli});
      } else if (v.kind == VarKind::kWhole) {
        std::vector<int>& pool = taken[v.node];
        size_t& next = next_taken[v.node];
        for (int k = 0; k < shape.gpu_count && next < pool.size(); ++k) {
          rep.slices.push_back({pool[next++], 1000});
        }
      }
      out[v.request].replicas.push_back(std::move(rep));
    }
  }
  return out;
}

Result<std::vector<double>> PlacementToColumns(const IlpProblem& problem, const IlpModel& model,
                                               const std::vector<IlpRequestPlacement>& placement) {
  // Permute identical GPUs of each node so that used compute falls with the index.
  std::vector<std::vector<int>> perm(problem.nodes.size());
  for (size_t n = 0; n < problem.nodes.size(); ++n) {
    const IlpNode& node = problem.nodes[n];
    std::vector<int64_t> used(node.gpus.size(), 0);
    for (size_t r = 0; r < placement.size(); ++r) {
      for (const auto& rep : placement[r].replicas) {
        if (rep.node != static_cast<int>(n)) continue;
        for (const IlpSlice& s : rep.slices) used[s.gpu] += s.milli;
      }
    }
    perm[n].resize(node.gpus.size());
    std::map<std::tuple<int64_t, int64_t, bool>, std::vector<int>> groups;
    for (int g = 0; g < static_cast<int>(node.gpus.size()); ++g) {
      const IlpGpu& gpu = node.gpus[g];
      groups[{gpu.free_milli, gpu.free_memory_mib, gpu.healthy}].push_back(g);
    }
    for (auto& [group, members] : groups) {
      std::vector<int> by_use = members;
      std::stable_sort(by_use.begin(), by_use.end(),
                       [&](int a, int b) { return used[a] > used[b]; });
      for (size_t i = 0; i < members.size(); ++i) perm[n][by_use[i]] = members[i];
    }
  }

  std::unordered_map<int64_t, int> frac, whole, cpu, take;
  for (int c = 0; c < model.columns(); ++c) {
    const IlpVar& v = model.vars[c];
    switch (v.kind) {
      case VarKind::kFrac:
        frac[ReqKey(v.request, GpuKey(v.node, v.gpu))] = c;
        break;
      case VarKind::kWhole:
        whole[ReqKey(v.request, v.node)] = c;
        break;
      case VarKind::kCpu:
        cpu[ReqKey(v.request, v.node)] = c;
        break;
      case VarKind::kTake:
        take[GpuKey(v.node, v.gpu)] = c;
        break;
      case VarKind::kPlace:
        break;
    }
  }
  std::vector<double> x(model.columns(), 0.0);
  for (size_t ri = 0; ri < placement.size(); ++ri) {
    if (!placement[ri].placed()) continue;
    const int r = static_cast<int>(ri);
    x[model.place_col[ri]] = 1;
    const Kind kind = KindOf(problem.requests[ri].shape);
    for (const auto& rep : placement[ri].replicas) {
      std::unordered_map<int64_t, int>* map = kind == Kind::kCpuOnly ? &cpu : &whole;
      int64_t key = ReqKey(r, rep.node);
      if (kind == Kind::kFraction) {
        map = &frac;
        key = ReqKey(r, GpuKey(rep.node, perm[rep.node][rep.slices.at(0).gpu]));
      }
      auto it = map->find(key);
      if (it == map->end()) return NotFound("warm start uses a placement the model lacks");
      x[it->second] += 1;
      if (kind != Kind::kWhole) continue;
      for (const IlpSlice& s : rep.slices) {
        auto t = take.find(GpuKey(rep.node, perm[rep.node][s.gpu]));
        if (t == take.end()) return NotFound("warm start takes a GPU the model lacks");
        x[t->second] = 1;
      }
    }
  }
  return x;
}

}  // namespace fastgpu::opt::internal

#include "scheduler/scoring_policy.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "model/shape.h"

namespace fastgpu::sched {

bool NodeFits(const NodeState& node, const model::Shape& shape, const ShapeInfo& info) {
  const bool model_allowed =
      shape.gpu_count == 0 ||
      (node.model_id >= 0 && node.model_id < static_cast<int>(info.model_allowed.size()) &&
       info.model_allowed[node.model_id]);
  return NodeFitsShape(node, shape, model_allowed);
}

NodePlacement MakePlacement(const Cluster& cluster, int node_index, const model::Shape& shape,
                            int gpu_index) {
  const NodeState& node = cluster.node(node_index);
  NodePlacement p;
  p.node = node_index;
  p.cpu_milli = shape.cpu_milli;
  p.memory_mib = shape.memory_mib;
  if (shape.gpu_count == 0) return p;
  p.isolation = GpuMode(shape);
  if (shape.gpu_milli < kMilliPerGpu && gpu_index >= 0) {
    p.gpus.push_back({gpu_index, shape.gpu_milli, shape.gpu_memory_mib});
    return p;
  }
  for (int i = 0;
       i < static_cast<int>(node.gpus.size()) && static_cast<int>(p.gpus.size()) < shape.gpu_count;
       ++i) {
    if (!GpuFits(node.gpus[i], shape)) continue;
    int64_t memory =
        shape.gpu_milli >= kMilliPerGpu ? node.gpus[i].total_memory_mib : shape.gpu_memory_mib;
    p.gpus.push_back({i, shape.gpu_milli, memory});
  }
  return p;
}

Status NoFitStatus(const Cluster& cluster, const model::Shape& shape, const ShapeInfo& info) {
  (void)info;
  return ResourceExhausted("no node fits " + model::DescribeShape(shape) + ": " +
                           TallyRefusals(cluster, shape).Text());
}

ScoringPolicy::ScoringPolicy(const PolicyOptions& options, bool seeded_order, bool cacheable)
    : options_(options), rng_(options.seed), seeded_order_(seeded_order), cacheable_(cacheable) {}

void ScoringPolicy::InvalidateScores() {
  for (auto& row : cache_) {
    for (Entry& e : row) e.valid = false;
  }
}

int ScoringPolicy::TightestGpu(const NodeState& node, const model::Shape& shape) {
  int best = -1;
  for (int i = 0; i < static_cast<int>(node.gpus.size()); ++i) {
    if (!GpuFits(node.gpus[i], shape)) continue;
    if (best < 0 || node.gpus[i].free_milli < node.gpus[best].free_milli) best = i;
  }
  return best;
}

void ScoringPolicy::EnsureOrder(int nodes) {
  if (static_cast<int>(rank_.size()) == nodes) return;
  std::vector<int> order(nodes);
  std::iota(order.begin(), order.end(), 0);
  if (seeded_order_) {
    std::mt19937_64 order_rng(options_.seed ^ 0x9e3779b97f4a7c15ull);
    std::shuffle(order.begin(), order.end(), order_rng);
  }
  rank_.assign(nodes, 0);
  for (int i = 0; i < nodes; ++i) rank_[order[i]] = i;
}

const ShapeInfo& ScoringPolicy::Prepare(const Cluster& cluster, const model::Shape& shape) {
  if (cluster.models().size() != cluster_models_) {  // new models: rebuild the shape table
    shape_ids_.clear();
    shapes_.clear();
    cache_.clear();
    cluster_models_ = cluster.models().size();
  }
  std::string key = std::to_string(shape.cpu_milli) + "/" + std::to_string(shape.memory_mib) + "/" +
                    std::to_string(shape.gpu_count) + "/" + std::to_string(shape.gpu_milli) + "/" +
                    std::to_string(shape.gpu_memory_mib) +
                    (shape.isolation == model::Isolation::kMig ? "/mig" : "");
  for (const std::string& m : shape.gpu_models) key += "/" + m;
  auto it = shape_ids_.find(key);
  if (it != shape_ids_.end()) return shapes_[it->second];
  if (shapes_.size() >= 4096) {  // bound the cache on long-running servers
    shape_ids_.clear();
    shapes_.clear();
    cache_.clear();
  }
  ShapeInfo info;
  info.id = static_cast<int>(shapes_.size());
  info.whole = shape.gpu_milli >= kMilliPerGpu;
  info.fractional = shape.IsFractional();
  info.model_allowed.resize(cluster.models().size());
  for (size_t m = 0; m < cluster.models().size(); ++m) {
    info.model_allowed[m] = shape.AllowsModel(cluster.models()[m]);
  }
  shape_ids_.emplace(std::move(key), info.id);
  shapes_.push_back(std::move(info));
  cache_.emplace_back();
  return shapes_.back();
}

Result<NodePlacement> ScoringPolicy::Place(const Cluster& cluster, const model::Shape& shape) {
  BeforePlace(cluster, shape);
  const ShapeInfo& info = Prepare(cluster, shape);
  EnsureOrder(cluster.size());
  std::vector<Entry>& row = cache_[info.id];
  if (static_cast<int>(row.size()) != cluster.size()) row.assign(cluster.size(), Entry{});
  int best = -1;
  double best_score = 0;
  int best_gpu = -1;
  for (int n = 0; n < cluster.size(); ++n) {
    const NodeState& node = cluster.node(n);
    Entry& e = row[n];
    if (!cacheable_ || !e.valid || e.version != node.version) {
      e.valid = true;
      e.version = node.version;
      e.fits = NodeFits(node, shape, info);
      e.gpu_index = -1;
      if (e.fits) e.score = Score(cluster, n, shape, info, &e.gpu_index);
    }
    if (!e.fits) continue;
    if (best < 0 || e.score > best_score || (e.score == best_score && rank_[n] < rank_[best])) {
      best = n;
      best_score = e.score;
      best_gpu = e.gpu_index;
    }
  }
  if (best < 0) return NoFitStatus(cluster, shape, info);
  if (info.fractional && best_gpu < 0) best_gpu = TightestGpu(cluster.node(best), shape);
  NodePlacement placement = MakePlacement(cluster, best, shape, best_gpu);
  AfterPlace(cluster, placement);
  return placement;
}

}  // namespace fastgpu::sched

#include "scheduler/scoring_policy.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <optional>
#include <span>
#include <string>

#include "model/shape.h"

namespace fastgpu::sched {

namespace {

// Whether the shape allows the node's GPU model (always, for CPU-only shapes).
bool ModelAllowed(const NodeState& node, const model::Shape& shape, const ShapeInfo& info) {
  return shape.gpu_count == 0 ||
         (node.model_id >= 0 && node.model_id < static_cast<int>(info.model_allowed.size()) &&
          info.model_allowed[node.model_id]);
}

}  // namespace

bool NodeFits(const NodeState& node, const model::Shape& shape, const ShapeInfo& info) {
  return NodeFitsShape(node, shape, ModelAllowed(node, shape, info));
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

namespace {

// A node's part in NoFitStatus's tally for a shape: the filter that refused it, or kFits
// (kept per shape and node, so that a failure needs no scan). The ScoringIndex tests
// compare the message with NoFitStatus's on every failure.
constexpr uint8_t kFits = kFilterCount;

uint8_t RefusalOf(const NodeState& node, const model::Shape& shape, const ShapeInfo& info) {
  const std::optional<Filter> refusal = NodeRefusal(node, shape, ModelAllowed(node, shape, info));
  return refusal ? static_cast<uint8_t>(*refusal) : kFits;
}

// NoFitStatus's message from the tally's counts (by RefusalOf value).
Status NoFitFromCounts(const model::Shape& shape, const std::array<int, kFilterCount + 1>& counts) {
  FilterTally tally;
  for (int f = 0; f <= kFilterCount; ++f) tally.nodes += counts[f];
  for (int f = 0; f < kFilterCount; ++f) tally.refused[f] = counts[f];
  return ResourceExhausted("no node fits " + model::DescribeShape(shape) + ": " + tally.Text());
}

}  // namespace

ScoringPolicy::ScoringPolicy(const PolicyOptions& options, bool seeded_order, bool cacheable)
    : options_(options), rng_(options.seed), seeded_order_(seeded_order), cacheable_(cacheable) {}

void ScoringPolicy::SetElasticPool(bool elastic) {
  if (elastic == elastic_) return;
  elastic_ = elastic;
  InvalidateScores();
}

int ScoringPolicy::PoolTerm(const NodeState& node) {
  bool holds_work =
      node.cpu_free_milli < node.cpu_total_milli || node.memory_free_mib < node.memory_total_mib;
  int in_use = 0;
  for (const GpuState& g : node.gpus) {
    if (g.free_milli < kMilliPerGpu) ++in_use;
  }
  if (in_use > 0) holds_work = true;
  if (!holds_work) return 0;
  return 1 + in_use * 1000 / static_cast<int>(std::max<size_t>(1, node.gpus.size()));
}

double ScoringPolicy::ScoreInPool(const Cluster& cluster, int n, const model::Shape& shape,
                                  const ShapeInfo& info, int* gpu_index) {
  const double score = Score(cluster, n, shape, info, gpu_index);
  if (!elastic_) return score;
  return kPoolTermStep * PoolTerm(cluster.node(n)) + score;
}

void ScoringPolicy::InvalidateScores() {
  if (++epoch_ == 0) {  // wrapped: no entry may look current
    for (auto& row : cache_) {
      for (Entry& e : row) e.epoch = 0;
    }
    epoch_ = 1;
  }
  for (IndexSlot& slot : slots_) slot.valid = false;
}

namespace {

// Appends the bytes of `value` at `out` and returns the end.
template <typename T>
char* Put(char* out, const T& value) {
  std::memcpy(out, &value, sizeof(value));
  return out + sizeof(value);
}

}  // namespace

void ScoringPolicy::BoundContents(int more) {
  if (contents_.size() + static_cast<size_t>(more) <= kMaxContents) return;
  contents_.clear();
  node_content_.clear();
  first_node_.clear();
  first_stamp_.clear();
}

uint32_t ScoringPolicy::ContentId(const Cluster& cluster, int n) {
  const NodeState& node = cluster.node(n);
  if (static_cast<int>(node_content_.size()) < cluster.size()) node_content_.resize(cluster.size());
  NodeContent& nc = node_content_[n];
  if (nc.id >= 0 && nc.history == cluster.history_id() && nc.version == node.version) {
    return static_cast<uint32_t>(nc.id);
  }
  // Every field of the node but its id, model name (model_id stands for it) and version.
  constexpr size_t kGpuBytes =
      sizeof(int) + 2 * sizeof(int64_t) + 2 * sizeof(bool) + sizeof(model::Isolation) + sizeof(int) +
      sizeof(bool) + sizeof(int) + sizeof(GpuVmSizes::milli);
  char buffer[sizeof(int) + 4 * sizeof(int64_t) + sizeof(bool) + sizeof(NodeAvailability) +
              kMaxGpusPerNode * kGpuBytes];
  char* end = buffer;
  end = Put(end, node.model_id);
  end = Put(end, node.cpu_total_milli);
  end = Put(end, node.cpu_free_milli);
  end = Put(end, node.memory_total_mib);
  end = Put(end, node.memory_free_mib);
  end = Put(end, node.schedulable);
  end = Put(end, node.availability);
  const size_t gpus = std::min<size_t>(node.gpus.size(), kMaxGpusPerNode);  // AddNode's bound
  for (size_t g = 0; g < gpus; ++g) {
    const GpuState& gpu = node.gpus[g];
    end = Put(end, gpu.free_milli);
    end = Put(end, gpu.total_memory_mib);
    end = Put(end, gpu.free_memory_mib);
    end = Put(end, gpu.healthy);
    end = Put(end, gpu.mig);
    end = Put(end, gpu.mode);
    end = Put(end, gpu.mode_holders);
    end = Put(end, gpu.vm.passthrough);
    end = Put(end, gpu.vm.count);
    end = Put(end, gpu.vm.milli);  // unset entries stay 0
  }
  std::string& key = content_key_;
  key.assign(buffer, end);
  auto [it, fresh] = contents_.try_emplace(key, static_cast<uint32_t>(contents_.size()));
  nc.history = cluster.history_id();
  nc.version = node.version;
  nc.id = it->second;
  return it->second;
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
  order_ = std::move(order);
}

void ScoringPolicy::ClearShapes() {
  shape_ids_.clear();
  shapes_.clear();
  cache_.clear();
  shape_slot_.clear();
  slots_.clear();
}

const ShapeInfo& ScoringPolicy::Prepare(const Cluster& cluster, const model::Shape& shape) {
  if (cluster.models().size() != cluster_models_) {  // new models: rebuild the shape table
    ClearShapes();
    cluster_models_ = cluster.models().size();
  }
  std::string key = std::to_string(shape.cpu_milli) + "/" + std::to_string(shape.memory_mib) + "/" +
                    std::to_string(shape.gpu_count) + "/" + std::to_string(shape.gpu_milli) + "/" +
                    std::to_string(shape.gpu_memory_mib) + "/" +
                    // The mode decides which GPUs fit (filters.h): mps and shared fractions of
                    // one size are different shapes here.
                    std::string(model::IsolationName(GpuMode(shape)));
  for (const std::string& m : shape.gpu_models) key += "/" + m;
  auto it = shape_ids_.find(key);
  if (it != shape_ids_.end()) return shapes_[it->second];
  if (shapes_.size() >= 4096) ClearShapes();  // bound the cache on long-running servers
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
  shape_slot_.push_back(-1);
  return shapes_.back();
}

bool ScoringPolicy::Refresh(const Cluster& cluster, int n, const model::Shape& shape,
                            const ShapeInfo& info, std::vector<Entry>& row) {
  const NodeState& node = cluster.node(n);
  Entry& e = row[n];
  if (cacheable_ && e.version == node.version) {
    if (e.epoch == epoch_) return false;
    if (e.filtered) {  // only the scoring function changed: the filters' answer holds
      e.epoch = epoch_;
      e.gpu_index = -1;
      if (e.fits) e.score = ScoreInPool(cluster, n, shape, info, &e.gpu_index);
      return true;
    }
  }
  e.epoch = epoch_;
  e.version = node.version;
  e.fits = NodeFits(node, shape, info);
  e.gpu_index = -1;
  if (e.fits) e.score = ScoreInPool(cluster, n, shape, info, &e.gpu_index);
  e.filtered = cacheable_ && use_index_;
  if (e.filtered) e.refusal = e.fits ? kFits : RefusalOf(node, shape, info);
  return true;
}

int ScoringPolicy::BestScanned(const Cluster& cluster, const model::Shape& shape,
                               const ShapeInfo& info, std::vector<Entry>& row) {
  int best = -1;
  for (int n = 0; n < cluster.size(); ++n) {
    Refresh(cluster, n, shape, info, row);
    const Entry& e = row[n];
    if (!e.fits) continue;
    if (best < 0 || e.score > row[best].score ||
        (e.score == row[best].score && rank_[n] < rank_[best])) {
      best = n;
    }
  }
  return best;
}

ScoringPolicy::IndexSlot& ScoringPolicy::SlotFor(int shape_id) {
  int s = shape_slot_[shape_id];
  if (s < 0) {
    if (static_cast<int>(slots_.size()) < kIndexedShapes) {
      s = static_cast<int>(slots_.size());
      slots_.emplace_back();
    } else {  // evict the least recently used shape's tree
      s = 0;
      for (int i = 1; i < static_cast<int>(slots_.size()); ++i) {
        if (slots_[i].last_used < slots_[s].last_used) s = i;
      }
      shape_slot_[slots_[s].shape] = -1;
    }
    slots_[s].shape = shape_id;
    slots_[s].valid = false;
    shape_slot_[shape_id] = s;
  }
  slots_[s].last_used = ++use_clock_;
  return slots_[s];
}

int ScoringPolicy::BestIndexed(const Cluster& cluster, const model::Shape& shape,
                               const ShapeInfo& info, std::vector<Entry>& row) {
  IndexSlot& slot = SlotFor(info.id);
  const int nodes = cluster.size();
  std::optional<std::span<const int>> changes;
  if (slot.valid && slot.history == cluster.history_id() && slot.tree.size() == nodes) {
    changes = cluster.ChangesSince(slot.seen);
  }
  if (changes) {
    for (int n : *changes) {
      const uint8_t old_refusal = row[n].refusal;
      if (!Refresh(cluster, n, shape, info, row)) continue;
      slot.tree.Set(rank_[n], row[n].fits, row[n].score);
      --slot.refusals[old_refusal];
      ++slot.refusals[row[n].refusal];
    }
  } else {  // (re)build: the scan's checks of every node
    slot.refusals = {};
    // Every position is assigned below and Build redoes the inner nodes: a tree of the
    // right size needs no emptying.
    if (slot.tree.size() != nodes) slot.tree.Reset(nodes);
    if (scores_by_content_) {
      // Equal contents, equal entries: score the first node of each contents only.
      BoundContents(nodes);
      if (static_cast<int>(node_content_.size()) < nodes) node_content_.resize(nodes);
      const uint64_t history = cluster.history_id();
      if (++scan_stamp_ == 0) {
        std::fill(first_stamp_.begin(), first_stamp_.end(), 0);
        scan_stamp_ = 1;
      }
      for (int n = 0; n < nodes; ++n) {
        Entry& e = row[n];
        const uint64_t version = cluster.node(n).version;
        if (e.filtered && !e.fits && e.version == version) {
          e.epoch = epoch_;  // refused whatever the scores: nothing to score
          slot.tree.Assign(rank_[n], false, e.score);
          ++slot.refusals[e.refusal];
          continue;
        }
        const NodeContent& known = node_content_[n];  // ContentId's cache, read inline
        const uint32_t c = known.id >= 0 && known.history == history && known.version == version
                               ? static_cast<uint32_t>(known.id)
                               : ContentId(cluster, n);
        if (c >= first_node_.size()) {
          first_node_.resize(c + 1, -1);
          first_stamp_.resize(c + 1, 0);
        }
        if (first_stamp_[c] != scan_stamp_) {
          first_stamp_[c] = scan_stamp_;
          first_node_[c] = n;
          Refresh(cluster, n, shape, info, row);
        } else if (!(e.epoch == epoch_ && e.version == version)) {
          e = row[first_node_[c]];
          e.version = version;
        }
        slot.tree.Assign(rank_[n], e.fits, e.score);
        ++slot.refusals[e.refusal];
      }
    } else {
      for (int n = 0; n < nodes; ++n) {
        Refresh(cluster, n, shape, info, row);
        slot.tree.Assign(rank_[n], row[n].fits, row[n].score);
        ++slot.refusals[row[n].refusal];
      }
    }
    slot.tree.Build();
  }
  slot.valid = true;
  slot.history = cluster.history_id();
  slot.seen = cluster.change_count();
  int pos = slot.tree.Best();
  return pos < 0 ? -1 : order_[pos];
}

Result<NodePlacement> ScoringPolicy::Place(const Cluster& cluster, const model::Shape& shape) {
  BeforePlace(cluster, shape);
  const ShapeInfo& info = Prepare(cluster, shape);
  EnsureOrder(cluster.size());
  std::vector<Entry>& row = cache_[info.id];
  if (static_cast<int>(row.size()) != cluster.size()) row.assign(cluster.size(), Entry{});
  if (!cacheable_ || !use_index_) {
    const int best = BestScanned(cluster, shape, info, row);
    if (best < 0) return NoFitStatus(cluster, shape, info);
    return Choose(cluster, best, shape, info, row[best].gpu_index);
  }
  const int best = BestIndexed(cluster, shape, info, row);
  if (best < 0) return NoFitFromCounts(shape, slots_[shape_slot_[info.id]].refusals);
  return Choose(cluster, best, shape, info, row[best].gpu_index);
}

NodePlacement ScoringPolicy::Choose(const Cluster& cluster, int best, const model::Shape& shape,
                                    const ShapeInfo& info, int best_gpu) {
  if (info.fractional && best_gpu < 0) best_gpu = TightestGpu(cluster.node(best), shape);
  NodePlacement placement = MakePlacement(cluster, best, shape, best_gpu);
  AfterPlace(cluster, placement);
  return placement;
}

}  // namespace fastgpu::sched

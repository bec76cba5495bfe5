// first-fit, best-fit, dot-product, gpu-packing, gpu-clustering and random: the
// baselines of the FGD paper, scored as its public simulator scores them.
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "scheduler/policies_internal.h"
#include "scheduler/scoring_policy.h"

namespace fastgpu::sched {
namespace {

constexpr double kMaxSpecCpuMilli = 128000;  // the paper's normalisers
constexpr double kMaxSpecGpuMilli = 8000;

int64_t NodeFreeGpuMilli(const NodeState& node) { return node.FreeGpuMilli(); }

// The first feasible node by index; the first fitting GPU by index.
class FirstFit final : public ScoringPolicy {
 public:
  explicit FirstFit(const PolicyOptions& o) : ScoringPolicy(o, false, true) {}
  std::string_view Name() const override { return "first-fit"; }

 protected:
  double Score(const Cluster& c, int n, const model::Shape& s, const ShapeInfo& info,
               int* gpu) override {
    if (info.fractional) {
      const NodeState& node = c.node(n);
      for (int i = 0; i < static_cast<int>(node.gpus.size()); ++i) {
        if (GpuFits(node.gpus[i], s)) {
          *gpu = i;
          break;
        }
      }
    }
    return 0;
  }
};

// Least weighted leftover of CPU and GPU after placement, 0..100 truncated.
class BestFit final : public ScoringPolicy {
 public:
  explicit BestFit(const PolicyOptions& o) : ScoringPolicy(o, true, true) {}
  std::string_view Name() const override { return "best-fit"; }

 protected:
  double Score(const Cluster& c, int n, const model::Shape& s, const ShapeInfo& info,
               int* gpu) override {
    const NodeState& node = c.node(n);
    double left =
        0.5 * static_cast<double>(node.cpu_free_milli - s.cpu_milli) / kMaxSpecCpuMilli +
        0.5 * static_cast<double>(NodeFreeGpuMilli(node) - s.TotalGpuMilli()) / kMaxSpecGpuMilli;
    if (info.fractional) *gpu = TightestGpu(node, s);
    return static_cast<double>(static_cast<int64_t>((1.0 - left) * 100));
  }
};

// Smallest dot product of the node's free vector and the request (both over the
// paper's maximum node spec), 0..100 truncated.
class DotProduct final : public ScoringPolicy {
 public:
  explicit DotProduct(const PolicyOptions& o) : ScoringPolicy(o, true, true) {}
  std::string_view Name() const override { return "dot-product"; }

 protected:
  double Score(const Cluster& c, int n, const model::Shape& s, const ShapeInfo& info,
               int* gpu) override {
    const NodeState& node = c.node(n);
    double dot = (static_cast<double>(node.cpu_free_milli) / kMaxSpecCpuMilli) *
                     (static_cast<double>(s.cpu_milli) / kMaxSpecCpuMilli) +
                 (static_cast<double>(NodeFreeGpuMilli(node)) / kMaxSpecGpuMilli) *
                     (static_cast<double>(s.TotalGpuMilli()) / kMaxSpecGpuMilli);
    if (info.fractional) *gpu = TightestGpu(node, s);
    return static_cast<double>(static_cast<int64_t>((1.0 - dot / 2) * 100));
  }
};

// Shared GPUs first (least free first), then partly used nodes, then idle nodes.
class GpuPacking final : public ScoringPolicy {
 public:
  explicit GpuPacking(const PolicyOptions& o) : ScoringPolicy(o, true, true) {}
  std::string_view Name() const override { return "gpu-packing"; }

 protected:
  double Score(const Cluster& c, int n, const model::Shape& s, const ShapeInfo& info,
               int* gpu) override {
    const NodeState& node = c.node(n);
    if (s.gpu_count == 0) return 0;
    if (info.fractional) *gpu = TightestGpu(node, s);
    int fully_free = node.FullyFreeGpus();
    int total = static_cast<int>(node.gpus.size());
    if (fully_free == total) return std::max(100 / 3 - fully_free, fully_free);
    // The GPUs it would use, least free first.
    std::vector<int> idx;
    for (int i = 0; i < total; ++i) {
      if (GpuFits(node.gpus[i], s)) idx.push_back(i);
    }
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) {
      return node.gpus[a].free_milli < node.gpus[b].free_milli;
    });
    idx.resize(std::min<size_t>(idx.size(), s.gpu_count));
    int fully_used = 0;
    int64_t free_ratio = 0;
    for (int i : idx) {
      if (node.gpus[i].free_milli == kMilliPerGpu) ++fully_used;
      free_ratio += node.gpus[i].free_milli * 100 / kMilliPerGpu;
    }
    if (fully_used > 0) return std::max(100 / 2 - fully_used, 100 / 3);
    return static_cast<double>(std::max<int64_t>(100 - free_ratio / 10, 100 / 2));
  }
};

// Keeps tasks of one kind (GPU-sharing, or n whole GPUs) together on nodes.
class GpuClustering final : public ScoringPolicy {
 public:
  explicit GpuClustering(const PolicyOptions& o) : ScoringPolicy(o, true, true) {}
  std::string_view Name() const override { return "gpu-clustering"; }

 protected:
  void BeforePlace(const Cluster& c, const model::Shape&) override {
    // The last answer counts as taken once its node changed (the caller applied it).
    if (pending_node_ >= 0 && pending_node_ < c.size() &&
        c.node(pending_node_).version != pending_version_) {
      affinity_[pending_node_].insert(pending_tag_);
    }
    pending_node_ = -1;
  }
  void AfterPlace(const Cluster& c, const NodePlacement& p) override {
    if (p.gpus.empty()) return;
    pending_node_ = p.node;
    pending_version_ = c.node(p.node).version;
    pending_tag_ = TagOf(static_cast<int>(p.gpus.size()), p.gpus[0].milli);
  }
  double Score(const Cluster& c, int n, const model::Shape& s, const ShapeInfo& info,
               int* gpu) override {
    const NodeState& node = c.node(n);
    if (s.gpu_count == 0) return 0;
    if (info.fractional) *gpu = TightestGpu(node, s);
    const std::set<Tag>& tags = affinity_[n];
    int64_t left = kMaxSpecGpuMilli - NodeFreeGpuMilli(node);
    int64_t base = 100 / 4 * left / static_cast<int64_t>(kMaxSpecGpuMilli);
    Tag tag = TagOf(s.gpu_count, s.gpu_milli);
    if (tags.count(tag)) return static_cast<double>(base + (tags.size() == 1 ? 75 : 50));
    return static_cast<double>(base + (tags.empty() ? 25 : 0));
  }

 private:
  // The paper's affinity: one tag for all GPU-sharing tasks, one per whole-GPU count.
  using Tag = std::pair<int, int>;
  static Tag TagOf(int gpu_count, int gpu_milli) {
    return gpu_milli < kMilliPerGpu ? Tag{1, 0} : Tag{gpu_count, kMilliPerGpu};
  }
  std::map<int, std::set<Tag>> affinity_;
  int pending_node_ = -1;
  uint64_t pending_version_ = 0;
  Tag pending_tag_;
};

// A uniformly random feasible node and fitting GPU (seeded).
class RandomFit final : public ScoringPolicy {
 public:
  explicit RandomFit(const PolicyOptions& o) : ScoringPolicy(o, false, false) {}
  std::string_view Name() const override { return "random"; }

 protected:
  double Score(const Cluster& c, int n, const model::Shape& s, const ShapeInfo& info,
               int* gpu) override {
    if (info.fractional) {
      const NodeState& node = c.node(n);
      int seen = 0;
      for (int i = 0; i < static_cast<int>(node.gpus.size()); ++i) {
        if (!GpuFits(node.gpus[i], s)) continue;
        ++seen;
        if (std::uniform_int_distribution<int>(1, seen)(rng_) == 1) *gpu = i;
      }
    }
    return std::uniform_real_distribution<double>(0, 1)(rng_);
  }
};

}  // namespace

std::unique_ptr<Policy> MakeFirstFit(const PolicyOptions& o) {
  return std::make_unique<FirstFit>(o);
}
std::unique_ptr<Policy> MakeBestFit(const PolicyOptions& o) { return std::make_unique<BestFit>(o); }
std::unique_ptr<Policy> MakeDotProduct(const PolicyOptions& o) {
  return std::make_unique<DotProduct>(o);
}
std::unique_ptr<Policy> MakeGpuPacking(const PolicyOptions& o) {
  return std::make_unique<GpuPacking>(o);
}
std::unique_ptr<Policy> MakeGpuClustering(const PolicyOptions& o) {
  return std::make_unique<GpuClustering>(o);
}
std::unique_ptr<Policy> MakeRandom(const PolicyOptions& o) {
  return std::make_unique<RandomFit>(o);
}

}  // namespace fastgpu::sched

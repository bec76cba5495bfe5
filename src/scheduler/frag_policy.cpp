// fgd (Weng et al., USENIX ATC'23) and fastgpu, our default: both choose the placement
// that least increases the fragmentation of the cluster against the target workload.
//
// fgd scores a node by sigmoid((frag_before - frag_after) / 1000) * 100, truncated to an
// integer as the paper's simulator does; equal scores go to a seeded node order.
// Both measure fragmentation against the most popular task kinds covering 95% of the target
// workload. fastgpu adds to the fragmentation increase four costs, in the same GPU-milli
// unit, judged against every kind of the target, before the same integer score and tie-break:
//   - stranding: GPU milli that would be left without the CPU or memory to use it,
//     judged by the workload's mean CPU and memory per requested GPU (weight 0.15);
//   - fill residual: per GPU, the least free milli that the fill sizes can leave when
//     packed into its free milli; a hole that only rare tasks can fill counts as lost
//     (weight 10). Fill sizes (FillSizes): fraction sizes with at least 0.5% of tasks
//     whose supply covers at least 40% of the holes that rely on them (a 190-milli hole
//     beside an 810-milli task is lost when 160-milli tasks are far fewer than 810s). A
//     fill size counts on a node only while the node has the CPU and memory its tasks need
//     (popularity-weighted mean over the kinds of that size): a 530-milli hole beside a
//     470-milli task is lost on a node left with 4 free cores when the 470s ask 10. The
//     node's free CPU and memory are one budget: fully free GPUs keep what whole-GPU tasks
//     need per GPU, then holes, largest first, spend what their best fill needs;
//   - scarcity: for a task free to use any model, the share of the chosen model's
//     capacity that model-constrained tasks of the target workload need (weight 1);
//   - host scarcity: the same for hosts scarce by size. Nodes alike in model, GPU count,
//     CPU and memory form a host class; a kind (any model) that fits, empty, only some of
//     the classes with its GPU count (say 8-GPU tasks asking 120 cores, which only the
//     128-core 8-GPU nodes hold) needs a share of their capacity. A task that fits more
//     classes pays, per GPU milli, that share times the part of its own capacity outside
//     the kind's classes (weight 1). FGD sees such a kind only by its popularity, which can
//     be far below its share of the scarce hosts.
#include <algorithm>
#include <cmath>
#include <memory>
#include <unordered_map>

#include "scheduler/fragmentation.h"
#include "scheduler/policies_internal.h"
#include "scheduler/scoring_policy.h"

namespace fastgpu::sched {
namespace {

struct Tuning {
  bool fastgpu = false;
  double target_coverage = 0.95;  // share of the target workload measured against
  double strand_weight = 0;       // cost per stranded GPU milli
  double scarcity_weight = 0;     // cost per GPU milli times model pressure
  double host_weight = 0;         // cost per GPU milli times host pressure
  double fill_weight = 0;         // cost per milli of fill residual
  double fill_min_share = 0.005;  // a fraction size fills holes if this popular (by size)
  double fill_min_cover = 0.5;    // ... and its supply covers this share of its holes
  bool fill_needs_host = false;   // a fill size counts only where its CPU and memory are free
};

class FragPolicy final : public ScoringPolicy {
 public:
  FragPolicy(const PolicyOptions& o, Tuning tuning)
      : ScoringPolicy(o, true, true), tuning_(tuning), learn_(o.target_workload.empty()) {
    target_ = o.target_workload;
    set_scores_by_content(true);  // Score reads only the node's contents and this policy
  }
  std::string_view Name() const override { return tuning_.fastgpu ? "fastgpu" : "fgd"; }
  void SetTargetWorkload(const std::vector<TargetTask>& target) override {
    target_ = target;
    learn_ = false;
    target_changed_ = true;
  }

 protected:
  void BeforePlace(const Cluster& c, const model::Shape& s) override {
    bool rebuild = !model_ || models_seen_ != c.models().size() || target_changed_ ||
                   (tuning_.host_weight > 0 && nodes_at_rebuild_ != c.size());
    target_changed_ = false;
    if (learn_) {
      seen_.push_back(s);
      if (seen_.size() >= next_learn_) {
        target_ = BuildTargetWorkload(seen_);
        next_learn_ *= 2;
        rebuild = true;
      }
    }
    if (rebuild) Rebuild(c);
  }

  double Score(const Cluster& c, int n, const model::Shape& s, const ShapeInfo& info,
               int* gpu) override {
    const NodeState& node = c.node(n);
    if (static_cast<int>(nodes_.size()) != c.size()) nodes_.assign(c.size(), NodeCache{});
    NodeCache& nc = nodes_[n];
    if (!nc.valid || nc.version != node.version) {
      nc.valid = true;
      nc.version = node.version;
      nc.state = StateOf(node);
      nc.frag = memo_.Get(*model_, nc.state);
      nc.strand = Stranded(nc.state, node.cpu_free_milli, node.memory_free_mib);
      nc.residual = Residual(nc.state, node.cpu_free_milli, node.memory_free_mib);
      nc.host_class = ClassOf(node);
    }
    FragState after = nc.state;
    after.cpu_free_milli -= s.cpu_milli;
    int64_t mem_after = node.memory_free_mib - s.memory_mib;
    double extra = 0;
    if (tuning_.fastgpu && s.gpu_count > 0 && s.gpu_models.empty() && node.model_id >= 0 &&
        node.model_id < static_cast<int>(pressure_.size())) {
      extra += tuning_.scarcity_weight * pressure_[node.model_id] *
               static_cast<double>(s.TotalGpuMilli());
    }
    if (tuning_.host_weight > 0 && s.gpu_count > 0 && nc.host_class >= 0) {
      extra += tuning_.host_weight * HostPressure(s, info)[nc.host_class] *
               static_cast<double>(s.TotalGpuMilli());
    }
    if (!info.fractional) {
      // Whole GPUs (or none): the first fully free GPUs; in the sorted state, leading 1000s.
      for (int k = 0; k < s.gpu_count; ++k) after.free_milli[k] = 0;
      std::sort(after.free_milli.begin(), after.free_milli.begin() + after.gpu_count,
                std::greater<>());
      return ScoreOf(nc, after, mem_after, extra);
    }
    // A fraction: try each fitting GPU (same free milli, same outcome); first index wins ties.
    double best = 0;
    int last_value = -1;
    double last_score = 0;
    for (int i = 0; i < static_cast<int>(node.gpus.size()); ++i) {
      if (!GpuFits(node.gpus[i], s)) continue;
      int value = node.gpus[i].free_milli;
      double score;
      if (value == last_value) {
        score = last_score;
      } else {
        FragState trial = after;
        int pos = 0;
        while (trial.free_milli[pos] != value) ++pos;
        trial.free_milli[pos] = static_cast<int16_t>(value - s.gpu_milli);
        while (pos + 1 < trial.gpu_count && trial.free_milli[pos] < trial.free_milli[pos + 1]) {
          std::swap(trial.free_milli[pos], trial.free_milli[pos + 1]);
          ++pos;
        }
        score = ScoreOf(nc, trial, mem_after, extra);
        last_value = value;
        last_score = score;
      }
      if (*gpu < 0 || score > best) {
        best = score;
        *gpu = i;
      }
    }
    return best;
  }

 private:
  struct NodeCache {
    bool valid = false;
    uint64_t version = 0;
    FragState state;
    double frag = 0;
    double strand = 0;
    double residual = 0;  // Residual(state)
    int host_class = -1;  // ClassOf(node)
  };

  // Nodes alike in GPU model, GPU count, CPU and memory.
  struct HostClass {
    int model_id = -1;
    int gpus = 0;
    int64_t cpu_milli = 0;
    int64_t memory_mib = 0;
    double capacity_milli = 0;  // GPU milli of all nodes of the class
  };
  // A kind of the target (free to use any model) and the classes that can hold it empty.
  struct HostKind {
    std::vector<bool> hosts;  // by class
    int gpu_count = 0;
    double need = 0;  // share of its classes' capacity the kind needs
  };
  // Host pressure per class for one shape (by ShapeInfo::id; `shape` checks the id).
  struct HostMemo {
    bool valid = false;
    model::Shape shape;
    std::vector<double> pressure;
  };

  bool FitsEmpty(const HostClass& h, const model::Shape& s) const {
    return s.gpu_count <= h.gpus && s.cpu_milli <= h.cpu_milli && s.memory_mib <= h.memory_mib &&
           (s.gpu_models.empty() || s.AllowsModel(models_[h.model_id]));
  }

  int ClassOf(const NodeState& node) const {
    for (size_t i = 0; i < classes_.size(); ++i) {
      const HostClass& h = classes_[i];
      if (h.model_id == node.model_id && h.gpus == static_cast<int>(node.gpus.size()) &&
          h.cpu_milli == node.cpu_total_milli && h.memory_mib == node.memory_total_mib) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }

  // Per class: the capacity share that kinds with fewer host classes than `s` (among the
  // classes with their GPU count) need there, each times the share of the capacity `s` can
  // use with that GPU count that lies outside the kind's classes; capped at 1.
  const std::vector<double>& HostPressure(const model::Shape& s, const ShapeInfo& info) {
    if (static_cast<int>(host_memo_.size()) <= info.id) host_memo_.resize(info.id + 1);
    HostMemo& memo = host_memo_[info.id];
    if (memo.valid && memo.shape.cpu_milli == s.cpu_milli &&
        memo.shape.memory_mib == s.memory_mib && memo.shape.gpu_count == s.gpu_count &&
        memo.shape.gpu_models == s.gpu_models) {
      return memo.pressure;
    }
    memo.valid = true;
    memo.shape = s;
    memo.pressure.assign(classes_.size(), 0);
    std::vector<bool> mine(classes_.size());
    for (size_t i = 0; i < classes_.size(); ++i) mine[i] = FitsEmpty(classes_[i], s);
    for (const HostKind& k : host_kinds_) {
      bool subset = true, fewer = false;
      double kind_cap = 0, my_cap = 0;
      for (size_t i = 0; i < classes_.size(); ++i) {
        const bool mine_too = mine[i] && classes_[i].gpus >= k.gpu_count;
        if (k.hosts[i] && !mine[i]) subset = false;
        if (!k.hosts[i] && mine_too) fewer = true;
        if (k.hosts[i]) kind_cap += classes_[i].capacity_milli;
        if (mine_too) my_cap += classes_[i].capacity_milli;
      }
      if (!subset || !fewer || my_cap <= 0) continue;
      const double outside = std::max(0.0, 1 - kind_cap / my_cap);
      for (size_t i = 0; i < classes_.size(); ++i) {
        if (k.hosts[i]) memo.pressure[i] += k.need * outside;
      }
    }
    for (double& p : memo.pressure) p = std::min(p, 1.0);
    return memo.pressure;
  }

  double ScoreOf(const NodeCache& nc, const FragState& after, int64_t mem_after, double extra) {
    double cost = memo_.Get(*model_, after) - nc.frag;
    if (tuning_.fastgpu) {
      cost +=
          tuning_.strand_weight * (Stranded(after, after.cpu_free_milli, mem_after) - nc.strand);
      cost +=
          tuning_.fill_weight * (Residual(after, after.cpu_free_milli, mem_after) - nc.residual);
      cost += extra;
    }
    // The paper's score: sigmoid of the decrease, times 100, truncated to an integer.
    return std::floor(100.0 / (1.0 + std::exp(cost / 1000.0)));
  }

  // Sum over GPUs of the least free milli the fill sizes can leave (fill residual). With
  // fill_needs_host the node's free CPU and memory are a budget: each fully free GPU keeps
  // what whole-GPU tasks need per GPU; then each partly used GPU, largest free milli first,
  // counts only the fill sizes whose CPU and memory the rest still holds, and its best fill
  // spends them.
  double Residual(const FragState& s, int64_t cpu_free, int64_t mem_free) {
    double r = 0;
    for (int i = 0; i < s.gpu_count; ++i) {
      const int f = s.free_milli[i];
      if (f == kMilliPerGpu) {
        cpu_free -= whole_cpu_milli_;
        mem_free -= whole_memory_mib_;
        continue;
      }
      if (f == 0) continue;
      const FillTable& table = ResidualTable(FillMask(cpu_free, mem_free));
      r += table.residual[f];
      cpu_free -= table.cpu_milli[f];
      mem_free -= table.memory_mib[f];
    }
    return r;
  }

  // The fill sizes that `cpu_free` and `mem_free` hold (all of them without
  // fill_needs_host); bit i for fill_[i], sizes past the 64th always count.
  uint64_t FillMask(int64_t cpu_free, int64_t mem_free) const {
    uint64_t mask = 0;
    for (size_t i = 0; i < fill_.size() && i < 64; ++i) {
      if (!tuning_.fill_needs_host ||
          (fill_[i].cpu_milli <= cpu_free && fill_[i].memory_mib <= mem_free)) {
        mask |= uint64_t{1} << i;
      }
    }
    return mask;
  }

  // Best fill of each free milli (0..1000) with the fill sizes in `mask` and whole GPUs:
  // the least residual and the CPU and memory of the fill tasks that leave it.
  struct FillTable {
    std::vector<double> residual;
    std::vector<int64_t> cpu_milli;
    std::vector<int64_t> memory_mib;
  };
  const FillTable& ResidualTable(uint64_t mask) {
    if (last_table_ != nullptr && last_mask_ == mask) return *last_table_;
    FillTable& table = residual_[mask];  // references stay valid as the map grows
    last_mask_ = mask;
    last_table_ = &table;
    if (!table.residual.empty()) return table;
    table.residual.assign(kMilliPerGpu + 1, 0);
    table.cpu_milli.assign(kMilliPerGpu + 1, 0);
    table.memory_mib.assign(kMilliPerGpu + 1, 0);
    for (int f = 1; f <= kMilliPerGpu; ++f) {
      double best = f == kMilliPerGpu ? 0 : f;  // a whole GPU: whole-GPU tasks use it
      for (size_t i = 0; i < fill_.size(); ++i) {
        const int m = fill_[i].milli;
        if ((i >= 64 || ((mask >> i) & 1)) && m <= f && table.residual[f - m] < best) {
          best = table.residual[f - m];
          table.cpu_milli[f] = fill_[i].cpu_milli + table.cpu_milli[f - m];
          table.memory_mib[f] = fill_[i].memory_mib + table.memory_mib[f - m];
        }
      }
      table.residual[f] = best;
    }
    return table;
  }

  // GPU milli left without the CPU or memory to use it.
  double Stranded(const FragState& s, int64_t cpu_free, int64_t mem_free) const {
    if (!tuning_.fastgpu) return 0;
    double gpu_free = 0;
    for (int i = 0; i < s.gpu_count; ++i) gpu_free += s.free_milli[i];
    double usable = gpu_free;
    if (cpu_per_gpu_ > 0) usable = std::min(usable, cpu_free * 1000.0 / cpu_per_gpu_);
    if (mem_per_gpu_ > 0) usable = std::min(usable, mem_free * 1000.0 / mem_per_gpu_);
    return gpu_free - std::max(0.0, usable);
  }

  void Rebuild(const Cluster& c) {
    model_ = std::make_unique<FragmentationModel>(c, TopCoverage(target_, tuning_.target_coverage));
    models_seen_ = c.models().size();
    memo_.Clear();
    nodes_.clear();
    InvalidateScores();
    // Fill sizes, each with the CPU and memory its tasks need (popularity-weighted mean).
    fill_.clear();
    residual_.clear();
    last_table_ = nullptr;
    for (int m : FillSizes(target_, tuning_.fill_min_share, tuning_.fill_min_cover)) {
      FillSize f{m, 0, 0};
      double pop = 0, cpu = 0, mem = 0;
      for (const TargetTask& t : target_) {
        if (t.shape.gpu_count != 1 || t.shape.gpu_milli != m) continue;
        pop += t.popularity;
        cpu += t.popularity * static_cast<double>(t.shape.cpu_milli);
        mem += t.popularity * static_cast<double>(t.shape.memory_mib);
      }
      if (pop > 0) {
        f.cpu_milli = static_cast<int64_t>(cpu / pop);
        f.memory_mib = static_cast<int64_t>(mem / pop);
      }
      fill_.push_back(f);
    }
    // CPU and memory per GPU of the whole-GPU tasks (weighted by their GPUs), which a fully
    // free GPU keeps for them in the fill residual.
    whole_cpu_milli_ = 0;
    whole_memory_mib_ = 0;
    if (tuning_.fill_needs_host) {
      double gpus = 0, cpu = 0, mem = 0;
      for (const TargetTask& t : target_) {
        if (t.shape.gpu_count == 0 || t.shape.gpu_milli < kMilliPerGpu) continue;
        gpus += t.popularity * t.shape.gpu_count;
        cpu += t.popularity * static_cast<double>(t.shape.cpu_milli);
        mem += t.popularity * static_cast<double>(t.shape.memory_mib);
      }
      if (gpus > 0) {
        whole_cpu_milli_ = static_cast<int64_t>(cpu / gpus);
        whole_memory_mib_ = static_cast<int64_t>(mem / gpus);
      }
    }
    // Mean CPU and memory per requested GPU over the target workload.
    double cpu = 0, mem = 0, gpus = 0, total_pop = 0;
    for (const TargetTask& t : target_) {
      cpu += t.popularity * static_cast<double>(t.shape.cpu_milli);
      mem += t.popularity * static_cast<double>(t.shape.memory_mib);
      gpus += t.popularity * static_cast<double>(t.shape.TotalGpuMilli()) / 1000.0;
      total_pop += t.popularity;
    }
    cpu_per_gpu_ =
        options_.cpu_milli_per_gpu > 0 ? options_.cpu_milli_per_gpu : (gpus > 0 ? cpu / gpus : 0);
    mem_per_gpu_ =
        options_.memory_mib_per_gpu > 0 ? options_.memory_mib_per_gpu : (gpus > 0 ? mem / gpus : 0);
    // Pressure of model-constrained demand on each model, with the whole workload
    // scaled to the cluster's capacity; constrained demand is spread over its models by
    // capacity.
    std::vector<double> capacity(c.models().size(), 0);
    for (const NodeState& node : c.nodes()) {
      if (node.model_id >= 0) capacity[node.model_id] += 1000.0 * node.gpus.size();
    }
    double total_capacity = 0;
    for (double cap : capacity) total_capacity += cap;
    double demand_total = 0;
    for (const TargetTask& t : target_) {
      demand_total += t.popularity * static_cast<double>(t.shape.TotalGpuMilli());
    }
    pressure_.assign(c.models().size(), 0);
    classes_.clear();
    host_kinds_.clear();
    host_memo_.clear();
    models_ = c.models();
    nodes_at_rebuild_ = c.size();
    if (demand_total <= 0 || total_capacity <= 0) return;
    double scale = total_capacity / demand_total;
    if (tuning_.host_weight > 0) BuildHostKinds(c, scale);
    for (const TargetTask& t : target_) {
      if (t.shape.gpu_models.empty() || t.shape.gpu_count == 0) continue;
      double allowed_cap = 0;
      for (size_t m = 0; m < capacity.size(); ++m) {
        if (t.shape.AllowsModel(c.models()[m])) allowed_cap += capacity[m];
      }
      if (allowed_cap <= 0) continue;
      double demand = scale * t.popularity * static_cast<double>(t.shape.TotalGpuMilli());
      for (size_t m = 0; m < capacity.size(); ++m) {
        if (t.shape.AllowsModel(c.models()[m])) pressure_[m] += demand / allowed_cap;
      }
    }
    for (double& p : pressure_) p = std::min(p, 1.0);
  }

  // Host classes of the cluster and the need of each target kind free to use any model.
  void BuildHostKinds(const Cluster& c, double scale) {
    for (const NodeState& node : c.nodes()) {
      if (node.model_id < 0 || node.gpus.empty()) continue;
      int cls = ClassOf(node);
      if (cls < 0) {
        classes_.push_back({node.model_id, static_cast<int>(node.gpus.size()), node.cpu_total_milli,
                            node.memory_total_mib, 0});
        cls = static_cast<int>(classes_.size()) - 1;
      }
      classes_[cls].capacity_milli += 1000.0 * static_cast<double>(node.gpus.size());
    }
    for (const TargetTask& t : target_) {
      if (t.shape.gpu_count == 0 || !t.shape.gpu_models.empty()) continue;
      HostKind k;
      k.hosts.resize(classes_.size());
      k.gpu_count = t.shape.gpu_count;
      double cap = 0;
      for (size_t i = 0; i < classes_.size(); ++i) {
        k.hosts[i] = FitsEmpty(classes_[i], t.shape);
        if (k.hosts[i]) cap += classes_[i].capacity_milli;
      }
      if (cap <= 0) continue;
      k.need = scale * t.popularity * static_cast<double>(t.shape.TotalGpuMilli()) / cap;
      host_kinds_.push_back(std::move(k));
    }
  }

  Tuning tuning_;
  bool learn_;
  bool target_changed_ = false;
  std::vector<TargetTask> target_;
  std::vector<model::Shape> seen_;
  size_t next_learn_ = 1;
  std::unique_ptr<FragmentationModel> model_;
  size_t models_seen_ = 0;
  FragMemo memo_;
  std::vector<NodeCache> nodes_;
  double cpu_per_gpu_ = 0;
  double mem_per_gpu_ = 0;
  std::vector<double> pressure_;
  struct FillSize {
    int milli = 0;
    int64_t cpu_milli = 0;   // CPU a task of this size needs
    int64_t memory_mib = 0;  // memory a task of this size needs
  };
  std::vector<FillSize> fill_;  // FillSizes of the target, ascending
  // Residual tables by the mask of fill sizes a node has the CPU and memory for.
  std::unordered_map<uint64_t, FillTable> residual_;
  uint64_t last_mask_ = 0;
  const FillTable* last_table_ = nullptr;  // residual_[last_mask_], or none
  int64_t whole_cpu_milli_ = 0;            // per GPU, kept by a fully free GPU
  int64_t whole_memory_mib_ = 0;
  std::vector<std::string> models_;  // the cluster's models at the last rebuild
  std::vector<HostClass> classes_;
  std::vector<HostKind> host_kinds_;
  std::vector<HostMemo> host_memo_;  // by ShapeInfo::id
  int nodes_at_rebuild_ = 0;
};

}  // namespace

std::unique_ptr<Policy> MakeFgd(const PolicyOptions& o) {
  return std::make_unique<FragPolicy>(o, Tuning{});
}

std::unique_ptr<Policy> MakeFastGpu(const PolicyOptions& o) {
  Tuning t;
  t.fastgpu = true;
  t.target_coverage = 0.95;
  t.strand_weight = 0.15;
  t.scarcity_weight = 1.0;
  t.host_weight = 1.0;
  t.fill_weight = 10.0;
  t.fill_min_share = 0.005;
  t.fill_min_cover = 0.4;
  t.fill_needs_host = true;
  return std::make_unique<FragPolicy>(o, t);
}

}  // namespace fastgpu::sched

// Fragmentation of GPU capacity against a target workload (Weng et al., USENIX ATC'23).
//
// For one typical task, a node's free GPU milli counts as fragmented when the task
// cannot use it: all of it when the task needs no GPU, cannot use the node's model,
// finds too few GPUs with enough free milli, or lacks CPU; otherwise only the free milli
// of the GPUs too small for it. A node's fragmentation is the popularity-weighted sum
// over the target workload (weights sum to 1), in GPU milli. Unhealthy GPUs count as
// having nothing free.
//
// Thread-safety: a FragmentationModel is immutable after construction and may be shared;
// a FragMemo is used by one thread.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "model/shape.h"
#include "scheduler/cluster.h"
#include "scheduler/policy.h"

namespace fastgpu::sched {

// The target workload of a task list as the paper builds it: one entry per distinct
// (CPU milli, per-GPU milli, GPU count, model constraint), CPU-only tasks included, most
// popular first, taken until they cover `coverage` of the tasks (default 0.95), with
// popularity renormalised to sum to 1. Memory is carried as the mean of the kind.
std::vector<TargetTask> BuildTargetWorkload(const std::vector<model::Shape>& tasks,
                                            double coverage = 0.95);

// The most popular kinds of `target` (stable order by popularity, descending) covering
// `coverage` of its total popularity, renormalised to sum to 1.
std::vector<TargetTask> TopCoverage(std::vector<TargetTask> target, double coverage);

// The fraction sizes (one GPU, under 1000 milli) that the fill-residual look-ahead counts
// as able to fill free GPU milli, ascending. A size counts when its tasks (summed over the
// kinds of that size) are at least `min_share` of all tasks of `target`, and when there
// are enough of them for the holes that rely on it: a fraction size c leaves a hole of
// 1000 - c milli on a fresh GPU, which relies on the largest counted size that fits it.
// Sizes whose supply is under `min_cover` of the tasks whose holes rely on them are
// dropped one at a time, the least covered first, re-assigning holes after each drop. A
// size no hole relies on stays. Empty for an empty target.
std::vector<int> FillSizes(const std::vector<TargetTask>& target, double min_share,
                           double min_cover);

// A node's state as far as fragmentation sees it; free milli sorted descending.
struct FragState {
  int model_id = -1;
  int gpu_count = 0;
  int64_t cpu_free_milli = 0;
  std::array<int16_t, kMaxGpusPerNode> free_milli{};  // first gpu_count used, descending
  friend bool operator==(const FragState&, const FragState&) = default;
};

// The state of a cluster node (unhealthy GPUs as 0 free).
FragState StateOf(const NodeState& node);

class FragmentationModel {
 public:
  // Compiles `target` against the cluster's model ids (constraint models the cluster
  // lacks are dropped). Popularity is normalised; an empty target gives zero everywhere.
  FragmentationModel(const Cluster& cluster, const std::vector<TargetTask>& target);

  // Fragmented GPU milli of one node state.
  double Fragmentation(const FragState& state) const;

  struct Task {
    int64_t cpu_milli = 0;
    int gpu_milli = 0;
    int gpu_count = 0;
    uint64_t model_mask = ~uint64_t{0};  // bit per cluster model id
    double weight = 0;
    int milli_group = 0;  // index of gpu_milli in milli_
  };
  const std::vector<Task>& tasks() const { return tasks_; }

 private:
  static constexpr size_t kMaxMilliGroups = 64;  // more distinct sizes: counted per task
  std::vector<Task> tasks_;
  std::vector<int> milli_;  // the tasks' distinct gpu_milli, descending
};

// Memoised FragmentationModel::Fragmentation keyed by the state: an open-addressing
// table (linear probing, at most half full) that is emptied when it holds `max_entries`
// (default 1<<20) states. Clear empties it in O(1) and keeps its size (slots carry the
// generation they were filled in).
class FragMemo {
 public:
  explicit FragMemo(size_t max_entries = size_t{1} << 20) : max_entries_(max_entries) {}
  double Get(const FragmentationModel& model, const FragState& state);
  void Clear();
  size_t hits() const { return hits_; }
  size_t misses() const { return misses_; }

 private:
  struct Slot {
    uint32_t stamp = 0;  // in use when it is stamp_
    FragState state;
    double value = 0;
  };
  static size_t Hash(const FragState& s);
  void Grow();

  std::vector<Slot> slots_;  // size a power of two, or empty
  uint32_t stamp_ = 1;
  size_t size_ = 0;
  size_t max_entries_;
  size_t hits_ = 0;
  size_t misses_ = 0;
};

// Sum of node fragmentation over the cluster (GPU milli).
double ClusterFragmentation(const Cluster& cluster, const FragmentationModel& model);

}  // namespace fastgpu::sched

#include "scheduler/fragmentation.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace fastgpu::sched {

std::vector<TargetTask> BuildTargetWorkload(const std::vector<model::Shape>& tasks,
                                            double coverage) {
  struct Kind {
    model::Shape shape;
    int64_t count = 0;
    double memory_sum = 0;
    size_t first = 0;
  };
  using Key = std::tuple<int64_t, int, int, std::vector<std::string>>;
  std::map<Key, Kind> kinds;
  for (size_t i = 0; i < tasks.size(); ++i) {
    const model::Shape& s = tasks[i];
    std::vector<std::string> models = s.gpu_models;
    std::sort(models.begin(), models.end());
    Key key{s.cpu_milli, s.gpu_milli, s.gpu_count, models};
    auto [it, fresh] = kinds.try_emplace(key);
    if (fresh) {
      it->second.shape = s;
      it->second.shape.gpu_models = models;
      it->second.first = i;
    }
    ++it->second.count;
    it->second.memory_sum += static_cast<double>(s.memory_mib);
  }
  std::vector<Kind*> order;
  for (auto& [key, kind] : kinds) order.push_back(&kind);
  // Most popular first; ties by the first appearance, so the result is deterministic.
  std::stable_sort(order.begin(), order.end(), [](const Kind* a, const Kind* b) {
    return a->count != b->count ? a->count > b->count : a->first < b->first;
  });
  std::vector<TargetTask> out;
  int64_t covered = 0;
  const double need = coverage * static_cast<double>(tasks.size());
  for (Kind* kind : order) {
    if (!out.empty() && static_cast<double>(covered) >= need) break;
    TargetTask task;
    task.shape = kind->shape;
    task.shape.memory_mib = static_cast<int64_t>(kind->memory_sum / kind->count);
    task.popularity = static_cast<double>(kind->count);
    covered += kind->count;
    out.push_back(std::move(task));
  }
  for (TargetTask& t : out) t.popularity /= static_cast<double>(covered);
  return out;
}

std::vector<TargetTask> TopCoverage(std::vector<TargetTask> target, double coverage) {
  std::stable_sort(target.begin(), target.end(), [](const TargetTask& a, const TargetTask& b) {
    return a.popularity > b.popularity;
  });
  double total = 0;
  for (const TargetTask& t : target) total += t.popularity;
  std::vector<TargetTask> out;
  double covered = 0;
  for (TargetTask& t : target) {
    if (!out.empty() && covered >= coverage * total * (1 - 1e-12)) break;
    covered += t.popularity;
    out.push_back(std::move(t));
  }
  for (TargetTask& t : out) t.popularity /= covered;
  return out;
}

std::vector<int> FillSizes(const std::vector<TargetTask>& target, double min_share,
                           double min_cover) {
  double total = 0;
  for (const TargetTask& t : target) total += t.popularity;
  if (total <= 0) return {};
  std::vector<double> share(kMilliPerGpu, 0);  // by fraction size
  for (const TargetTask& t : target) {
    if (t.shape.gpu_count == 1 && t.shape.gpu_milli > 0 && t.shape.gpu_milli < kMilliPerGpu) {
      share[t.shape.gpu_milli] += t.popularity / total;
    }
  }
  std::vector<bool> counted(kMilliPerGpu, false);
  for (int m = 1; m < kMilliPerGpu; ++m) counted[m] = share[m] > 0 && share[m] >= min_share;
  while (true) {
    // Tasks whose hole relies on each counted size.
    std::vector<double> reliant(kMilliPerGpu, 0);
    for (int c = 1; c < kMilliPerGpu; ++c) {
      if (share[c] <= 0) continue;
      int m = kMilliPerGpu - c;
      while (m > 0 && !counted[m]) --m;
      if (m > 0) reliant[m] += share[c];
    }
    int worst = -1;
    double worst_cover = min_cover;
    for (int m = 1; m < kMilliPerGpu; ++m) {
      if (!counted[m] || reliant[m] <= 0) continue;
      double cover = share[m] / reliant[m];
      if (cover < worst_cover) {
        worst_cover = cover;
        worst = m;
      }
    }
    if (worst < 0) break;
    counted[worst] = false;
  }
  std::vector<int> sizes;
  for (int m = 1; m < kMilliPerGpu; ++m) {
    if (counted[m]) sizes.push_back(m);
  }
  return sizes;
}

FragState StateOf(const NodeState& node) {
  FragState s;
  s.model_id = node.model_id;
  s.gpu_count = static_cast<int>(node.gpus.size());
  s.cpu_free_milli = node.cpu_free_milli;
  for (int i = 0; i < s.gpu_count; ++i) {
    s.free_milli[i] = node.gpus[i].healthy ? static_cast<int16_t>(node.gpus[i].free_milli) : 0;
  }
  std::sort(s.free_milli.begin(), s.free_milli.begin() + s.gpu_count, std::greater<>());
  return s;
}

FragmentationModel::FragmentationModel(const Cluster& cluster,
                                       const std::vector<TargetTask>& target) {
  double total = 0;
  for (const TargetTask& t : target) total += t.popularity;
  if (total <= 0) return;
  for (const TargetTask& t : target) {
    Task task;
    task.cpu_milli = t.shape.cpu_milli;
    task.gpu_milli = t.shape.gpu_milli;
    task.gpu_count = t.shape.gpu_count;
    task.weight = t.popularity / total;
    if (!t.shape.gpu_models.empty()) {
      task.model_mask = 0;
      for (const std::string& m : t.shape.gpu_models) {
        int id = cluster.ModelId(m);
        if (id >= 0 && id < 64) task.model_mask |= uint64_t{1} << id;
      }
    }
    milli_.push_back(task.gpu_milli);
    tasks_.push_back(task);
  }
  // Distinct sizes, largest first (so Fragmentation counts fitting GPUs in one pass).
  std::sort(milli_.begin(), milli_.end(), std::greater<>());
  milli_.erase(std::unique(milli_.begin(), milli_.end()), milli_.end());
  for (Task& task : tasks_) {
    task.milli_group = static_cast<int>(
        std::lower_bound(milli_.begin(), milli_.end(), task.gpu_milli, std::greater<>()) -
        milli_.begin());
  }
}

double FragmentationModel::Fragmentation(const FragState& s) const {
  // suffix[i]: free milli of GPUs i and after (the smallest ones, free_milli descending).
  std::array<int, kMaxGpusPerNode + 1> suffix;
  suffix[s.gpu_count] = 0;
  for (int i = s.gpu_count - 1; i >= 0; --i) suffix[i] = suffix[i + 1] + s.free_milli[i];
  const int total = suffix[0];
  if (total == 0) return 0;
  // fits[g]: GPUs with at least milli_[g] free (free_milli and milli_ are descending: the
  // GPUs that fit come first, and more of them for each smaller size).
  std::array<int, kMaxMilliGroups> fits;
  const bool grouped = milli_.size() <= kMaxMilliGroups;
  if (grouped) {
    int fit = 0;
    for (size_t g = 0; g < milli_.size(); ++g) {
      while (fit < s.gpu_count && s.free_milli[fit] >= milli_[g]) ++fit;
      fits[g] = fit;
    }
  }
  double frag = 0;
  for (const Task& t : tasks_) {
    bool usable = t.gpu_count > 0 && s.model_id >= 0 && s.model_id < 64 &&
                  ((t.model_mask >> s.model_id) & 1) && s.cpu_free_milli >= t.cpu_milli;
    if (!usable) {
      frag += t.weight * total;
      continue;
    }
    int fit = 0;
    if (grouped) {
      fit = fits[t.milli_group];
    } else {
      while (fit < s.gpu_count && s.free_milli[fit] >= t.gpu_milli) ++fit;
    }
    frag += t.weight * (fit < t.gpu_count ? total : suffix[fit]);
  }
  return frag;
}

size_t FragMemo::Hash(const FragState& s) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](uint64_t v) {
    h ^= v;
    h *= 1099511628211ull;
  };
  mix(static_cast<uint64_t>(s.model_id + 1));
  mix(static_cast<uint64_t>(s.cpu_free_milli));
  for (int i = 0; i < s.gpu_count; ++i) mix(static_cast<uint64_t>(s.free_milli[i]));
  return static_cast<size_t>(h ^ (h >> 29));
}

void FragMemo::Clear() {
  size_ = 0;
  if (++stamp_ == 0) {  // wrapped: no slot may look used
    for (Slot& slot : slots_) slot.stamp = 0;
    stamp_ = 1;
  }
}

void FragMemo::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : 2 * old.size(), Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.stamp != stamp_) continue;
    size_t i = Hash(slot.state) & mask;
    while (slots_[i].stamp == stamp_) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

double FragMemo::Get(const FragmentationModel& model, const FragState& state) {
  if (slots_.empty()) Grow();
  size_t mask = slots_.size() - 1;
  size_t i = Hash(state) & mask;
  while (slots_[i].stamp == stamp_) {
    if (slots_[i].state == state) {
      ++hits_;
      return slots_[i].value;
    }
    i = (i + 1) & mask;
  }
  ++misses_;
  const double value = model.Fragmentation(state);
  if (size_ >= max_entries_) {
    Clear();  // the table keeps its size: room for this state
  } else if (2 * (size_ + 1) <= slots_.size()) {
    slots_[i] = {stamp_, state, value};
    ++size_;
    return value;
  } else {
    Grow();
  }
  mask = slots_.size() - 1;
  i = Hash(state) & mask;
  while (slots_[i].stamp == stamp_) i = (i + 1) & mask;
  slots_[i] = {stamp_, state, value};
  ++size_;
  return value;
}

double ClusterFragmentation(const Cluster& cluster, const FragmentationModel& model) {
  double total = 0;
  for (const NodeState& node : cluster.nodes()) total += model.Fragmentation(StateOf(node));
  return total;
}

}  // namespace fastgpu::sched

#include "scheduler/workload.h"

#include <algorithm>

namespace fastgpu::sched {

WorkloadWindow::WorkloadWindow(int capacity) : capacity_(std::max(1, capacity)) {}

bool WorkloadWindow::Add(const model::Shape& shape) {
  std::vector<std::string> models = shape.gpu_models;
  std::sort(models.begin(), models.end());
  Kind& kind =
      kinds_[KindKey{shape.cpu_milli, shape.gpu_milli, shape.gpu_count, std::move(models)}];
  kind.memory_sum += shape.memory_mib;
  kind.shapes.push_back(seen_);
  shapes_.push_back(shape);
  if (static_cast<int>(shapes_.size()) > capacity_) {  // the oldest leaves
    const model::Shape& s = shapes_.front();
    std::vector<std::string> gone = s.gpu_models;
    std::sort(gone.begin(), gone.end());
    auto it = kinds_.find(KindKey{s.cpu_milli, s.gpu_milli, s.gpu_count, std::move(gone)});
    it->second.memory_sum -= s.memory_mib;
    it->second.shapes.pop_front();
    if (it->second.shapes.empty()) kinds_.erase(it);
    shapes_.pop_front();
    ++first_;
  }
  ++seen_;
  if (seen_ < next_refresh_) return false;
  const int64_t step = std::max<int64_t>(1, capacity_ / 2);
  // While the window fills: at every quarter more shapes (1, 2, 3, ..., 10, 12, 15, 18, ...).
  next_refresh_ = seen_ < capacity_
                      ? std::min<int64_t>(std::max(seen_ + 1, seen_ * 5 / 4), capacity_)
                      : seen_ + step;
  return true;
}

std::vector<TargetTask> WorkloadWindow::Target() const {
  if (shapes_.empty()) return {};
  // BuildTargetWorkload(window, kTargetCoverage) from the kinds' running counts and sums: most
  // popular first, ties by first appearance; the kind's shape is its first appearance with
  // sorted models and the mean memory (the sum is exact in int64 and, under 2^53, in the
  // double BuildTargetWorkload adds up).
  struct Entry {
    const std::vector<std::string>* models;
    const Kind* kind;
  };
  std::vector<Entry> order;
  order.reserve(kinds_.size());
  for (const auto& [key, kind] : kinds_) order.push_back({&std::get<3>(key), &kind});
  std::sort(order.begin(), order.end(), [](const Entry& a, const Entry& b) {
    const size_t ca = a.kind->shapes.size(), cb = b.kind->shapes.size();
    return ca != cb ? ca > cb : a.kind->shapes.front() < b.kind->shapes.front();
  });
  std::vector<TargetTask> out;
  int64_t covered = 0;
  const double need = kTargetCoverage * static_cast<double>(shapes_.size());
  for (const Entry& e : order) {
    if (!out.empty() && static_cast<double>(covered) >= need) break;
    const int64_t count = static_cast<int64_t>(e.kind->shapes.size());
    TargetTask task;
    task.shape = shapes_[static_cast<size_t>(e.kind->shapes.front() - first_)];
    task.shape.gpu_models = *e.models;
    task.shape.memory_mib =
        static_cast<int64_t>(static_cast<double>(e.kind->memory_sum) / static_cast<double>(count));
    task.popularity = static_cast<double>(count);
    covered += count;
    out.push_back(std::move(task));
  }
  for (TargetTask& t : out) t.popularity /= static_cast<double>(covered);
  return out;
}

}  // namespace fastgpu::sched

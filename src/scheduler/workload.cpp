#include "scheduler/workload.h"

#include <algorithm>

#include "scheduler/fragmentation.h"

namespace fastgpu::sched {

WorkloadWindow::WorkloadWindow(int capacity) : capacity_(std::max(1, capacity)) {}

bool WorkloadWindow::Add(const model::Shape& shape) {
  shapes_.push_back(shape);
  if (static_cast<int>(shapes_.size()) > capacity_) shapes_.pop_front();
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
  return BuildTargetWorkload(std::vector<model::Shape>(shapes_.begin(), shapes_.end()), 1.0);
}

}  // namespace fastgpu::sched

// WorkloadWindow: the target workload learned from the stream of submitted shapes.
//
// Fragmentation-aware policies measure a placement against the workload they expect to
// arrive. The engine learns it from what users submit: the last `capacity` shapes (a
// sliding window, so a change in what users run replaces the old mix), turned into task
// kinds with popularities by BuildTargetWorkload: every kind, as the whole-list mode gives
// the policies (they keep the kinds covering 95% for the fragmentation measure themselves;
// rare kinds still count for the costs that judge capacity, such as 8-GPU tasks that only
// the largest hosts hold, and for the fraction sizes, whose shares the 95% cut under-counts
// when a size is spread over many CPU variants). Estimates
// are refreshed each time the number of shapes seen grows by a quarter (1, 2, 3, ..., 10,
// 12, 15, ...) while the window fills, then every capacity/2 shapes: cheap (about 45
// refreshes to a full window), and stable between refreshes. (Refreshing at each doubling
// placed 0.08 points less on gpushare80 and 0.05 less on multigpu50, 10 seeds each.)
//
// The window keeps each kind's count and memory sum as shapes come and go, so Target() costs
// O(kinds), not a pass over the window; it equals BuildTargetWorkload(window,
// kTargetCoverage).
//
// Plain value type; one thread at a time.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "model/shape.h"
#include "scheduler/policy.h"

namespace fastgpu::sched {

// Share of the window's shapes the learned target covers: 1.0, every kind (the policies
// pick what they weigh from all of them; docs/placement-results.md).
inline constexpr double kTargetCoverage = 1.0;

class WorkloadWindow {
 public:
  // `capacity` >= 1: most shapes kept (default 20,000).
  explicit WorkloadWindow(int capacity = kDefaultCapacity);
  static constexpr int kDefaultCapacity = 20000;

  // Adds one submitted shape (the oldest leaves a full window). True when the estimate is
  // due for a refresh (see the file comment); Target() then gives the new one.
  bool Add(const model::Shape& shape);

  // The target workload of the shapes in the window (empty when none was added):
  // BuildTargetWorkload of the window's shapes, oldest first, with coverage
  // kTargetCoverage (every kind).
  std::vector<TargetTask> Target() const;

  int size() const { return static_cast<int>(shapes_.size()); }
  int capacity() const { return capacity_; }
  int64_t seen() const { return seen_; }  // shapes added in all

 private:
  // A kind as BuildTargetWorkload keys it: CPU milli, GPU milli, GPU count, sorted models.
  using KindKey = std::tuple<int64_t, int, int, std::vector<std::string>>;
  struct Kind {
    int64_t memory_sum = 0;      // MiB over its shapes in the window
    std::deque<int64_t> shapes;  // numbers of its shapes in the window (seen_ order)
  };

  int capacity_;
  std::deque<model::Shape> shapes_;  // the window, oldest first; the first is number first_
  std::map<KindKey, Kind> kinds_;    // kinds with shapes in the window
  int64_t first_ = 0;
  int64_t seen_ = 0;
  int64_t next_refresh_ = 1;
};

}  // namespace fastgpu::sched

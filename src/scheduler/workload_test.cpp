// WorkloadWindow keeps its kinds' counts as shapes come and go: its Target() must equal
// BuildTargetWorkload of the window's shapes at every step, while the window fills and
// while it slides.
#include "scheduler/workload.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <vector>

#include "scheduler/fragmentation.h"

namespace fastgpu::sched {
namespace {

model::Shape RandomShape(std::mt19937_64& rng) {
  model::Shape s;
  const int kind = std::uniform_int_distribution<int>(0, 5)(rng);
  s.cpu_milli = std::uniform_int_distribution<int64_t>(1, 4)(rng) * 1000;
  s.memory_mib = std::uniform_int_distribution<int64_t>(1, 9000)(rng);
  if (kind >= 1) {
    s.gpu_count = kind <= 3 ? 1 : std::uniform_int_distribution<int>(1, 2)(rng) * 2;
    s.gpu_milli = kind <= 2 ? std::uniform_int_distribution<int>(1, 4)(rng) * 250 : 1000;
    if (s.gpu_count > 1) s.gpu_milli = 1000;
    s.gpu_memory_mib = std::uniform_int_distribution<int64_t>(0, 2)(rng) * 1024;
  }
  if (s.gpu_count > 0 && kind == 5) {
    // Same models, either order: one kind.
    s.gpu_models = std::uniform_int_distribution<int>(0, 1)(rng) == 0
                       ? std::vector<std::string>{"V100", "T4"}
                       : std::vector<std::string>{"T4", "V100"};
  }
  return s;
}

void ExpectSameTarget(const std::vector<TargetTask>& got, const std::vector<TargetTask>& want,
                      int step) {
  ASSERT_EQ(got.size(), want.size()) << "step " << step;
  for (size_t k = 0; k < want.size(); ++k) {
    EXPECT_EQ(got[k].shape, want[k].shape) << "step " << step << " kind " << k;
    EXPECT_EQ(got[k].popularity, want[k].popularity) << "step " << step << " kind " << k;
  }
}

TEST(WorkloadWindowTest, TargetIsBuildTargetWorkloadOfTheWindowAtEveryStep) {
  for (int capacity : {1, 7, 60, 1000}) {
    std::mt19937_64 rng(capacity);
    WorkloadWindow window(capacity);
    std::deque<model::Shape> kept;  // the window, as the reference sees it
    int refreshes = 0;
    for (int step = 0; step < 700; ++step) {
      const model::Shape shape = RandomShape(rng);
      if (window.Add(shape)) ++refreshes;
      kept.push_back(shape);
      if (static_cast<int>(kept.size()) > capacity) kept.pop_front();
      ASSERT_EQ(window.size(), static_cast<int>(kept.size()));
      ExpectSameTarget(
          window.Target(),
          BuildTargetWorkload(std::vector<model::Shape>(kept.begin(), kept.end()), kTargetCoverage), step);
      if (HasFatalFailure()) return;
    }
    EXPECT_GT(refreshes, 5) << "capacity " << capacity;
  }
}

TEST(WorkloadWindowTest, EmptyWindowHasNoTarget) {
  WorkloadWindow window;
  EXPECT_TRUE(window.Target().empty());
}

}  // namespace
}  // namespace fastgpu::sched

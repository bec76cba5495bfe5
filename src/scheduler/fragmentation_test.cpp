#include "scheduler/fragmentation.h"

#include <gtest/gtest.h>

namespace fastgpu::sched {
namespace {

model::Shape Task(int count, int milli, int64_t cpu, std::vector<std::string> models = {}) {
  model::Shape s;
  s.gpu_count = count;
  s.gpu_milli = milli;
  s.cpu_milli = cpu;
  s.gpu_models = std::move(models);
  return s;
}

class FragmentationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.AddNode({"g2", "G2", 4, 0, 32000, 100000});
    cluster_.AddNode({"t4", "T4", 2, 0, 8000, 100000});
  }
  Cluster cluster_;
};

TEST_F(FragmentationTest, EmptyNodeIsFragmentedOnlyForTasksThatCannotUseIt) {
  // Half the workload asks 500 milli, half asks 2 whole T4s.
  FragmentationModel model(cluster_, {{Task(1, 500, 1000), 1}, {Task(2, 1000, 1000, {"T4"}), 1}});
  EXPECT_DOUBLE_EQ(model.Fragmentation(StateOf(cluster_.node(0))), 0.5 * 4000);
  EXPECT_DOUBLE_EQ(model.Fragmentation(StateOf(cluster_.node(1))), 0);
}

TEST_F(FragmentationTest, SmallHolesCountForTasksThatNeedMore) {
  ASSERT_TRUE(cluster_.Apply({0, {{0, 800, 0}, {1, 300, 0}}, 0, 0}).ok());
  // Free: 200, 700, 1000, 1000.
  FragmentationModel model(cluster_, {{Task(1, 500, 1000), 3}, {Task(1, 1000, 1000), 1}});
  double for_half = 200;         // only the 200 hole is too small for 500
  double for_whole = 200 + 700;  // both partly used GPUs are too small for a whole GPU
  EXPECT_DOUBLE_EQ(model.Fragmentation(StateOf(cluster_.node(0))),
                   0.75 * for_half + 0.25 * for_whole);
}

TEST_F(FragmentationTest, LackOfCpuOrGpusMakesEverythingFragmented) {
  FragmentationModel model(cluster_, {{Task(1, 100, 64000), 1}});  // more CPU than any node
  EXPECT_DOUBLE_EQ(model.Fragmentation(StateOf(cluster_.node(0))), 4000);
  FragmentationModel eight(cluster_, {{Task(8, 1000, 0), 1}});  // more GPUs than any node
  EXPECT_DOUBLE_EQ(eight.Fragmentation(StateOf(cluster_.node(1))), 2000);
  FragmentationModel cpu_only(cluster_, {{Task(0, 0, 1000), 1}});
  EXPECT_DOUBLE_EQ(cpu_only.Fragmentation(StateOf(cluster_.node(1))), 2000);
}

TEST_F(FragmentationTest, UnhealthyGpusCountAsNothingFree) {
  ASSERT_TRUE(cluster_.SetGpuHealthy(1, 0, false).ok());
  FragmentationModel model(cluster_, {{Task(0, 0, 1000), 1}});
  EXPECT_DOUBLE_EQ(model.Fragmentation(StateOf(cluster_.node(1))), 1000);
}

TEST_F(FragmentationTest, MemoAgreesWithDirectComputation) {
  FragmentationModel model(cluster_, {{Task(1, 500, 1000), 1}, {Task(1, 1000, 1000), 1}});
  FragMemo memo;
  ASSERT_TRUE(cluster_.Apply({0, {{2, 600, 0}}, 0, 0}).ok());
  for (int round = 0; round < 2; ++round) {
    for (const NodeState& node : cluster_.nodes()) {
      EXPECT_DOUBLE_EQ(memo.Get(model, StateOf(node)), model.Fragmentation(StateOf(node)));
    }
  }
  EXPECT_EQ(memo.misses(), 2u);
  EXPECT_EQ(memo.hits(), 2u);
}

TEST(TargetWorkloadTest, KeepsMostPopularKindsUpToCoverage) {
  std::vector<model::Shape> tasks;
  for (int i = 0; i < 6; ++i) tasks.push_back(Task(1, 500, 1000));
  for (int i = 0; i < 3; ++i) tasks.push_back(Task(1, 1000, 2000));
  tasks.push_back(Task(0, 0, 4000));
  std::vector<TargetTask> all = BuildTargetWorkload(tasks, 1.0);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_DOUBLE_EQ(all[0].popularity, 0.6);
  EXPECT_EQ(all[0].shape.gpu_milli, 500);
  std::vector<TargetTask> most = BuildTargetWorkload(tasks, 0.9);
  ASSERT_EQ(most.size(), 2u);
  EXPECT_DOUBLE_EQ(most[0].popularity, 6.0 / 9.0);
  std::vector<TargetTask> top = TopCoverage(all, 0.9);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_DOUBLE_EQ(top[1].popularity, 3.0 / 9.0);
}

TEST(FillSizesTest, DropsSizesTooRareForTheHolesThatRelyOnThem) {
  // 810s leave 190-milli holes that only 160s fit; 160s are far fewer than 810s.
  // 470s fill each other's 530-milli holes; 320s fill the 350-milli holes of 650s.
  // 280 is below the popularity floor; 1000 (a whole GPU) is never a fill size.
  std::vector<TargetTask> target = {{Task(1, 810, 1000), 30},  {Task(1, 160, 1000), 2},
                                    {Task(1, 470, 1000), 20},  {Task(1, 470, 2000), 5},
                                    {Task(1, 650, 1000), 6},   {Task(1, 320, 1000), 8},
                                    {Task(1, 280, 1000), 0.2}, {Task(1, 1000, 1000), 28.8}};
  EXPECT_EQ(FillSizes(target, 0.005, 0.5), (std::vector<int>{320, 470, 650, 810}));
  // With no supply rule the rare 160 counts; a higher floor drops the 650s (6%).
  EXPECT_EQ(FillSizes(target, 0.005, 0), (std::vector<int>{160, 320, 470, 650, 810}));
  EXPECT_EQ(FillSizes(target, 0.07, 0.5), (std::vector<int>{320, 470, 810}));
  EXPECT_TRUE(FillSizes({}, 0.005, 0.5).empty());
}

TEST(FillSizesTest, ASizeNearTheCoverLimitDoesNotTakeItsNeighboursWithIt) {
  // The fraction sizes of gpushare80 (percent of tasks), with the 650s at 6.3% instead of
  // 6.9%: a sampling difference while the workload is learned. At a 50% cover the 650s
  // fall just short; their holes then rely on the 590s, then the 550s, which fall in turn.
  // At 40% (what fastgpu uses) the set is the whole list's.
  std::vector<TargetTask> target = {
      {Task(1, 810, 1000), 26.35}, {Task(1, 1000, 1000), 9.42}, {Task(1, 470, 1000), 18.65},
      {Task(1, 650, 1000), 6.3},   {Task(1, 320, 1000), 8.13},  {Task(1, 460, 1000), 3.61},
      {Task(1, 230, 1000), 3.46},  {Task(1, 590, 1000), 1.86},  {Task(1, 160, 1000), 1.83},
      {Task(1, 550, 1000), 1.71},  {Task(1, 220, 1000), 1.44},  {Task(1, 370, 1000), 1.19},
      {Task(1, 110, 1000), 0.56},  {Task(0, 0, 1000), 13.35}};
  EXPECT_EQ(FillSizes(target, 0.005, 0.5), (std::vector<int>{220, 230, 320, 460, 470, 810}));
  EXPECT_EQ(FillSizes(target, 0.005, 0.4),
            (std::vector<int>{220, 230, 320, 460, 470, 550, 590, 650, 810}));
}

}  // namespace
}  // namespace fastgpu::sched

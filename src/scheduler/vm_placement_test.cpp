// vm isolation in placement: a `vm` fraction goes only to GPUs offering a vGPU type that
// holds it and takes the smallest such type's share; a whole GPU only where passthrough is
// offered; a request no GPU can ever take is refused with a reason saying so.
#include <gtest/gtest.h>

#include "scheduler/engine.h"
#include "scheduler/filters.h"

namespace fastgpu::sched {
namespace {

model::Shape Vm(int milli, int count = 1) {
  model::Shape s;
  s.gpu_count = count;
  s.gpu_milli = milli;
  s.cpu_milli = 1000;
  s.memory_mib = 1024;
  s.isolation = model::Isolation::kVm;
  return s;
}

GpuVmSizes Sizes(bool passthrough, std::initializer_list<int> milli) {
  model::VmOffer offer;
  offer.passthrough = passthrough;
  for (int m : milli) offer.types.push_back({"t" + std::to_string(m), m, 0});
  return VmSizesOf(offer);
}

EngineNode Node(const std::string& id, std::vector<GpuVmSizes> vm) {
  EngineNode n;
  n.spec = {id, "A100-80GB", static_cast<int>(vm.size()), 81920, 32000, 256000};
  n.vm = std::move(vm);
  return n;
}

std::unique_ptr<Engine> NewEngine() {
  auto e = Engine::Create({});
  EXPECT_TRUE(e.ok()) << e.status();
  return std::move(e).value();
}

TEST(VmSizesTest, KeepsFractionsOnceSmallestFirst) {
  model::VmOffer offer;
  offer.types = {{"b", 500, 0}, {"a", 250, 0}, {"a2", 250, 0}, {"whole", 1000, 0}};
  GpuVmSizes s = VmSizesOf(offer);
  ASSERT_EQ(s.count, 2);
  EXPECT_EQ(s.milli[0], 250);
  EXPECT_EQ(s.milli[1], 500);
  EXPECT_TRUE(s.Offers(500));
  EXPECT_FALSE(s.Offers(1000));  // a whole-size type is no fraction
  EXPECT_FALSE(s.passthrough);
}

TEST(VmFilterTest, FractionsNeedATypeOfTheirSizeWholeGpusPassthrough) {
  GpuState gpu;
  gpu.total_memory_mib = gpu.free_memory_mib = 81920;
  EXPECT_EQ(GpuRefusal(gpu, Vm(500)), Filter::kVmType);
  EXPECT_EQ(DescribeGpuRefusal(gpu, Filter::kVmType), "offers nothing to vm work");
  gpu.vm = Sizes(false, {250, 500});
  EXPECT_EQ(GpuRefusal(gpu, Vm(500)), std::nullopt);
  EXPECT_EQ(GpuRefusal(gpu, Vm(300)), Filter::kVmType);  // the engine rounds it first
  EXPECT_EQ(GpuRefusal(gpu, Vm(1000)), Filter::kVmType);
  gpu.vm.passthrough = true;
  EXPECT_EQ(GpuRefusal(gpu, Vm(1000)), std::nullopt);
  // Other modes ignore the offer.
  model::Shape mps = Vm(300);
  mps.isolation = model::Isolation::kMps;
  EXPECT_EQ(GpuRefusal(GpuState{}, mps), std::nullopt);
}

TEST(VmPlacementTest, AFractionTakesTheSmallestTypeThatHoldsIt) {
  auto e = NewEngine();
  ASSERT_TRUE(e->UpsertNode(Node("a", {Sizes(false, {250, 500})})).ok());
  auto placed = e->Place({"j", Vm(300), 1});
  ASSERT_TRUE(placed.ok()) << placed.status();
  ASSERT_EQ((*placed)[0].gpus.size(), 1u);
  EXPECT_EQ((*placed)[0].gpus[0].milli, 500);  // 0.3 takes the 0.5 type
  EXPECT_EQ((*placed)[0].isolation, model::Isolation::kVm);
  EXPECT_EQ(e->cluster().node(0).gpus[0].free_milli, 500);
  // An exact size takes its own type.
  auto quarter = e->Place({"k", Vm(250), 1});
  ASSERT_TRUE(quarter.ok()) << quarter.status();
  EXPECT_EQ((*quarter)[0].gpus[0].milli, 250);
  EXPECT_EQ(e->cluster().node(0).gpus[0].free_milli, 250);
  // 0.3 again: the 0.5 type no longer fits; 0.25 does not hold it.
  EXPECT_EQ(e->Place({"l", Vm(300), 1}).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(e->VmRefusal(Vm(300)), "");  // it could fit, when room is freed
}

TEST(VmPlacementTest, ALargerTypeIsTakenWhenTheSmallerOnesAreFull) {
  auto e = NewEngine();
  // GPU 0 offers 0.4, GPU 1 only 0.75: 0.3 goes to 0.4 while one fits, then to 0.75.
  ASSERT_TRUE(e->UpsertNode(Node("a", {Sizes(false, {400}), Sizes(false, {750})})).ok());
  std::vector<int> got;
  for (int i = 0; i < 3; ++i) {
    auto placed = e->Place({"j", Vm(300), 1});
    ASSERT_TRUE(placed.ok()) << i << ": " << placed.status();
    got.push_back((*placed)[0].gpus[0].milli);
  }
  EXPECT_EQ(got, (std::vector<int>{400, 400, 750}));
  EXPECT_EQ(e->Place({"j", Vm(300), 1}).status().code(), StatusCode::kResourceExhausted);
}

TEST(VmPlacementTest, NoGpuOffersATypeOfThatSize) {
  auto e = NewEngine();
  ASSERT_TRUE(e->UpsertNode(Node("a", {Sizes(false, {250})})).ok());
  auto placed = e->Place({"j", Vm(300), 1});
  ASSERT_EQ(placed.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(placed.status().message(),
            "no GPU offers a vm type of at least 0.3 (types offered: 0.25)");
  EXPECT_EQ(e->VmRefusal(Vm(300)), placed.status().message());
  // A pool that offers nothing to vm work.
  auto bare = NewEngine();
  ASSERT_TRUE(bare->UpsertNode(Node("b", {GpuVmSizes{}})).ok());
  EXPECT_EQ(bare->Place({"j", Vm(300), 1}).status().message(),
            "no GPU offers a vm type of at least 0.3 (no GPU offers vm types)");
  EXPECT_EQ(bare->VmRefusal(Vm(1000)), "no GPU offers whole-GPU vm passthrough");
  EXPECT_EQ(bare->Place({"w", Vm(1000), 1}).status().code(), StatusCode::kResourceExhausted);
  // Offers learned later (the node registered again) make it fit.
  ASSERT_TRUE(bare->UpsertNode(Node("b", {Sizes(true, {500})})).ok());
  EXPECT_EQ(bare->VmRefusal(Vm(300)), "");
  EXPECT_TRUE(bare->Place({"j", Vm(300), 1}).ok());
  EXPECT_EQ(bare->VmRefusal(Vm(1000)), "");
}

TEST(VmPlacementTest, WholeGpusOnlyWherePassthroughIsOffered) {
  auto e = NewEngine();
  ASSERT_TRUE(e->UpsertNode(Node("a", {Sizes(false, {500}), Sizes(true, {})})).ok());
  auto placed = e->Place({"w", Vm(1000), 1});
  ASSERT_TRUE(placed.ok()) << placed.status();
  EXPECT_EQ((*placed)[0].gpus[0].gpu_index, 1);
  EXPECT_EQ((*placed)[0].gpus[0].milli, 1000);
  EXPECT_EQ(e->Place({"w", Vm(1000), 1}).status().code(), StatusCode::kResourceExhausted);
  // The no-fit message names the vm filter where it refused.
  auto fractions_only = NewEngine();
  ASSERT_TRUE(fractions_only->UpsertNode(Node("b", {Sizes(false, {500})})).ok());
  Status refused = fractions_only->Place({"w", Vm(1000), 1}).status();
  EXPECT_NE(refused.message().find("1 lack GPUs offering the vm type asked"), std::string::npos)
      << refused;
}

TEST(VmPlacementTest, OtherModesIgnoreVmOffersAndStayOffVmGpus) {
  auto e = NewEngine();
  ASSERT_TRUE(e->UpsertNode(Node("a", {Sizes(false, {500})})).ok());
  model::Shape mps = Vm(300);
  mps.isolation = model::Isolation::kMps;
  auto vm = e->Place({"v", Vm(300), 1});
  ASSERT_TRUE(vm.ok()) << vm.status();
  // The GPU now runs vm work: an mps fraction stays off it.
  EXPECT_EQ(e->Place({"m", mps, 1}).status().code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace fastgpu::sched

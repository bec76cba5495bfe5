#include "agent/vgpu.h"

#include <gtest/gtest.h>

#include "agent/fake_inventory.h"
#include "agent/isolation.h"
#include "model/units.h"

namespace fastgpu::agent {
namespace {

std::vector<GpuSample> Gpus(const std::string& spec) {
  auto inv = FakeGpuInventory::Create(spec, "vgpu");
  EXPECT_TRUE(inv.ok()) << inv.status();
  auto samples = (*inv)->Sample();
  // Plan as for real GPUs unless a test says otherwise.
  for (auto& s : *samples) s.gpu.simulated = false;
  return *samples;
}

protocol::DesiredReplica Want(const std::string& id, int gpu_index, int milli, int64_t memory_mib,
                              model::Isolation iso, const std::string& uuid = "") {
  protocol::DesiredReplica d;
  d.allocation.id = id;
  d.allocation.job_id = "job-" + id;
  d.allocation.replica = 1;
  d.replicas = 2;
  d.allocation.slices.push_back({gpu_index, uuid, milli, memory_mib, iso});
  return d;
}

TEST(VgpuTest, HalfGpuGetsMpsVariablesFromItsShape) {
  auto gpus = Gpus("1xH100-80GB");
  auto amount = model::ParseGpuAmount("0.5");
  ASSERT_TRUE(amount.ok());
  auto mem = model::ParseMemoryMib("40GiB");
  auto plan =
      PlanVgpu(Want("a1", 0, amount->milli_per_gpu, *mem, model::Isolation::kMps, gpus[0].gpu.uuid),
               gpus, {}, {}, "/data/mps");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->env.at("CUDA_VISIBLE_DEVICES"), gpus[0].gpu.uuid);
  EXPECT_EQ(plan->env.at("CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"), "50");
  EXPECT_EQ(plan->env.at("CUDA_MPS_PINNED_DEVICE_MEM_LIMIT"), "0=40960MB");
  EXPECT_EQ(plan->env.at("CUDA_MPS_PIPE_DIRECTORY"), "/data/mps/" + gpus[0].gpu.uuid + "/pipe");
  EXPECT_EQ(plan->env.at("FASTGPU_ISOLATION"), "mps");
  EXPECT_EQ(plan->env.at("FASTGPU_JOB_ID"), "job-a1");
  EXPECT_EQ(plan->env.at("FASTGPU_REPLICA"), "1");
  EXPECT_EQ(plan->env.at("FASTGPU_REPLICAS"), "2");
  EXPECT_EQ(plan->env.at("FASTGPU_ALLOCATION_ID"), "a1");
  EXPECT_EQ(plan->mps_gpus, std::vector<int>{0});
}

TEST(VgpuTest, TwoFractionsGetDisjointLimitsWithinTheGpu) {
  auto gpus = Gpus("1xH100-80GB");
  auto first = Want("a1", 0, 600, 48000, model::Isolation::kMps);
  auto second = Want("a2", 0, 400, 30000, model::Isolation::kMps);
  auto p1 = PlanVgpu(first, gpus, {}, {}, "/m");
  ASSERT_TRUE(p1.ok()) << p1.status();
  auto p2 = PlanVgpu(second, gpus, {first.allocation}, {}, "/m");
  ASSERT_TRUE(p2.ok()) << p2.status();
  int pct = std::stoi(p1->env.at("CUDA_MPS_ACTIVE_THREAD_PERCENTAGE")) +
            std::stoi(p2->env.at("CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"));
  EXPECT_LE(pct, 100);
  EXPECT_EQ(pct, 100);
  int64_t mem = std::stoll(p1->env.at("FASTGPU_GPU_MEMORY_MIB")) +
                std::stoll(p2->env.at("FASTGPU_GPU_MEMORY_MIB"));
  EXPECT_LE(mem, gpus[0].gpu.memory_mib);
  // A third one does not fit: compute, then memory.
  auto third = PlanVgpu(Want("a3", 0, 100, 1000, model::Isolation::kMps), gpus,
                        {first.allocation, second.allocation}, {}, "/m");
  EXPECT_EQ(third.status().code(), StatusCode::kResourceExhausted) << third.status();
  auto fourth = PlanVgpu(Want("a4", 0, 100, 40000, model::Isolation::kMps), gpus,
                         {first.allocation}, {}, "/m");
  EXPECT_EQ(fourth.status().code(), StatusCode::kResourceExhausted) << fourth.status();
  EXPECT_NE(fourth.status().message().find("memory"), std::string::npos);
}

TEST(VgpuTest, MigNeedsMigModeAndAnExistingInstance) {
  auto plain = Gpus("1xA100-80GB");
  auto refused = PlanVgpu(Want("a1", 0, 143, 10000, model::Isolation::kMig), plain, {}, {}, "/m");
  EXPECT_EQ(refused.status(), FailedPrecondition("mig isolation: GPU 0 is not in MIG mode"));
  auto mig = Gpus("1xA100-80GB:mig");
  auto first = PlanVgpu(Want("a1", 0, 143, 10000, model::Isolation::kMig), mig, {}, {}, "/m");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->mig_instances.size(), 1u);
  EXPECT_EQ(first->env.at("CUDA_VISIBLE_DEVICES"), first->mig_instances[0]);
  auto second = PlanVgpu(Want("a2", 0, 143, 10000, model::Isolation::kMig), mig, {},
                         first->mig_instances, "/m");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->mig_instances[0], first->mig_instances[0]);
  auto named = PlanVgpu(Want("a3", 0, 143, 0, model::Isolation::kMig, first->mig_instances[0]), mig,
                        {}, first->mig_instances, "/m");
  EXPECT_EQ(named.status().code(), StatusCode::kFailedPrecondition);
  auto too_big = PlanVgpu(Want("a4", 0, 500, 40000, model::Isolation::kMig), mig, {}, {}, "/m");
  EXPECT_EQ(too_big.status().code(), StatusCode::kFailedPrecondition);
  auto mps_on_mig = PlanVgpu(Want("a5", 0, 500, 0, model::Isolation::kMps), mig, {}, {}, "/m");
  EXPECT_EQ(mps_on_mig.status().code(), StatusCode::kFailedPrecondition);
}

TEST(VgpuTest, ExclusiveSharedVmAndUnhealthy) {
  auto gpus = Gpus("2xH100-80GB");
  protocol::DesiredReplica whole;
  whole.allocation.id = "w";
  whole.allocation.slices = {{0, gpus[0].gpu.uuid, 1000, 81559, model::Isolation::kExclusive},
                             {1, gpus[1].gpu.uuid, 1000, 81559, model::Isolation::kExclusive}};
  auto p = PlanVgpu(whole, gpus, {}, {}, "/m");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->env.at("CUDA_VISIBLE_DEVICES"), gpus[0].gpu.uuid + "," + gpus[1].gpu.uuid);
  EXPECT_TRUE(p->mps_gpus.empty());
  auto beside =
      PlanVgpu(Want("s", 0, 300, 0, model::Isolation::kShared), gpus, {whole.allocation}, {}, "/m");
  EXPECT_EQ(beside.status().code(), StatusCode::kResourceExhausted);
  auto shared = PlanVgpu(Want("s", 0, 300, 0, model::Isolation::kShared), gpus, {}, {}, "/m");
  ASSERT_TRUE(shared.ok());
  EXPECT_EQ(shared->env.at("FASTGPU_ISOLATION"), "shared");
  EXPECT_NE(shared->note.find("soft limits"), std::string::npos);
  EXPECT_EQ(shared->env.count("CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"), 0u);
  auto mixed = PlanVgpu(Want("m", 0, 300, 0, model::Isolation::kMps), gpus,
                        {Want("s", 0, 300, 0, model::Isolation::kShared).allocation}, {}, "/m");
  EXPECT_EQ(mixed.status().code(), StatusCode::kFailedPrecondition);
  // A value no mode implements yet (vm, until its mode is registered) is refused as such.
  if (!FindIsolationMode(model::Isolation::kVm).ok()) {
    EXPECT_EQ(
        PlanVgpu(Want("v", 0, 500, 0, model::Isolation::kVm), gpus, {}, {}, "/m").status().code(),
        StatusCode::kUnimplemented);
  }
  gpus[1].gpu.healthy = false;
  gpus[1].gpu.health_reason = "XID 79 (fell off the bus)";
  auto sick = PlanVgpu(Want("x", 1, 500, 0, model::Isolation::kMps), gpus, {}, {}, "/m");
  EXPECT_EQ(sick.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(sick.status().message().find("XID 79"), std::string::npos);
  EXPECT_EQ(
      PlanVgpu(Want("y", 5, 500, 0, model::Isolation::kMps), gpus, {}, {}, "/m").status().code(),
      StatusCode::kInvalidArgument);
}

TEST(VgpuTest, SimulatedGpusGetTheSameEnvironmentButNoDaemon) {
  auto inv = FakeGpuInventory::Create("1xH100-80GB");
  auto gpus = *(*inv)->Sample();
  auto plan = PlanVgpu(Want("a", 0, 250, 20480, model::Isolation::kMps), gpus, {}, {}, "/m");
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->env.at("CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"), "25");
  EXPECT_TRUE(plan->mps_gpus.empty());
  EXPECT_NE(plan->note.find("no MPS daemon"), std::string::npos);
  protocol::DesiredReplica cpu_only;
  cpu_only.allocation.id = "c";
  auto none = PlanVgpu(cpu_only, gpus, {}, {}, "/m");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->env.at("CUDA_VISIBLE_DEVICES"), "");
}

}  // namespace
}  // namespace fastgpu::agent

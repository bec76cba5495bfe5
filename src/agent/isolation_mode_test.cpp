// The isolation mode registry, a conformance suite every registered mode must pass, and
// each mode's own feasibility rules and environment.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "agent/fake_inventory.h"
#include "agent/file_env.h"
#include "agent/isolation.h"
#include "agent/testing/fake_mps_control.h"
#include "agent/vgpu.h"
#include "common/testing/temp_dir.h"

namespace fastgpu::agent {
namespace {

// Every value of the model's Isolation enum: those whose name parses back to them.
std::vector<model::Isolation> AllIsolationValues() {
  std::vector<model::Isolation> values;
  for (int k = 0; k < 64; ++k) {
    const auto iso = static_cast<model::Isolation>(k);
    Result<model::Isolation> parsed = model::ParseIsolation(model::IsolationName(iso));
    if (parsed.ok() && *parsed == iso) values.push_back(iso);
  }
  return values;
}

std::vector<GpuSample> Gpus(const std::string& spec, bool simulated = false) {
  auto inv = FakeGpuInventory::Create(spec, "iso");
  EXPECT_TRUE(inv.ok()) << inv.status();
  auto samples = (*inv)->Sample();
  for (auto& s : *samples) s.gpu.simulated = simulated;
  return *samples;
}

protocol::DesiredReplica Want(const std::string& id, std::vector<model::VgpuSlice> slices) {
  protocol::DesiredReplica d;
  d.allocation.id = id;
  d.allocation.job_id = "job-" + id;
  d.allocation.slices = std::move(slices);
  return d;
}

const IsolationMode& ModeFor(model::Isolation iso) {
  Result<const IsolationMode*> mode = FindIsolationMode(iso);
  EXPECT_TRUE(mode.ok()) << mode.status();
  return **mode;
}

// ---------------------------------------------------------------------------------------
// The registry.

// "exclusive, mig, ...": the registered modes, as the registry's messages list them.
std::string RegisteredNames() {
  std::string names;
  for (const IsolationMode* m : IsolationModes()) {
    names += (names.empty() ? "" : ", ") + std::string(m->Name());
  }
  return names;
}

// The model's values no mode implements yet (vm until it is added). Derived from the
// registry, so that adding a mode touches no line here but its sample.
std::vector<model::Isolation> Unregistered() {
  std::vector<model::Isolation> out;
  for (model::Isolation iso : AllIsolationValues()) {
    if (iso == model::Isolation::kDefault) continue;
    bool found = false;
    for (const IsolationMode* m : IsolationModes()) found = found || m->Kind() == iso;
    if (!found) out.push_back(iso);
  }
  return out;
}

TEST(IsolationRegistryTest, EveryIsolationValueHasARegisteredModeOrAClearError) {
  std::vector<model::Isolation> values = AllIsolationValues();
  ASSERT_GE(values.size(), 6u);
  ASSERT_GE(IsolationModes().size(), 4u);  // exclusive, mig, mps, shared at least
  size_t implemented = 0;
  for (model::Isolation iso : values) {
    Result<const IsolationMode*> mode = FindIsolationMode(iso);
    const std::string name(model::IsolationName(iso));
    if (iso == model::Isolation::kDefault) {
      EXPECT_EQ(mode.status(), InvalidArgument("slice without an explicit isolation"));
    } else if (!mode.ok()) {
      // A value no mode implements yet is refused, naming the modes there are.
      EXPECT_EQ(mode.status(), Unimplemented(name + " isolation is not available yet (this " +
                                             "agent has " + RegisteredNames() + ")"));
    } else {
      EXPECT_EQ((*mode)->Kind(), iso);
      EXPECT_EQ((*mode)->Name(), name);
      ++implemented;
    }
  }
  EXPECT_EQ(IsolationModes().size(), implemented);
}

TEST(IsolationRegistryTest, AValueTheModelDoesNotNameIsAClearError) {
  Result<const IsolationMode*> mode = FindIsolationMode(static_cast<model::Isolation>(42));
  EXPECT_EQ(mode.status(), InvalidArgument("unknown isolation value 42 (this agent has " +
                                           RegisteredNames() + ")"));
  EXPECT_EQ(RegisteredNames().rfind("exclusive, mig, mps, shared", 0), 0u) << RegisteredNames();
}

TEST(IsolationRegistryTest, ModeOfAnAllocation) {
  model::Allocation cpu_only;
  EXPECT_EQ(IsolationModeOf(cpu_only), nullptr);
  for (model::Isolation iso : Unregistered()) {
    model::Allocation none = Want("v", {{0, "", 500, 0, iso}}).allocation;
    EXPECT_EQ(IsolationModeOf(none), nullptr) << model::IsolationName(iso);
  }
  model::Allocation mps = Want("m", {{0, "", 500, 0, model::Isolation::kMps}}).allocation;
  ASSERT_NE(IsolationModeOf(mps), nullptr);
  EXPECT_EQ(IsolationModeOf(mps)->Kind(), model::Isolation::kMps);
}

// ---------------------------------------------------------------------------------------
// Conformance: every registered mode, on a node where a slice of it fits.

struct Sample {
  model::Isolation isolation;
  std::string gpus;  // FakeGpuInventory spec
  int milli;
  int64_t memory_mib;
};

const std::map<model::Isolation, Sample>& Samples() {
  static const auto* samples = new std::map<model::Isolation, Sample>{
      {model::Isolation::kExclusive, {model::Isolation::kExclusive, "1xH100-80GB", 1000, 0}},
      {model::Isolation::kMig, {model::Isolation::kMig, "1xA100-80GB:mig", 143, 10000}},
      {model::Isolation::kMps, {model::Isolation::kMps, "1xH100-80GB", 500, 40000}},
      {model::Isolation::kShared, {model::Isolation::kShared, "1xH100-80GB", 300, 0}},
      {model::Isolation::kVm, {model::Isolation::kVm, "1xH100-80GB", 1000, 0}},
  };
  return *samples;
}

class IsolationConformanceTest : public ::testing::TestWithParam<const IsolationMode*> {
 protected:
  const IsolationMode& mode() const { return *GetParam(); }
  const Sample& sample() const { return Samples().at(mode().Kind()); }
  protocol::DesiredReplica One(const std::string& id) const {
    return Want(id, {{0, "", sample().milli, sample().memory_mib, sample().isolation}});
  }
};

TEST(IsolationConformanceCoverage, EveryRegisteredModeHasASample) {
  for (const IsolationMode* mode : IsolationModes()) {
    EXPECT_TRUE(Samples().count(mode->Kind())) << mode->Name();
  }
}

TEST_P(IsolationConformanceTest, PlansTheSliceAndSetsTheCommonVariables) {
  auto gpus = Gpus(sample().gpus);
  Result<VgpuPlan> plan = PlanVgpu(One("a"), gpus, {}, {}, "/m");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->env.at("FASTGPU_ISOLATION"), mode().Name());
  EXPECT_EQ(plan->env.at("FASTGPU_ALLOCATION_ID"), "a");
  EXPECT_EQ(plan->env.at("FASTGPU_JOB_ID"), "job-a");
  const std::string& visible = plan->env.at("CUDA_VISIBLE_DEVICES");
  bool names_gpu = visible == gpus[0].gpu.uuid;
  for (const MigInstance& m : gpus[0].mig_instances) names_gpu = names_gpu || visible == m.uuid;
  EXPECT_TRUE(names_gpu) << visible;
}

TEST_P(IsolationConformanceTest, FeasibleAgreesWithPlaceSlice) {
  auto gpus = Gpus(sample().gpus);
  protocol::DesiredReplica want = One("a");
  std::set<std::string> none;
  SliceRequest ok{want.allocation, want.allocation.slices[0], gpus[0], {}, none};
  EXPECT_TRUE(mode().Feasible(ok).ok()) << mode().Feasible(ok);
  Result<SliceGrant> grant = mode().PlaceSlice(ok);
  ASSERT_TRUE(grant.ok());
  EXPECT_EQ(grant->gpu_index, 0);
  EXPECT_FALSE(grant->device.empty());
  // The GPU fully held by an exclusive replica: no mode fits beside it.
  GpuUse full{1000, gpus[0].gpu.memory_mib, {model::Isolation::kExclusive}};
  std::set<std::string> all;
  for (const MigInstance& m : gpus[0].mig_instances) all.insert(m.uuid);
  SliceRequest taken{want.allocation, want.allocation.slices[0], gpus[0], full, all};
  Status refused = mode().Feasible(taken);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused, mode().PlaceSlice(taken).status());
}

TEST_P(IsolationConformanceTest, RefusesAnUnhealthyGpuWithTheReason) {
  auto gpus = Gpus(sample().gpus);
  gpus[0].gpu.healthy = false;
  gpus[0].gpu.health_reason = "XID 79 (fell off the bus)";
  Result<VgpuPlan> plan = PlanVgpu(One("a"), gpus, {}, {}, "/m");
  EXPECT_EQ(plan.status(), FailedPrecondition(std::string(mode().Name()) +
                                              " isolation: GPU 0 is unhealthy (XID 79 (fell off "
                                              "the bus))"));
}

TEST_P(IsolationConformanceTest, RefusesAGpuTheNodeLacks) {
  auto gpus = Gpus(sample().gpus);
  protocol::DesiredReplica want = One("a");
  want.allocation.slices[0].gpu_index = 3;
  EXPECT_EQ(PlanVgpu(want, gpus, {}, {}, "/m").status(),
            InvalidArgument("slice names GPU 3, which this node lacks"));
}

TEST_P(IsolationConformanceTest, SimulatedGpusAreSaidSoAndStartNothing) {
  auto gpus = Gpus(sample().gpus, /*simulated=*/true);
  Result<VgpuPlan> plan = PlanVgpu(One("a"), gpus, {}, {}, "/m");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_NE(plan->note.find("simulated"), std::string::npos) << plan->note;
  EXPECT_TRUE(plan->mps_gpus.empty());
  // Start must not reach for a daemon program (there is none here).
  testing::TempDir dir;
  MpsDaemons mps(dir.path() + "/mps", dir.path() + "/no-such-program");
  IsolationServices services{mps, dir.path() + "/mps", dir.path() + "/dev"};
  ReplicaRecord rec;
  EXPECT_TRUE(mode().Start(*plan, gpus, services, &rec).ok());
  EXPECT_TRUE(rec.mps_gpus.empty());
  EXPECT_TRUE(mode().HostFolders(rec, services).empty());
}

INSTANTIATE_TEST_SUITE_P(AllModes, IsolationConformanceTest, ::testing::ValuesIn(IsolationModes()),
                         [](const ::testing::TestParamInfo<const IsolationMode*>& info) {
                           return std::string(info.param->Name());
                         });

// ---------------------------------------------------------------------------------------
// exclusive

TEST(ExclusiveModeTest, WholeFreePlainGpusOnly) {
  auto gpus = Gpus("2xH100-80GB");
  protocol::DesiredReplica both = Want("w", {{0, "", 1000, 0, model::Isolation::kExclusive},
                                             {1, "", 1000, 0, model::Isolation::kExclusive}});
  Result<VgpuPlan> plan = PlanVgpu(both, gpus, {}, {}, "/m");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->env.at("CUDA_VISIBLE_DEVICES"), gpus[0].gpu.uuid + "," + gpus[1].gpu.uuid);
  EXPECT_EQ(plan->env.count("FASTGPU_GPU_MILLI"), 0u);
  EXPECT_EQ(plan->env.count("CUDA_MPS_PIPE_DIRECTORY"), 0u);
  EXPECT_TRUE(plan->note.empty());

  EXPECT_EQ(PlanVgpu(Want("f", {{0, "", 500, 0, model::Isolation::kExclusive}}), gpus, {}, {}, "/m")
                .status(),
            InvalidArgument("exclusive isolation takes whole GPUs"));
  model::Allocation beside = Want("s", {{1, "", 100, 0, model::Isolation::kShared}}).allocation;
  EXPECT_EQ(PlanVgpu(both, gpus, {beside}, {}, "/m").status(),
            ResourceExhausted("exclusive isolation: GPU 1 already runs other replicas"));
  auto mig = Gpus("1xA100-80GB:mig");
  EXPECT_EQ(PlanVgpu(Want("m", {{0, "", 1000, 0, model::Isolation::kExclusive}}), mig, {}, {}, "/m")
                .status(),
            FailedPrecondition("exclusive isolation: GPU 0 is in MIG mode; only mig slices can "
                               "use it"));
  EXPECT_EQ(PlanVgpu(Want("u", {{0, "GPU-other", 1000, 0, model::Isolation::kExclusive}}), gpus, {},
                     {}, "/m")
                .status(),
            InvalidArgument("slice names GPU-other but GPU 0 is " + gpus[0].gpu.uuid));
  const IsolationMode& mode = ModeFor(model::Isolation::kExclusive);
  EXPECT_FALSE(mode.OneUserPerGpu());
  testing::TempDir dir;
  MpsDaemons mps(dir.path() + "/mps", "unused");
  EXPECT_TRUE(mode.DeviceNodes(IsolationServices{mps, "/m", "/dev"}).empty());
}

// ---------------------------------------------------------------------------------------
// mig

TEST(MigModeTest, NamedOrSmallestFreeInstanceAndItsCapabilityNodes) {
  auto gpus = Gpus("1xA100-80GB:mig");
  ASSERT_GE(gpus[0].mig_instances.size(), 2u);
  const MigInstance& second = gpus[0].mig_instances[1];
  Result<VgpuPlan> named =
      PlanVgpu(Want("n", {{0, second.uuid, 143, 0, model::Isolation::kMig}}), gpus, {}, {}, "/m");
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ(named->env.at("CUDA_VISIBLE_DEVICES"), second.uuid);
  EXPECT_EQ(named->mig_instances, std::vector<std::string>{second.uuid});
  EXPECT_EQ(named->env.at("FASTGPU_GPU_MEMORY_MIB"), std::to_string(second.memory_mib));
  EXPECT_EQ(named->env.count("CUDA_MPS_PIPE_DIRECTORY"), 0u);
  EXPECT_EQ(PlanVgpu(Want("u", {{0, second.uuid, 143, 0, model::Isolation::kMig}}), gpus, {},
                     {second.uuid}, "/m")
                .status(),
            FailedPrecondition("mig isolation: instance " + second.uuid + " is in use"));
  EXPECT_EQ(
      PlanVgpu(Want("x", {{0, "MIG-nope", 143, 0, model::Isolation::kMig}}), gpus, {}, {}, "/m")
          .status(),
      InvalidArgument("slice names MIG-nope, which is neither GPU 0 nor one of its MIG "
                      "instances"));
  // Picked by memory: every instance held but one.
  std::vector<std::string> held;
  for (const MigInstance& m : gpus[0].mig_instances) {
    if (m.uuid != second.uuid) held.push_back(m.uuid);
  }
  Result<VgpuPlan> picked =
      PlanVgpu(Want("p", {{0, "", 143, 1000, model::Isolation::kMig}}), gpus, {}, held, "/m");
  ASSERT_TRUE(picked.ok()) << picked.status();
  EXPECT_EQ(picked->mig_instances, std::vector<std::string>{second.uuid});
  held.push_back(second.uuid);
  EXPECT_EQ(PlanVgpu(Want("q", {{0, "", 143, 1000, model::Isolation::kMig}}), gpus, {}, held, "/m")
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
  testing::TempDir dir;
  MpsDaemons mps(dir.path() + "/mps", "unused");
  EXPECT_EQ(ModeFor(model::Isolation::kMig).DeviceNodes(IsolationServices{mps, "/m", "/d"}),
            std::vector<std::string>{"/d/nvidia-caps"});
}

// ---------------------------------------------------------------------------------------
// mps

TEST(MpsModeTest, LimitsFromTheShareAndOneDaemonPerGpu) {
  auto gpus = Gpus("1xH100-80GB");
  const std::string uuid = gpus[0].gpu.uuid;
  Result<VgpuPlan> plan =
      PlanVgpu(Want("a", {{0, "", 5, 2048, model::Isolation::kMps}}), gpus, {}, {}, "/m");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->env.at("CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"), "1");  // at least 1
  EXPECT_EQ(plan->env.at("CUDA_MPS_PINNED_DEVICE_MEM_LIMIT"), "0=2048MB");
  EXPECT_EQ(plan->env.at("CUDA_MPS_PIPE_DIRECTORY"), "/m/" + uuid + "/pipe");
  EXPECT_EQ(plan->env.at("FASTGPU_GPU_MILLI"), "5");
  EXPECT_EQ(plan->mps_gpus, std::vector<int>{0});
  EXPECT_EQ(PlanVgpu(Want("b", {{0, "", 500, 0, model::Isolation::kMps}}), gpus,
                     {Want("s", {{0, "", 100, 0, model::Isolation::kShared}}).allocation}, {}, "/m")
                .status(),
            FailedPrecondition("mps isolation: GPU 0 already runs shared replicas; modes are not "
                               "mixed on one GPU"));
  const IsolationMode& mode = ModeFor(model::Isolation::kMps);
  EXPECT_TRUE(mode.OneUserPerGpu());

  testing::TempDir dir;
  const std::string control = dir.path() + "/fake-mps-control";
  std::ofstream(control) << testing::kFakeMpsControl;
  ASSERT_EQ(chmod(control.c_str(), 0755), 0);
  MpsDaemons mps(dir.path() + "/mps", control);
  IsolationServices services{mps, dir.path() + "/mps", "/dev"};
  ReplicaRecord rec;
  ASSERT_TRUE(mode.Start(*plan, gpus, services, &rec).ok());
  EXPECT_EQ(rec.mps_gpus, std::vector<std::string>{uuid});
  EXPECT_TRUE(mps.Running(uuid));
  EXPECT_EQ(mode.HostFolders(rec, services),
            std::vector<std::string>{MpsPipeDirectory(dir.path() + "/mps", uuid)});
  // The daemon dies while the replica runs: Supervise starts it again.
  ASSERT_TRUE(mps.Stop(uuid).ok());
  for (int i = 0; i < 500 && mps.Running(uuid); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(mps.Running(uuid));
  mode.Supervise({&rec}, services);
  EXPECT_TRUE(mps.Running(uuid));
  ASSERT_TRUE(mps.Stop(uuid).ok());

  // The pipe folders are looked for in the agent's env.
  auto env = NewMemoryFileEnv();
  MpsDaemons in_memory(dir.path() + "/mps3", "unused", std::chrono::seconds(1), *env);
  IsolationServices memory_services{in_memory, dir.path() + "/mps3", "/dev", *env};
  EXPECT_TRUE(mode.HostFolders(rec, memory_services).empty());
  ASSERT_TRUE(env->CreateDirs(MpsPipeDirectory(dir.path() + "/mps3", uuid)).ok());
  EXPECT_EQ(mode.HostFolders(rec, memory_services),
            std::vector<std::string>{MpsPipeDirectory(dir.path() + "/mps3", uuid)});

  MpsDaemons missing(dir.path() + "/mps2", dir.path() + "/no-such-program");
  IsolationServices broken{missing, dir.path() + "/mps2", "/dev"};
  ReplicaRecord other;
  Status st = mode.Start(*plan, gpus, broken, &other);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st;
  EXPECT_EQ(st.message().rfind("mps isolation: ", 0), 0u) << st;
  EXPECT_TRUE(other.mps_gpus.empty());
}

// ---------------------------------------------------------------------------------------
// shared

TEST(SharedModeTest, SoftLimitsOnOneGpuWithinItsCapacity) {
  auto gpus = Gpus("2xH100-80GB");
  Result<VgpuPlan> plan =
      PlanVgpu(Want("a", {{1, "", 400, 0, model::Isolation::kShared}}), gpus, {}, {}, "/m");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->env.at("CUDA_VISIBLE_DEVICES"), gpus[1].gpu.uuid);
  EXPECT_EQ(plan->env.at("FASTGPU_GPU_MILLI"), "400");
  EXPECT_EQ(plan->env.at("FASTGPU_GPU_MEMORY_MIB"),
            std::to_string(gpus[1].gpu.memory_mib * 400 / 1000));
  EXPECT_EQ(plan->env.count("CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"), 0u);
  EXPECT_TRUE(plan->mps_gpus.empty());
  EXPECT_EQ(plan->note,
            "shared isolation: time-sliced GPU; compute share and memory are soft limits, not "
            "enforced");
  EXPECT_EQ(PlanVgpu(Want("two", {{0, "", 400, 0, model::Isolation::kShared},
                                  {1, "", 400, 0, model::Isolation::kShared}}),
                     gpus, {}, {}, "/m")
                .status(),
            FailedPrecondition("shared isolation gives one GPU per replica; this allocation has 2 "
                               "slices"));
  model::Allocation big = Want("b", {{1, "", 700, 0, model::Isolation::kShared}}).allocation;
  EXPECT_EQ(PlanVgpu(Want("c", {{1, "", 400, 0, model::Isolation::kShared}}), gpus, {big}, {}, "/m")
                .status(),
            ResourceExhausted("GPU 1 would be oversubscribed: 700 + 400 milli > 1000"));
  EXPECT_FALSE(ModeFor(model::Isolation::kShared).OneUserPerGpu());
}

}  // namespace
}  // namespace fastgpu::agent

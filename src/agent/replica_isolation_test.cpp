// A ReplicaSet with a recording launcher: what the isolation modes add to a launch (the
// MPS daemon before the workload and again after it died, the folders and device nodes a
// sandboxed workload sees). Nothing is launched; no root needed.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "agent/cgroup.h"
#include "agent/fake_inventory.h"
#include "agent/launcher.h"
#include "agent/mps.h"
#include "agent/replicas.h"
#include "agent/state.h"
#include "agent/testing/fake_control_plane.h"
#include "agent/testing/fake_mps_control.h"
#include "agent/testing/fake_state_writer.h"
#include "agent/vgpu.h"
#include "common/clock.h"
#include "common/testing/temp_dir.h"

namespace fastgpu::agent {
namespace {

namespace fs = std::filesystem;

// Records what it is asked to launch; a "workload" runs until its exit-status file exists.
class RecordingLauncher final : public ProcessLauncher {
 public:
  Result<ProcessHandle> Launch(const LaunchSpec& spec) override {
    specs[spec.env.at("FASTGPU_ALLOCATION_ID")] = spec;
    ProcessHandle h;
    h.shim_pid = h.pid = getpid();
    h.shim_start = h.pid_start = ProcessStartTime(getpid());
    return h;
  }
  ProcessState Poll(const ProcessHandle&, const std::string& status_path) override {
    std::string content = testing::ReadFile(status_path);
    return content.empty() ? ProcessState{} : ParseStatusFile(content);
  }
  Status Signal(const ProcessHandle&, int) override { return OkStatus(); }
  std::map<std::string, LaunchSpec> specs;
};

class ReplicaIsolationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(control_) << testing::kFakeMpsControl;
    ASSERT_EQ(chmod(control_.c_str(), 0755), 0);
    fs::create_directories(dev_.path() + "/nvidia-caps");
    std::ofstream(dev_.path() + "/nvidia-caps/nvidia-cap1") << "";
    options_.data_dir = dir_.path() + "/data";
    options_.mps_root = dir_.path() + "/data/mps";
    options_.gpu_dev_dir = dev_.path();
    options_.sandbox.enabled = true;
    options_.support.namespaces = true;  // the spec is only recorded, never run
    set_ =
        std::make_unique<ReplicaSet>(options_, state_, writer_, launcher_, cgroups_, mps_, clock_);
  }
  void TearDown() override {
    for (const std::string& uuid : started_) mps_.Stop(uuid).IgnoreError();
  }
  static std::vector<GpuSample> Gpus(const std::string& spec) {
    auto inv = FakeGpuInventory::Create(spec, "replica-iso");
    EXPECT_TRUE(inv.ok()) << inv.status();
    auto samples = *(*inv)->Sample();
    for (auto& s : samples) s.gpu.simulated = false;  // as real GPUs: daemons run
    return samples;
  }
  const ReplicaRecord* Record(const std::string& id) const {
    for (const ReplicaRecord& r : state_.replicas) {
      if (r.id() == id) return &r;
    }
    return nullptr;
  }
  static bool Has(const std::vector<std::string>& list, const std::string& item) {
    return std::find(list.begin(), list.end(), item) != list.end();
  }

  testing::TempDir dir_, dev_;
  std::string control_ = dir_.path() + "/fake-mps-control";
  ReplicaSetOptions options_;
  AgentState state_;
  testing::FakeStateWriter writer_;
  RecordingLauncher launcher_;
  Cgroups cgroups_ = Cgroups::Probe("");
  MpsDaemons mps_{dir_.path() + "/data/mps", control_};
  ManualClock clock_;
  std::unique_ptr<ReplicaSet> set_;
  std::vector<std::string> started_;  // GPUs whose fake daemon the test stops
};

TEST_F(ReplicaIsolationTest, MpsDaemonRunsBeforeTheWorkloadAndAgainAfterItDied) {
  auto gpus = Gpus("1xH100-80GB");
  const std::string uuid = gpus[0].gpu.uuid;
  started_.push_back(uuid);
  protocol::HeartbeatResponse r;
  r.allocations = {testing::TestAllocation("alloc-m", {"true"},
                                           {{0, uuid, 500, 40960, model::Isolation::kMps}})};
  set_->Apply(r, gpus);
  ASSERT_NE(Record("alloc-m"), nullptr);
  ASSERT_EQ(Record("alloc-m")->state, "running") << Record("alloc-m")->message;
  EXPECT_EQ(Record("alloc-m")->mps_gpus, std::vector<std::string>{uuid});
  EXPECT_TRUE(mps_.Running(uuid));
  const std::string pipe = MpsPipeDirectory(options_.mps_root, uuid);
  const LaunchSpec& spec = launcher_.specs.at("alloc-m");
  EXPECT_EQ(spec.env.at("CUDA_MPS_PIPE_DIRECTORY"), pipe);
  EXPECT_TRUE(Has(spec.sandbox.bind_back, pipe)) << "the client reaches its daemon";

  ASSERT_TRUE(mps_.Stop(uuid).ok());
  for (int i = 0; i < 500 && mps_.Running(uuid); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(mps_.Running(uuid));
  set_->Poll();
  EXPECT_TRUE(mps_.Running(uuid));
}

// The job's own environment cannot make the sandbox show a hidden folder: only the
// mode's folders are bound back, whatever CUDA_MPS_PIPE_DIRECTORY the job sets.
TEST_F(ReplicaIsolationTest, AFolderTheJobNamesIsNotBoundBack) {
  auto gpus = Gpus("1xH100-80GB");
  fs::create_directories(options_.data_dir);
  protocol::HeartbeatResponse r;
  protocol::DesiredReplica d = testing::TestAllocation(
      "alloc-s", {"true"}, {{0, gpus[0].gpu.uuid, 300, 0, model::Isolation::kShared}});
  d.env["CUDA_MPS_PIPE_DIRECTORY"] = options_.data_dir;
  r.allocations = {d};
  set_->Apply(r, gpus);
  ASSERT_EQ(launcher_.specs.count("alloc-s"), 1u) << Record("alloc-s")->message;
  const SandboxSpec& sandbox = launcher_.specs.at("alloc-s").sandbox;
  ASSERT_TRUE(sandbox.namespaces);
  for (const std::string& b : sandbox.bind_back) {
    EXPECT_EQ(b.rfind(dir_.path() + "/data/replicas/alloc-s/work", 0), 0u) << b;
  }
}

// The same for a job with an image: podman mounts the mode's folders only.
TEST_F(ReplicaIsolationTest, AContainerGetsTheModesFoldersOnly) {
  if (geteuid() != 0) GTEST_SKIP() << "gives the work folder to the container's user: needs root";
  options_.containers.runtime = control_;  // any executable: nothing is run
  set_ = std::make_unique<ReplicaSet>(options_, state_, writer_, launcher_, cgroups_, mps_, clock_);
  auto gpus = Gpus("2xH100-80GB");
  started_.push_back(gpus[0].gpu.uuid);
  fs::create_directories(options_.data_dir);
  auto job = [&](const std::string& id, int gpu, model::Isolation iso) {
    protocol::DesiredReplica d =
        testing::TestAllocation(id, {"true"}, {{gpu, gpus[gpu].gpu.uuid, 300, 0, iso}});
    d.image = "localhost/trainer";
    d.env["CUDA_MPS_PIPE_DIRECTORY"] = options_.data_dir;
    return d;
  };
  protocol::HeartbeatResponse r;
  r.allocations = {job("alloc-cm", 0, model::Isolation::kMps),
                   job("alloc-cs", 1, model::Isolation::kShared)};
  set_->Apply(r, gpus);
  ASSERT_EQ(launcher_.specs.size(), 2u);
  const std::string pipe = MpsPipeDirectory(options_.mps_root, gpus[0].gpu.uuid);
  EXPECT_TRUE(Has(launcher_.specs.at("alloc-cm").argv, "--volume=" + pipe + ":" + pipe));
  const std::string hidden = "--volume=" + options_.data_dir + ":" + options_.data_dir;
  EXPECT_FALSE(Has(launcher_.specs.at("alloc-cm").argv, hidden));
  EXPECT_FALSE(Has(launcher_.specs.at("alloc-cs").argv, hidden));
}

TEST_F(ReplicaIsolationTest, AMigReplicaSeesTheCapabilityNodesAndAnotherDoesNot) {
  auto gpus = Gpus("2xA100-80GB:mig");
  gpus[1].gpu.mig_enabled = false;
  gpus[1].mig_instances.clear();
  protocol::HeartbeatResponse r;
  r.allocations = {
      testing::TestAllocation("alloc-g", {"true"}, {{0, "", 143, 0, model::Isolation::kMig}}),
      testing::TestAllocation("alloc-x", {"true"},
                              {{1, "", 1000, 0, model::Isolation::kExclusive}})};
  set_->Apply(r, gpus);
  ASSERT_EQ(launcher_.specs.size(), 2u);
  const std::string caps = dev_.path() + "/nvidia-caps";
  EXPECT_TRUE(Has(launcher_.specs.at("alloc-g").sandbox.devices, caps));
  EXPECT_FALSE(Has(launcher_.specs.at("alloc-x").sandbox.devices, caps));
  EXPECT_EQ(Record("alloc-g")->mig_instances.size(), 1u);
  EXPECT_TRUE(Record("alloc-g")->mps_gpus.empty());
}

}  // namespace
}  // namespace fastgpu::agent

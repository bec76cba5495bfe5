// The `fastgpu agent` binary against a fake control plane: an agent killed with SIGKILL
// leaves its workload running, the next agent on the same data dir re-adopts it and
// reports its end; an injected XID (fault file) shows in the heartbeat.
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "agent/launcher.h"
#include "agent/testing/fake_control_plane.h"
#include "common/testing/temp_dir.h"
#include "tests/fastgpu_child.h"

namespace fastgpu {
namespace {

using testing::FakeControlPlane;

using testing::ChildProcess;
using testing::StartFastgpu;

std::string Read(const std::string& path) { return testing::ReadFile(path); }

class AgentRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cp = FakeControlPlane::Start();
    ASSERT_TRUE(cp.ok()) << cp.status();
    cp_ = std::move(cp).value();
  }
  std::vector<std::string> AgentArgs() {
    return {"agent",
            "--server",
            cp_->url(),
            "--join-token",
            cp_->join_token(),
            "--data-dir",
            dir_.path() + "/data",
            "--simulate-gpus",
            "2xH100-80GB",
            "--name",
            "node-a",
            "--heartbeat-interval-ms",
            "50",
            "--cgroup-root",
            "",
            "--fault-file",
            dir_.path() + "/faults",
            "--stop-grace",
            "1"};
  }
  std::string State(const std::string& id) {
    auto r = cp_->replicas();
    return r.count(id) ? r[id].state : "";
  }
  testing::TempDir dir_;
  std::unique_ptr<FakeControlPlane> cp_;
};

TEST_F(AgentRecoveryTest, KilledAgentLeavesTheJobRunningAndTheNextOneFinishesIt) {
  std::string log = dir_.path() + "/agent.log";
  auto agent = std::make_unique<ChildProcess>(StartFastgpu(AgentArgs(), log));
  auto d = testing::TestAllocation("alloc-recover",
                                   {"sh", "-c",
                                    "echo started; i=0; while [ ! -f release ] && [ $i -lt 1500 ]; "
                                    "do sleep 0.02; i=$((i+1)); done; echo finished"},
                                   {{0, "", 500, 40960, model::Isolation::kMps}});
  cp_->SetAllocations({d});
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return State("alloc-recover") == "running"; }))
      << Read(log);
  int pid = cp_->replicas()["alloc-recover"].pid;
  ASSERT_GT(pid, 0);

  agent->Stop({SIGKILL});
  EXPECT_NE(agent::ProcessStartTime(pid), 0u) << "the workload died with the agent";
  int heartbeats = cp_->heartbeats();

  agent = std::make_unique<ChildProcess>(StartFastgpu(AgentArgs(), log));
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return cp_->heartbeats() > heartbeats + 2; }));
  EXPECT_EQ(State("alloc-recover"), "running");
  EXPECT_EQ(cp_->replicas()["alloc-recover"].pid, pid);
  std::ofstream(dir_.path() + "/data/replicas/alloc-recover/work/release") << "go";
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return State("alloc-recover") == "exited"; }));
  EXPECT_EQ(cp_->replicas()["alloc-recover"].exit_code, 0);
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] {
    return cp_->logs("alloc-recover") == "started\nfinished\n";
  })) << cp_->logs("alloc-recover");

  // A fault written to the fault file reaches the heartbeat.
  std::ofstream(dir_.path() + "/faults", std::ios::app) << "xid 1 79\n";
  ASSERT_TRUE(FakeControlPlane::WaitFor(
      [&] { return cp_->gpus().size() == 2 && !cp_->gpus()[1].healthy; }));
  EXPECT_EQ(cp_->gpus()[1].health_reason, "XID 79 (fell off the bus)");
  EXPECT_TRUE(cp_->gpus()[0].healthy);

  EXPECT_EQ(agent->Stop({SIGTERM, std::chrono::seconds(30)}), 0) << Read(log);
}

TEST_F(AgentRecoveryTest, WithoutNvmlOrSimulatedGpusTheAgentSaysSo) {
  void* nvml = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (nvml != nullptr) {
    dlclose(nvml);
    GTEST_SKIP() << "NVML is present here";
  }
  std::string log = dir_.path() + "/agent.log";
  ChildProcess agent = StartFastgpu(
      {"agent", "--server", cp_->url(), "--join-token", "x", "--data-dir", dir_.path() + "/data"},
      log);
  EXPECT_EQ(agent.Wait(), 1);
  EXPECT_NE(Read(log).find("no NVML"), std::string::npos) << Read(log);
  EXPECT_NE(Read(log).find("--simulate-gpus"), std::string::npos) << Read(log);
}

}  // namespace
}  // namespace fastgpu

// The `fastgpu agent` binary against a fake control plane: an agent killed with SIGKILL
// leaves its workload running, the next agent on the same data dir re-adopts it and
// reports its end; an injected XID (fault file) shows in the heartbeat.
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "agent/launcher.h"
#include "agent/testing/fake_control_plane.h"
#include "agent/testing/temp_dir.h"

namespace fastgpu {
namespace {

using testing::FakeControlPlane;

// A `fastgpu` child process with its output in a file.
class FastgpuProcess {
 public:
  FastgpuProcess(const std::vector<std::string>& args, const std::string& log_path) {
    std::vector<std::string> argv_s = {FASTGPU_BINARY};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    // SIGTERM when the test process dies, so that a crashed test leaves no process behind.
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      execv(argv[0], argv.data());
      _exit(127);
    }
    EXPECT_GT(pid_, 0);
  }
  ~FastgpuProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      Wait();
    }
  }
  void Signal(int sig) { kill(pid_, sig); }
  // The exit status as waitpid gives it.
  int Wait() {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
};

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
  testing::AgentTempDir dir_;
  std::unique_ptr<FakeControlPlane> cp_;
};

TEST_F(AgentRecoveryTest, KilledAgentLeavesTheJobRunningAndTheNextOneFinishesIt) {
  std::string log = dir_.path() + "/agent.log";
  auto agent = std::make_unique<FastgpuProcess>(AgentArgs(), log);
  auto d = testing::TestAllocation("alloc-recover",
                                   {"sh", "-c",
                                    "echo started; i=0; while [ ! -f release ] && [ $i -lt 1500 ]; "
                                    "do sleep 0.02; i=$((i+1)); done; echo finished"},
                                   {{0, "", 500, 40960, Isolation::kMps}});
  cp_->SetAllocations({d});
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return State("alloc-recover") == "running"; }))
      << Read(log);
  int pid = cp_->replicas()["alloc-recover"].pid;
  ASSERT_GT(pid, 0);

  agent->Signal(SIGKILL);
  agent->Wait();
  EXPECT_NE(ProcessStartTime(pid), 0u) << "the workload died with the agent";
  int heartbeats = cp_->heartbeats();

  agent = std::make_unique<FastgpuProcess>(AgentArgs(), log);
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

  agent->Signal(SIGTERM);
  int status = agent->Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << Read(log);
}

TEST_F(AgentRecoveryTest, WithoutNvmlOrSimulatedGpusTheAgentSaysSo) {
  void* nvml = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (nvml != nullptr) {
    dlclose(nvml);
    GTEST_SKIP() << "NVML is present here";
  }
  std::string log = dir_.path() + "/agent.log";
  FastgpuProcess agent(
      {"agent", "--server", cp_->url(), "--join-token", "x", "--data-dir", dir_.path() + "/data"},
      log);
  int status = agent.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  EXPECT_NE(Read(log).find("no NVML"), std::string::npos) << Read(log);
  EXPECT_NE(Read(log).find("--simulate-gpus"), std::string::npos) << Read(log);
}

}  // namespace
}  // namespace fastgpu

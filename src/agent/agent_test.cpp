#include "agent/agent.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "agent/fake_inventory.h"
#include "agent/file_env.h"
#include "agent/launcher.h"
#include "agent/state.h"
#include "agent/testing/fake_control_plane.h"
#include "agent/testing/fake_launcher.h"
#include "common/testing/temp_dir.h"

namespace fastgpu::agent {
namespace {

using testing::FakeControlPlane;
using testing::FakeProcessLauncher;
using testing::TestAllocation;

// Simulated GPUs that claim to be real, so that the agent does what it does on real GPUs
// (start MPS daemons); the daemon program is a stand-in in these tests.
class RealLookingInventory final : public GpuInventory {
 public:
  explicit RealLookingInventory(std::unique_ptr<FakeGpuInventory> fake) : fake_(std::move(fake)) {}
  Result<std::vector<GpuSample>> Sample() override {
    auto s = fake_->Sample();
    if (s.ok()) {
      for (auto& g : *s) g.gpu.simulated = false;
    }
    return s;
  }
  std::vector<GpuEvent> DrainEvents() override { return fake_->DrainEvents(); }
  bool simulated() const override { return false; }
  std::string Describe() const override { return "real-looking " + fake_->Describe(); }

 private:
  std::unique_ptr<FakeGpuInventory> fake_;
};

// Runs an Agent in-process against a FakeControlPlane with simulated GPUs.
class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cp = FakeControlPlane::Start();
    ASSERT_TRUE(cp.ok()) << cp.status();
    cp_ = std::move(cp).value();
  }

  std::unique_ptr<Agent> StartAgent(const std::string& gpus = "1xH100-80GB",
                                    bool looks_real = false, const std::string& mps_control = "") {
    auto inv = FakeGpuInventory::Create(gpus, "agent-test");
    EXPECT_TRUE(inv.ok());
    inventory_ = inv->get();
    AgentOptions o;
    if (!mps_control.empty()) o.mps_control = mps_control;
    if (looks_real) {
      o.inventory = std::make_unique<RealLookingInventory>(std::move(inv).value());
    } else {
      o.inventory = std::move(inv).value();
    }
    o.launcher = MakeShimLauncher();
    o.server_url = cp_->url();
    o.join_token = cp_->join_token();
    o.data_dir = dir_.path();
    o.name = "test-node";
    o.heartbeat_interval = std::chrono::milliseconds(20);
    o.retry_interval = std::chrono::milliseconds(20);
    o.stop_grace = std::chrono::milliseconds(500);
    o.cgroup_root = "";  // hermetic: never touch the machine's cgroups
    auto agent = std::make_unique<Agent>(std::move(o));
    Status st = agent->Start();
    EXPECT_TRUE(st.ok()) << st;
    return agent;
  }

  // An agent whose loop waits on `clock` and whose workloads are fakes (launched_).
  std::unique_ptr<Agent> StartFakeAgent(ManualClock& clock, std::chrono::milliseconds interval,
                                        std::chrono::milliseconds grace, FileEnv* env = nullptr,
                                        const std::string& cgroup_root = "") {
    auto inv = FakeGpuInventory::Create("1xH100-80GB", "agent-test");
    EXPECT_TRUE(inv.ok());
    auto launcher = std::make_unique<FakeProcessLauncher>(&clock, env);
    launched_ = launcher.get();
    AgentOptions o;
    o.inventory = std::move(inv).value();
    o.launcher = std::move(launcher);
    o.clock = &clock;
    o.env = env;
    o.server_url = cp_->url();
    o.join_token = cp_->join_token();
    o.data_dir = dir_.path();
    o.name = "test-node";
    o.heartbeat_interval = interval;
    o.retry_interval = interval;
    o.stop_grace = grace;
    o.cgroup_root = cgroup_root;
    auto agent = std::make_unique<Agent>(std::move(o));
    Status st = agent->Start();
    EXPECT_TRUE(st.ok()) << st;
    return agent;
  }
  // Advances `clock` by `d` once the agent's loop waits on it, and returns when the loop
  // has done what that made due and waits again.
  static void Step(ManualClock& clock, std::chrono::milliseconds d) {
    ASSERT_TRUE(clock.AwaitWaiters(1));
    clock.Advance(d);
    ASSERT_TRUE(clock.AwaitWaiters(1));
  }

  std::string State(const std::string& id) {
    auto r = cp_->replicas();
    return r.count(id) ? r[id].state : "";
  }
  bool WaitState(const std::string& id, const std::string& state) {
    return FakeControlPlane::WaitFor([&] { return State(id) == state; });
  }
  std::string WorkDir(const std::string& id) { return dir_.path() + "/replicas/" + id + "/work"; }

  testing::TempDir dir_;
  std::unique_ptr<FakeControlPlane> cp_;
  FakeGpuInventory* inventory_ = nullptr;    // owned by the agent
  FakeProcessLauncher* launched_ = nullptr;  // owned by the agent (StartFakeAgent)
};

model::VgpuSlice Mps(int milli, int64_t memory_mib) {
  return {0, "", milli, memory_mib, model::Isolation::kMps};
}

const char* kPrintEnv =
    "echo PCT=$CUDA_MPS_ACTIVE_THREAD_PERCENTAGE MEM=$CUDA_MPS_PINNED_DEVICE_MEM_LIMIT "
    "ISO=$FASTGPU_ISOLATION JOB=$FASTGPU_JOB_ID REPLICA=$FASTGPU_REPLICA/$FASTGPU_REPLICAS "
    "ALLOC=$FASTGPU_ALLOCATION_ID";

TEST_F(AgentTest, RegistersAndReportsSimulatedGpus) {
  auto agent = StartAgent("2xA100-80GB");
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return cp_->heartbeats() >= 2; }));
  std::string reg = cp_->last_register_body();
  EXPECT_NE(reg.find(R"("name":"test-node")"), std::string::npos) << reg;
  EXPECT_NE(reg.find(R"("simulated":true)"), std::string::npos) << reg;
  EXPECT_NE(reg.find(R"("model":"A100-80GB")"), std::string::npos) << reg;
  EXPECT_EQ(cp_->gpus().size(), 2u);
  EXPECT_TRUE(agent->Snapshot().registered);
}

TEST_F(AgentTest, HalfGpuJobSeesMpsVariablesFromItsShape) {
  auto agent = StartAgent();
  auto d = TestAllocation("alloc-half", {"sh", "-c", kPrintEnv}, {Mps(500, 40960)});
  d.replicas = 2;
  d.allocation.replica = 1;
  cp_->SetAllocations({d});
  ASSERT_TRUE(WaitState("alloc-half", "exited")) << State("alloc-half");
  auto r = cp_->replicas()["alloc-half"];
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.message.find("no MPS daemon"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("no CPU/memory limits: cgroups turned off"), std::string::npos)
      << r.message;
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return !cp_->logs("alloc-half").empty(); }));
  EXPECT_EQ(cp_->logs("alloc-half"),
            "PCT=50 MEM=0=40960MB ISO=mps JOB=job-alloc-half REPLICA=1/2 ALLOC=alloc-half\n");
}

TEST_F(AgentTest, TwoFractionsOnOneGpuGetDisjointLimitsAndAThirdIsRefused) {
  ManualClock clock;
  auto agent = StartFakeAgent(clock, std::chrono::seconds(2), std::chrono::seconds(10));
  auto a = TestAllocation("alloc-a", {"sh", "-c", kPrintEnv}, {Mps(700, 50000)});
  auto b = TestAllocation("alloc-b", {"sh", "-c", kPrintEnv}, {Mps(300, 30000)});
  cp_->SetAllocations({a, b});
  Step(clock, std::chrono::seconds(2));
  auto pa = launched_->Find("alloc-a");
  auto pb = launched_->Find("alloc-b");
  ASSERT_TRUE(pa && pb);
  EXPECT_EQ(pa->spec.env.at("CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"), "70");
  EXPECT_EQ(pa->spec.env.at("CUDA_MPS_PINNED_DEVICE_MEM_LIMIT"), "0=50000MB");
  EXPECT_EQ(pb->spec.env.at("CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"), "30");
  EXPECT_EQ(pb->spec.env.at("CUDA_MPS_PINNED_DEVICE_MEM_LIMIT"), "0=30000MB");
  EXPECT_EQ(pa->spec.argv, a.command);
  // While they hold 1000 milli, 400 more do not fit.
  auto extra = TestAllocation("alloc-extra", {"true"}, {Mps(400, 10000)});
  cp_->SetAllocations({a, b, extra});
  Step(clock, std::chrono::seconds(2));
  Step(clock, std::chrono::seconds(2));  // the failure goes out with the next heartbeat
  EXPECT_EQ(State("alloc-extra"), "failed");
  EXPECT_NE(cp_->replicas()["alloc-extra"].message.find("oversubscribed"), std::string::npos)
      << cp_->replicas()["alloc-extra"].message;
  EXPECT_FALSE(launched_->Find("alloc-extra"));
  EXPECT_EQ(State("alloc-a"), "running");
  EXPECT_EQ(cp_->replicas()["alloc-a"].pid, pa->handle.pid);
}

TEST_F(AgentTest, LoopHeartbeatsOnTheInjectedClockOnly) {
  ManualClock clock;
  auto agent = StartFakeAgent(clock, std::chrono::seconds(10), std::chrono::seconds(10));
  ASSERT_TRUE(clock.AwaitWaiters(1));
  EXPECT_EQ(cp_->registrations(), 1);
  EXPECT_EQ(cp_->heartbeats(), 1);
  // The loop wakes every 250 ms of clock time to ship logs, but heartbeats only once the
  // whole interval has passed on the clock.
  for (int i = 0; i < 39; ++i) Step(clock, std::chrono::milliseconds(250));
  EXPECT_EQ(cp_->heartbeats(), 1);
  Step(clock, std::chrono::milliseconds(250));
  EXPECT_EQ(cp_->heartbeats(), 2);
  Step(clock, std::chrono::seconds(10));
  EXPECT_EQ(cp_->heartbeats(), 3);
  agent->Stop();  // ends the clock wait at once
  EXPECT_EQ(clock.Waiters(), 0);
}

TEST_F(AgentTest, ExitCodeAndOutputOfAFakeWorkloadAreReported) {
  ManualClock clock;
  auto agent = StartFakeAgent(clock, std::chrono::seconds(2), std::chrono::seconds(10));
  cp_->SetAllocations({TestAllocation("alloc-fake", {"train.py"})});
  Step(clock, std::chrono::seconds(2));  // launched
  Step(clock, std::chrono::seconds(2));  // reported running
  EXPECT_EQ(State("alloc-fake"), "running");
  ASSERT_TRUE(launched_->AppendOutput("alloc-fake", "epoch 1\n").ok());
  ASSERT_TRUE(launched_->Exit("alloc-fake", 3));
  Step(clock, std::chrono::seconds(2));
  EXPECT_EQ(State("alloc-fake"), "exited");
  EXPECT_EQ(cp_->replicas()["alloc-fake"].exit_code, 3);
  EXPECT_EQ(cp_->replicas()["alloc-fake"].message.rfind("exit 3", 0), 0u)
      << cp_->replicas()["alloc-fake"].message;
  EXPECT_EQ(cp_->logs("alloc-fake"), "epoch 1\n");
  EXPECT_EQ(launched_->launches().size(), 1u);  // never started twice
}

TEST_F(AgentTest, StateAndLogsGoThroughTheInjectedFileEnv) {
  ManualClock clock;
  auto env = NewMemoryFileEnv();
  auto agent = StartFakeAgent(clock, std::chrono::seconds(2), std::chrono::seconds(10), env.get());
  cp_->SetAllocations({TestAllocation("alloc-mem", {"train.py"})});
  Step(clock, std::chrono::seconds(2));
  ASSERT_TRUE(launched_->Find("alloc-mem"));
  EXPECT_TRUE(env->Exists(dir_.path() + "/replicas/alloc-mem/work"));
  ASSERT_TRUE(launched_->AppendOutput("alloc-mem", "in memory\n").ok());
  ASSERT_TRUE(launched_->Exit("alloc-mem", 0));
  Step(clock, std::chrono::seconds(2));
  EXPECT_EQ(State("alloc-mem"), "exited");
  EXPECT_EQ(cp_->logs("alloc-mem"), "in memory\n");
  const std::string state_path = dir_.path() + "/agent-state.json";
  auto saved = LoadAgentState(state_path, *env);
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_EQ(saved->node_id, cp_->node_id());
  EXPECT_FALSE(PosixFileEnv().Exists(state_path));  // nothing on the real disk
  EXPECT_FALSE(PosixFileEnv().Exists(dir_.path() + "/replicas/alloc-mem"));
  // No longer listed and all shipped: forgotten, its folder removed from the env.
  cp_->SetAllocations({});
  Step(clock, std::chrono::seconds(2));
  Step(clock, std::chrono::seconds(2));
  EXPECT_TRUE(agent->Snapshot().replicas.empty());
  EXPECT_FALSE(env->Exists(dir_.path() + "/replicas/alloc-mem"));
}

TEST_F(AgentTest, CgroupsGoThroughTheInjectedFileEnv) {
  ManualClock clock;
  auto env = NewMemoryFileEnv(&clock);
  // cgroup v1 with cpu and memory hierarchies, stood in for in the env: the agent reads
  // its mount table (/proc/self/mountinfo) and writes every limit through the env.
  ASSERT_TRUE(env->CreateDirs("/proc/self").ok());
  ASSERT_TRUE(env->WriteFile("/proc/self/mountinfo",
                             "32 31 0:29 / /cg/cpu rw - cgroup cgroup rw,cpu\n"
                             "35 31 0:32 / /cg/memory rw - cgroup cgroup rw,memory\n",
                             false)
                  .ok());
  ASSERT_TRUE(env->CreateDirs("/cg/cpu/fastgpu").ok());
  ASSERT_TRUE(env->CreateDirs("/cg/memory").ok());
  ASSERT_TRUE(env->WriteFile("/cg/cpu/fastgpu/cpu.cfs_quota_us", "-1\n", false).ok());
  auto agent =
      StartFakeAgent(clock, std::chrono::seconds(2), std::chrono::seconds(10), env.get(), "/cg");
  ASSERT_TRUE(agent->Snapshot().cgroups_enabled) << agent->Snapshot().cgroup_note;
  cp_->SetAllocations({TestAllocation("alloc-cg", {"train.py"})});  // 500 milli, 256 MiB
  Step(clock, std::chrono::seconds(2));
  ASSERT_TRUE(launched_->Find("alloc-cg"));
  ASSERT_TRUE(env->Exists("/cg/cpu/fastgpu/alloc-cg/cpu.cfs_quota_us"));
  ASSERT_TRUE(env->Exists("/cg/memory/fastgpu/alloc-cg/memory.limit_in_bytes"));
  EXPECT_EQ(*env->ReadFile("/cg/cpu/fastgpu/alloc-cg/cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(*env->ReadFile("/cg/memory/fastgpu/alloc-cg/memory.limit_in_bytes"),
            std::to_string(256LL << 20));
  EXPECT_EQ(launched_->launches().back().spec.cgroup_procs,
            (std::vector<std::string>{"/cg/cpu/fastgpu/alloc-cg/cgroup.procs",
                                      "/cg/memory/fastgpu/alloc-cg/cgroup.procs"}));
  ASSERT_TRUE(launched_->Exit("alloc-cg", 0));
  Step(clock, std::chrono::seconds(2));
  EXPECT_EQ(State("alloc-cg"), "exited");
  EXPECT_FALSE(env->Exists("/cg/cpu/fastgpu/alloc-cg"));  // the group is removed
  EXPECT_FALSE(env->Exists("/cg/memory/fastgpu/alloc-cg"));
  EXPECT_FALSE(PosixFileEnv().Exists("/cg"));
}

TEST_F(AgentTest, CancelEscalatesToSigkillAfterTheGraceOnTheClock) {
  ManualClock clock;
  auto agent = StartFakeAgent(clock, std::chrono::seconds(1), std::chrono::seconds(30));
  launched_->IgnoreTerm(true);
  cp_->SetAllocations({TestAllocation("alloc-stubborn", {"train.py"})});
  Step(clock, std::chrono::seconds(1));
  ASSERT_TRUE(launched_->Find("alloc-stubborn"));
  cp_->SetCancel({"alloc-stubborn"});
  Step(clock, std::chrono::seconds(1));  // the cancel arrives: SIGTERM
  EXPECT_EQ(launched_->Find("alloc-stubborn")->signals, std::vector<int>{SIGTERM});
  for (int i = 0; i < 29; ++i) Step(clock, std::chrono::seconds(1));
  EXPECT_EQ(launched_->Find("alloc-stubborn")->signals, std::vector<int>{SIGTERM});
  EXPECT_EQ(State("alloc-stubborn"), "running");
  Step(clock, std::chrono::seconds(1));  // 30 s after SIGTERM
  EXPECT_EQ(launched_->Find("alloc-stubborn")->signals, (std::vector<int>{SIGTERM, SIGKILL}));
  Step(clock, std::chrono::seconds(1));
  EXPECT_EQ(State("alloc-stubborn"), "exited");
  EXPECT_EQ(cp_->replicas()["alloc-stubborn"].signal, SIGKILL);
}

TEST_F(AgentTest, StopWithKillWaitsTheGraceOnTheClock) {
  ManualClock clock;
  auto inv = FakeGpuInventory::Create("1xH100-80GB", "agent-test");
  ASSERT_TRUE(inv.ok());
  auto launcher = std::make_unique<FakeProcessLauncher>(&clock);
  FakeProcessLauncher* fake = launcher.get();
  fake->IgnoreTerm(true);
  AgentOptions o;
  o.inventory = std::move(inv).value();
  o.launcher = std::move(launcher);
  o.clock = &clock;
  o.server_url = cp_->url();
  o.join_token = cp_->join_token();
  o.data_dir = dir_.path();
  o.heartbeat_interval = std::chrono::seconds(1);
  o.stop_grace = std::chrono::seconds(10);
  o.cgroup_root = "";
  o.kill_workloads_on_stop = true;
  Agent agent(std::move(o));
  ASSERT_TRUE(agent.Start().ok());
  cp_->SetAllocations({TestAllocation("alloc-1", {"train.py"})});
  Step(clock, std::chrono::seconds(1));
  ASSERT_TRUE(fake->Find("alloc-1"));
  std::thread stopper([&] { agent.Stop(); });
  // Stop() ends the loop, sends SIGTERM and then waits on the clock for the workload to end.
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return !fake->Find("alloc-1")->signals.empty(); }));
  ASSERT_TRUE(clock.AwaitWaiters(1));
  EXPECT_EQ(fake->Find("alloc-1")->signals, std::vector<int>{SIGTERM});
  clock.Advance(std::chrono::milliseconds(9950));
  ASSERT_TRUE(clock.AwaitWaiters(1));
  EXPECT_EQ(fake->Find("alloc-1")->signals, std::vector<int>{SIGTERM});
  clock.Advance(std::chrono::milliseconds(50));
  stopper.join();
  EXPECT_EQ(fake->Find("alloc-1")->signals, (std::vector<int>{SIGTERM, SIGKILL}));
  ASSERT_EQ(agent.Snapshot().replicas.size(), 1u);
  EXPECT_EQ(agent.Snapshot().replicas[0].state, "exited");
  EXPECT_EQ(agent.Snapshot().replicas[0].signal, SIGKILL);
}

TEST_F(AgentTest, InjectedXidMarksTheGpuUnhealthyInTheHeartbeat) {
  auto agent = StartAgent("2xH100-80GB");
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return cp_->gpus().size() == 2; }));
  EXPECT_TRUE(cp_->gpus()[1].healthy);
  inventory_->InjectXid(1, 79);
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return !cp_->gpus()[1].healthy; }));
  EXPECT_EQ(cp_->gpus()[1].health_reason, "XID 79 (fell off the bus)");
  EXPECT_TRUE(cp_->gpus()[0].healthy);
  // New work on the sick GPU fails with the reason; nothing is silently weaker.
  model::VgpuSlice on_sick{1, "", 500, 0, model::Isolation::kMps};
  cp_->SetAllocations({TestAllocation("alloc-sick", {"true"}, {on_sick})});
  ASSERT_TRUE(WaitState("alloc-sick", "failed"));
  EXPECT_NE(cp_->replicas()["alloc-sick"].message.find("XID 79"), std::string::npos);
}

TEST_F(AgentTest, CancelKillsEveryDescendant) {
  auto agent = StartAgent();
  auto d = TestAllocation(
      "alloc-tree", {"sh", "-c",
                     "sleep 300 & echo $! > pids; (sleep 300 & echo $! >> pids; wait) & "
                     "while [ $(wc -l < pids) -lt 2 ]; do sleep 0.01; done; touch ready; wait"});
  cp_->SetAllocations({d});
  ASSERT_TRUE(FakeControlPlane::WaitFor(
      [&] { return std::ifstream(WorkDir("alloc-tree") + "/ready").good(); }));
  std::vector<int> pids;
  std::ifstream in(WorkDir("alloc-tree") + "/pids");
  for (int pid; in >> pid;) pids.push_back(pid);
  ASSERT_EQ(pids.size(), 2u);
  cp_->SetCancel({"alloc-tree"});
  ASSERT_TRUE(WaitState("alloc-tree", "exited"));
  EXPECT_NE(cp_->replicas()["alloc-tree"].signal, 0);
  EXPECT_NE(cp_->replicas()["alloc-tree"].message.find("cancelled"), std::string::npos);
  EXPECT_TRUE(FakeControlPlane::WaitFor([&] {
    for (int pid : pids) {
      if (kill(pid, 0) == 0 && ProcessStartTime(pid) != 0) return false;
    }
    return true;
  }));
  // Unlisted and cancelled: the agent forgets it (and never starts it again).
  cp_->SetAllocations({});
  cp_->SetCancel({});
  EXPECT_TRUE(FakeControlPlane::WaitFor([&] { return agent->Snapshot().replicas.empty(); }));
}

TEST_F(AgentTest, TermIgnoringWorkloadIsKilledAfterTheGrace) {
  auto agent = StartAgent();
  auto d = TestAllocation(
      "alloc-stubborn", {"sh", "-c", "trap '' TERM; touch ready; while true; do sleep 0.05; done"});
  cp_->SetAllocations({d});
  ASSERT_TRUE(FakeControlPlane::WaitFor(
      [&] { return std::ifstream(WorkDir("alloc-stubborn") + "/ready").good(); }));
  cp_->SetCancel({"alloc-stubborn"});
  ASSERT_TRUE(WaitState("alloc-stubborn", "exited"));
  EXPECT_EQ(cp_->replicas()["alloc-stubborn"].signal, SIGKILL);
}

TEST_F(AgentTest, RestartedAgentReadoptsARunningJob) {
  auto first = StartAgent();
  auto d = TestAllocation("alloc-long", {"sh", "-c",
                                         "echo started; i=0; while [ ! -f release ] && [ $i -lt "
                                         "1500 ]; do sleep 0.02; i=$((i+1)); done; echo finished"});
  cp_->SetAllocations({d});
  ASSERT_TRUE(WaitState("alloc-long", "running"));
  int pid = cp_->replicas()["alloc-long"].pid;
  ASSERT_GT(pid, 0);
  first->Stop();  // like a crash for the workload: it is not stopped
  first.reset();
  EXPECT_EQ(kill(pid, 0), 0) << "the workload died with the agent";
  auto second = StartAgent();
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] {
    for (const auto& r : second->Snapshot().replicas) {
      if (r.allocation_id == "alloc-long" && r.state == "running") return true;
    }
    return false;
  }));
  std::ofstream(WorkDir("alloc-long") + "/release") << "go";
  ASSERT_TRUE(WaitState("alloc-long", "exited"));
  EXPECT_EQ(cp_->replicas()["alloc-long"].exit_code, 0);
  ASSERT_TRUE(FakeControlPlane::WaitFor(
      [&] { return cp_->logs("alloc-long").find("finished") != std::string::npos; }));
  EXPECT_EQ(cp_->logs("alloc-long"), "started\nfinished\n");
  EXPECT_EQ(cp_->registrations(), 1);  // the node id and token were kept on disk
}

TEST_F(AgentTest, RegistersAgainWithItsSecretAfterARestartAndALostNode) {
  auto first = StartAgent();
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return cp_->heartbeats() >= 1; }));
  // The secret is in the state file (mode 0600) and went with the registration.
  const std::string state_path = dir_.path() + "/agent-state.json";
  std::stringstream ss;
  ss << std::ifstream(state_path).rdbuf();
  const std::string marker = R"("node_secret":")";
  size_t at = ss.str().find(marker);
  ASSERT_NE(at, std::string::npos) << ss.str();
  const std::string secret = ss.str().substr(
      at + marker.size(), ss.str().find('"', at + marker.size()) - at - marker.size());
  EXPECT_GE(secret.size(), 32u);
  EXPECT_NE(cp_->last_register_body().find(secret), std::string::npos);
  struct stat st {};
  ASSERT_EQ(stat(state_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  first->Stop();
  first.reset();
  // Restarted, and then lost by the control plane: it registers again with the same secret
  // (the fake refuses a known agent id without it) and heartbeats under the same node id.
  auto second = StartAgent();
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return cp_->heartbeats() >= 3; }));
  cp_->ForgetNodeTokens();
  const int beats = cp_->heartbeats();
  ASSERT_TRUE(FakeControlPlane::WaitFor(
      [&] { return cp_->registrations() == 2 && cp_->heartbeats() >= beats + 2; }));
  EXPECT_NE(cp_->last_register_body().find(secret), std::string::npos);
  EXPECT_EQ(second->Snapshot().node_id, cp_->node_id());
}

TEST_F(AgentTest, JobThatEndedWhileTheAgentWasDownIsReportedWithItsExitCode) {
  auto first = StartAgent();
  auto d = TestAllocation("alloc-gone",
                          {"sh", "-c",
                           "i=0; while [ ! -f release ] && [ $i -lt 1500 ]; do sleep 0.02; "
                           "i=$((i+1)); done; echo bye; exit 7"});
  cp_->SetAllocations({d});
  ASSERT_TRUE(WaitState("alloc-gone", "running"));
  first->Stop();
  first.reset();
  std::ofstream(WorkDir("alloc-gone") + "/release") << "go";
  std::string status_file = dir_.path() + "/replicas/alloc-gone/exit-status";
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return std::ifstream(status_file).good(); }));
  EXPECT_EQ(State("alloc-gone"), "running");  // nobody has told the control plane yet
  auto second = StartAgent();
  ASSERT_TRUE(WaitState("alloc-gone", "exited"));
  EXPECT_EQ(cp_->replicas()["alloc-gone"].exit_code, 7);
  EXPECT_EQ(cp_->replicas()["alloc-gone"].message.rfind("exit 7", 0), 0u);
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return cp_->logs("alloc-gone") == "bye\n"; }));
}

TEST_F(AgentTest, MpsSliceOnARealGpuStartsThatGpusDaemonFirst) {
  std::string control = dir_.path() + "/fake-mps-control";
  std::ofstream(control) << "#!/bin/sh\n"
                            "echo \"$1 $CUDA_VISIBLE_DEVICES $CUDA_MPS_PIPE_DIRECTORY\" >> "
                            "\"$CUDA_MPS_LOG_DIRECTORY/../../calls\"\n"
                            "sleep 30 > /dev/null 2>&1 &\n"
                            "echo $! > \"$CUDA_MPS_PIPE_DIRECTORY/nvidia-cuda-mps-control.pid\"\n";
  chmod(control.c_str(), 0755);
  auto agent = StartAgent("1xH100-80GB", /*looks_real=*/true, control);
  auto d =
      TestAllocation("alloc-mps", {"sh", "-c", "echo $CUDA_MPS_PIPE_DIRECTORY"}, {Mps(250, 10240)});
  cp_->SetAllocations({d});
  ASSERT_TRUE(WaitState("alloc-mps", "exited")) << cp_->replicas()["alloc-mps"].message;
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return !cp_->logs("alloc-mps").empty(); }));
  std::string pipe = cp_->logs("alloc-mps");
  pipe.pop_back();  // newline
  std::ifstream calls(dir_.path() + "/mps/calls");
  std::string arg, visible, daemon_pipe;
  calls >> arg >> visible >> daemon_pipe;
  EXPECT_EQ(arg, "-d");
  EXPECT_EQ(visible.rfind("SIM-", 0), 0u);  // the GPU's UUID
  EXPECT_EQ(daemon_pipe, pipe);             // the client talks to that GPU's daemon
  EXPECT_EQ(pipe, dir_.path() + "/mps/" + visible + "/pipe");
  int pid = 0;
  std::ifstream(pipe + "/nvidia-cuda-mps-control.pid") >> pid;
  if (pid > 0) kill(pid, SIGKILL);
}

TEST_F(AgentTest, StartRefusesMissingOptions) {
  AgentOptions empty;
  Agent agent(std::move(empty));
  EXPECT_EQ(agent.Start().code(), StatusCode::kInvalidArgument);
  // Everything but a launcher: the binary picks the real one, the agent never does.
  AgentOptions o;
  o.server_url = cp_->url();
  o.join_token = cp_->join_token();
  o.data_dir = dir_.path();
  o.inventory = std::move(FakeGpuInventory::Create("1xH100-80GB", "agent-test")).value();
  Agent no_launcher(std::move(o));
  Status st = no_launcher.Start();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("launcher"), std::string::npos) << st;
}

}  // namespace
}  // namespace fastgpu::agent

// Tenant isolation on the node (docs/security.md): the shim launcher's sandbox on
// its own, then a real `fastgpu up` whose jobs must not see the control plane's secrets,
// the agent's state, other jobs or other GPUs. Needs root and namespaces: skips cleanly
// without them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "agent/launcher.h"
#include "agent/replicas.h"
#include "agent/state.h"
#include "agent/testing/fake_control_plane.h"
#include "common/testing/temp_dir.h"
#include "tests/server_process.h"
#include "tests/test_util.h"
#include "tests/up_process.h"

namespace fastgpu {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;

constexpr int64_t kUid = 231000;

// Skips the test unless this host can sandbox (root, namespaces).
#define SKIP_WITHOUT_SANDBOX()                                              \
  do {                                                                      \
    agent::SandboxSupport support = agent::ProbeSandbox();                  \
    if (!support.root || !support.namespaces) GTEST_SKIP() << support.note; \
  } while (0)

class SandboxLauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() + "/data";
    work_ = data_ + "/replicas/alloc-1/work";
    fs::create_directories(work_);
    std::ofstream(data_ + "/admin.token") << "secret-admin-token";
    ::chown(work_.c_str(), kUid, kUid);
    ::chmod(work_.c_str(), 0700);
  }
  agent::LaunchSpec Spec(const std::string& script) {
    agent::LaunchSpec s;
    s.argv = {"sh", "-c", script};
    s.env = {{"PATH", "/usr/bin:/bin"}, {"HOME", work_}};
    s.work_dir = work_;
    s.log_path = data_ + "/replicas/alloc-1/output.log";
    s.status_path = data_ + "/replicas/alloc-1/exit-status";
    s.sandbox.uid = kUid;
    s.sandbox.gid = kUid;
    s.sandbox.namespaces = true;
    s.sandbox.hostname = "alloc-1";
    s.sandbox.hide_paths = {data_};
    s.sandbox.bind_back = {work_};
    s.sandbox.devices = {"/dev/null", "/dev/zero", "/dev/urandom"};
    return s;
  }
  agent::ProcessState WaitEnd(const agent::ProcessHandle& h, const agent::LaunchSpec& s) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    agent::ProcessState st = launcher_->Poll(h, s.status_path);
    while (st.kind == agent::ProcessState::Kind::kRunning &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      st = launcher_->Poll(h, s.status_path);
    }
    return st;
  }
  // Runs `script` to its end; returns its output (and the exit code in *code).
  std::string Run(const agent::LaunchSpec& spec, int* code = nullptr) {
    auto h = launcher_->Launch(spec);
    EXPECT_TRUE(h.ok()) << h.status();
    if (!h.ok()) return "";
    agent::ProcessState st = WaitEnd(*h, spec);
    EXPECT_EQ(st.kind, agent::ProcessState::Kind::kExited) << st.message;
    if (code != nullptr) *code = st.exit_code;
    std::string out = ReadFile(spec.log_path);
    if (getenv("ISOLATION_TEST_VERBOSE") != nullptr) std::cerr << out;
    return out;
  }

  testing::TempDir dir_;
  std::string data_, work_;
  std::unique_ptr<agent::ProcessLauncher> launcher_ = agent::MakeShimLauncher();
};

TEST_F(SandboxLauncherTest, RunsUnprivilegedWithoutCapabilities) {
  SKIP_WITHOUT_SANDBOX();
  std::string out = Run(Spec(
      "echo uid=$(id -u) gid=$(id -g) groups=$(id -G); grep -E '^(CapEff|CapBnd|CapPrm|NoNewPrivs)'"
      " /proc/self/status; echo host=$(hostname); echo home=$(pwd)"));
  EXPECT_NE(out.find("uid=231000 gid=231000 groups=231000\n"), std::string::npos) << out;
  EXPECT_NE(out.find("CapEff:\t0000000000000000"), std::string::npos) << out;
  EXPECT_NE(out.find("CapPrm:\t0000000000000000"), std::string::npos) << out;
  EXPECT_NE(out.find("CapBnd:\t0000000000000000"), std::string::npos) << out;
  EXPECT_NE(out.find("NoNewPrivs:\t1"), std::string::npos) << out;
  EXPECT_NE(out.find("host=alloc-1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("home=" + work_ + "\n"), std::string::npos) << out;
}

TEST_F(SandboxLauncherTest, SeesItsWorkDirButNotTheHiddenDataDir) {
  SKIP_WITHOUT_SANDBOX();
  std::ofstream(dir_.path() + "/beside-data") << "x";
  std::string out =
      Run(Spec("echo mine > note && cat note; cat " + data_ + "/admin.token || echo no-token; ls " +
               data_ + "; ls " + data_ + "/replicas; ls " + dir_.path() +
               " | wc -l; ls /tmp | wc -l; "
               "touch /tmp/scratch && echo tmp-writable"));
  EXPECT_NE(out.find("mine\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("secret-admin-token"), std::string::npos) << out;
  EXPECT_NE(out.find("no-token"), std::string::npos) << out;
  EXPECT_NE(out.find("tmp-writable"), std::string::npos) << out;
  EXPECT_EQ(out.find("beside-data"), std::string::npos) << out;  // /tmp is private
  EXPECT_EQ(out.find("output.log"), std::string::npos) << out;
  EXPECT_EQ(ReadFile(work_ + "/note"), "mine\n");  // the work dir is the real one
  EXPECT_FALSE(fs::exists("/tmp/scratch"));
}

TEST_F(SandboxLauncherTest, OwnPidNamespaceAndStopEndsAPlainSleep) {
  SKIP_WITHOUT_SANDBOX();
  agent::LaunchSpec spec =
      Spec("echo pid=$$; ls /proc | grep -c '^[0-9]' > nprocs; exec sleep 300");
  auto h = launcher_->Launch(spec);
  ASSERT_TRUE(h.ok()) << h.status();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (ReadFile(work_ + "/nprocs").empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Its init, itself and ls/grep: nothing of the host's.
  std::string nprocs = ReadFile(work_ + "/nprocs");
  ASSERT_FALSE(nprocs.empty());
  EXPECT_LE(std::stoi(nprocs), 4) << nprocs;
  EXPECT_NE(ReadFile(spec.log_path).find("pid=2\n"), std::string::npos) << ReadFile(spec.log_path);
  EXPECT_NE(agent::ProcessStartTime(h->pid), 0u);
  ASSERT_TRUE(launcher_->Signal(*h, SIGTERM).ok());
  agent::ProcessState st = WaitEnd(*h, spec);
  ASSERT_EQ(st.kind, agent::ProcessState::Kind::kExited) << st.message;
  EXPECT_EQ(st.signal, SIGTERM) << st.message;
}

TEST_F(SandboxLauncherTest, AdoptionFindsASandboxedWorkload) {
  SKIP_WITHOUT_SANDBOX();
  agent::LaunchSpec spec = Spec("exec sleep 300");
  spec.env["FASTGPU_ALLOCATION_ID"] = "alloc-1";
  spec.env["FASTGPU_WORK_DIR"] = work_;
  auto h = launcher_->Launch(spec);
  ASSERT_TRUE(h.ok()) << h.status();
  std::map<std::string, agent::ProcessHandle> found;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (found.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    found = agent::FindLaunchedWorkloads(data_ + "/replicas");
  }
  ASSERT_EQ(found.count("alloc-1"), 1u);
  EXPECT_EQ(found["alloc-1"].pid, h->pid);
  EXPECT_EQ(found["alloc-1"].shim_pid, h->shim_pid);
  EXPECT_EQ(found["alloc-1"].pid_start, h->pid_start);
  ASSERT_TRUE(launcher_->Signal(*h, SIGKILL).ok());
  EXPECT_EQ(WaitEnd(*h, spec).signal, SIGKILL);
}

TEST_F(SandboxLauncherTest, OrphansDieWithTheWorkload) {
  SKIP_WITHOUT_SANDBOX();
  // A daemon that leaves the process group: only the namespace's end stops it.
  agent::LaunchSpec spec = Spec("setsid sleep 300 & sleep 0.3; exit 0");
  int code = -1;
  Run(spec, &code);
  EXPECT_EQ(code, 0);
  // Every process of this uid is gone soon after (the init took the namespace with it).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto live = [&] {
    int n = 0;
    for (const auto& e : fs::directory_iterator("/proc")) {
      struct stat st;
      std::string name = e.path().filename();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      if (::stat(e.path().c_str(), &st) == 0 && st.st_uid == kUid) ++n;
    }
    return n;
  };
  while (live() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(live(), 0);
}

TEST_F(SandboxLauncherTest, PrivateDevHoldsOnlyTheGivenNodes) {
  SKIP_WITHOUT_SANDBOX();
  // Fake GPUs: harmless real character devices (those of /dev/zero and /dev/full).
  std::string gpus = dir_.path() + "/gpudev";
  fs::create_directories(gpus);
  ASSERT_EQ(::mknod((gpus + "/nvidia0").c_str(), S_IFCHR | 0666, makedev(1, 5)), 0);
  ASSERT_EQ(::mknod((gpus + "/nvidia1").c_str(), S_IFCHR | 0666, makedev(1, 7)), 0);
  agent::LaunchSpec spec = Spec(
      "ls /dev | tr '\\n' ' '; echo; head -c 4 /dev/nvidia1 | od -An -tx1; "
      "test -e /dev/nvidia0 && echo HAS-GPU0; test -e /dev/sda && echo HAS-DISK; "
      "test -d /dev/shm && touch /dev/shm/x && echo shm-ok; "
      "head -c 2 /dev/nvidia-caps/nvidia-cap1 | od -An -tx1 | sed 's/^/cap:/'");
  fs::create_directories(gpus + "/nvidia-caps");  // a folder is bound whole (MIG)
  ASSERT_EQ(::mknod((gpus + "/nvidia-caps/nvidia-cap1").c_str(), S_IFCHR | 0444, makedev(1, 5)), 0);
  spec.sandbox.devices.push_back(gpus + "/nvidia1");
  spec.sandbox.devices.push_back(gpus + "/nvidia-caps");
  std::string out = Run(spec);
  EXPECT_NE(out.find("nvidia1"), std::string::npos) << out;
  EXPECT_NE(out.find("00 00 00 00"), std::string::npos) << out;  // it opened and read it
  EXPECT_EQ(out.find("nvidia0"), std::string::npos) << out;
  EXPECT_EQ(out.find("HAS-"), std::string::npos) << out;
  EXPECT_NE(out.find("shm-ok"), std::string::npos) << out;
  EXPECT_NE(out.find("cap: 00 00"), std::string::npos) << out;
}

TEST_F(SandboxLauncherTest, RootOptInKeepsRootInsideTheNamespaces) {
  SKIP_WITHOUT_SANDBOX();
  agent::LaunchSpec spec = Spec("id -u; cat " + data_ + "/admin.token || echo no-token");
  spec.sandbox.uid = -1;
  spec.sandbox.gid = -1;
  std::string out = Run(spec);
  EXPECT_NE(out.find("0\n"), std::string::npos) << out;
  EXPECT_NE(out.find("no-token"), std::string::npos) << out;
}

TEST_F(SandboxLauncherTest, JoinsItsCgroupFromInsideThePidNamespace) {
  SKIP_WITHOUT_SANDBOX();
  // Any writable v1 hierarchy will do; the pid written is the namespace's own.
  std::string group;
  for (const char* h : {"/sys/fs/cgroup/pids", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/unified"}) {
    std::string g = std::string(h) + "/fastgpu-isolation-test-" + std::to_string(getpid());
    if (::mkdir(g.c_str(), 0755) == 0) {
      group = g;
      break;
    }
  }
  if (group.empty()) GTEST_SKIP() << "no writable cgroup hierarchy";
  agent::LaunchSpec spec = Spec("cat /proc/self/cgroup");
  spec.cgroup_procs = {group + "/cgroup.procs"};
  std::string out = Run(spec);
  ::rmdir(group.c_str());
  std::string name = group.substr(group.rfind('/'));
  EXPECT_NE(out.find(name + "\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("could not join"), std::string::npos) << out;
}

TEST_F(SandboxLauncherTest, AProgramItCannotSeeIsRefusedClearly) {
  SKIP_WITHOUT_SANDBOX();
  std::string prog = dir_.path() + "/prog.sh";  // under /tmp: private in the sandbox
  std::ofstream(prog) << "#!/bin/sh\necho hi\n";
  ::chmod(prog.c_str(), 0755);
  agent::LaunchSpec spec = Spec("true");
  spec.argv = {prog};
  auto h = launcher_->Launch(spec);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(h.status().message().find("hidden in the sandbox"), std::string::npos)
      << h.status().message();
}

TEST_F(SandboxLauncherTest, RefusesUidZeroAsASandboxUser) {
  agent::LaunchSpec spec = Spec("true");
  spec.sandbox.uid = 0;
  auto h = launcher_->Launch(spec);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kInvalidArgument);
}

TEST(SandboxStateTest, TheUidAndTheRootOptInSurviveARestart) {
  testing::TempDir dir;
  agent::AgentState state;
  state.agent_id = "agent-1";
  agent::ReplicaRecord rec;
  rec.desired.allocation.id = "alloc-1";
  rec.desired.allocation.job_id = "job-1";
  rec.desired.command = {"true"};
  rec.desired.run_as_root = true;
  rec.uid = 200007;
  state.replicas.push_back(rec);
  rec.desired.allocation.id = "alloc-2";
  rec.desired.run_as_root = false;
  rec.uid = -1;
  state.replicas.push_back(rec);
  ASSERT_TRUE(agent::SaveAgentState(dir.path() + "/state.json", state).ok());
  auto loaded = agent::LoadAgentState(dir.path() + "/state.json");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->replicas.size(), 2u);
  EXPECT_EQ(loaded->replicas[0].uid, 200007);
  EXPECT_TRUE(loaded->replicas[0].desired.run_as_root);
  EXPECT_EQ(loaded->replicas[1].uid, -1);
  EXPECT_FALSE(loaded->replicas[1].desired.run_as_root);
}

// ---- the agent's replica set: one uid per replica, kept across a restart ----

// Records what it is asked to launch; a "workload" runs until its exit-status file exists.
class RecordingLauncher final : public agent::ProcessLauncher {
 public:
  Result<agent::ProcessHandle> Launch(const agent::LaunchSpec& spec) override {
    specs[spec.env.at("FASTGPU_ALLOCATION_ID")] = spec;
    agent::ProcessHandle h;
    h.shim_pid = h.pid = getpid();
    h.shim_start = h.pid_start = agent::ProcessStartTime(getpid());
    return h;
  }
  agent::ProcessState Poll(const agent::ProcessHandle&, const std::string& status_path) override {
    std::string content = ReadFile(status_path);
    return content.empty() ? agent::ProcessState{} : agent::ParseStatusFile(content);
  }
  Status Signal(const agent::ProcessHandle&, int) override { return OkStatus(); }
  std::map<std::string, agent::LaunchSpec> specs;
};

class SandboxUidTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (chown of work dirs)";
    options_.data_dir = dir_.path();
    options_.mps_root = dir_.path() + "/mps";
    options_.sandbox.enabled = true;
    options_.sandbox.first_uid = 231300;
    options_.sandbox.last_uid = 231302;
    options_.support.root = true;  // no namespaces: the spec's uid is what is checked
    Restart();
  }
  // A new replica set on the state file, as after an agent restart.
  void Restart() {
    auto loaded = agent::LoadAgentState(dir_.path() + "/agent-state.json");
    state_ = loaded.ok() ? std::move(loaded).value() : agent::AgentState{};
    set_ = std::make_unique<agent::ReplicaSet>(options_, state_, *writer_, launcher_, cgroups_,
                                               mps_, SystemClock::Default());
  }
  void Apply(const std::vector<protocol::DesiredReplica>& want) {
    protocol::HeartbeatResponse r;
    r.allocations = want;
    set_->Apply(r, {});
  }
  static protocol::DesiredReplica Want(const std::string& id, bool root = false) {
    protocol::DesiredReplica d = testing::TestAllocation(id, {"true"});
    d.run_as_root = root;
    return d;
  }
  const agent::ReplicaRecord* Record(const std::string& id) const {
    for (const agent::ReplicaRecord& r : state_.replicas) {
      if (r.id() == id) return &r;
    }
    return nullptr;
  }

  testing::TempDir dir_;
  agent::ReplicaSetOptions options_;
  agent::AgentState state_;
  std::unique_ptr<agent::StateWriter> writer_ =
      agent::MakeFileStateWriter(dir_.path() + "/agent-state.json");
  RecordingLauncher launcher_;
  agent::Cgroups cgroups_ = agent::Cgroups::Probe("");
  agent::MpsDaemons mps_{dir_.path() + "/mps", "true"};
  std::unique_ptr<agent::ReplicaSet> set_;
};

TEST_F(SandboxUidTest, EachReplicaGetsTheLowestFreeUidAndKeepsItAcrossARestart) {
  Apply({Want("alloc-a"), Want("alloc-b")});
  ASSERT_EQ(launcher_.specs.size(), 2u);
  EXPECT_EQ(launcher_.specs["alloc-a"].sandbox.uid, 231300);
  EXPECT_EQ(launcher_.specs["alloc-a"].sandbox.gid, 231300);
  EXPECT_EQ(launcher_.specs["alloc-b"].sandbox.uid, 231301);
  struct stat st {};
  ASSERT_EQ(::stat((dir_.path() + "/replicas/alloc-b/work").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 231301u);
  EXPECT_EQ(st.st_mode & 07777, 0700u);

  Restart();  // the uids come back from the state file
  ASSERT_NE(Record("alloc-a"), nullptr);
  EXPECT_EQ(Record("alloc-a")->uid, 231300);
  // A root job takes no uid; the next plain one gets the last, then the range is used up.
  Apply(
      {Want("alloc-a"), Want("alloc-b"), Want("alloc-r", true), Want("alloc-c"), Want("alloc-d")});
  EXPECT_EQ(launcher_.specs["alloc-r"].sandbox.uid, -1);
  EXPECT_EQ(launcher_.specs["alloc-c"].sandbox.uid, 231302);
  EXPECT_EQ(launcher_.specs.count("alloc-d"), 0u);
  ASSERT_NE(Record("alloc-d"), nullptr);
  EXPECT_EQ(Record("alloc-d")->state, "failed");
  EXPECT_NE(Record("alloc-d")->message.find("no free sandbox uid"), std::string::npos)
      << Record("alloc-d")->message;

  // Once alloc-a ended and was forgotten (its folder removed), its uid is free again.
  std::ofstream(dir_.path() + "/replicas/alloc-a/exit-status") << "exit 0 0 1\n";
  set_->Poll();
  Apply({Want("alloc-b"), Want("alloc-r", true), Want("alloc-c")});
  for (agent::ReplicaRecord& r : state_.replicas) r.log_final_sent = true;
  set_->Forget();
  EXPECT_EQ(Record("alloc-a"), nullptr);
  Apply({Want("alloc-b"), Want("alloc-r", true), Want("alloc-c"), Want("alloc-e")});
  EXPECT_EQ(launcher_.specs["alloc-e"].sandbox.uid, 231300);
}

TEST_F(SandboxUidTest, MpsReplicasOfOneGpuShareAUid) {
  std::vector<agent::GpuSample> gpus(2);
  for (int i = 0; i < 2; ++i) {
    gpus[i].gpu.index = i;
    gpus[i].gpu.uuid = "GPU-SIM-" + std::to_string(i);
    gpus[i].gpu.model = "H100-80GB";
    gpus[i].gpu.memory_mib = 81559;
    gpus[i].gpu.healthy = true;
    gpus[i].gpu.simulated = true;
  }
  auto mps = [](const std::string& id, int gpu) {
    return testing::TestAllocation(
        id, {"true"},
        {{gpu, "GPU-SIM-" + std::to_string(gpu), 300, 10240, model::Isolation::kMps}});
  };
  protocol::HeartbeatResponse r;
  r.allocations = {mps("alloc-m1", 0), mps("alloc-m2", 0), mps("alloc-m3", 1)};
  set_->Apply(r, gpus);
  ASSERT_EQ(launcher_.specs.size(), 3u);
  EXPECT_EQ(launcher_.specs["alloc-m1"].sandbox.uid, 231300);
  EXPECT_EQ(launcher_.specs["alloc-m2"].sandbox.uid, 231300);  // the same MPS server's user
  EXPECT_EQ(launcher_.specs["alloc-m3"].sandbox.uid, 231301);  // another GPU, another uid
}

// ---- end to end: `fastgpu up` and two tenants ----

class IsolationEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    agent::SandboxSupport support = agent::ProbeSandbox();
    if (!support.root || !support.namespaces) GTEST_SKIP() << support.note;
    ASSERT_FALSE(scratch_.path().empty());
    data_ = scratch_.path() + "/data";
    // Fake GPU device nodes: real, harmless character devices (/dev/zero's and /dev/full's).
    gpu_dev_ = scratch_.path() + "/gpudev";
    fs::create_directories(gpu_dev_);
    ASSERT_EQ(::mknod((gpu_dev_ + "/nvidia0").c_str(), S_IFCHR | 0666, makedev(1, 5)), 0);
    ASSERT_EQ(::mknod((gpu_dev_ + "/nvidia1").c_str(), S_IFCHR | 0666, makedev(1, 7)), 0);
    up_ = std::make_unique<testing::UpProcess>(
        std::vector<std::string>{"--log-level", "warn", "up", "--data-dir", data_,
                                 "--simulate-gpus", "2xH100-80GB", "--gpu-dev-dir", gpu_dev_,
                                 "--sandbox-uids", "231100-231199"},
        scratch_.path() + "/up.log");
    ASSERT_TRUE(up_->ok()) << up_->output();
    admin_ =
        " --server " + up_->url() + " --token " + testing::ReadFirstLine(data_ + "/admin.token");
    for (const char* t : {"mallory", "alice"}) {
      ASSERT_EQ(Cli(admin_, std::string("tenant create ") + t).exit_code, 0);
      testing::CommandResult tok =
          Cli(admin_, std::string("token create --secret-only --tenant ") + t);
      ASSERT_EQ(tok.exit_code, 0) << tok.output;
      std::string secret = tok.output.substr(0, tok.output.find('\n'));
      (std::string(t) == "mallory" ? mallory_ : alice_) =
          " --server " + up_->url() + " --token " + secret;
    }
  }
  void TearDown() override {
    if (up_ != nullptr) up_->Stop(SIGTERM, std::chrono::seconds(30));
  }
  // `fastgpu args` as `who` (its --server and --token go before a " -- " command).
  static testing::CommandResult Cli(const std::string& who, const std::string& args) {
    size_t dashes = args.find(" -- ");
    if (dashes == std::string::npos) return testing::RunFastgpu(args + who);
    return testing::RunFastgpu(args.substr(0, dashes) + who + args.substr(dashes));
  }
  // Submits `script` (sh -c) on one whole GPU; returns the job id.
  std::string Submit(const std::string& who, const std::string& name, const std::string& script,
                     const std::string& extra = "") {
    std::string quoted = "'";
    for (char c : script) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    quoted += "'";
    testing::CommandResult r =
        Cli(who, "job submit --name " + name + " --gpu 1 " + extra + " -o json -- sh -c " + quoted);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    if (r.exit_code != 0) return "";
    return std::string(boost::json::parse(r.output).at("id").as_string());
  }
  boost::json::object Job(const std::string& who, const std::string& id) {
    testing::CommandResult r = Cli(who, "job get " + id + " -o json");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return r.exit_code == 0 ? boost::json::parse(r.output).as_object() : boost::json::object{};
  }
  bool WaitState(const std::string& who, const std::string& id, const std::string& state) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
    while (std::chrono::steady_clock::now() < deadline) {
      auto j = Job(who, id);
      if (j.contains("state") && j.at("state").as_string() == state) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  std::string Logs(const std::string& who, const std::string& id) {
    std::string out = Cli(who, "job logs " + id).output;
    if (getenv("ISOLATION_TEST_VERBOSE") != nullptr) std::cerr << out;
    return out;
  }
  // The live workload of a job (its allocation id and host pid), found as the agent does.
  std::pair<std::string, agent::ProcessHandle> Workload(const std::string& who,
                                                        const std::string& id) {
    auto j = Job(who, id);
    if (!j.contains("allocations") || j.at("allocations").as_array().empty()) return {};
    std::string alloc(j.at("allocations").as_array()[0].at("allocation_id").as_string());
    auto found = agent::FindLaunchedWorkloads(data_ + "/agent/replicas");
    return {alloc, found.count(alloc) ? found[alloc] : agent::ProcessHandle{}};
  }
  int GpuIndex(const std::string& who, const std::string& id) {
    auto j = Job(who, id);
    return static_cast<int>(
        j.at("allocations").as_array()[0].at("slices").as_array()[0].at("gpu_index").as_int64());
  }

  // In the build dir (not under /tmp, which a sandbox gets a private copy of anyway): the
  // hiding of the data dir itself is what is tested.
  testing::TempDir scratch_{fs::path(FASTGPU_BINARY).parent_path().string()};
  std::string data_, gpu_dev_;
  std::unique_ptr<testing::UpProcess> up_;
  std::string admin_, mallory_, alice_;
};

TEST_F(IsolationEndToEndTest, MalloryCannotReachSecretsOtherJobsOrOtherGpus) {
  std::string alice =
      Submit(alice_, "alice-job", "echo alice-private > secret.txt; echo ready; exec sleep 300");
  ASSERT_TRUE(WaitState(alice_, alice, "running"));
  auto [alice_alloc, alice_proc] = Workload(alice_, alice);
  ASSERT_GT(alice_proc.pid, 0) << "alice's workload not found";
  const std::string alice_work = data_ + "/agent/replicas/" + alice_alloc + "/work";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!fs::exists(alice_work + "/secret.txt") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(ReadFile(alice_work + "/secret.txt"), "alice-private\n");
  // Defence in depth on disk: others pass through the data dirs, read nothing.
  auto mode = [](const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
  };
  EXPECT_EQ(mode(data_), 0711);
  EXPECT_EQ(mode(data_ + "/admin.token"), 0600);
  EXPECT_EQ(mode(data_ + "/join.token"), 0600);
  EXPECT_EQ(mode(data_ + "/fastgpu.db"), 0600);
  EXPECT_EQ(mode(data_ + "/agent"), 0711);
  EXPECT_EQ(mode(data_ + "/agent/replicas"), 0711);
  EXPECT_EQ(mode(alice_work), 0700);

  const std::string pid = std::to_string(alice_proc.pid);
  std::string script =
      "echo uid=$(id -u); "
      "for f in " +
      data_ + "/admin.token " + data_ + "/join.token " + data_ + "/fastgpu.db " + data_ +
      "/agent/agent-state.json " + alice_work +
      "/secret.txt; do "
      "  if cat $f >/dev/null 2>&1; then echo READ $f; fi; done; "
      "ls " +
      alice_work +
      " >/dev/null 2>&1 && echo LISTED-ALICE; "
      "ls " +
      data_ + "/agent/replicas 2>/dev/null | grep -q " + alice_alloc +
      " && echo SAW-ALICE; "
      "kill -TERM " +
      pid +
      " 2>/dev/null && echo KILLED-ALICE; "
      "kill -TERM -" +
      pid +
      " 2>/dev/null && echo KILLED-ALICE-GROUP; "
      "echo procs=$(ls /proc | grep '^[0-9]' | tr '\\n' ' '); "
      "ps -e -o comm= | tr '\\n' ' '; echo; "
      "echo init-cmdline=$(tr '\\0' ' ' < /proc/1/cmdline 2>/dev/null); "
      "ls -A /run/lock /tmp /var/tmp 2>/dev/null | grep -q left-by-host && echo SAW-HOST-LOCK; "
      "touch /run/lock/left-by-mallory 2>/dev/null; "
      "for i in 0 1; do head -c 1 /dev/nvidia$i >/dev/null 2>&1 && echo opened-nvidia$i; "
      "test -e /dev/nvidia$i && echo has-nvidia$i; done; echo done";
  // The host's world-writable /run/lock is not shared with replicas (nor left to by them).
  const std::string host_lock = "/run/lock/left-by-host-" + std::to_string(getpid());
  const bool has_run_lock = fs::is_directory("/run/lock");
  if (has_run_lock) std::ofstream(host_lock) << "x";
  std::string mallory = Submit(mallory_, "mallory-job", script);
  ASSERT_TRUE(WaitState(mallory_, mallory, "succeeded"));
  std::string out = Logs(mallory_, mallory);
  ASSERT_NE(out.find("done"), std::string::npos) << out;
  EXPECT_EQ(out.find("uid=0\n"), std::string::npos) << out;
  EXPECT_NE(out.find("uid=2311"), std::string::npos) << out;  // from --sandbox-uids
  // Alice's replica runs as another uid of the range.
  std::string status = ReadFile("/proc/" + std::to_string(alice_proc.pid) + "/status");
  size_t uid_at = status.find("\nUid:\t");
  ASSERT_NE(uid_at, std::string::npos) << status;
  std::string alice_uid = status.substr(uid_at + 6, status.find('\t', uid_at + 6) - uid_at - 6);
  EXPECT_EQ(alice_uid.rfind("2311", 0), 0u) << alice_uid;
  EXPECT_EQ(out.find("uid=" + alice_uid + "\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("READ "), std::string::npos) << out;
  EXPECT_EQ(out.find("LISTED-ALICE"), std::string::npos) << out;
  EXPECT_EQ(out.find("SAW-ALICE"), std::string::npos) << out;
  EXPECT_EQ(out.find("KILLED-ALICE"), std::string::npos) << out;
  // Only its own processes: the namespace's init (1), the shell (2), its children.
  size_t at = out.find("procs=");
  ASSERT_NE(at, std::string::npos) << out;
  std::istringstream procs(out.substr(at + 6, out.find('\n', at) - at - 6));
  for (int p; procs >> p;) EXPECT_LT(p, 20) << out;
  EXPECT_EQ(out.find("fastgpu "), std::string::npos) << out;  // the agent is invisible
  EXPECT_EQ(out.find(" sleep"), std::string::npos) << out;    // and so is alice's job
  // The namespace's init is root's: its command line (the agent's, which may carry a
  // join token) is hidden too.
  EXPECT_NE(out.find("init-cmdline=\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("SAW-HOST-LOCK"), std::string::npos) << out;
  if (has_run_lock) {
    EXPECT_FALSE(fs::exists("/run/lock/left-by-mallory"));
    fs::remove(host_lock);
  }
  // Its own GPU's device node only.
  int mine = GpuIndex(mallory_, mallory), other = 1 - mine;
  EXPECT_NE(out.find("opened-nvidia" + std::to_string(mine)), std::string::npos) << out;
  EXPECT_EQ(out.find("has-nvidia" + std::to_string(other)), std::string::npos) << out;
  EXPECT_EQ(out.find("opened-nvidia" + std::to_string(other)), std::string::npos) << out;

  // Alice's job was untouched, and `job cancel` (SIGTERM to its process group) ends a
  // plain sleep although it runs in a PID namespace of its own.
  EXPECT_NE(agent::ProcessStartTime(alice_proc.pid), 0u);
  EXPECT_EQ(Job(alice_, alice).at("state").as_string(), "running");
  ASSERT_EQ(Cli(alice_, "job cancel " + alice).exit_code, 0);
  EXPECT_TRUE(WaitState(alice_, alice, "cancelled")) << Cli(alice_, "job get " + alice).output;
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (agent::ProcessStartTime(alice_proc.pid) != 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(agent::ProcessStartTime(alice_proc.pid), 0u) << "SIGTERM did not end the sleep";
}

TEST_F(IsolationEndToEndTest, RootOnlyForATenantTheAdminAllows) {
  testing::CommandResult refused = Cli(mallory_, "job submit --gpu 1 --root -- id -u");
  EXPECT_NE(refused.exit_code, 0) << refused.output;
  EXPECT_NE(refused.output.find("may not run jobs as root"), std::string::npos) << refused.output;
  // Only the admin may allow it.
  EXPECT_NE(Cli(mallory_, "tenant allow-root mallory").exit_code, 0);
  testing::CommandResult allowed = Cli(admin_, "tenant allow-root mallory");
  ASSERT_EQ(allowed.exit_code, 0) << allowed.output;
  EXPECT_NE(allowed.output.find("may run as root"), std::string::npos) << allowed.output;
  std::string id = Submit(mallory_, "rooted",
                          "echo uid=$(id -u); cat " + data_ +
                              "/admin.token >/dev/null 2>&1 && "
                              "echo READ-ADMIN; echo done",
                          "--root");
  ASSERT_TRUE(WaitState(mallory_, id, "succeeded"));
  std::string out = Logs(mallory_, id);
  EXPECT_NE(out.find("uid=0\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("READ-ADMIN"), std::string::npos) << out;  // still hidden
  // Taken back: refused again.
  ASSERT_EQ(Cli(admin_, "tenant allow-root --deny mallory").exit_code, 0);
  EXPECT_NE(Cli(mallory_, "job submit --gpu 1 --root -- id -u").exit_code, 0);
}

}  // namespace
}  // namespace fastgpu

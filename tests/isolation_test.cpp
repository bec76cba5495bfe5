// Tenant isolation on the node (docs/security-sandbox.md): the shim launcher's sandbox on
// its own, then a real `fastgpu up` whose jobs must not see the control plane's secrets,
// the agent's state, other jobs or other GPUs. Needs root and namespaces: skips cleanly
// without them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "agent/launcher.h"
#include "agent/testing/temp_dir.h"

namespace fastgpu {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;

constexpr int64_t kUid = 231000;

// Skips the test unless this host can sandbox (root, namespaces).
#define SKIP_WITHOUT_SANDBOX()                                                        \
  do {                                                                                \
    SandboxSupport support = ProbeSandbox();                                          \
    if (!support.root || !support.namespaces) GTEST_SKIP() << support.note;           \
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
  LaunchSpec Spec(const std::string& script) {
    LaunchSpec s;
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
  ProcessState WaitEnd(const ProcessHandle& h, const LaunchSpec& s) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    ProcessState st = launcher_->Poll(h, s.status_path);
    while (st.kind == ProcessState::Kind::kRunning && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      st = launcher_->Poll(h, s.status_path);
    }
    return st;
  }
  // Runs `script` to its end; returns its output (and the exit code in *code).
  std::string Run(const LaunchSpec& spec, int* code = nullptr) {
    auto h = launcher_->Launch(spec);
    EXPECT_TRUE(h.ok()) << h.status();
    if (!h.ok()) return "";
    ProcessState st = WaitEnd(*h, spec);
    EXPECT_EQ(st.kind, ProcessState::Kind::kExited) << st.message;
    if (code != nullptr) *code = st.exit_code;
    std::string out = ReadFile(spec.log_path);
    if (getenv("ISOLATION_TEST_VERBOSE") != nullptr) std::cerr << out;
    return out;
  }

  testing::AgentTempDir dir_;
  std::string data_, work_;
  std::unique_ptr<ProcessLauncher> launcher_ = MakeShimLauncher();
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
  std::string out = Run(Spec(
      "echo mine > note && cat note; cat " + data_ + "/admin.token || echo no-token; ls " + data_ +
      "; ls " + data_ + "/replicas; ls " + dir_.path() + " | wc -l; ls /tmp | wc -l; "
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
  LaunchSpec spec = Spec("echo pid=$$; ls /proc | grep -c '^[0-9]' > nprocs; exec sleep 300");
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
  EXPECT_NE(ProcessStartTime(h->pid), 0u);
  ASSERT_TRUE(launcher_->Signal(*h, SIGTERM).ok());
  ProcessState st = WaitEnd(*h, spec);
  ASSERT_EQ(st.kind, ProcessState::Kind::kExited) << st.message;
  EXPECT_EQ(st.signal, SIGTERM) << st.message;
}

TEST_F(SandboxLauncherTest, AdoptionFindsASandboxedWorkload) {
  SKIP_WITHOUT_SANDBOX();
  LaunchSpec spec = Spec("exec sleep 300");
  spec.env["FASTGPU_ALLOCATION_ID"] = "alloc-1";
  spec.env["FASTGPU_WORK_DIR"] = work_;
  auto h = launcher_->Launch(spec);
  ASSERT_TRUE(h.ok()) << h.status();
  std::map<std::string, ProcessHandle> found;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (found.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    found = FindLaunchedWorkloads(data_ + "/replicas");
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
  LaunchSpec spec = Spec("setsid sleep 300 & sleep 0.3; exit 0");
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
  LaunchSpec spec = Spec(
      "ls /dev | tr '\\n' ' '; echo; head -c 4 /dev/nvidia1 | od -An -tx1; "
      "test -e /dev/nvidia0 && echo HAS-GPU0; test -e /dev/sda && echo HAS-DISK; "
      "test -d /dev/shm && touch /dev/shm/x && echo shm-ok");
  spec.sandbox.devices.push_back(gpus + "/nvidia1");
  std::string out = Run(spec);
  EXPECT_NE(out.find("nvidia1"), std::string::npos) << out;
  EXPECT_NE(out.find("00 00 00 00"), std::string::npos) << out;  // it opened and read it
  EXPECT_EQ(out.find("nvidia0"), std::string::npos) << out;
  EXPECT_EQ(out.find("HAS-"), std::string::npos) << out;
  EXPECT_NE(out.find("shm-ok"), std::string::npos) << out;
}

TEST_F(SandboxLauncherTest, RootOptInKeepsRootInsideTheNamespaces) {
  SKIP_WITHOUT_SANDBOX();
  LaunchSpec spec = Spec("id -u; cat " + data_ + "/admin.token || echo no-token");
  spec.sandbox.uid = -1;
  spec.sandbox.gid = -1;
  std::string out = Run(spec);
  EXPECT_NE(out.find("0\n"), std::string::npos) << out;
  EXPECT_NE(out.find("no-token"), std::string::npos) << out;
}

TEST_F(SandboxLauncherTest, RefusesUidZeroAsASandboxUser) {
  LaunchSpec spec = Spec("true");
  spec.sandbox.uid = 0;
  auto h = launcher_->Launch(spec);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fastgpu

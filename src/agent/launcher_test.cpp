#include "agent/launcher.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/testing/temp_dir.h"

namespace fastgpu::agent {
namespace {

std::string Read(const std::string& path) { return testing::ReadFile(path); }

class LauncherTest : public ::testing::Test {
 protected:
  LaunchSpec Spec(std::vector<std::string> argv) {
    LaunchSpec s;
    s.argv = std::move(argv);
    s.env = {{"PATH", "/usr/bin:/bin"}, {"GREETING", "hello"}};
    s.work_dir = dir_.path();
    s.log_path = dir_.path() + "/output.log";
    s.status_path = dir_.path() + "/exit-status";
    return s;
  }
  // Polls until the workload is no longer running (bounded; the workloads here end fast).
  ProcessState WaitEnd(const ProcessHandle& h, const LaunchSpec& s) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    ProcessState st = launcher_->Poll(h, s.status_path);
    while (st.kind == ProcessState::Kind::kRunning && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      st = launcher_->Poll(h, s.status_path);
    }
    return st;
  }
  testing::TempDir dir_;
  std::unique_ptr<ProcessLauncher> launcher_ = MakeShimLauncher();
};

TEST_F(LauncherTest, RunsInItsFolderWithItsEnvironmentAndRecordsTheExitCode) {
  auto spec = Spec({"sh", "-c", "echo $GREETING from $(pwd); echo oops >&2; exit 3"});
  auto h = launcher_->Launch(spec);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_GT(h->pid, 0);
  EXPECT_NE(h->pid, getpid());
  ProcessState st = WaitEnd(*h, spec);
  ASSERT_EQ(st.kind, ProcessState::Kind::kExited) << st.message;
  EXPECT_EQ(st.exit_code, 3);
  EXPECT_EQ(st.signal, 0);
  EXPECT_GT(st.ended_at_ms, 0);
  std::string log = Read(spec.log_path);
  EXPECT_NE(log.find("hello from " + dir_.path()), std::string::npos) << log;
  EXPECT_NE(log.find("oops"), std::string::npos) << log;
}

TEST_F(LauncherTest, WorkloadIsNotAChildOfTheCaller) {
  auto spec = Spec({"sleep", "30"});
  auto h = launcher_->Launch(spec);
  ASSERT_TRUE(h.ok()) << h.status();
  std::string stat = Read("/proc/" + std::to_string(h->shim_pid) + "/stat");
  std::istringstream in(stat.substr(stat.rfind(')') + 2));
  char state;
  int ppid = 0, pgrp = 0, session = 0;
  in >> state >> ppid >> pgrp >> session;
  EXPECT_NE(ppid, getpid());
  EXPECT_EQ(session, h->shim_pid);  // the shim leads its own session
  ASSERT_TRUE(launcher_->Signal(*h, SIGTERM).ok());
  ProcessState st = WaitEnd(*h, spec);
  ASSERT_EQ(st.kind, ProcessState::Kind::kExited);
  EXPECT_EQ(st.signal, SIGTERM);
  EXPECT_NE(st.message.find("signal 15"), std::string::npos) << st.message;
}

TEST_F(LauncherTest, StoppingKillsEveryDescendant) {
  auto spec = Spec({"sh", "-c",
                    "sleep 300 & echo $! > pids; (sleep 300 & echo $! >> pids; wait) & "
                    "while [ $(wc -l < pids) -lt 2 ]; do sleep 0.01; done; touch ready; wait"});
  auto h = launcher_->Launch(spec);
  ASSERT_TRUE(h.ok()) << h.status();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!std::ifstream(dir_.path() + "/ready") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::vector<int> pids;
  std::istringstream in(Read(dir_.path() + "/pids"));
  for (int pid; in >> pid;) pids.push_back(pid);
  ASSERT_EQ(pids.size(), 2u);
  for (int pid : pids) EXPECT_NE(ProcessStartTime(pid), 0u) << pid;
  ASSERT_TRUE(launcher_->Signal(*h, SIGTERM).ok());
  ProcessState st = WaitEnd(*h, spec);
  ASSERT_EQ(st.kind, ProcessState::Kind::kExited);
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto alive = [&] {
    int n = 0;
    for (int pid : pids) n += ProcessStartTime(pid) != 0;
    return n;
  };
  while (alive() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(alive(), 0);
}

TEST_F(LauncherTest, MissingCommandFailsClearly) {
  auto h = launcher_->Launch(Spec({"no-such-command-fastgpu"}));
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(h.status().message().find("no-such-command-fastgpu"), std::string::npos);
  auto spec = Spec({"/etc/hostname"});  // exists, not executable
  auto bad = launcher_->Launch(spec);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(LauncherTest, LogIsCapped) {
  auto spec = Spec({"sh", "-c",
                    "i=0; while [ $i -lt 200 ]; do echo 0123456789012345678901234567890123456789; "
                    "i=$((i+1)); done"});
  spec.log_cap_bytes = 1000;
  auto h = launcher_->Launch(spec);
  ASSERT_TRUE(h.ok());
  ProcessState st = WaitEnd(*h, spec);
  ASSERT_EQ(st.kind, ProcessState::Kind::kExited);
  EXPECT_EQ(st.exit_code, 0);
  std::string log = Read(spec.log_path);
  EXPECT_LT(log.size(), 1200u);
  EXPECT_NE(log.find("log cap reached"), std::string::npos);
}

TEST(StatusFileTest, ParsesAndRefusesGarbage) {
  ProcessState s = ParseStatusFile("exit 0 9 1234\n");
  EXPECT_EQ(s.kind, ProcessState::Kind::kExited);
  EXPECT_EQ(s.signal, 9);
  EXPECT_EQ(s.ended_at_ms, 1234);
  EXPECT_EQ(ParseStatusFile("junk").kind, ProcessState::Kind::kLost);
  EXPECT_EQ(ProcessStartTime(-1), 0u);
  EXPECT_NE(ProcessStartTime(getpid()), 0u);
}

}  // namespace
}  // namespace fastgpu::agent

#include "common/testing/child_process.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

#include "common/testing/temp_dir.h"

namespace fastgpu::testing {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

ChildProcess Sh(const std::string& script, ChildOptions options = {}) {
  return ChildProcess({"/bin/sh", "-c", script}, std::move(options));
}

bool Gone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

// Waits (up to 5 s) until `pid` runs `name`: the shell has set its traps and exec'ed.
bool Runs(pid_t pid, const std::string& name) {
  const auto deadline = Clock::now() + 5s;
  while (Clock::now() < deadline) {
    if (ReadFile("/proc/" + std::to_string(pid) + "/comm") == name + "\n") return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TEST(ChildProcessTest, StopSendsSigtermFirst) {
  ChildProcess child = Sh("exec sleep 30");
  ASSERT_TRUE(child.ok());
  EXPECT_TRUE(child.Alive());
  ASSERT_TRUE(Runs(child.pid(), "sleep"));
  const auto start = Clock::now();
  EXPECT_EQ(child.Stop(), 128 + SIGTERM);
  EXPECT_LT(Clock::now() - start, 5s);
  EXPECT_FALSE(child.Alive());
  EXPECT_EQ(child.Stop(), 128 + SIGTERM);  // idempotent
}

TEST(ChildProcessTest, StopKillsAChildThatIgnoresSigtermAfterTheGrace) {
  // An ignored signal stays ignored across exec.
  ChildProcess child = Sh("trap '' TERM; exec sleep 30");
  ASSERT_TRUE(child.ok());
  ASSERT_TRUE(Runs(child.pid(), "sleep"));
  const auto start = Clock::now();
  EXPECT_EQ(child.Stop({SIGTERM, 300ms}), 128 + SIGKILL);
  const auto took = Clock::now() - start;
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 5s);
}

TEST(ChildProcessTest, SigkillPolicyDoesNotWait) {
  ChildProcess child = Sh("trap '' TERM; exec sleep 30");
  ASSERT_TRUE(Runs(child.pid(), "sleep"));
  const auto start = Clock::now();
  EXPECT_EQ(child.Stop({SIGKILL, 60s}), 128 + SIGKILL);
  EXPECT_LT(Clock::now() - start, 5s);
}

TEST(ChildProcessTest, DestructorStopsAndReapsARunningChild) {
  pid_t pid = -1;
  Clock::time_point start;
  {
    ChildOptions o;
    o.stop_at_destruction = {SIGTERM, 200ms};
    ChildProcess child = Sh("trap '' TERM; exec sleep 30", o);
    pid = child.pid();
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(Runs(pid, "sleep"));
    start = Clock::now();
  }
  EXPECT_GE(Clock::now() - start, 200ms);  // SIGTERM first, SIGKILL after the grace
  EXPECT_TRUE(Gone(pid));                  // and reaped
}

TEST(ChildProcessTest, ExitCodeAndOutputInTheLog) {
  TempDir dir;
  ChildOptions o;
  o.log_path = dir.path() + "/out.log";
  ChildProcess child = Sh("echo out; echo err >&2; exit 3", o);
  EXPECT_EQ(child.Wait(), 3);
  EXPECT_EQ(child.Stop(), 3);  // already ended: its status
  EXPECT_EQ(ReadFile(o.log_path), "out\nerr\n");
  ChildProcess again = Sh("echo more", o);  // appended by default
  EXPECT_EQ(again.Wait(), 0);
  EXPECT_EQ(ReadFile(o.log_path), "out\nerr\nmore\n");
  o.truncate_log = true;
  ChildProcess fresh = Sh("echo new", o);
  EXPECT_EQ(fresh.Wait(), 0);
  EXPECT_EQ(ReadFile(o.log_path), "new\n");
}

TEST(ChildProcessTest, AMissingProgramExits127AndABadLogStartsNothing) {
  ChildProcess missing({"/nonexistent/fastgpu-no-such-program"});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing.Wait(), 127);
  ChildOptions o;
  o.log_path = "/nonexistent/dir/log";
  ChildProcess no_log({"/bin/true"}, o);
  EXPECT_FALSE(no_log.ok());
  EXPECT_EQ(no_log.Stop(), -1);
  ChildProcess nothing;
  EXPECT_FALSE(nothing.Alive());
  EXPECT_EQ(nothing.Wait(), -1);
}

TEST(ChildProcessTest, BeforeExecRunsInTheChild) {
  TempDir dir;
  ChildOptions o;
  o.log_path = dir.path() + "/out.log";
  o.before_exec = [] {
    rlimit lim{64, 64};
    ::setrlimit(RLIMIT_NOFILE, &lim);
  };
  ChildProcess child = Sh("ulimit -n", o);
  EXPECT_EQ(child.Wait(), 0);
  EXPECT_EQ(ReadFile(o.log_path), "64\n");
  rlimit mine{};
  ::getrlimit(RLIMIT_NOFILE, &mine);
  EXPECT_NE(mine.rlim_cur, 64u);  // the test's own limit is untouched
}

TEST(ChildProcessTest, MovedFromOwnsNothing) {
  ChildProcess a = Sh("exec sleep 30");
  const pid_t pid = a.pid();
  ChildProcess b = std::move(a);
  EXPECT_FALSE(a.ok());
  EXPECT_EQ(b.pid(), pid);
  EXPECT_TRUE(b.Signal(SIGTERM));
  EXPECT_EQ(b.Wait(), 128 + SIGTERM);
  EXPECT_FALSE(b.Signal(SIGTERM));
}

}  // namespace
}  // namespace fastgpu::testing

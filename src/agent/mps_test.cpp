#include "agent/mps.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "agent/file_env.h"
#include "agent/launcher.h"
#include "agent/testing/fake_mps_control.h"
#include "agent/vgpu.h"
#include "common/testing/temp_dir.h"

namespace fastgpu::agent {
namespace {

std::string Read(const std::string& path) { return testing::ReadFile(path); }

int Lines(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

TEST(MpsTest, StartsOneDaemonPerGpuWatchesAndStopsIt) {
  testing::TempDir dir;
  std::string control = dir.path() + "/fake-mps-control";
  std::ofstream(control) << testing::kFakeMpsControl;
  chmod(control.c_str(), 0755);
  std::string calls = dir.path() + "/calls";
  setenv("CALLS", calls.c_str(), 1);
  MpsDaemons mps(dir.path() + "/mps", control);
  EXPECT_FALSE(mps.Running("GPU-a"));
  bool started = false;
  ASSERT_TRUE(mps.Ensure("GPU-a", &started).ok());
  EXPECT_TRUE(started);
  EXPECT_TRUE(mps.Running("GPU-a"));
  std::string pipe = MpsPipeDirectory(dir.path() + "/mps", "GPU-a");
  EXPECT_EQ(Read(calls), "-d CVD=GPU-a PIPE=" + pipe + " LOG=" + dir.path() + "/mps/GPU-a/log\n");
  ASSERT_TRUE(mps.Ensure("GPU-a", &started).ok());  // already running: not started again
  EXPECT_FALSE(started);
  EXPECT_EQ(Lines(Read(calls)), 1);
  // The daemon dies: the next Ensure restarts it.
  int pid = 0;
  std::ifstream(pipe + "/nvidia-cuda-mps-control.pid") >> pid;
  ASSERT_GT(pid, 0);
  kill(pid, SIGKILL);
  for (int i = 0; i < 500 && mps.Running("GPU-a"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(mps.Ensure("GPU-a", &started).ok());
  EXPECT_TRUE(started);
  ASSERT_TRUE(mps.Stop("GPU-a").ok());
  for (int i = 0; i < 500 && mps.Running("GPU-a"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(mps.Running("GPU-a"));
  unsetenv("CALLS");
}

TEST(MpsTest, MissingProgramIsUnavailable) {
  testing::TempDir dir;
  MpsDaemons mps(dir.path() + "/mps", dir.path() + "/no-such-mps-control");
  Status st = mps.Ensure("GPU-a");
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st;
}

TEST(MpsTest, FoldersAndThePidFileGoThroughTheEnv) {
  testing::TempDir dir;
  auto env = NewMemoryFileEnv();
  const std::string root = dir.path() + "/mps";
  MpsDaemons mps(root, dir.path() + "/no-such-mps-control", std::chrono::seconds(1), *env);
  // The folders are made in the env (then the program cannot run).
  EXPECT_EQ(mps.Ensure("GPU-a").code(), StatusCode::kUnavailable);
  const std::string pipe = MpsPipeDirectory(root, "GPU-a");
  EXPECT_TRUE(env->Stat(pipe)->is_dir);
  EXPECT_TRUE(env->Stat(root + "/GPU-a/log")->is_dir);
  EXPECT_FALSE(PosixFileEnv().Exists(root));  // nothing on the real disk
  // Alive by the pid file in the env: a live process (this one), then a gone one.
  EXPECT_FALSE(mps.Running("GPU-a"));
  ASSERT_TRUE(
      env->WriteFile(pipe + "/nvidia-cuda-mps-control.pid", std::to_string(getpid()) + "\n", false)
          .ok());
  EXPECT_TRUE(mps.Running("GPU-a"));
  bool started = true;
  EXPECT_TRUE(mps.Ensure("GPU-a", &started).ok());  // running: nothing to start
  EXPECT_FALSE(started);
  ASSERT_TRUE(env->WriteFile(pipe + "/nvidia-cuda-mps-control.pid", "0\n", false).ok());
  EXPECT_FALSE(mps.Running("GPU-a"));
}

}  // namespace
}  // namespace fastgpu::agent

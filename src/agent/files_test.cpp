#include "agent/files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/launcher.h"
#include "common/testing/temp_dir.h"

namespace fastgpu::agent {
namespace {

TEST(FilesTest, ReadsWholeFilesAndRanges) {
  testing::TempDir dir;
  std::string path = dir.path() + "/f";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "hello world", 11), 11);
  close(fd);
  EXPECT_EQ(ReadWholeFile(path).value(), "hello world");
  EXPECT_EQ(ReadFileRange(path, 6, 100).value(), "world");
  EXPECT_EQ(ReadFileRange(path, 0, 5).value(), "hello");
  EXPECT_EQ(ReadFileRange(path, 50, 5).value(), "");
  EXPECT_EQ(ReadWholeFile(path, 4).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(ReadWholeFile(dir.path() + "/missing").status().code(), StatusCode::kNotFound);
}

// The race of a workload that ends while the agent reads its /proc/<pid>/stat: open()
// succeeded, then the process is reaped and read() fails with ESRCH. That is a NotFound
// status (an iostream over the same descriptor throws std::ios_base::failure).
TEST(FilesTest, ProcFileOfAProcessReapedAfterOpenIsNotFound) {
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  ASSERT_GT(child, 0);
  std::string path = "/proc/" + std::to_string(child) + "/stat";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  auto content = ReadToEnd(fd, path, 4096);
  close(fd);
  ASSERT_FALSE(content.ok());
  EXPECT_EQ(content.status().code(), StatusCode::kNotFound) << content.status();
  EXPECT_EQ(ProcessStartTime(child), 0u);
}

TEST(FilesTest, ParsesTheStartTimeOfAStatLine) {
  std::string line =
      "123 (a b) c) S 1 123 123 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
  EXPECT_EQ(ParseProcStatStartTime(line), 987654u);
  EXPECT_EQ(ParseProcStatStartTime("123 (x) Z 1 123 123 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 55 0"), 0u);
  EXPECT_EQ(ParseProcStatStartTime("garbage"), 0u);
  EXPECT_GT(ProcessStartTime(getpid()), 0u);
}

}  // namespace
}  // namespace fastgpu::agent

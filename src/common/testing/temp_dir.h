// Test helpers for files: TempDir, a fresh folder that is removed with everything in it on
// destruction; ReadFile, a whole file as a string; FileMode, a file's permission bits.
// For tests only (library fastgpu_testing). A TempDir is owned by one test and is not
// thread-safe; the functions are.
#pragma once

#include <string>

namespace fastgpu::testing {

class TempDir {
 public:
  // Makes "<system temp dir>/fastgpu-test-XXXXXX" (unique across processes), mode 0755 so
  // that a workload started as another user (the agent's sandbox) can reach files placed
  // in it. path() is "" when it could not be made.
  TempDir();
  // The same under `parent` (which must exist) instead of the system temp dir.
  explicit TempDir(const std::string& parent);
  ~TempDir();  // removes the folder and its contents; errors are ignored
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The file's bytes, or "" when it cannot be opened. Retries reads a signal interrupted
// (tests run while workloads end and signal their parents).
std::string ReadFile(const std::string& path);

// The permission bits of `path` (rwx bits only, e.g. 0600), or -1 when it does not exist.
int FileMode(const std::string& path);

}  // namespace fastgpu::testing

// A `fastgpu server` / `fastgpu up` child process for tests: started on 127.0.0.1 port 0
// in a data dir of the test's, its port read from the "listening on" line it prints.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace fastgpu::testing {

class ServerProcess {
 public:
  // Runs FASTGPU_BINARY with `args` (e.g. {"server", "--data-dir", dir}) plus
  // "--listen 127.0.0.1:0", and waits (up to 30 s) for its "listening on" line.
  // ok() is false when it did not come up; output() then says why.
  explicit ServerProcess(std::vector<std::string> args);
  ~ServerProcess();  // SIGKILL if still running

  bool ok() const { return port_ != 0; }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Sends `sig` and waits for the exit; returns the exit status (128 + signal if killed).
  int Signal(int sig);
  std::string output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int port_ = 0;
  std::string output_;
};

// A fresh temp directory removed (with its contents) on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// First line of a file ("" when unreadable).
std::string ReadFirstLine(const std::string& path);

}  // namespace fastgpu::testing

// A `fastgpu server` / `fastgpu up` child process for tests: started on 127.0.0.1 port 0
// in a data dir of the test's, its port read from the "listening on" line it prints.
#pragma once

#include <string>
#include <vector>

#include "common/testing/child_process.h"
#include "common/testing/temp_dir.h"  // TempDir, which the tests using this make

namespace fastgpu::testing {

class ServerProcess {
 public:
  // Runs FASTGPU_BINARY with `args` (e.g. {"server", "--data-dir", dir}) plus
  // "--listen 127.0.0.1:0", its output in a log file of its own, and waits (up to 30 s)
  // for its "listening on" line. ok() is false when it did not come up; output() then
  // says why. A process still running at destruction is stopped by ChildProcess's policy
  // (SIGTERM, 10 s, then SIGKILL).
  explicit ServerProcess(std::vector<std::string> args);

  bool ok() const { return port_ != 0; }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Sends `sig` and waits for the exit (SIGKILL after 60 s); returns the exit status
  // (128 + signal if killed).
  int Signal(int sig);
  std::string output() const;  // everything it printed so far

 private:
  TempDir log_dir_;
  ChildProcess child_;
  int port_ = 0;
};

// First line of a file ("" when unreadable).
std::string ReadFirstLine(const std::string& path);

}  // namespace fastgpu::testing

// A long-running `fastgpu up` (or `fastgpu server`) child process for fault tests whose
// output can be large: its stdout and stderr go to a file (not a pipe that could fill
// and block it), and it may run under a wrapper such as valgrind. Started on 127.0.0.1
// port 0; the port is read from the "listening on" line. Not thread-safe. Built on
// ChildProcess (common/testing/child_process.h).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/testing/child_process.h"

namespace fastgpu::testing {

class UpProcess {
 public:
  // Runs `wrapper... FASTGPU_BINARY args... --listen 127.0.0.1:0` with its output in
  // `log_path`, and waits up to `start_timeout` for the "listening on" line. ok() is
  // false when it did not come up (output() then says why).
  UpProcess(std::vector<std::string> args, std::string log_path,
            std::vector<std::string> wrapper = {},
            std::chrono::seconds start_timeout = std::chrono::seconds(30));
  // A process still running is stopped by ChildProcess's policy: SIGTERM, 10 s, SIGKILL.

  bool ok() const { return port_ != 0; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return child_.pid(); }
  // True while the process has not exited (it is reaped when it has).
  bool Alive() { return child_.Alive(); }
  // Sends `sig` and waits up to `timeout` for the exit (then SIGKILL); returns the exit
  // status, 128 + signal when killed by one, or the earlier exit status when it had
  // already ended.
  int Stop(int sig, std::chrono::seconds timeout = std::chrono::seconds(60));
  std::string output() const;  // everything it printed so far

 private:
  std::string log_path_;
  ChildProcess child_;
  int port_ = 0;
};

}  // namespace fastgpu::testing

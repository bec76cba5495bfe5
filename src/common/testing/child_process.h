// ChildProcess: a program a test runs (fork + exec), with its stdout and stderr in a log
// file, and an explicit stop policy: Stop() sends a signal (SIGTERM by default), waits up
// to a grace period, then sends SIGKILL; the destructor does the same for a child still
// running. For tests only (library fastgpu_testing). One test thread uses an instance;
// it is movable, not copyable.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace fastgpu::testing {

// What RunShell saw: the exit code (128 + the signal when killed; -1 when the shell could
// not run) and the captured output.
struct ShellRun {
  int exit_code = -1;
  std::string out;
};
// Runs `command` with /bin/sh and waits for it; captures its stdout, and its stderr too
// when `stderr_to` is "" (else appends the stderr to the file `stderr_to`).
ShellRun RunShell(const std::string& command, const std::string& stderr_to = "");

// How a child is stopped: `signal` first, then SIGKILL when it has not exited after
// `grace`. {SIGKILL, any grace} kills at once.
struct StopPolicy {
  int signal = SIGTERM;
  std::chrono::milliseconds grace = std::chrono::seconds(10);
};

struct ChildOptions {
  // Where stdout and stderr go; "" keeps the test's own.
  std::string log_path;
  // Append to the log (default) or truncate it first.
  bool truncate_log = false;
  // Signal the child gets when the test process dies (0: none).
  int parent_death_signal = SIGTERM;
  // Run in the child between fork and exec (e.g. setrlimit); must not allocate or lock.
  std::function<void()> before_exec;
  // What the destructor applies to a child still running.
  StopPolicy stop_at_destruction;
};

class ChildProcess {
 public:
  // Starts argv[0] (searched in PATH when it has no '/') with `argv`, stdin /dev/null.
  // ok() is false when the log could not be opened or fork failed; a failed exec exits
  // the child with 127.
  explicit ChildProcess(std::vector<std::string> argv, ChildOptions options = {});
  ChildProcess() = default;  // runs nothing
  ~ChildProcess();           // Stop(options.stop_at_destruction) when still running
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool ok() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // True while the child has not exited (it is reaped when it has).
  bool Alive();
  // Sends `sig` without waiting (false when there is no running child).
  bool Signal(int sig);
  // Stops the child by `policy`; returns its exit status (the exit code, or 128 + the
  // signal that killed it), the earlier one when it had already ended, -1 when none ran.
  int Stop(StopPolicy policy = {});
  // Waits for the exit without signalling; the same status as Stop.
  int Wait();

 private:
  void Reap(int wait_status);

  pid_t pid_ = -1;
  int exit_status_ = -1;
  bool exited_ = false;
  StopPolicy stop_at_destruction_;
};

}  // namespace fastgpu::testing

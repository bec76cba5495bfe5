// FakeProcessLauncher: a ProcessLauncher that starts nothing. It records every launch
// (the whole LaunchSpec), hands out made-up pids, answers Poll from its own table, and
// records the signals it is sent; the test ends a "process" with an exit code (Exit),
// loses its supervisor (Lose) or writes to its log file (AppendOutput). SIGKILL ends a
// process ("killed by signal 9"); SIGTERM ends it too unless it was launched while
// IgnoreTerm(true) was in force (a workload that traps TERM). For tests of the agent's
// bookkeeping (what it launches with which environment and limits, stop escalation,
// exit codes, restarts) without forking; the real launcher has its own tests
// (launcher_test.cpp).
//
// Processes are named by allocation id: the replica folder's name, taken from the spec's
// work_dir (<data_dir>/replicas/<id>/work). Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/file_env.h"
#include "agent/launcher.h"
#include "common/clock.h"

namespace fastgpu::testing {

class FakeProcessLauncher final : public agent::ProcessLauncher {
 public:
  // End times come from `clock`, and AppendOutput writes through `env` (both borrowed;
  // nullptr: SystemClock::Default(), PosixFileEnv()).
  explicit FakeProcessLauncher(const Clock* clock = nullptr, agent::FileEnv* env = nullptr);

  struct Process {
    std::string allocation_id;
    agent::LaunchSpec spec;
    agent::ProcessHandle handle;
    agent::ProcessState state;  // kRunning until it ends
    std::vector<int> signals;   // every signal sent, in order
    bool ignores_term = false;
  };

  Result<agent::ProcessHandle> Launch(const agent::LaunchSpec& spec) override;
  // The process's state from the fake's table (the status file is not read); kLost for
  // a handle it never gave out.
  agent::ProcessState Poll(const agent::ProcessHandle& handle,
                           const std::string& status_path) override;
  // Records the signal; ends the process as described above. OK for an ended process.
  Status Signal(const agent::ProcessHandle& handle, int signal) override;

  // The next Launch fails with `status` (and launches nothing).
  void FailNextLaunch(Status status);
  // Processes launched from now on ignore SIGTERM (true) or end on it (false, default).
  void IgnoreTerm(bool ignore);
  // Ends the latest process of `allocation_id` with `exit_code`. False when it has none
  // running.
  bool Exit(const std::string& allocation_id, int exit_code);
  // Its supervisor vanished without a status (Poll says kLost). False when none running.
  bool Lose(const std::string& allocation_id);
  // Appends `text` to the latest process's log file (LaunchSpec::log_path), as its output.
  Status AppendOutput(const std::string& allocation_id, const std::string& text);

  // The latest process launched for `allocation_id`, if any.
  std::optional<Process> Find(const std::string& allocation_id) const;
  std::vector<Process> launches() const;
  int running() const;

 private:
  Process* Latest(const std::string& allocation_id);  // mu_ held
  void End(Process& p, int exit_code, int signal);    // mu_ held

  const Clock& clock_;
  agent::FileEnv& env_;
  mutable std::mutex mu_;
  std::vector<Process> processes_;  // in launch order
  int next_pid_ = 100000;
  std::optional<Status> fail_next_;
  bool ignore_term_ = false;
};

}  // namespace fastgpu::testing

#include "agent/testing/fake_launcher.h"

#include <signal.h>

#include <cstring>
#include <filesystem>

namespace fastgpu::testing {

FakeProcessLauncher::FakeProcessLauncher(const Clock* clock, agent::FileEnv* env)
    : clock_(clock != nullptr ? *clock : SystemClock::Default()),
      env_(env != nullptr ? *env : agent::PosixFileEnv()) {}

Result<agent::ProcessHandle> FakeProcessLauncher::Launch(const agent::LaunchSpec& spec) {
  std::lock_guard lock(mu_);
  if (fail_next_) {
    Status st = *fail_next_;
    fail_next_.reset();
    return st;
  }
  if (spec.argv.empty()) return InvalidArgument("launch: empty argv");
  Process p;
  p.allocation_id = std::filesystem::path(spec.work_dir).parent_path().filename().string();
  p.spec = spec;
  p.handle.shim_pid = next_pid_++;
  p.handle.shim_start = 1;
  p.handle.pid = next_pid_++;
  p.handle.pid_start = 1;
  p.state.kind = agent::ProcessState::Kind::kRunning;
  p.ignores_term = ignore_term_;
  processes_.push_back(std::move(p));
  return processes_.back().handle;
}

agent::ProcessState FakeProcessLauncher::Poll(const agent::ProcessHandle& handle,
                                              const std::string&) {
  std::lock_guard lock(mu_);
  for (const Process& p : processes_) {
    if (p.handle.pid == handle.pid && p.handle.shim_pid == handle.shim_pid) return p.state;
  }
  agent::ProcessState lost;
  lost.kind = agent::ProcessState::Kind::kLost;
  lost.message = "no such process (fake launcher)";
  return lost;
}

Status FakeProcessLauncher::Signal(const agent::ProcessHandle& handle, int signal) {
  std::lock_guard lock(mu_);
  for (Process& p : processes_) {
    if (p.handle.pid != handle.pid || p.handle.shim_pid != handle.shim_pid) continue;
    p.signals.push_back(signal);
    if (p.state.kind != agent::ProcessState::Kind::kRunning) return OkStatus();
    if (signal == SIGKILL || (signal == SIGTERM && !p.ignores_term)) End(p, 0, signal);
    return OkStatus();
  }
  return OkStatus();  // gone: nothing to signal
}

void FakeProcessLauncher::End(Process& p, int exit_code, int signal) {
  p.state.kind = agent::ProcessState::Kind::kExited;
  p.state.exit_code = exit_code;
  p.state.signal = signal;
  p.state.ended_at_ms = clock_.NowUnixMillis();
  p.state.message =
      signal != 0 ? "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")"
                  : "exit " + std::to_string(exit_code);
}

FakeProcessLauncher::Process* FakeProcessLauncher::Latest(const std::string& allocation_id) {
  for (auto it = processes_.rbegin(); it != processes_.rend(); ++it) {
    if (it->allocation_id == allocation_id) return &*it;
  }
  return nullptr;
}

void FakeProcessLauncher::FailNextLaunch(Status status) {
  std::lock_guard lock(mu_);
  fail_next_ = std::move(status);
}

void FakeProcessLauncher::IgnoreTerm(bool ignore) {
  std::lock_guard lock(mu_);
  ignore_term_ = ignore;
}

bool FakeProcessLauncher::Exit(const std::string& allocation_id, int exit_code) {
  std::lock_guard lock(mu_);
  Process* p = Latest(allocation_id);
  if (p == nullptr || p->state.kind != agent::ProcessState::Kind::kRunning) return false;
  End(*p, exit_code, 0);
  return true;
}

bool FakeProcessLauncher::Lose(const std::string& allocation_id) {
  std::lock_guard lock(mu_);
  Process* p = Latest(allocation_id);
  if (p == nullptr || p->state.kind != agent::ProcessState::Kind::kRunning) return false;
  p->state.kind = agent::ProcessState::Kind::kLost;
  p->state.message = "the replica's supervisor is gone (fake launcher)";
  return true;
}

Status FakeProcessLauncher::AppendOutput(const std::string& allocation_id,
                                         const std::string& text) {
  std::string path;
  {
    std::lock_guard lock(mu_);
    Process* p = Latest(allocation_id);
    if (p == nullptr) return NotFound("no process of " + allocation_id);
    path = p->spec.log_path;
  }
  return env_.AppendFile(path, text);
}

std::optional<FakeProcessLauncher::Process> FakeProcessLauncher::Find(
    const std::string& allocation_id) const {
  std::lock_guard lock(mu_);
  for (auto it = processes_.rbegin(); it != processes_.rend(); ++it) {
    if (it->allocation_id == allocation_id) return *it;
  }
  return std::nullopt;
}

std::vector<FakeProcessLauncher::Process> FakeProcessLauncher::launches() const {
  std::lock_guard lock(mu_);
  return processes_;
}

int FakeProcessLauncher::running() const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const Process& p : processes_)
    n += p.state.kind == agent::ProcessState::Kind::kRunning ? 1 : 0;
  return n;
}

}  // namespace fastgpu::testing

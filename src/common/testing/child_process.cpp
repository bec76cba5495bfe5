#include "common/testing/child_process.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <thread>
#include <utility>

namespace fastgpu::testing {

ShellRun RunShell(const std::string& command, const std::string& stderr_to) {
  ShellRun run;
  const std::string redirect = stderr_to.empty() ? " 2>&1" : " 2>>'" + stderr_to + "'";
  FILE* pipe = ::popen((command + redirect).c_str(), "r");
  if (pipe == nullptr) return run;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) run.out.append(buf, n);
  const int status = ::pclose(pipe);
  if (WIFEXITED(status)) {
    run.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    run.exit_code = 128 + WTERMSIG(status);
  }
  return run;
}

ChildProcess::ChildProcess(std::vector<std::string> argv, ChildOptions options)
    : stop_at_destruction_(options.stop_at_destruction) {
  if (argv.empty()) return;
  int log_fd = -1;
  if (!options.log_path.empty()) {
    const int mode = options.truncate_log ? O_TRUNC : O_APPEND;
    log_fd = ::open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | mode, 0644);
    if (log_fd < 0) return;
  }
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    if (options.parent_death_signal != 0) {
      ::prctl(PR_SET_PDEATHSIG, options.parent_death_signal);
      if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    }
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    if (log_fd >= 0) {
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
    }
    if (options.before_exec) options.before_exec();
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  if (log_fd >= 0) ::close(log_fd);
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exited_) Stop(stop_at_destruction_);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      exit_status_(other.exit_status_),
      exited_(other.exited_),
      stop_at_destruction_(other.stop_at_destruction_) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !exited_) Stop(stop_at_destruction_);
    pid_ = std::exchange(other.pid_, -1);
    exit_status_ = other.exit_status_;
    exited_ = other.exited_;
    stop_at_destruction_ = other.stop_at_destruction_;
  }
  return *this;
}

void ChildProcess::Reap(int wait_status) {
  exited_ = true;
  exit_status_ = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

bool ChildProcess::Alive() {
  if (pid_ <= 0 || exited_) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    Reap(status);
    return false;
  }
  return r == 0;
}

bool ChildProcess::Signal(int sig) { return Alive() && ::kill(pid_, sig) == 0; }

int ChildProcess::Stop(StopPolicy policy) {
  if (!Alive()) return exit_status_;
  ::kill(pid_, policy.signal);
  const auto deadline = std::chrono::steady_clock::now() + policy.grace;
  while (Alive()) {
    if (policy.signal == SIGKILL || std::chrono::steady_clock::now() >= deadline) {
      if (policy.signal != SIGKILL) ::kill(pid_, SIGKILL);
      return Wait();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return exit_status_;
}

int ChildProcess::Wait() {
  if (pid_ <= 0 || exited_) return exit_status_;
  int status = 0;
  pid_t r;
  while ((r = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
  }
  if (r == pid_) Reap(status);
  return exit_status_;
}

}  // namespace fastgpu::testing

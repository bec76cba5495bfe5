#include "tests/up_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace fastgpu::testing {
namespace {

int DecodeWaitStatus(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

UpProcess::UpProcess(std::vector<std::string> args, std::string log_path,
                     std::vector<std::string> wrapper, std::chrono::seconds start_timeout)
    : log_path_(std::move(log_path)) {
  std::vector<std::string> all = wrapper;
  all.push_back(FASTGPU_BINARY);
  all.insert(all.end(), args.begin(), args.end());
  all.push_back("--listen");
  all.push_back("127.0.0.1:0");
  int out = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out, 1);
    dup2(out, 2);
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(out);
  if (pid_ < 0) return;
  const std::string marker = "listening on http://127.0.0.1:";
  auto deadline = std::chrono::steady_clock::now() + start_timeout;
  while (std::chrono::steady_clock::now() < deadline && Alive()) {
    std::string text = output();
    size_t at = text.find(marker);
    size_t end = at == std::string::npos ? at : text.find('\n', at);
    if (end != std::string::npos) {
      port_ = std::atoi(text.substr(at + marker.size(), end - at - marker.size()).c_str());
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

UpProcess::~UpProcess() {
  if (pid_ > 0 && Alive()) Stop(SIGKILL);
}

bool UpProcess::Alive() {
  if (pid_ <= 0 || exit_status_ >= 0) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_status_ = DecodeWaitStatus(status);
    return false;
  }
  return r == 0;
}

int UpProcess::Stop(int sig, std::chrono::seconds timeout) {
  if (!Alive()) return exit_status_;
  kill(pid_, sig);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Alive()) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
      exit_status_ = DecodeWaitStatus(status);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return exit_status_;
}

std::string UpProcess::output() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace fastgpu::testing

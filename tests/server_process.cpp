#include "tests/server_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fastgpu::testing {

ServerProcess::ServerProcess(std::vector<std::string> args) {
  args.insert(args.begin(), FASTGPU_BINARY);
  args.push_back("--listen");
  args.push_back("127.0.0.1:0");
  int fds[2];
  if (pipe(fds) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  out_fd_ = fds[0];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  const std::string marker = "listening on http://127.0.0.1:";
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    char buf[4096];
    ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n <= 0) break;
    output_.append(buf, static_cast<size_t>(n));
    size_t at = output_.find(marker);
    if (at != std::string::npos) {
      size_t end = output_.find('\n', at);
      if (end == std::string::npos) continue;
      port_ = std::atoi(output_.substr(at + marker.size(), end - at - marker.size()).c_str());
      break;
    }
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Signal(SIGKILL);
  if (out_fd_ >= 0) close(out_fd_);
}

int ServerProcess::Signal(int sig) {
  if (pid_ <= 0) return -1;
  kill(pid_, sig);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  // Collect what it printed while stopping (without blocking once it is gone).
  char buf[4096];
  ssize_t n;
  while (out_fd_ >= 0 && (n = read(out_fd_, buf, sizeof buf)) > 0) {
    output_.append(buf, static_cast<size_t>(n));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

ScratchDir::ScratchDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "fastgpu-test-XXXXXX").string();
  char* made = mkdtemp(tmpl.data());
  path_ = made != nullptr ? made : "";
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace fastgpu::testing

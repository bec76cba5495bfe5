#include "tests/server_process.h"

#include <chrono>
#include <fstream>

#include "tests/listening_port.h"

namespace fastgpu::testing {

ServerProcess::ServerProcess(std::vector<std::string> args) {
  args.insert(args.begin(), FASTGPU_BINARY);
  args.push_back("--listen");
  args.push_back("127.0.0.1:0");
  ChildOptions options;
  options.log_path = log_dir_.path() + "/output.log";
  child_ = ChildProcess(std::move(args), options);
  if (child_.ok()) {
    port_ = WaitForListeningPort(child_, options.log_path, std::chrono::seconds(30));
  }
}

int ServerProcess::Signal(int sig) { return child_.Stop({sig, std::chrono::seconds(60)}); }

std::string ServerProcess::output() const { return ReadFile(log_dir_.path() + "/output.log"); }

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace fastgpu::testing

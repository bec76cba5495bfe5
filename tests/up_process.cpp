#include "tests/up_process.h"

#include "tests/listening_port.h"

namespace fastgpu::testing {

UpProcess::UpProcess(std::vector<std::string> args, std::string log_path,
                     std::vector<std::string> wrapper, std::chrono::seconds start_timeout)
    : log_path_(std::move(log_path)) {
  std::vector<std::string> argv = std::move(wrapper);
  argv.push_back(FASTGPU_BINARY);
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--listen");
  argv.push_back("127.0.0.1:0");
  ChildOptions options;
  options.log_path = log_path_;
  options.truncate_log = true;
  child_ = ChildProcess(std::move(argv), std::move(options));
  if (child_.ok()) port_ = WaitForListeningPort(child_, log_path_, start_timeout);
}

int UpProcess::Stop(int sig, std::chrono::seconds timeout) { return child_.Stop({sig, timeout}); }

std::string UpProcess::output() const { return ReadFile(log_path_); }

}  // namespace fastgpu::testing

#include "tests/test_util.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>

namespace fastgpu::testing {

CommandResult RunFastgpu(const std::string& args) {
  CommandResult result;
  std::string cmd = std::string(FASTGPU_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace fastgpu::testing

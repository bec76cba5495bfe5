#include "tests/test_util.h"

#include <utility>

#include "common/testing/child_process.h"

namespace fastgpu::testing {

CommandResult RunFastgpu(const std::string& args) {
  ShellRun run = RunShell(std::string(FASTGPU_BINARY) + " " + args);
  return CommandResult{run.exit_code, std::move(run.out)};
}

}  // namespace fastgpu::testing

// Helpers for tests that run the `fastgpu` binary.
#pragma once

#include <string>

namespace fastgpu::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `fastgpu <args>` (the binary built beside the tests) through the shell and
// captures its output. `args` is passed to /bin/sh as is.
CommandResult RunFastgpu(const std::string& args);

}  // namespace fastgpu::testing

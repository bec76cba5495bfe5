// The built `fastgpu` binary as a ChildProcess (common/testing/child_process.h) for tests
// of tests/: its stdout and stderr appended to a log file, SIGTERM when the test process
// dies, and stopped by the default policy (SIGTERM, 10 s, then SIGKILL) when the object
// goes. Header-only: FASTGPU_BINARY is defined for each test target.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/testing/child_process.h"

namespace fastgpu::testing {

// FASTGPU_BINARY with `args`; ok() is false when the log could not be opened.
inline ChildProcess StartFastgpu(std::vector<std::string> args, const std::string& log_path) {
  args.insert(args.begin(), FASTGPU_BINARY);
  ChildOptions options;
  options.log_path = log_path;
  return ChildProcess(std::move(args), std::move(options));
}

}  // namespace fastgpu::testing

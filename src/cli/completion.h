// Shell completion scripts generated from the command tree, so they never fall behind it:
// `fastgpu completion bash` / `fastgpu completion zsh` (zsh loads the bash function through
// bashcompinit).
//
// Pure functions of the parsed command definitions; thread-compatible.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "common/result.h"

namespace fastgpu::cli {

// The script for `shell` ("bash" or "zsh"); InvalidArgument for any other shell.
Result<std::string> CompletionScript(CLI::App& root, const std::string& shell);

}  // namespace fastgpu::cli

// The agent's sandbox flags, shared by `fastgpu agent` and `fastgpu up`
// (docs/security.md).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "agent/launcher.h"
#include "common/result.h"

namespace fastgpu::main {

struct SandboxFlags {
  bool enabled = true;
  std::string uids = "200000-299999";
  std::vector<std::string> hide;
};

// Adds --sandbox/--no-sandbox, --sandbox-uids and --sandbox-hide to `cmd`.
void AddSandboxFlags(CLI::App* cmd, const std::shared_ptr<SandboxFlags>& flags);

// The options the flags say; InvalidArgument for a bad uid range ("FIRST-LAST", first > 0)
// or a relative path.
Result<agent::SandboxOptions> SandboxOptionsFromFlags(const SandboxFlags& flags);

}  // namespace fastgpu::main

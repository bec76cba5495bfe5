// The agent's sandbox flags, shared by `fastgpu agent` and `fastgpu up`
// (docs/security-sandbox.md).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "agent/launcher.h"
#include "common/result.h"

namespace fastgpu {

struct SandboxFlags {
  bool enabled = true;
  std::string uids = "200000-299999";
  std::vector<std::string> hide;
  std::string gpu_dev_dir = "/dev";
};

// Adds --sandbox/--no-sandbox, --sandbox-uids, --sandbox-hide and --gpu-dev-dir to `cmd`.
void AddSandboxFlags(CLI::App* cmd, const std::shared_ptr<SandboxFlags>& flags);

// The options the flags say; InvalidArgument for a bad uid range ("FIRST-LAST", first > 0)
// or a relative path.
Result<SandboxOptions> SandboxOptionsFromFlags(const SandboxFlags& flags);

}  // namespace fastgpu

// Flags of `fastgpu agent` and `fastgpu up` for jobs with an image (agent/container.h):
// --registries, --container-runtime, --container-network, --container-runtime-args,
// --container-run-args.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "agent/container.h"
#include "common/result.h"

namespace fastgpu::main {

struct ContainerFlags {
  std::string registries = "localhost";  // comma-separated host[:port]; "" allows none
  std::string runtime = "podman";
  std::string network = "host";
  std::string runtime_args;  // split at whitespace
  std::string run_args;      // split at whitespace
};

void AddContainerFlags(CLI::App* cmd, ContainerFlags* flags);

// InvalidArgument naming the flag for a malformed registry entry.
Result<agent::ContainerOptions> ContainerOptionsFromFlags(const ContainerFlags& flags);

}  // namespace fastgpu::main

// Flags of `fastgpu agent` and `fastgpu up` for vm replicas (agent/vm_options.h,
// docs/vm-isolation.md): --vm-image, --vm-kernel, --vm-initrd, --vm-libvirt-uri,
// --vm-domain-type; and the internal `fastgpu vm-run --spec FILE` a vm replica's shim runs.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "agent/vm_options.h"
#include "common/result.h"

namespace fastgpu::main {

void AddVmFlags(CLI::App* cmd, agent::VmOptions* options);

// InvalidArgument for a --vm-domain-type other than auto, kvm or qemu, for --vm-image
// together with --vm-kernel, or for --vm-initrd without --vm-kernel. A missing file is no
// error here: the agent starts, logs it, and each vm replica fails with the reason.
Status CheckVmOptions(const agent::VmOptions& options);

// `fastgpu vm-run --spec FILE` (hidden): runs one vm replica's guest (agent/vm_runner.h).
void RegisterVmRunCommand(CLI::App& app, int* exit_code);

}  // namespace fastgpu::main

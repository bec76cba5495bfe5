// Leftover guests: at agent start, the vm domains this agent started for replicas it no
// longer runs (a crash between the guest's start and the replica's record, a state file
// lost or reset) are destroyed, so that nothing is left behind and a replica placed again
// under the same allocation id can start its guest (docs/vm-isolation.md).
//
// Thread-safe (no state); connects to libvirt.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "agent/vm_options.h"

namespace fastgpu::agent {

// Destroys each running domain named "fastgpu-<id>" whose id is not in `keep` (the
// replicas the agent re-adopts) and that is this agent's: its XML carries FastGPU's
// metadata and its serial output goes to <replicas_dir>/<id>/ (another agent on the same
// host has its own folder). Then removes that folder's serial files and gives back the
// vGPU instance it had set up; a disk image's overlay is transient and goes with the
// domain. Returns the names destroyed; nothing (and no error) when libvirt does not answer.
std::vector<std::string> DestroyLeftoverDomains(const VmOptions& vm,
                                                const std::string& replicas_dir,
                                                const std::set<std::string>& keep);

}  // namespace fastgpu::agent

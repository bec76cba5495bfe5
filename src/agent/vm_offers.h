// VM offers: what each GPU of this node offers to `vm` work, reported at registration
// (model::VmOffer; docs/vm-isolation.md) so that the scheduler places a `vm` replica only
// where it can run: a whole GPU where passthrough works, a fraction at a vGPU type's size.
//
//   real GPUs       passthrough when CheckPassthrough passes (IOMMU on, the GPU alone in its
//                   group), else its message is the offer's reason; the vGPU types of
//                   ListVgpuTypes, each once, with its share of the GPU
//                   (framebuffer * 1000 / GPU memory, rounded down, as SmallestVgpuTypeFor
//                   counts it).
//   simulated GPUs  passthrough, and the types of `simulated_vgpu_types` (ParseSimulatedVgpuTypes).
//   no guest        an agent started without --vm-image or --vm-kernel offers nothing:
//                   its vm replicas could not boot.
// A libvirt that does not answer is said in every GPU's reason (the offers stay: it may come
// back before the work arrives, and a replica placed meanwhile fails with that reason).
//
// Functions read sysfs under VmOptions::sysfs_root and may connect to libvirt; they never
// fail (what cannot be read is offered as nothing, with the reason). Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/gpu_inventory.h"
#include "agent/vm_options.h"
#include "common/result.h"
#include "model/gpu.h"

namespace fastgpu::agent {

// The vGPU types of a simulated GPU of `gpu_memory_mib` MiB, from `spec`:
//   ""        the default: shares 1/8, 1/4 and 1/2, named "<model>-<GiB>C" ("H100-80GB-10C");
//   "none"    no types (passthrough only);
//   "NAME:SHARE,..."  e.g. "A100-2-10C:0.25,A100-4-20C:0.5": each share a GPU amount
//             below 1 ("0.25", "250m"); names 1-128 characters without ',' or ':'.
// Sorted by share, smallest first. InvalidArgument naming the bad entry (at most
// model::kMaxVmGpuTypes types, no share repeated).
Result<std::vector<model::VmGpuType>> ParseSimulatedVgpuTypes(std::string_view spec,
                                                              std::string_view gpu_model,
                                                              int64_t gpu_memory_mib);

// The offer of each of `gpus` (same order) for an agent configured with `vm`.
// `libvirt_reason` is "" when libvirt answered, else why not (LibvirtReason).
std::vector<model::VmOffer> VmOffers(const VmOptions& vm, const std::vector<GpuSample>& gpus,
                                     const std::string& libvirt_reason);

// "" when libvirt at vm.libvirt_uri answers; else its message ("cannot connect to libvirt
// at ...: (is libvirtd running?)"). "" without a connection attempt when the agent has no
// guest configured (it runs no vm work).
std::string LibvirtReason(const VmOptions& vm);

// True when the agent is configured to boot vm guests (an image or a kernel).
inline bool VmConfigured(const VmOptions& vm) { return !vm.image.empty() || !vm.kernel.empty(); }

}  // namespace fastgpu::agent

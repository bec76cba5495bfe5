// What sysfs says about passing a GPU to a guest: its IOMMU group (VFIO passthrough of a
// whole GPU) and the vGPU types it offers (a fraction: an SR-IOV virtual function carrying
// a vGPU type on Ada/Hopper, a mediated device on older GPUs). Every path is under a root
// ("/sys" on a host; tests build a fake tree in a temp folder), read with plain POSIX calls.
//
// Thread-safe (no state).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace fastgpu::agent {

// OK when the PCI function `pci_address` ("0000:65:00.0") can be passed through alone:
// FailedPrecondition when sysfs does not list it, when the host has no IOMMU (no
// iommu_group link: "the host has no IOMMU ..."), or when its IOMMU group holds other
// devices (named in the message).
Status CheckPassthrough(const std::string& sysfs_root, const std::string& pci_address);

// One vGPU type a GPU offers.
struct VgpuType {
  std::string id;               // "nvidia-592" (mdev type dir) or the VF's type number "592"
  std::string name;             // "NVIDIA H100-20C"
  int64_t framebuffer_mib = 0;  // from the name's "-<N>C|Q|B|A" suffix, in GiB * 1024
  int available = 0;            // instances that can still be created
  // Where an instance comes from: an SR-IOV virtual function ("0000:65:00.4") whose
  // nvidia/current_vgpu_type is set to the id, or, for mdev, the parent GPU itself.
  std::string function;
  bool mdev = false;
};

// The vGPU types of the GPU at `pci_address`: for each of its virtual functions
// (virtfn*) with nvidia/creatable_vgpu_types (lines "592    : NVIDIA H100-20C"), the types
// it can still take; else the GPU's mdev_supported_types/<id>/{name,available_instances}.
// Empty when the GPU offers none. Sorted by framebuffer, smallest first.
std::vector<VgpuType> ListVgpuTypes(const std::string& sysfs_root, const std::string& pci_address);

// The smallest type whose share of `gpu_memory_mib` holds `milli`/1000 of the GPU
// (framebuffer_mib * 1000 >= milli * gpu_memory_mib) and that has an instance left;
// NotFound when none does.
Result<VgpuType> SmallestVgpuTypeFor(const std::vector<VgpuType>& types, int milli,
                                     int64_t gpu_memory_mib);

}  // namespace fastgpu::agent

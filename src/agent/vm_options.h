// VmOptions: how an agent runs vm replicas (docs/vm-isolation.md). Plain data.
#pragma once

#include <string>

namespace fastgpu::agent {

struct VmOptions {
  // libvirt's connection. Default "qemu:///system".
  std::string libvirt_uri = "qemu:///system";
  // What a guest boots: an operator's disk image (`--vm-image`, qcow2 or raw; used through
  // a transient overlay, never written), or a kernel and initramfs (`--vm-kernel`,
  // `--vm-initrd`; scripts/vm/make-initramfs.sh builds one). Default none: vm replicas
  // fail with that reason.
  std::string image;
  std::string kernel;
  std::string initrd;
  // "kvm", "qemu" (software emulation) or "auto" (default: kvm when /dev/kvm opens).
  std::string domain_type = "auto";
  // Where PCI devices, IOMMU groups and vGPU types are read. Default "/sys" (tests: a fake
  // tree).
  std::string sysfs_root = "/sys";
  // The binary that runs a replica's guest (`<self> vm-run --spec FILE`). Default "":
  // /proc/self/exe.
  std::string runner;
  // ---- offers at registration (vm_offers.h) ----
  // The vGPU types simulated GPUs offer (`--simulate-vgpu-types`): "NAME:SHARE,...", e.g.
  // "A100-2-10C:0.25,A100-4-20C:0.5", or "none". Default "": shares 1/8, 1/4 and 1/2 of
  // the GPU, named "<model>-<GiB>C".
  std::string simulated_vgpu_types;
};

}  // namespace fastgpu::agent

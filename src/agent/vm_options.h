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
};

}  // namespace fastgpu::agent

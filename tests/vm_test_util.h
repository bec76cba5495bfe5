// What the vm tests (label "vm") need of the host: QEMU, a running libvirt daemon (started
// by the tests, in the background, when none runs, and stopped when they end), a Debian
// kernel (/boot/vmlinuz-*) and a busybox initramfs built from scripts/vm. Tests skip with
// the reason when a piece is missing. One test process uses it at a time (ctest runs the
// vm tests under the resource lock "libvirt").
#pragma once

#include <memory>
#include <string>

namespace fastgpu::testing {

struct VmHost {
  std::string skip;    // non-empty: why the vm tests cannot run here
  std::string kernel;  // /boot/vmlinuz-...
  std::string initrd;  // built from scripts/vm/make-initramfs.sh into a temp folder
  std::string uri = "qemu:///system";
};

// Prepares the host once per test process (later calls return the same); libvirtd and
// virtlogd started here are stopped, and the initramfs removed, at process exit.
const VmHost& PrepareVmHost();

}  // namespace fastgpu::testing

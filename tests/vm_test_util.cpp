#include "tests/vm_test_util.h"

#include <glob.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "agent/libvirt.h"
#include "common/testing/child_process.h"
#include "common/testing/temp_dir.h"

#ifndef FASTGPU_SOURCE_DIR
#error "vm tests need FASTGPU_SOURCE_DIR"
#endif

namespace fastgpu::testing {
namespace {

bool Executable(const std::string& p) { return ::access(p.c_str(), X_OK) == 0; }

std::string NewestKernel() {
  glob_t g{};
  std::string best;
  if (::glob("/boot/vmlinuz-*", 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      if (::access(g.gl_pathv[i], R_OK) == 0) best = g.gl_pathv[i];
    }
  }
  ::globfree(&g);
  return best;
}

bool LibvirtAnswers(const std::string& uri) { return agent::OpenLibvirt(uri).ok(); }

struct Host {
  VmHost vm;
  std::unique_ptr<TempDir> dir;
  std::unique_ptr<ChildProcess> virtlogd;
  std::unique_ptr<ChildProcess> libvirtd;
};

void Prepare(Host* h) {
  VmHost& vm = h->vm;
  if (!Executable("/usr/bin/qemu-system-x86_64")) {
    vm.skip = "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)";
    return;
  }
  vm.kernel = NewestKernel();
  if (vm.kernel.empty()) {
    vm.skip = "no readable /boot/vmlinuz-* (apt-get install linux-image-amd64)";
    return;
  }
  if (!Executable("/bin/busybox")) {
    vm.skip = "no /bin/busybox (apt-get install busybox-static)";
    return;
  }
  if (!LibvirtAnswers(vm.uri)) {
    if (::geteuid() != 0 || !Executable("/usr/sbin/libvirtd")) {
      vm.skip =
          "libvirt at qemu:///system does not answer and cannot be started here "
          "(needs root and libvirt-daemon-system)";
      return;
    }
    // No daemon runs (a fresh CI machine without systemd): start one for the tests.
    ChildOptions quiet;
    quiet.log_path = "/dev/null";
    if (Executable("/usr/sbin/virtlogd")) {
      h->virtlogd =
          std::make_unique<ChildProcess>(std::vector<std::string>{"/usr/sbin/virtlogd"}, quiet);
    }
    h->libvirtd =
        std::make_unique<ChildProcess>(std::vector<std::string>{"/usr/sbin/libvirtd"}, quiet);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!LibvirtAnswers(vm.uri) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (!LibvirtAnswers(vm.uri)) {
      vm.skip = "libvirtd was started but does not answer at qemu:///system within 30 s";
      return;
    }
  }
  h->dir = std::make_unique<TempDir>();
  vm.initrd = h->dir->path() + "/guest.cpio.gz";
  ShellRun built =
      RunShell("bash " FASTGPU_SOURCE_DIR "/scripts/vm/make-initramfs.sh " + vm.initrd + " 2>&1");
  if (built.exit_code != 0) vm.skip = "could not build the guest initramfs: " + built.out;
}

}  // namespace

const VmHost& PrepareVmHost() {
  // Lives to process exit; its members then stop the daemons and remove the folder.
  static std::unique_ptr<Host> host = [] {
    auto h = std::make_unique<Host>();
    Prepare(h.get());
    return h;
  }();
  return host->vm;
}

}  // namespace fastgpu::testing

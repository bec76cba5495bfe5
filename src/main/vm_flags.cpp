#include "main/vm_flags.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <iostream>

#include "agent/libvirt.h"
#include "agent/vm_offers.h"
#include "agent/vm_runner.h"
#include "common/log.h"

namespace fastgpu::main {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void OnStopSignal(int) { g_stop = true; }

}  // namespace

void AddVmFlags(CLI::App* cmd, agent::VmOptions* o) {
  cmd->add_option("--vm-image", o->image,
                  "vm replicas: the guest's disk image (qcow2 or raw, never written: each guest "
                  "runs on a transient overlay)");
  cmd->add_option("--vm-kernel", o->kernel,
                  "vm replicas: boot this kernel directly (with --vm-initrd) instead of an image");
  cmd->add_option("--vm-initrd", o->initrd,
                  "vm replicas: the initramfs of --vm-kernel (scripts/vm/make-initramfs.sh)");
  cmd->add_option("--vm-libvirt-uri", o->libvirt_uri, "vm replicas: libvirt's connection URI")
      ->capture_default_str();
  cmd->add_option("--vm-domain-type", o->domain_type,
                  "vm replicas: kvm, qemu (software emulation) or auto (kvm when /dev/kvm opens)")
      ->capture_default_str();
  cmd->add_option("--simulate-vgpu-types", o->simulated_vgpu_types,
                  "vm replicas on simulated GPUs: the vGPU types each GPU offers, NAME:SHARE,... "
                  "(e.g. A100-2-10C:0.25,A100-4-20C:0.5) or none (default: shares 1/8, 1/4 and "
                  "1/2 of the GPU, named <model>-<GiB>C)");
}

Status CheckVmOptions(const agent::VmOptions& o) {
  if (o.domain_type != "auto" && o.domain_type != "kvm" && o.domain_type != "qemu") {
    return InvalidArgument("--vm-domain-type must be auto, kvm or qemu, not '" + o.domain_type +
                           "'");
  }
  if (!o.image.empty() && !o.kernel.empty()) {
    return InvalidArgument("--vm-image and --vm-kernel exclude each other");
  }
  if (!o.initrd.empty() && o.kernel.empty()) {
    return InvalidArgument("--vm-initrd needs --vm-kernel");
  }
  if (Result<std::vector<model::VmGpuType>> types =
          agent::ParseSimulatedVgpuTypes(o.simulated_vgpu_types, "GPU", 81920);
      !types.ok()) {
    return types.status();
  }
  for (const std::string* p : {&o.image, &o.kernel, &o.initrd}) {
    struct stat st {};
    if (!p->empty() && ::stat(p->c_str(), &st) != 0) {
      spdlog::warn("vm isolation: {} does not exist; vm replicas will fail until it does", *p);
    }
  }
  return OkStatus();
}

void RegisterVmRunCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("vm-run", "Run one vm replica's guest (started by the agent)");
  cmd->group("");  // internal: not listed in the help
  static std::string spec;
  cmd->add_option("--spec", spec, "the replica's vm-run.json")->required();
  cmd->callback([exit_code] {
    Result<agent::VmRun> run = agent::ReadVmRun(spec);
    if (!run.ok()) {
      std::cerr << "fastgpu vm: " << run.status().message() << "\n";
      *exit_code = agent::kVmRunFailed;
      return;
    }
    struct sigaction sa {};
    sa.sa_handler = OnStopSignal;
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGINT, &sa, nullptr);
    auto hv = agent::OpenLibvirt(run->uri);
    if (!hv.ok()) {
      std::cerr << "fastgpu vm: " << hv.status().message() << "\n";
      *exit_code = agent::kVmRunFailed;
      return;
    }
    int code = agent::RunVm(*run, **hv, STDOUT_FILENO, STDERR_FILENO, g_stop);
    hv->reset();
    if (code < 0) {  // stopped: end as the signal would have, like any other workload
      ::signal(SIGTERM, SIG_DFL);
      ::raise(SIGTERM);
    }
    *exit_code = code;
  });
}

}  // namespace fastgpu::main

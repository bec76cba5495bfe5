// vm: the strongest isolation, a KVM guest per replica through libvirt
// (docs/vm-isolation.md). A whole GPU is passed through by VFIO (a hostdev by the PCI
// address NVML reports, refused when its IOMMU group holds other devices or the host has no
// IOMMU); a fraction takes the smallest vGPU type of the GPU that holds it (an SR-IOV
// virtual function, or a mediated device on older GPUs; vgpu_sysfs.h). The shim runs
// `fastgpu vm-run` (vm_runner.h), which starts the guest, streams its output into the
// replica's log and exits with the guest's exit code; a stop destroys the guest; Release
// destroys one a killed runner left. On simulated GPUs the guest boots without a device.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <random>
#include <sstream>

#include "agent/files.h"
#include "agent/isolation_internal.h"
#include "agent/libvirt.h"
#include "agent/vgpu_sysfs.h"
#include "agent/vm_domain.h"
#include "agent/vm_leftovers.h"
#include "agent/vm_runner.h"
#include "common/log.h"

namespace fastgpu::agent {
namespace {

bool IsFile(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string Nonce() {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string n = "fgx";
  for (int i = 0; i < 16; ++i) n += kHex[rd() % 16];
  return n;
}

std::string SelfExe() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "fastgpu";
}

Status WriteSysfs(const std::string& path, const std::string& value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return FailedPrecondition("cannot open " + path + ": " + std::strerror(errno));
  ssize_t n = ::write(fd, value.data(), value.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(value.size())) {
    return FailedPrecondition("cannot write " + value + " to " + path + ": " + std::strerror(err));
  }
  return OkStatus();
}

// What a replica's vGPU instance was, kept in its folder for Release: "vf <addr>" or
// "mdev <parent> <uuid>".
std::string VgpuFile(const std::string& dir) { return dir + "/vm-vgpu"; }
std::string VgpuFile(const ReplicaRecord& rec) { return VgpuFile(rec.dir); }

// Gives back the vGPU instance a replica (folder `dir`, allocation `id`) set up, if any.
void ReleaseVgpu(const VmOptions& vm, const std::string& dir, const std::string& id) {
  auto text = ReadWholeFile(VgpuFile(dir), 4096);
  if (!text.ok()) return;
  std::istringstream in(*text);
  std::string kind, function, uuid;
  in >> kind >> function >> uuid;
  const std::string dev = vm.sysfs_root + "/bus/pci/devices/" + function;
  Status st = kind == "vf" ? WriteSysfs(dev + "/nvidia/current_vgpu_type", "0")
              : kind == "mdev"
                  ? WriteSysfs(vm.sysfs_root + "/bus/mdev/devices/" + uuid + "/remove", "1")
                  : OkStatus();
  if (!st.ok()) spdlog::warn("replica {}: vGPU not released: {}", id, st.message());
  ::unlink(VgpuFile(dir).c_str());
}

// Removes what a replica's guest leaves in its folder: the serial files and the vGPU.
void RemoveGuestFiles(const VmOptions& vm, const std::string& dir, const std::string& id) {
  ::unlink((dir + "/vm-serial.log").c_str());
  ::unlink((dir + "/vm-console.log").c_str());
  ReleaseVgpu(vm, dir, id);
}

class Vm final : public IsolationMode {
 public:
  model::Isolation Kind() const override { return model::Isolation::kVm; }

  Result<SliceGrant> PlaceSlice(const SliceRequest& r) const override {
    if (r.slice.milli == 1000) {
      FASTGPU_RETURN_IF_ERROR(CheckPlainGpu(Kind(), r));
      if (!r.others.modes.empty()) {
        return ResourceExhausted("vm isolation: " + GpuName(r.gpu.gpu.index) +
                                 " already runs other replicas");
      }
      return SliceGrant{r.gpu.gpu.index, r.gpu.gpu.uuid, "", 1000, r.gpu.gpu.memory_mib};
    }
    // A fraction: beside other vm fractions only; the vGPU type is picked at launch.
    return PlaceFraction(Kind(), r);
  }

  void SetEnvironment(const std::vector<SliceGrant>& grants, const PlanContext& context,
                      VgpuPlan* plan) const override {
    const SliceGrant& g = grants.front();
    if (grants.size() == 1 && g.milli < 1000) {
      plan->env["FASTGPU_GPU_MILLI"] = std::to_string(g.milli);
      plan->env["FASTGPU_GPU_MEMORY_MIB"] = std::to_string(g.memory_mib);
    }
    if (context.simulated) plan->note = "simulated GPU: the guest boots without a GPU";
  }

  bool OwnGuest() const override { return true; }

  Status PrepareLaunch(const protocol::DesiredReplica& want, const ReplicaRecord& rec,
                       const std::vector<GpuSample>& gpus, IsolationServices& services,
                       LaunchSpec* spec) const override {
    static const VmOptions kNone;
    const VmOptions& vm = services.vm != nullptr ? *services.vm : kNone;
    auto fail = [](const std::string& why) { return FailedPrecondition("vm isolation: " + why); };
    VmDomainSpec d;
    d.name = VmDomainName(rec.id());
    d.allocation_id = rec.id();
    if (!vm.image.empty()) {
      if (!IsFile(vm.image))
        return fail("the guest image " + vm.image + " does not exist (--vm-image)");
      d.disk_image = vm.image;
      char magic[4] = {};
      int fd = ::open(vm.image.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::read(fd, magic, 4) != 4) {
        if (fd >= 0) ::close(fd);
        return fail("cannot read the guest image " + vm.image + " (--vm-image)");
      }
      ::close(fd);
      d.disk_format = std::string(magic, 4) == "QFI\xfb" ? "qcow2" : "raw";
    } else if (!vm.kernel.empty()) {
      if (!IsFile(vm.kernel))
        return fail("the guest kernel " + vm.kernel + " does not exist (--vm-kernel)");
      if (!vm.initrd.empty() && !IsFile(vm.initrd)) {
        return fail("the guest initramfs " + vm.initrd + " does not exist (--vm-initrd)");
      }
      d.kernel = vm.kernel;
      d.initrd = vm.initrd;
    } else {
      return fail(
          "this agent has no guest to boot (start it with --vm-image, or --vm-kernel and "
          "--vm-initrd)");
    }
    d.domain_type = vm.domain_type;
    if (d.domain_type == "auto") {
      int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
      d.domain_type = fd >= 0 ? "kvm" : "qemu";
      if (fd >= 0) ::close(fd);
    }
    d.vcpus = std::max<int>(1, static_cast<int>((want.allocation.cpu_milli + 999) / 1000));
    d.memory_mib =
        want.allocation.memory_mib > 0 ? std::max<int64_t>(64, want.allocation.memory_mib) : 512;
    d.console_path = rec.dir + "/vm-console.log";
    d.output_path = rec.dir + "/vm-serial.log";
    // The GPUs: whole ones by VFIO passthrough, a fraction as a vGPU instance.
    for (const model::VgpuSlice& s : want.allocation.slices) {
      auto g = std::find_if(gpus.begin(), gpus.end(),
                            [&](const GpuSample& x) { return x.gpu.index == s.gpu_index; });
      if (g == gpus.end()) return fail(GpuName(s.gpu_index) + " is gone");
      if (g->gpu.simulated) continue;
      if (s.milli == 1000) {
        if (Status st = CheckPassthrough(vm.sysfs_root, g->pci_address); !st.ok()) {
          return fail(GpuName(s.gpu_index) + ": " + st.message());
        }
        d.hostdevs.push_back({g->pci_address, "", true});
        continue;
      }
      FASTGPU_ASSIGN_OR_RETURN(VmHostdev dev, CreateVgpu(vm, *g, s, rec));
      d.hostdevs.push_back(dev);
    }
    // The workload: its command and the job's and the isolation's variables (the host's
    // own, such as HOME, mean nothing in the guest).
    std::map<std::string, std::string> env = want.env;
    for (const auto& [k, v] : spec->env) {
      if (k.rfind("FASTGPU_", 0) == 0 || k.rfind("CUDA_", 0) == 0 || k.rfind("NVIDIA_", 0) == 0) {
        env[k] = v;
      }
    }
    const std::string nonce = Nonce();
    const std::string payload = Base64Encode(GuestScript(want.command, env));
    if (!d.kernel.empty()) {
      if (payload.size() > kMaxKernelPayload) {
        return fail("the command and environment take " + std::to_string(payload.size()) +
                    " bytes in base64, more than the kernel command line holds (" +
                    std::to_string(kMaxKernelPayload) + "); boot a disk image (--vm-image)");
      }
      d.kernel_args = GuestKernelArgs(nonce, payload);
    }
    d.oem_strings = {"fastgpu.nonce=" + nonce + " fastgpu.cmd=" + payload};
    Result<std::string> xml = BuildDomainXml(d);
    if (!xml.ok()) return fail(xml.status().message());
    const std::string xml_path = rec.dir + "/vm-domain.xml";
    FASTGPU_RETURN_IF_ERROR(WriteFileAtomically(services.env, xml_path, *xml));
    // libvirt must answer before the replica is said to run.
    Result<std::unique_ptr<Hypervisor>> hv = OpenLibvirt(vm.libvirt_uri);
    if (!hv.ok()) return fail(hv.status().message());
    VmRun run{vm.libvirt_uri, d.name, xml_path, d.output_path, d.console_path, nonce};
    const std::string run_path = rec.dir + "/vm-run.json";
    if (Status st = WriteVmRun(run_path, run); !st.ok()) return fail(st.message());
    spec->argv = {vm.runner.empty() ? SelfExe() : vm.runner, "vm-run", "--spec", run_path};
    return OkStatus();
  }

  void Release(const ReplicaRecord& rec, IsolationServices& services) const override {
    static const VmOptions kNone;
    const VmOptions& vm = services.vm != nullptr ? *services.vm : kNone;
    // A runner killed before it could destroy its guest leaves it running.
    if (auto hv = OpenLibvirt(vm.libvirt_uri); hv.ok()) {
      if (Result<bool> up = (*hv)->Running(VmDomainName(rec.id())); up.ok() && *up) {
        spdlog::warn("replica {}: destroying its guest left running", rec.id());
        (*hv)->Destroy(VmDomainName(rec.id())).IgnoreError();
      }
    }
    RemoveGuestFiles(vm, rec.dir, rec.id());
  }

 private:
  // Makes a vGPU instance of the slice's type (the one the scheduler placed it as), or,
  // for a slice from an older control plane that names none, of the smallest type that
  // holds its share of the GPU.
  Result<VmHostdev> CreateVgpu(const VmOptions& vm, const GpuSample& g, const model::VgpuSlice& s,
                               const ReplicaRecord& rec) const {
    const int milli = s.milli;
    const std::string name = GpuName(g.gpu.index);
    std::vector<VgpuType> types = ListVgpuTypes(vm.sysfs_root, g.pci_address);
    // A slice placed as a named type whose instances are all taken (no free VF lists it any
    // more) says that the type no longer fits, below.
    if (types.empty() && s.vm_type.empty()) {
      return FailedPrecondition("vm isolation: " + name +
                                " offers no vGPU type (no SR-IOV vGPU or mdev support: "
                                "install NVIDIA's vGPU host driver)");
    }
    Result<VgpuType> t = NotFound("");
    if (!s.vm_type.empty()) {
      auto it = std::find_if(types.begin(), types.end(), [&](const VgpuType& x) {
        return x.name == s.vm_type && x.available > 0;
      });
      if (it == types.end()) {
        return FailedPrecondition("vm isolation: " + name + ": the vGPU type " + s.vm_type +
                                  " no longer fits (no instance of it can be created now)");
      }
      t = *it;
    } else {
      t = SmallestVgpuTypeFor(types, milli, g.gpu.memory_mib);
    }
    if (!t.ok()) {
      return FailedPrecondition("vm isolation: " + name +
                                ": no vGPU type fits any more: " + t.status().message());
    }
    const std::string dev = vm.sysfs_root + "/bus/pci/devices/";
    if (!t->mdev) {
      FASTGPU_RETURN_IF_ERROR(WriteSysfs(dev + t->function + "/nvidia/current_vgpu_type", t->id));
      WriteFileAtomically(PosixFileEnv(), VgpuFile(rec), "vf " + t->function).IgnoreError();
      return VmHostdev{t->function, "", false};
    }
    // A random (version 4) UUID names the mediated device.
    std::string hex = Nonce().substr(3) + Nonce().substr(3);  // 32 hex digits
    hex[12] = '4';
    hex[16] = '8';
    const std::string uuid = hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) +
                             "-" + hex.substr(16, 4) + "-" + hex.substr(20, 12);
    FASTGPU_RETURN_IF_ERROR(
        WriteSysfs(dev + t->function + "/mdev_supported_types/" + t->id + "/create", uuid));
    WriteFileAtomically(PosixFileEnv(), VgpuFile(rec), "mdev " + t->function + " " + uuid)
        .IgnoreError();
    return VmHostdev{"", uuid, true};
  }
};

}  // namespace

std::vector<std::string> DestroyLeftoverDomains(const VmOptions& vm,
                                                const std::string& replicas_dir,
                                                const std::set<std::string>& keep) {
  std::vector<std::string> destroyed;
  Result<std::unique_ptr<Hypervisor>> hv = OpenLibvirt(vm.libvirt_uri);
  if (!hv.ok()) return destroyed;
  Result<std::vector<std::string>> names = (*hv)->List(kVmDomainPrefix);
  if (!names.ok()) return destroyed;
  for (const std::string& name : *names) {
    const std::string id = name.substr(std::string_view(kVmDomainPrefix).size());
    if (id.empty() || keep.contains(id)) continue;
    Result<std::string> xml = (*hv)->Xml(name);
    if (!xml.ok()) continue;
    // Ours: FastGPU's metadata naming this allocation, and the guest's serial files in
    // this agent's replica folder (another agent on the host keeps its own).
    const std::string dir = replicas_dir + "/" + id;
    const bool ours = xml->find("https://fastgpu.dev/xmlns/vm/1") != std::string::npos &&
                      xml->find(dir + "/vm-serial.log") != std::string::npos;
    if (!ours) continue;
    if (Status st = (*hv)->Destroy(name); !st.ok()) {
      spdlog::warn("agent: cannot destroy the leftover guest {}: {}", name, st.message());
      continue;
    }
    RemoveGuestFiles(vm, dir, id);
    destroyed.push_back(name);
  }
  return destroyed;
}

const IsolationMode& VmIsolation() {
  static const Vm mode;
  return mode;
}

}  // namespace fastgpu::agent

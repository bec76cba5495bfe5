#include "agent/vgpu_sysfs.h"

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "agent/files.h"

namespace fastgpu::agent {
namespace {

bool Exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::string ReadTrimmed(const std::string& p) {
  auto r = ReadWholeFile(p, 1 << 16);
  return r.ok() ? Trim(*r) : "";
}

// The base name a symlink points to ("../../../0000:65:00.4" -> "0000:65:00.4").
std::string LinkTarget(const std::string& p) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(p.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string t(buf, static_cast<size_t>(n));
  size_t slash = t.rfind('/');
  return slash == std::string::npos ? t : t.substr(slash + 1);
}

// "NVIDIA H100-20C" -> 20480; 0 when the name carries no size.
int64_t FramebufferFromName(const std::string& name) {
  size_t dash = name.rfind('-');
  if (dash == std::string::npos) return 0;
  size_t i = dash + 1;
  int64_t gib = 0;
  bool digits = false;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) {
    gib = gib * 10 + (name[i++] - '0');
    digits = true;
  }
  return digits ? gib * 1024 : 0;
}

}  // namespace

Status CheckPassthrough(const std::string& sysfs_root, const std::string& pci_address) {
  const std::string dev = sysfs_root + "/bus/pci/devices/" + pci_address;
  if (pci_address.empty() || !Exists(dev)) {
    return FailedPrecondition("PCI device " + pci_address + " is not in " + sysfs_root +
                              "/bus/pci/devices");
  }
  const std::string group = LinkTarget(dev + "/iommu_group");
  if (group.empty()) {
    return FailedPrecondition(
        "the host has no IOMMU (" + pci_address +
        " has no IOMMU group): turn on VT-d or AMD-Vi in the firmware and boot with "
        "intel_iommu=on iommu=pt (docs/vm-isolation.md)");
  }
  std::vector<std::string> others;
  for (const std::string& d : ListDir(dev + "/iommu_group/devices")) {
    if (d != pci_address) others.push_back(d);
  }
  if (!others.empty()) {
    std::string list;
    for (const std::string& o : others) list += (list.empty() ? "" : ", ") + o;
    return FailedPrecondition("IOMMU group " + group + " of " + pci_address + " also holds " +
                              list +
                              ": the GPU cannot be passed through alone (move it to another "
                              "slot, or pass the whole group)");
  }
  return OkStatus();
}

std::vector<VgpuType> ListVgpuTypes(const std::string& sysfs_root, const std::string& pci_address) {
  const std::string dev = sysfs_root + "/bus/pci/devices/" + pci_address;
  std::vector<VgpuType> types;
  // SR-IOV (Ada, Hopper): each free VF lists what it can still become.
  for (const std::string& entry : ListDir(dev)) {
    if (entry.rfind("virtfn", 0) != 0) continue;
    const std::string vf = LinkTarget(dev + "/" + entry);
    const std::string vf_dir = sysfs_root + "/bus/pci/devices/" + vf;
    if (vf.empty() || !Exists(vf_dir)) continue;
    std::string current = ReadTrimmed(vf_dir + "/nvidia/current_vgpu_type");
    if (!current.empty() && current != "0") continue;  // taken
    std::istringstream lines(ReadTrimmed(vf_dir + "/nvidia/creatable_vgpu_types"));
    for (std::string line; std::getline(lines, line);) {
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      VgpuType t;
      t.id = Trim(line.substr(0, colon));
      t.name = Trim(line.substr(colon + 1));
      if (t.id.empty() || t.id.find_first_not_of("0123456789") != std::string::npos) continue;
      t.framebuffer_mib = FramebufferFromName(t.name);
      t.function = vf;
      auto same =
          std::find_if(types.begin(), types.end(), [&](const VgpuType& o) { return o.id == t.id; });
      if (same != types.end()) {
        ++same->available;
      } else {
        t.available = 1;
        types.push_back(std::move(t));
      }
    }
  }
  if (types.empty()) {  // mediated devices (older GPUs)
    for (const std::string& id : ListDir(dev + "/mdev_supported_types")) {
      const std::string d = dev + "/mdev_supported_types/" + id;
      VgpuType t;
      t.id = id;
      t.name = ReadTrimmed(d + "/name");
      t.framebuffer_mib = FramebufferFromName(t.name);
      t.available = std::atoi(ReadTrimmed(d + "/available_instances").c_str());
      t.function = pci_address;
      t.mdev = true;
      types.push_back(std::move(t));
    }
  }
  std::stable_sort(types.begin(), types.end(), [](const VgpuType& a, const VgpuType& b) {
    return a.framebuffer_mib < b.framebuffer_mib;
  });
  return types;
}

Result<VgpuType> SmallestVgpuTypeFor(const std::vector<VgpuType>& types, int milli,
                                     int64_t gpu_memory_mib) {
  for (const VgpuType& t : types) {
    if (t.available > 0 && t.framebuffer_mib > 0 &&
        t.framebuffer_mib * 1000 >= int64_t{milli} * gpu_memory_mib) {
      return t;
    }
  }
  return NotFound("no vGPU type with an instance left holds " + std::to_string(milli) +
                  "/1000 of the GPU");
}

}  // namespace fastgpu::agent

#include "agent/vm_offers.h"

#include <algorithm>
#include <cmath>

#include "agent/libvirt.h"
#include "agent/vgpu_sysfs.h"
#include "model/units.h"

namespace fastgpu::agent {

Result<std::vector<model::VmGpuType>> ParseSimulatedVgpuTypes(std::string_view spec,
                                                              std::string_view gpu_model,
                                                              int64_t gpu_memory_mib) {
  std::vector<model::VmGpuType> types;
  auto framebuffer = [&](int milli) { return gpu_memory_mib * milli / 1000; };
  if (spec == "none") return types;
  if (spec.empty()) {
    for (int milli : {125, 250, 500}) {
      const int64_t mib = framebuffer(milli);
      const int64_t gib = std::max<int64_t>(1, (mib + 512) / 1024);
      types.push_back({std::string(gpu_model) + "-" + std::to_string(gib) + "C", milli, mib});
    }
    return types;
  }
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    if (comma == std::string_view::npos) comma = spec.size();
    const std::string_view entry = spec.substr(start, comma - start);
    const std::string where = "--simulate-vgpu-types entry '" + std::string(entry) + "'";
    const size_t colon = entry.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      return InvalidArgument(where + ": must be NAME:SHARE, e.g. A100-2-10C:0.25");
    }
    const std::string name(entry.substr(0, colon));
    if (name.size() > 128 || name.find(':') != std::string::npos) {
      return InvalidArgument(where + ": the name must be 1-128 characters without ':'");
    }
    Result<model::GpuAmount> share = model::ParseGpuAmount(entry.substr(colon + 1));
    if (!share.ok() || share->count != 1 || share->milli_per_gpu >= 1000) {
      return InvalidArgument(where + ": the share must be a fraction of one GPU, e.g. 0.25");
    }
    const int milli = share->milli_per_gpu;
    for (const model::VmGpuType& t : types) {
      if (t.milli == milli) return InvalidArgument(where + ": share repeats " + t.name + "'s");
    }
    types.push_back({name, milli, framebuffer(milli)});
    if (types.size() > static_cast<size_t>(model::kMaxVmGpuTypes)) {
      return InvalidArgument("--simulate-vgpu-types: at most " +
                             std::to_string(model::kMaxVmGpuTypes) + " types");
    }
    start = comma + 1;
  }
  std::sort(types.begin(), types.end(),
            [](const model::VmGpuType& a, const model::VmGpuType& b) { return a.milli < b.milli; });
  return types;
}

std::string LibvirtReason(const VmOptions& vm) {
  if (!VmConfigured(vm)) return "";
  Result<std::unique_ptr<Hypervisor>> hv = OpenLibvirt(vm.libvirt_uri);
  return hv.ok() ? "" : hv.status().message();
}

std::vector<model::VmOffer> VmOffers(const VmOptions& vm, const std::vector<GpuSample>& gpus,
                                     const std::string& libvirt_reason) {
  std::vector<model::VmOffer> offers(gpus.size());
  if (!VmConfigured(vm)) return offers;
  for (size_t i = 0; i < gpus.size(); ++i) {
    const GpuSample& g = gpus[i];
    model::VmOffer& offer = offers[i];
    std::vector<std::string> reasons;
    if (g.gpu.simulated) {
      offer.passthrough = true;
      Result<std::vector<model::VmGpuType>> types =
          ParseSimulatedVgpuTypes(vm.simulated_vgpu_types, g.gpu.model, g.gpu.memory_mib);
      if (types.ok()) {
        offer.types = std::move(types).value();
      } else {
        reasons.push_back(types.status().message());  // CheckVmOptions refuses it at start
      }
    } else if (g.pci_address.empty()) {
      reasons.push_back("the GPU's PCI address is unknown");
    } else {
      if (Status st = CheckPassthrough(vm.sysfs_root, g.pci_address); st.ok()) {
        offer.passthrough = true;
      } else {
        reasons.push_back(st.message());
      }
      for (const VgpuType& t : ListVgpuTypes(vm.sysfs_root, g.pci_address)) {
        if (g.gpu.memory_mib <= 0 || t.framebuffer_mib <= 0) continue;
        const int milli = static_cast<int>(
            std::min<int64_t>(1000, t.framebuffer_mib * 1000 / g.gpu.memory_mib));
        if (milli < 1 || milli >= 1000) continue;  // a whole GPU goes by passthrough
        const bool known = std::any_of(offer.types.begin(), offer.types.end(),
                                       [&](const model::VmGpuType& x) { return x.name == t.name; });
        if (!known) offer.types.push_back({t.name, milli, t.framebuffer_mib});
      }
      std::stable_sort(
          offer.types.begin(), offer.types.end(),
          [](const model::VmGpuType& a, const model::VmGpuType& b) { return a.milli < b.milli; });
      if (offer.types.size() > static_cast<size_t>(model::kMaxVmGpuTypes)) {
        offer.types.resize(model::kMaxVmGpuTypes);
      }
      if (offer.types.empty()) {
        reasons.push_back("no vGPU type (no SR-IOV vGPU or mdev support: NVIDIA's vGPU host "
                          "driver is not installed)");
      }
    }
    if (!libvirt_reason.empty()) reasons.push_back(libvirt_reason);
    for (const std::string& r : reasons) offer.reason += (offer.reason.empty() ? "" : "; ") + r;
  }
  return offers;
}

}  // namespace fastgpu::agent

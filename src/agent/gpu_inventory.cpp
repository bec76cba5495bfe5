#include "agent/gpu_inventory.h"

#include "agent/fake_inventory.h"
#include "agent/nvml_inventory.h"

namespace fastgpu::agent {

std::string GpuDevicePath(const GpuSample& gpu, const std::string& dev_dir) {
  int n = gpu.device_minor >= 0 ? gpu.device_minor : gpu.gpu.index;
  return dev_dir + "/nvidia" + std::to_string(n);
}

Result<std::unique_ptr<GpuInventory>> OpenGpuInventory(const InventoryChoice& choice,
                                                       std::string* note) {
  auto fake = [&](const std::string& spec,
                  const std::string& why) -> Result<std::unique_ptr<GpuInventory>> {
    FASTGPU_ASSIGN_OR_RETURN(auto inv,
                             FakeGpuInventory::Create(spec, choice.uuid_seed, choice.fault_file));
    if (note != nullptr) *note = "simulated GPUs " + spec + " (" + why + ")";
    return std::unique_ptr<GpuInventory>(std::move(inv));
  };
  if (!choice.simulate.empty()) return fake(choice.simulate, "asked for");
  auto nvml = NvmlGpuInventory::Open();
  if (nvml.ok()) {
    if (note != nullptr) *note = (*nvml)->Describe();
    return std::unique_ptr<GpuInventory>(std::move(nvml).value());
  }
  if (!choice.fallback_simulate.empty()) {
    return fake(choice.fallback_simulate, nvml.status().message());
  }
  return nvml.status();
}

}  // namespace fastgpu::agent

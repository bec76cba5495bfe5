// NvmlGpuInventory: the real GPUs, read through NVML loaded at run time.
//
// Open() dlopens libnvidia-ml.so.1 (the driver's library) and resolves the few
// functions it uses by name, so the build needs no NVIDIA header or library and a
// machine without the driver gets a clear "no NVML" error instead of a crash. It reads
// count, UUID, name (mapped to a catalogue model, gpu_names.h), memory, utilisation,
// temperature, power, volatile ECC counts, MIG mode and the existing MIG instances, and
// XID events through an NVML event set. A GPU whose calls answer "GPU is lost" is
// reported present == false. It never creates or destroys MIG instances.
//
// Thread safety: one thread at a time (NVML itself is thread-safe; this object's event
// set and handle table are not guarded).
#pragma once

#include <memory>
#include <string>

#include "agent/gpu_inventory.h"

namespace fastgpu::agent {

class NvmlGpuInventory final : public GpuInventory {
 public:
  // Unavailable "no NVML: ..." when the library cannot be loaded, lacks a required
  // function, fails to initialise, or finds no GPU. `library` is the dlopen name.
  static Result<std::unique_ptr<NvmlGpuInventory>> Open(
      const std::string& library = "libnvidia-ml.so.1");
  ~NvmlGpuInventory() override;

  Result<std::vector<GpuSample>> Sample() override;
  std::vector<GpuEvent> DrainEvents() override;
  bool simulated() const override { return false; }
  std::string Describe() const override;

  struct Api;  // the resolved NVML entry points (nvml_inventory.cpp)

 private:
  NvmlGpuInventory() = default;
  std::unique_ptr<Api> api_;
};

}  // namespace fastgpu::agent

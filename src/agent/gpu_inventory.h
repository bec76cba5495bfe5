// GpuInventory: what the agent knows about the GPUs of its machine.
//
// Two implementations: NvmlGpuInventory (nvml_inventory.h) loads libnvidia-ml.so.1
// with dlopen at run time, so the build needs no NVIDIA package; FakeGpuInventory
// (fake_inventory.h) simulates GPUs from a spec such as "4xH100-80GB" for tests and
// machines without GPUs, and can inject faults.
//
// Thread safety: an inventory is used by one thread (the agent's loop); the fake's
// fault-injection methods may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "model/gpu.h"

namespace fastgpu::agent {

// An existing MIG instance (GPU instance + compute instance) on a GPU in MIG mode.
struct MigInstance {
  std::string uuid;        // "MIG-..." as CUDA_VISIBLE_DEVICES accepts it
  std::string profile;     // "1g.10gb", "3g.40gb", ... ("" when NVML does not say)
  int64_t memory_mib = 0;  // memory of the instance
};

// One reading of one GPU. `gpu.healthy`/`gpu.health_reason` are left for the health
// tracker (health.h) to fill in; the inventory reports raw facts only.
struct GpuSample {
  model::Gpu gpu;            // index, uuid, model, memory_mib, mig_enabled, simulated
  std::string product_name;  // as NVML names it, e.g. "NVIDIA H100 80GB HBM3"
  // N of the GPU's device node /dev/nvidiaN (NVML's minor number, which need not be the
  // index); -1 when unknown (the index is used then). Simulated GPUs: the index.
  int device_minor = -1;
  // The GPU's PCI address as sysfs names it ("0000:65:00.0", from NVML's bus id); "" when
  // unknown (simulated GPUs). The vm isolation mode passes the GPU through by it.
  std::string pci_address;
  bool present = true;           // false: the GPU no longer answers (fell off the bus)
  int utilization_percent = -1;  // -1 when unknown
  int temperature_c = -1;        // -1 when unknown
  int64_t power_mw = -1;         // -1 when unknown
  int64_t ecc_corrected = -1;    // volatile (since boot) counts; -1 when not supported
  int64_t ecc_uncorrected = -1;
  std::vector<MigInstance> mig_instances;  // empty unless gpu.mig_enabled
};

// The GPU's character device: "<dev_dir>/nvidia<device_minor>" (the index when
// device_minor is unknown). `dev_dir` is "/dev" on a real host (AgentOptions::gpu_dev_dir).
std::string GpuDevicePath(const GpuSample& gpu, const std::string& dev_dir);

// A critical error the driver reported for one GPU (NVIDIA "XID" code).
struct GpuEvent {
  int gpu_index = 0;
  int xid = 0;
};

class GpuInventory {
 public:
  virtual ~GpuInventory() = default;
  // The current state of every GPU found when the inventory was opened, by index. A GPU
  // that disappeared since stays in the list with present == false. An error means the
  // whole inventory could not be read (the agent then reports no change).
  virtual Result<std::vector<GpuSample>> Sample() = 0;
  // XID events since the last call; never blocks.
  virtual std::vector<GpuEvent> DrainEvents() = 0;
  // True when the GPUs are simulated (no real device behind them).
  virtual bool simulated() const = 0;
  // One line for logs: "NVML, driver 550.54.15, 8 GPUs" or "simulated 4xH100-80GB".
  virtual std::string Describe() const = 0;
};

// How OpenGpuInventory picks an implementation.
struct InventoryChoice {
  // A fake spec ("4xH100-80GB", see fake_inventory.h): simulate these GPUs. Default "".
  std::string simulate;
  // When `simulate` is empty and NVML is absent or finds no GPU: simulate this spec
  // instead of failing ("" = fail). `fastgpu up` passes "1xH100-80GB". Default "".
  std::string fallback_simulate;
  // Seed for simulated GPU UUIDs (keeps them stable across restarts and distinct
  // between agents); usually the agent id. Default "".
  std::string uuid_seed;
  // File the fake re-reads for injected faults (see fake_inventory.h). Default "".
  std::string fault_file;
};

// NVML when available (and `simulate` is empty), else the fake as described above.
// `note` (optional) receives a line saying which was chosen and why.
Result<std::unique_ptr<GpuInventory>> OpenGpuInventory(const InventoryChoice& choice,
                                                       std::string* note = nullptr);

}  // namespace fastgpu::agent

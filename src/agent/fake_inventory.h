// FakeGpuInventory: simulated GPUs for tests and machines without GPUs.
//
// Spec: comma-separated groups "<count>x<model>[:mig]", e.g. "4xH100-80GB" or
// "2xH100-80GB,1xA100-80GB:mig". Memory comes from the model (a table of the
// catalogue's models; "<N>GB" in an unknown name; else 16 GiB). ":mig" puts the GPUs
// in MIG mode with seven 1g instances each. UUIDs are "SIM-<8 hex of the seed>-<index>",
// stable for one seed. Every GPU is marked simulated.
//
// Faults are injected through methods, or through a fault file that Sample() re-reads
// (new lines only, so a line applies once): "xid <index> <code>", "ecc <index> <count>"
// (uncorrectable errors), "lost <index>" (fell off the bus), "temp <index> <celsius>";
// '#' starts a comment. This is how tests drive a running `fastgpu agent`.
//
// Thread safety: all methods are thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "agent/gpu_inventory.h"

namespace fastgpu::agent {

class FakeGpuInventory final : public GpuInventory {
 public:
  // InvalidArgument for a bad spec (names the bad group) or more than 64 GPUs.
  static Result<std::unique_ptr<FakeGpuInventory>> Create(std::string_view spec,
                                                          std::string_view uuid_seed = "",
                                                          std::string fault_file = "");

  Result<std::vector<GpuSample>> Sample() override;
  std::vector<GpuEvent> DrainEvents() override;
  bool simulated() const override { return true; }
  std::string Describe() const override { return "simulated GPUs " + spec_; }

  // Fault injection; an index out of range is ignored.
  void InjectXid(int index, int xid);
  void SetEccUncorrected(int index, int64_t count);
  void RemoveGpu(int index);
  void SetTemperature(int index, int celsius);

 private:
  FakeGpuInventory(std::string spec, std::vector<GpuSample> gpus, std::string fault_file);
  void ApplyFaultFileLocked();
  void ApplyLineLocked(const std::string& line);

  const std::string spec_;
  const std::string fault_file_;
  mutable std::mutex mu_;
  std::vector<GpuSample> gpus_;     // guarded by mu_
  std::vector<GpuEvent> events_;    // guarded by mu_
  size_t fault_lines_applied_ = 0;  // guarded by mu_
};

// Memory of a catalogue model in MiB as the real device reports it (81559 for
// "H100-80GB"); "<N>GB" in other names gives N GiB; 16 GiB otherwise.
int64_t SimulatedMemoryMib(std::string_view model);

}  // namespace fastgpu::agent

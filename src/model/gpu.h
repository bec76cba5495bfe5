// GPUs and nodes: the physical resources FastGPU pools.
//
// Plain value types; copy freely. Validation functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace fastgpu::model {

// ---- vm isolation offers (docs/vm-isolation.md) ----

// One vGPU type a GPU offers to `vm` fractions (an NVIDIA vGPU profile: an SR-IOV virtual
// function type or a mediated device type).
struct VmGpuType {
  std::string name;             // "NVIDIA H100-20C"; 1-128 characters
  int milli = 0;                // its share of the GPU, 1..1000 (framebuffer / GPU memory)
  int64_t framebuffer_mib = 0;  // its memory; 0 = unknown
  friend bool operator==(const VmGpuType&, const VmGpuType&) = default;
};

// What a GPU offers to `vm` work, as its agent reports it at registration. All defaults
// (nothing offered) are what an agent that does not report it, or has no guest
// configured, means: the scheduler places no `vm` work on the GPU.
struct VmOffer {
  bool passthrough = false;      // the whole GPU can go to a guest (IOMMU on, group clean)
  std::vector<VmGpuType> types;  // vGPU types, smallest first; at most kMaxVmGpuTypes
  // Why vm work cannot use the GPU, or only part of it ("the host has no IOMMU ...",
  // "cannot connect to libvirt ..."); "" when there is nothing to say.
  std::string reason;
  bool Empty() const { return !passthrough && types.empty() && reason.empty(); }
  friend bool operator==(const VmOffer&, const VmOffer&) = default;
};
inline constexpr int kMaxVmGpuTypes = 8;

// The smallest type of `offer` whose share is at least `milli` (types are smallest
// first), or nullptr.
const VmGpuType* SmallestVmTypeFor(const VmOffer& offer, int milli);

// One physical GPU on a node.
struct Gpu {
  int index = 0;              // position on the node (NVML index), 0-based
  std::string uuid;           // "GPU-..." from NVML; "SIM-..." for simulated GPUs
  std::string model;          // catalogue name, e.g. "H100-80GB", or a trace model ("G2")
  int64_t memory_mib = 0;     // total device memory
  bool healthy = true;        // false: gets no new work
  std::string health_reason;  // why it is unhealthy ("XID 79", "ECC DBE", ...)
  bool mig_enabled = false;   // the operator put it in MIG mode
  bool simulated = false;     // not a real device (fastgpu up --simulate-gpus)
  // ---- vm isolation ----
  VmOffer vm;  // what it offers to `vm` work; JSON "vm", absent when empty
};

// A machine with GPUs, CPU and memory.
struct Node {
  std::string id;          // "node-<hex>" assigned at registration
  std::string name;        // host name as the agent reports it
  int64_t cpu_milli = 0;   // allocatable CPU in thousandths of a core
  int64_t memory_mib = 0;  // allocatable memory
  std::vector<Gpu> gpus;
  bool simulated = false;  // every GPU on it is simulated
};

// The GPU models FastGPU knows by name (datacenter parts and the Alibaba trace's
// models). Shapes may only constrain to these or to models present in the pool.
const std::set<std::string>& KnownGpuModels();

// Model names are 1-64 characters of [A-Za-z0-9._-].
Status ValidateGpuModelName(const std::string& model);
// Checks every field, the vm offer included (names 1-128 characters, shares 1..1000,
// smallest first, at most kMaxVmGpuTypes).
Status ValidateGpu(const Gpu& gpu);
// Checks every field and that GPU indexes are 0..n-1 without repeats.
Status ValidateNode(const Node& node);

}  // namespace fastgpu::model

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
Status ValidateGpu(const Gpu& gpu);
// Checks every field and that GPU indexes are 0..n-1 without repeats.
Status ValidateNode(const Node& node);

}  // namespace fastgpu::model

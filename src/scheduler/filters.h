// Filters: the feasibility checks of placement, each with a name, in the order they run.
//
// Every placement asks the same questions of a node before any policy scores it (the
// Filter half of the Kubernetes scheduler framework's Filter/Score split): is the node
// open to new work, does it have the GPU model the shape allows, enough healthy GPUs, in
// the right MIG mode, running no other isolation mode, with the free compute and memory,
// and the CPU and memory beside them. The policies (ScoringPolicy, through NodeFits), the
// engine's checks of a batch placer's answers, and the "why not" of a request that fits
// nowhere (NoFitStatus: how many nodes each filter refused) all use these functions, so
// the control plane and the simulator refuse the same places for the same reasons.
//
// Isolation rules (as the node agent enforces them): a GPU in MIG mode takes only
// MIG-isolated work, and MIG-isolated work goes only to GPUs in MIG mode; fractions of
// different isolation modes (mps, shared) never share a GPU. `vm` work goes only to GPUs
// that offer it (GpuVmSizes): a whole GPU where passthrough is offered, a fraction where a
// vGPU type of exactly its share is offered (Engine::Place first rounds a `vm` fraction up
// to the type sizes the pool offers, smallest first).
//
// Pure functions; thread-safe.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "model/shape.h"
#include "scheduler/cluster.h"

namespace fastgpu::sched {

enum class Filter {
  kNodeOpen,       // the node takes new work (not drained, lost, over-committed, revoked)
  kGpuModel,       // the node's GPU model is one the shape allows
  kGpuHealth,      // enough healthy GPUs
  kMigMode,        // enough of them in the MIG mode the shape's isolation needs
  kVmType,         // ... offering what `vm` work needs (passthrough, a vGPU type of its size)
  kIsolationMode,  // ... not running fractions of another isolation mode
  kGpuCompute,     // ... with the compute free (all of it for a whole GPU)
  kGpuMemory,      // ... and the GPU memory
  kCpu,            // CPU free beside them
  kMemory,         // memory free beside them
};
inline constexpr int kFilterCount = 10;

// What a refusal by `filter` says of a node, e.g. "lack a healthy GPU", "lack CPU".
std::string_view FilterName(Filter filter);

// The isolation mode `shape` runs in on a GPU: its effective isolation (model::Shape).
inline model::Isolation GpuMode(const model::Shape& shape) { return shape.EffectiveIsolation(); }

// GPU filters, one GPU for one replica's per-GPU share. `mode` is GpuMode(shape) (the
// callers that check many GPUs work it out once).
inline bool MigModeFits(bool gpu_mig, model::Isolation mode) {
  return gpu_mig == (mode == model::Isolation::kMig);
}
inline bool MigModeFits(bool gpu_mig, const model::Shape& shape) {
  return MigModeFits(gpu_mig, GpuMode(shape));
}
// A `vm` share needs the GPU to offer it: passthrough for a whole GPU, a vGPU type of
// exactly gpu_milli for a fraction. Other modes always pass.
inline bool VmTypeFits(const GpuState& gpu, const model::Shape& shape, model::Isolation mode) {
  if (mode != model::Isolation::kVm) return true;
  return shape.gpu_milli >= kMilliPerGpu ? gpu.vm.passthrough : gpu.vm.Offers(shape.gpu_milli);
}
inline bool IsolationModeFits(const GpuState& gpu, model::Isolation mode) {
  return gpu.mode == model::Isolation::kDefault || gpu.mode == mode;
}
inline bool GpuComputeFits(const GpuState& gpu, const model::Shape& shape) {
  return shape.gpu_milli >= kMilliPerGpu ? gpu.free_milli == kMilliPerGpu
                                         : gpu.free_milli >= shape.gpu_milli;
}
inline bool GpuMemoryFits(const GpuState& gpu, const model::Shape& shape) {
  return shape.gpu_milli >= kMilliPerGpu ? gpu.total_memory_mib >= shape.gpu_memory_mib
                                         : gpu.free_memory_mib >= shape.gpu_memory_mib;
}

// The first GPU filter that refuses `gpu` for one GPU of `shape`; nullopt when it fits.
std::optional<Filter> GpuRefusal(const GpuState& gpu, const model::Shape& shape,
                                 model::Isolation mode);
inline std::optional<Filter> GpuRefusal(const GpuState& gpu, const model::Shape& shape) {
  return GpuRefusal(gpu, shape, GpuMode(shape));
}
// What refusal `filter` says of one GPU: "is unhealthy", "is not in MIG mode", "runs mps
// work", "has too little compute free", ...
std::string DescribeGpuRefusal(const GpuState& gpu, Filter filter);
// True when `gpu` can take one GPU of `shape` (every GPU filter passes).
inline bool GpuFits(const GpuState& gpu, const model::Shape& shape, model::Isolation mode) {
  return gpu.healthy && MigModeFits(gpu.mig, mode) && GpuComputeFits(gpu, shape) &&
         IsolationModeFits(gpu, mode) && GpuMemoryFits(gpu, shape) &&
         VmTypeFits(gpu, shape, mode);
}
inline bool GpuFits(const GpuState& gpu, const model::Shape& shape) {
  return GpuFits(gpu, shape, GpuMode(shape));
}

// The first filter that refuses `node` for one replica of `shape` (`model_allowed`: the
// shape allows the node's GPU model); nullopt when it fits. A GPU filter refuses when it
// leaves fewer than shape.gpu_count GPUs of those the filters before it passed.
std::optional<Filter> NodeRefusal(const NodeState& node, const model::Shape& shape,
                                  bool model_allowed);
// NodeRefusal(...) == nullopt, without naming the filter (the placement hot path).
bool NodeFitsShape(const NodeState& node, const model::Shape& shape, bool model_allowed);

// How many nodes of a pool each filter refused (each node counted at its first refusal).
struct FilterTally {
  int nodes = 0;  // nodes looked at
  std::array<int, kFilterCount> refused{};
  void Add(std::optional<Filter> refusal);
  // "of 12 nodes, 2 lack a healthy GPU, 10 lack GPU compute free" (filters that refused
  // none left out); "no nodes" for an empty tally.
  std::string Text() const;
};

// The tally of every node of `cluster` for `shape` (the model check by name).
FilterTally TallyRefusals(const Cluster& cluster, const model::Shape& shape);

}  // namespace fastgpu::sched

#include "scheduler/filters.h"

namespace fastgpu::sched {

std::string_view FilterName(Filter filter) {
  switch (filter) {
    case Filter::kNodeOpen:
      return "take no new work";
    case Filter::kGpuModel:
      return "lack a GPU of an allowed model";
    case Filter::kGpuHealth:
      return "lack healthy GPUs";
    case Filter::kMigMode:
      return "lack GPUs in the MIG mode asked";
    case Filter::kVmType:
      return "lack GPUs offering the vm type asked";
    case Filter::kIsolationMode:
      return "lack GPUs free of other isolation modes";
    case Filter::kGpuCompute:
      return "lack free GPU compute";
    case Filter::kGpuMemory:
      return "lack free GPU memory";
    case Filter::kCpu:
      return "lack CPU";
    case Filter::kMemory:
      return "lack memory";
  }
  return "?";
}

std::optional<Filter> GpuRefusal(const GpuState& gpu, const model::Shape& shape,
                                 model::Isolation mode) {
  if (!gpu.healthy) return Filter::kGpuHealth;
  if (!MigModeFits(gpu.mig, mode)) return Filter::kMigMode;
  if (!VmTypeFits(gpu, shape, mode)) return Filter::kVmType;
  if (!IsolationModeFits(gpu, mode)) return Filter::kIsolationMode;
  if (!GpuComputeFits(gpu, shape)) return Filter::kGpuCompute;
  if (!GpuMemoryFits(gpu, shape)) return Filter::kGpuMemory;
  return std::nullopt;
}

std::string DescribeGpuRefusal(const GpuState& gpu, Filter filter) {
  switch (filter) {
    case Filter::kGpuHealth:
      return "is unhealthy";
    case Filter::kMigMode:
      return gpu.mig ? "is in MIG mode (MIG-isolated work only)" : "is not in MIG mode";
    case Filter::kVmType:
      return gpu.vm.count == 0 && !gpu.vm.passthrough
                 ? "offers nothing to vm work"
                 : "offers no vm type of that size (or no passthrough)";
    case Filter::kIsolationMode:
      return "runs " + std::string(model::IsolationName(gpu.mode)) + " work";
    case Filter::kGpuCompute:
      return "has too little compute free";
    case Filter::kGpuMemory:
      return "has too little memory free";
    default:
      break;
  }
  return std::string(FilterName(filter));
}

std::optional<Filter> NodeRefusal(const NodeState& node, const model::Shape& shape,
                                  bool model_allowed) {
  if (!node.schedulable) return Filter::kNodeOpen;
  if (shape.gpu_count > 0) {
    if (node.gpus.empty() || !model_allowed) return Filter::kGpuModel;
    // GPUs passing each GPU filter and every one before it.
    std::array<int, kFilterCount> passed{};
    const model::Isolation mode = GpuMode(shape);
    for (const GpuState& gpu : node.gpus) {
      const std::optional<Filter> refusal = GpuRefusal(gpu, shape, mode);
      const int last = refusal ? static_cast<int>(*refusal) : kFilterCount;
      for (int f = static_cast<int>(Filter::kGpuHealth); f < last; ++f) ++passed[f];
    }
    for (Filter f : {Filter::kGpuHealth, Filter::kMigMode, Filter::kVmType, Filter::kIsolationMode,
                     Filter::kGpuCompute, Filter::kGpuMemory}) {
      if (passed[static_cast<int>(f)] < shape.gpu_count) return f;
    }
  }
  if (node.cpu_free_milli < shape.cpu_milli) return Filter::kCpu;
  if (node.memory_free_mib < shape.memory_mib) return Filter::kMemory;
  return std::nullopt;
}

bool NodeFitsShape(const NodeState& node, const model::Shape& shape, bool model_allowed) {
  if (!node.schedulable || node.cpu_free_milli < shape.cpu_milli ||
      node.memory_free_mib < shape.memory_mib) {
    return false;
  }
  if (shape.gpu_count == 0) return true;
  if (!model_allowed) return false;
  const model::Isolation mode = GpuMode(shape);
  int fit = 0;
  for (const GpuState& gpu : node.gpus) {
    if (GpuFits(gpu, shape, mode) && ++fit >= shape.gpu_count) return true;
  }
  return false;
}

void FilterTally::Add(std::optional<Filter> refusal) {
  ++nodes;
  if (refusal) ++refused[static_cast<int>(*refusal)];
}

std::string FilterTally::Text() const {
  if (nodes == 0) return "no nodes";
  std::string out = "of " + std::to_string(nodes) + (nodes == 1 ? " node" : " nodes");
  for (int f = 0; f < kFilterCount; ++f) {
    if (refused[f] == 0) continue;
    out +=
        ", " + std::to_string(refused[f]) + " " + std::string(FilterName(static_cast<Filter>(f)));
  }
  return out;
}

FilterTally TallyRefusals(const Cluster& cluster, const model::Shape& shape) {
  FilterTally tally;
  for (const NodeState& node : cluster.nodes()) {
    tally.Add(NodeRefusal(node, shape, shape.AllowsModel(node.gpu_model)));
  }
  return tally;
}

}  // namespace fastgpu::sched

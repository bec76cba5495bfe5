#include "server/node_usage.h"

namespace fastgpu::server {

NodeUsage UsageOn(const std::string& node_id, const std::vector<AllocationRecord>& allocs) {
  NodeUsage u;
  for (const AllocationRecord& a : allocs) {
    if (a.alloc.node_id != node_id || !IsLive(a.state)) continue;
    u.cpu_milli += a.alloc.cpu_milli;
    u.memory_mib += a.alloc.memory_mib;
    for (const VgpuSlice& s : a.alloc.slices) {
      u.gpu_milli[s.gpu_index] += s.milli;
      u.gpu_memory_mib[s.gpu_index] += s.memory_mib;
    }
  }
  return u;
}

std::string OvercommitReason(const NodeRecord& node, const NodeUsage& usage) {
  std::string why;
  auto add = [&why](const std::string& s) { why += (why.empty() ? "" : "; ") + s; };
  if (usage.cpu_milli > node.node.cpu_milli) {
    add("live allocations hold " + std::to_string(usage.cpu_milli) +
        " CPU milli, the node reports " + std::to_string(node.node.cpu_milli));
  }
  if (usage.memory_mib > node.node.memory_mib) {
    add("live allocations hold " + std::to_string(usage.memory_mib) +
        " MiB of memory, the node reports " + std::to_string(node.node.memory_mib));
  }
  for (const auto& [index, milli] : usage.gpu_milli) {
    const Gpu* gpu = nullptr;
    for (const Gpu& g : node.node.gpus) {
      if (g.index == index) gpu = &g;
    }
    if (gpu == nullptr) {
      add("live allocations use GPU " + std::to_string(index) + ", the node reports " +
          std::to_string(node.node.gpus.size()) + " GPU(s)");
      continue;
    }
    if (milli > 1000) {
      add("live allocations hold " + std::to_string(milli) + " milli of GPU " +
          std::to_string(index));
    }
    auto mem = usage.gpu_memory_mib.find(index);
    if (mem != usage.gpu_memory_mib.end() && mem->second > gpu->memory_mib) {
      add("live allocations hold " + std::to_string(mem->second) + " MiB of GPU " +
          std::to_string(index) + ", which reports " + std::to_string(gpu->memory_mib));
    }
  }
  return why.empty() ? "" : "over-committed: " + why;
}

}  // namespace fastgpu::server

#include "server/node_usage.h"

#include <algorithm>
#include <unordered_map>

namespace fastgpu::server {

namespace {

void Add(const store::AllocationRecord& a, NodeUsage& u) {
  u.cpu_milli += a.alloc.cpu_milli;
  u.memory_mib += a.alloc.memory_mib;
  for (const model::VgpuSlice& s : a.alloc.slices) {
    u.gpu_milli[s.gpu_index] += s.milli;
    u.gpu_memory_mib[s.gpu_index] += s.memory_mib;
  }
}

}  // namespace

NodeUsage UsageOn(const std::string& node_id, const std::vector<store::AllocationRecord>& allocs) {
  NodeUsage u;
  for (const store::AllocationRecord& a : allocs) {
    if (a.alloc.node_id == node_id && store::IsLive(a.state)) Add(a, u);
  }
  return u;
}

NodeUsage UsageOf(const std::vector<const store::AllocationRecord*>& allocs) {
  NodeUsage u;
  for (const store::AllocationRecord* a : allocs) {
    if (store::IsLive(a->state)) Add(*a, u);
  }
  return u;
}

std::string OvercommitReason(const store::NodeRecord& node, const NodeUsage& usage) {
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
    const model::Gpu* gpu = nullptr;
    for (const model::Gpu& g : node.node.gpus) {
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

std::vector<sched::PoolNode> PoolView(const std::vector<store::NodeRecord>& nodes,
                                      const std::vector<store::AllocationRecord>& live) {
  std::unordered_map<std::string, std::vector<const store::AllocationRecord*>> on_node;
  for (const store::AllocationRecord& a : live) on_node[a.alloc.node_id].push_back(&a);
  std::vector<sched::PoolNode> pool;
  pool.reserve(nodes.size());
  for (const store::NodeRecord& n : nodes) {
    auto found = on_node.find(n.node.id);
    const NodeUsage usage = found == on_node.end() ? NodeUsage{} : UsageOf(found->second);
    sched::PoolNode p;
    p.id = n.node.id;
    p.gpu_model = n.node.gpus.empty() ? "" : n.node.gpus[0].model;
    p.cpu_milli = n.node.cpu_milli;
    p.memory_mib = n.node.memory_mib;
    p.cpu_free_milli = std::max<int64_t>(0, n.node.cpu_milli - usage.cpu_milli);
    p.memory_free_mib = std::max<int64_t>(0, n.node.memory_mib - usage.memory_mib);
    for (const model::Gpu& g : n.node.gpus) {
      sched::PoolGpu pg;
      pg.index = g.index;
      pg.memory_mib = g.memory_mib;
      pg.healthy = g.healthy;
      pg.health_reason = g.health_reason;
      pg.mig_enabled = g.mig_enabled;
      auto milli = usage.gpu_milli.find(g.index);
      auto mib = usage.gpu_memory_mib.find(g.index);
      pg.free_milli = static_cast<int>(std::clamp<int64_t>(
          sched::kMilliPerGpu - (milli == usage.gpu_milli.end() ? 0 : milli->second), 0,
          sched::kMilliPerGpu));
      pg.free_memory_mib = std::max<int64_t>(
          0, g.memory_mib - (mib == usage.gpu_memory_mib.end() ? 0 : mib->second));
      p.gpus.push_back(std::move(pg));
    }
    if (n.state == store::NodeState::kLost) {
      p.availability = sched::NodeAvailability::kLost;
    } else if (n.state == store::NodeState::kDraining) {
      p.availability = sched::NodeAvailability::kDrained;
    } else if (n.token_sha256_hex.empty()) {
      p.availability = sched::NodeAvailability::kRevoked;
    } else if (std::string why = OvercommitReason(n, usage); !why.empty()) {
      p.availability = sched::NodeAvailability::kOvercommitted;
      p.why = std::move(why);
    }
    pool.push_back(std::move(p));
  }
  return pool;
}

}  // namespace fastgpu::server

#include "server/placement_pass.h"

#include <algorithm>

#include "server/node_usage.h"

namespace fastgpu::server {

namespace {

// Over-committed nodes named in a waiting job's reason, at most.
constexpr size_t kOvercommittedNamed = 3;

sched::NodePlacement PlacementOf(const model::Allocation& a, int node_index) {
  sched::NodePlacement p;
  p.node = node_index;
  for (const model::VgpuSlice& s : a.slices) p.gpus.push_back({s.gpu_index, s.milli, s.memory_mib});
  p.cpu_milli = a.cpu_milli;
  p.memory_mib = a.memory_mib;
  return p;
}

}  // namespace

PassPool BuildPassPool(const std::vector<store::NodeRecord>& nodes,
                       const std::vector<store::AllocationRecord>& live) {
  PassPool out;
  sched::Cluster& cluster = out.cluster;
  std::map<std::string, std::string>& overcommitted = out.overcommitted;
  std::map<std::string, int> index_of;
  std::vector<int> reported_gpus(nodes.size(), 0);
  for (size_t i = 0; i < nodes.size(); ++i) {
    const store::NodeRecord& n = nodes[i];
    const NodeUsage usage = UsageOn(n.node.id, live);
    std::string why = OvercommitReason(n, usage);
    if (!why.empty()) overcommitted[n.node.id] = std::move(why);
    sched::NodeSpec spec;
    spec.id = n.node.id;
    int gpu_count = static_cast<int>(n.node.gpus.size());
    reported_gpus[i] = gpu_count;
    for (const auto& [index, milli] : usage.gpu_milli) gpu_count = std::max(gpu_count, index + 1);
    spec.gpu_count = std::min(gpu_count, sched::kMaxGpusPerNode);
    if (spec.gpu_count > 0) {
      spec.gpu_model = n.node.gpus.empty() ? "" : n.node.gpus[0].model;
      for (const store::AllocationRecord& a : live) {  // a node that reports no GPU any more
        if (spec.gpu_model.empty() && a.alloc.node_id == n.node.id)
          spec.gpu_model = a.alloc.gpu_model;
      }
      spec.gpu_memory_mib = n.node.gpus.empty() ? 0 : n.node.gpus[0].memory_mib;
      for (const auto& [index, mib] : usage.gpu_memory_mib) {
        spec.gpu_memory_mib = std::max(spec.gpu_memory_mib, mib);
      }
    }
    spec.cpu_milli = std::max(n.node.cpu_milli, usage.cpu_milli);
    spec.memory_mib = std::max(n.node.memory_mib, usage.memory_mib);
    index_of[n.node.id] = cluster.AddNode(spec);
  }
  for (const store::AllocationRecord& a : live) {
    auto it = index_of.find(a.alloc.node_id);
    if (it == index_of.end()) continue;
    Status st = cluster.Apply(PlacementOf(a.alloc, it->second));
    if (!st.ok()) {
      // Only a store that already books a GPU twice gets here: keep the node closed.
      overcommitted[a.alloc.node_id] = "over-committed: allocation " + a.alloc.id +
                                       " does not fit beside the others (" + st.message() + ")";
    }
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    const store::NodeRecord& n = nodes[i];
    const int index = static_cast<int>(i);
    for (const model::Gpu& g : n.node.gpus) {
      if (!g.healthy) cluster.SetGpuHealthy(index, g.index, false).IgnoreError();
    }
    for (int g = reported_gpus[i]; g < static_cast<int>(cluster.node(index).gpus.size()); ++g) {
      cluster.SetGpuHealthy(index, g, false).IgnoreError();  // a GPU the node no longer has
    }
    // A node whose credentials were revoked takes no new work until its agent registers
    // again (it may be gone for good).
    const bool revoked = n.token_sha256_hex.empty();
    cluster
        .SetSchedulable(index, n.state == store::NodeState::kReady && !revoked &&
                                   !overcommitted.contains(n.node.id))
        .IgnoreError();
  }
  return out;
}

std::string OvercommitNote(const std::vector<store::NodeRecord>& nodes,
                           const std::map<std::string, std::string>& overcommitted) {
  std::string overcommit_note;
  size_t named = 0;
  for (const store::NodeRecord& n : nodes) {
    auto it = overcommitted.find(n.node.id);
    if (it == overcommitted.end() || n.state != store::NodeState::kReady)
      continue;  // closed anyway
    overcommit_note += named == 0 ? "; no new work on over-committed node(s): " : ", ";
    if (named++ == kOvercommittedNamed) {
      overcommit_note += "...";
      break;
    }
    overcommit_note += n.node.id + " (" + it->second + ")";
  }

  return overcommit_note;
}

std::vector<sched::PoolNode> DiagnosisPool(
    const std::vector<store::NodeRecord>& nodes, const std::vector<store::AllocationRecord>& live,
    const std::map<std::string, std::string>& overcommitted) {
  std::vector<sched::PoolNode> pool = PoolView(nodes, live);
  for (size_t i = 0; i < nodes.size(); ++i) {
    auto it = overcommitted.find(nodes[i].node.id);
    if (it != overcommitted.end() && pool[i].availability == sched::NodeAvailability::kOpen) {
      pool[i].availability = sched::NodeAvailability::kOvercommitted;
      pool[i].why = it->second;
    }
  }
  return pool;
}

Result<std::vector<sched::NodePlacement>> PlaceJob(sched::Policy& policy, sched::Cluster& cluster,
                                                   const std::vector<store::NodeRecord>& nodes,
                                                   const sched::Request& request,
                                                   model::Isolation iso) {
  if (iso != model::Isolation::kMig) return sched::PlaceGang(policy, cluster, request);
  {
    // MIG only on GPUs in MIG mode: place on a copy where the others look unhealthy.
    sched::Cluster mig = cluster;
    for (size_t i = 0; i < nodes.size(); ++i) {
      for (const model::Gpu& g : nodes[i].node.gpus) {
        if (!g.mig_enabled) mig.SetGpuHealthy(static_cast<int>(i), g.index, false).IgnoreError();
      }
    }
    Result<std::vector<sched::NodePlacement>> placed = sched::PlaceGang(policy, mig, request);
    if (placed.ok()) {
      for (const auto& p : *placed) cluster.Apply(p).IgnoreError();
    }
    return placed;
  }
}

PlacementPlan PlanAllocations(const model::Job& job,
                              const std::vector<sched::NodePlacement>& placements,
                              const std::vector<store::NodeRecord>& nodes, model::Isolation iso,
                              TimePoint now, IdGenerator& ids) {
  PlacementPlan plan{job.id, {}, ""};
  for (size_t r = 0; r < placements.size(); ++r) {
    const sched::NodePlacement& p = placements[r];
    const store::NodeRecord& node = nodes[p.node];
    store::AllocationRecord rec;
    rec.alloc.id = ids.Next("alloc");
    rec.alloc.job_id = job.id;
    rec.alloc.replica = static_cast<int>(r);
    rec.alloc.node_id = node.node.id;
    rec.alloc.cpu_milli = p.cpu_milli;
    rec.alloc.memory_mib = p.memory_mib;
    rec.alloc.created_at = now;
    for (const sched::GpuSlot& slot : p.gpus) {
      const model::Gpu& gpu = node.node.gpus.at(slot.gpu_index);
      rec.alloc.gpu_model = gpu.model;
      // memory_mib is the memory reserved and the cap the agent enforces; 0 (a
      // fraction that asked for no memory) means no cap beyond the GPU's own.
      rec.alloc.slices.push_back({slot.gpu_index, gpu.uuid, slot.milli, slot.memory_mib, iso});
    }
    rec.state = store::AllocationState::kPending;
    plan.where += (r ? ", " : "") + node.node.id;
    if (!p.gpus.empty()) {
      plan.where += " (GPU";
      for (const auto& slot : p.gpus) plan.where += " " + std::to_string(slot.gpu_index);
      plan.where += ")";
    }
    plan.allocs.push_back(std::move(rec));
  }
  return plan;
}

}  // namespace fastgpu::server

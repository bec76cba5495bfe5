#include "server/placement_pass.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

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
  if (!a.slices.empty()) p.isolation = a.slices[0].isolation;  // one mode per allocation
  return p;
}

}  // namespace

sched::EngineNode NodeView(const store::NodeRecord& n,
                           const std::vector<const store::AllocationRecord*>& mine,
                           Overcommitted& overcommitted) {
  const NodeUsage usage = UsageOf(mine);
  std::string why = OvercommitReason(n, usage);
  if (why.empty()) {
    overcommitted.erase(n.node.id);
  } else {
    overcommitted[n.node.id] = std::move(why);
  }
  sched::EngineNode view;
  sched::NodeSpec& spec = view.spec;
  spec.id = n.node.id;
  const int reported = static_cast<int>(n.node.gpus.size());
  int gpu_count = reported;
  for (const auto& [index, milli] : usage.gpu_milli) gpu_count = std::max(gpu_count, index + 1);
  spec.gpu_count = std::min(gpu_count, sched::kMaxGpusPerNode);
  if (spec.gpu_count > 0) {
    spec.gpu_model = n.node.gpus.empty() ? "" : n.node.gpus[0].model;
    for (const store::AllocationRecord* a : mine) {  // a node that reports no GPU any more
      if (spec.gpu_model.empty()) spec.gpu_model = a->alloc.gpu_model;
    }
    spec.gpu_memory_mib = n.node.gpus.empty() ? 0 : n.node.gpus[0].memory_mib;
    for (const auto& [index, mib] : usage.gpu_memory_mib) {
      spec.gpu_memory_mib = std::max(spec.gpu_memory_mib, mib);
    }
  }
  spec.cpu_milli = std::max(n.node.cpu_milli, usage.cpu_milli);
  spec.memory_mib = std::max(n.node.memory_mib, usage.memory_mib);
  view.unhealthy.assign(spec.gpu_count, false);
  view.mig.assign(spec.gpu_count, false);
  view.vm.assign(spec.gpu_count, sched::GpuVmSizes{});
  for (int g = reported; g < spec.gpu_count; ++g) view.unhealthy[g] = true;  // gone
  for (const model::Gpu& g : n.node.gpus) {
    if (g.index < 0 || g.index >= spec.gpu_count) continue;
    view.unhealthy[g.index] = !g.healthy;
    view.mig[g.index] = g.mig_enabled;
    view.vm[g.index] = sched::VmSizesOf(g.vm);
  }
  // A node whose credentials were revoked takes no new work until its agent registers
  // again (it may be gone for good).
  const bool revoked = n.token_sha256_hex.empty();
  using sched::NodeAvailability;
  view.availability = n.state == store::NodeState::kDraining ? NodeAvailability::kDrained
                      : n.state != store::NodeState::kReady  ? NodeAvailability::kLost
                      : revoked                              ? NodeAvailability::kRevoked
                      : overcommitted.contains(n.node.id)    ? NodeAvailability::kOvercommitted
                                                             : NodeAvailability::kOpen;
  return view;
}

namespace {

// Books a live allocation the engine does not book yet; a double booking closes its node.
void BookLive(sched::Engine& engine, const store::AllocationRecord& a,
              Overcommitted& overcommitted) {
  if (engine.HasAllocation(a.alloc.id)) return;
  const int index = engine.NodeIndex(a.alloc.node_id);
  if (index < 0) return;  // on a node the store does not list
  Status st = engine.AddAllocation(a.alloc.id, PlacementOf(a.alloc, index));
  if (st.ok()) return;
  // Only a store that already books a GPU twice gets here: keep the node closed.
  overcommitted[a.alloc.node_id] = "over-committed: allocation " + a.alloc.id +
                                   " does not fit beside the others (" + st.message() + ")";
  engine.SetAvailability(index, sched::NodeAvailability::kOvercommitted).IgnoreError();
}

// Upserts a node's view; a booking its new totals cannot hold is dropped by the engine
// and booked again (or refused, closing the node) by the caller's BookLive.
void UpsertView(sched::Engine& engine, const sched::EngineNode& view) {
  engine.UpsertNode(view).status().IgnoreError();
}

}  // namespace

Overcommitted SyncEngine(sched::Engine& engine, const std::vector<store::NodeRecord>& nodes,
                         const std::vector<store::AllocationRecord>& live) {
  Overcommitted overcommitted;
  // 1. Books no longer live are released first, so a node's new spec sees only live work.
  std::unordered_set<std::string> live_ids;
  live_ids.reserve(live.size());
  for (const store::AllocationRecord& a : live) live_ids.insert(a.alloc.id);
  for (const std::string& id : engine.AllocationIds()) {
    if (!live_ids.contains(id)) engine.ReleaseAllocation(id).IgnoreError();  // booked: found
  }
  // 2. Nodes: totals sized to hold their live allocations, flags as reported.
  std::unordered_map<std::string, std::vector<const store::AllocationRecord*>> on_node;
  for (const store::AllocationRecord& a : live) on_node[a.alloc.node_id].push_back(&a);
  static const std::vector<const store::AllocationRecord*> kNone;
  std::unordered_set<std::string> listed;
  for (const store::NodeRecord& n : nodes) {
    auto found = on_node.find(n.node.id);
    UpsertView(engine, NodeView(n, found == on_node.end() ? kNone : found->second, overcommitted));
    listed.insert(n.node.id);
  }
  // A node the store no longer lists takes no new work.
  for (int i = 0; i < engine.cluster().size(); ++i) {
    if (!listed.contains(engine.cluster().node(i).id))
      engine.SetAvailability(i, sched::NodeAvailability::kLost).IgnoreError();  // gone
  }
  // 3. Live allocations the engine does not book yet.
  for (const store::AllocationRecord& a : live) BookLive(engine, a, overcommitted);
  return overcommitted;
}

void SyncChanges(sched::Engine& engine, const std::vector<store::AllocationRecord>& allocs,
                 const std::vector<ChangedNode>& nodes, Overcommitted& overcommitted) {
  for (const store::AllocationRecord& a : allocs) {
    if (!store::IsLive(a.state) && engine.HasAllocation(a.alloc.id)) {
      engine.ReleaseAllocation(a.alloc.id).IgnoreError();  // booked: found
    }
  }
  for (const ChangedNode& n : nodes) {
    std::vector<const store::AllocationRecord*> mine;
    for (const store::AllocationRecord& a : n.live) {
      if (store::IsLive(a.state)) mine.push_back(&a);
    }
    UpsertView(engine, NodeView(n.record, mine, overcommitted));
    for (const store::AllocationRecord* a : mine) BookLive(engine, *a, overcommitted);
  }
  for (const store::AllocationRecord& a : allocs) {
    if (store::IsLive(a.state)) BookLive(engine, a, overcommitted);
  }
}

std::vector<const store::NodeRecord*> RecordsByIndex(const sched::Engine& engine,
                                                     const std::vector<store::NodeRecord>& nodes) {
  std::vector<const store::NodeRecord*> out(engine.cluster().size(), nullptr);
  for (const store::NodeRecord& n : nodes) {
    const int index = engine.NodeIndex(n.node.id);
    if (index >= 0) out[index] = &n;
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

PlacementPlan PlanAllocations(const model::Job& job,
                              const std::vector<sched::NodePlacement>& placements,
                              const std::vector<const store::NodeRecord*>& record_of,
                              model::Isolation iso, TimePoint now, IdGenerator& ids) {
  PlacementPlan plan{job.id, {}, ""};
  for (size_t r = 0; r < placements.size(); ++r) {
    const sched::NodePlacement& p = placements[r];
    const store::NodeRecord& node = *record_of.at(p.node);
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
      rec.alloc.slices.push_back({slot.gpu_index, gpu.uuid, slot.milli, slot.memory_mib, iso, ""});
      if (iso == model::Isolation::kVm && slot.milli < sched::kMilliPerGpu) {
        // The vGPU type of that share (the scheduler placed it on a GPU that offers one):
        // the agent creates that type, and the slice is metered at its share.
        for (const model::VmGpuType& t : gpu.vm.types) {
          if (t.milli == slot.milli) {
            rec.alloc.slices.back().vm_type = t.name;
            break;
          }
        }
      }
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

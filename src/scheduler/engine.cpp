#include "scheduler/engine.h"

#include <algorithm>
#include <utility>

namespace fastgpu::sched {

Result<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options) {
  PolicyOptions popts;
  popts.seed = options.seed;
  popts.target_workload = options.target_workload;
  FASTGPU_ASSIGN_OR_RETURN(std::unique_ptr<Policy> policy, MakePolicy(options.policy, popts));
  return std::unique_ptr<Engine>(new Engine(options, std::move(policy)));
}

Engine::Engine(const EngineOptions& options, std::unique_ptr<Policy> policy)
    : policy_(std::move(policy)),
      workload_(options.workload_window),
      learning_(options.target_workload.empty()) {}

int Engine::NodeIndex(const std::string& id) const {
  auto it = node_index_.find(id);
  return it == node_index_.end() ? -1 : it->second;
}

Status Engine::SetSchedulable(int index, bool schedulable) {
  if (index < 0 || index >= cluster_.size()) {
    return OutOfRange("no node with index " + std::to_string(index));
  }
  nodes_[index].schedulable = schedulable;
  FASTGPU_RETURN_IF_ERROR(cluster_.SetSchedulable(index, schedulable));
  policy_->OnNodeChanged(cluster_, index);
  return OkStatus();
}

void Engine::SetFlags(int index, const EngineNode& node) {
  const int gpus = static_cast<int>(cluster_.node(index).gpus.size());
  for (int g = 0; g < gpus; ++g) {
    const bool unhealthy = g < static_cast<int>(node.unhealthy.size()) && node.unhealthy[g];
    const bool mig = g < static_cast<int>(node.mig.size()) && node.mig[g];
    if (cluster_.node(index).gpus[g].healthy == unhealthy)
      cluster_.SetGpuHealthy(index, g, !unhealthy).IgnoreError();  // index checked above
    if (cluster_.node(index).gpus[g].mig != mig) cluster_.SetGpuMig(index, g, mig).IgnoreError();
  }
  if (cluster_.node(index).schedulable != node.schedulable)
    cluster_.SetSchedulable(index, node.schedulable).IgnoreError();
}

Result<int> Engine::UpsertNode(const EngineNode& node) {
  auto it = node_index_.find(node.spec.id);
  if (it == node_index_.end()) {
    const int index = cluster_.AddNode(node.spec);
    node_index_.emplace(node.spec.id, index);
    nodes_.push_back(node);
    node_allocs_.emplace_back();
    SetFlags(index, node);
    policy_->OnNodeChanged(cluster_, index);
    return index;
  }
  const int index = it->second;
  EngineNode& known = nodes_[index];
  if (known == node) return index;
  const bool spec_changed = !(known.spec == node.spec);
  Status dropped = OkStatus();
  if (spec_changed) {
    cluster_.ReplaceNode(index, node.spec);
    std::vector<std::string> keep;
    for (const std::string& id : node_allocs_[index]) {
      Status st = cluster_.Apply(allocs_.at(id));
      if (st.ok()) {
        keep.push_back(id);
      } else {
        allocs_.erase(id);
        if (dropped.ok()) {
          dropped = FailedPrecondition("allocation " + id + " no longer fits node " + node.spec.id +
                                       ": " + st.message());
        }
      }
    }
    node_allocs_[index] = std::move(keep);
  }
  known = node;
  SetFlags(index, node);
  policy_->OnNodeChanged(cluster_, index);
  if (!dropped.ok()) return dropped;
  return index;
}

Status Engine::ApplyHeld(const NodePlacement& p) {
  if (p.node < 0 || p.node >= cluster_.size()) {
    return FailedPrecondition("no node with index " + std::to_string(p.node));
  }
  // Work already on a GPU holds its place there even when the GPU is now unhealthy.
  std::vector<int> sick;
  for (const GpuSlot& slot : p.gpus) {
    const auto& gpus = cluster_.node(p.node).gpus;
    if (slot.gpu_index >= 0 && slot.gpu_index < static_cast<int>(gpus.size()) &&
        !gpus[slot.gpu_index].healthy) {
      sick.push_back(slot.gpu_index);
      cluster_.SetGpuHealthy(p.node, slot.gpu_index, true).IgnoreError();
    }
  }
  Status st = cluster_.Apply(p);
  for (int g : sick) cluster_.SetGpuHealthy(p.node, g, false).IgnoreError();
  return st;
}

Status Engine::AddAllocation(const std::string& id, const NodePlacement& placement,
                             bool already_applied) {
  if (allocs_.contains(id)) return AlreadyExists("allocation " + id + " is booked already");
  if (!already_applied) FASTGPU_RETURN_IF_ERROR(ApplyHeld(placement));
  allocs_.emplace(id, placement);
  node_allocs_[placement.node].push_back(id);
  policy_->OnNodeChanged(cluster_, placement.node);
  return OkStatus();
}

Status Engine::ReleaseAllocation(const std::string& id) {
  auto it = allocs_.find(id);
  if (it == allocs_.end()) return NotFound("allocation " + id + " is not booked");
  const NodePlacement p = std::move(it->second);
  allocs_.erase(it);
  auto& list = node_allocs_[p.node];
  list.erase(std::find(list.begin(), list.end(), id));
  FASTGPU_RETURN_IF_ERROR(cluster_.Release(p));
  policy_->OnNodeChanged(cluster_, p.node);
  return OkStatus();
}

std::vector<std::string> Engine::AllocationIds() const {
  std::vector<std::string> ids;
  ids.reserve(allocs_.size());
  for (const auto& [id, p] : allocs_) ids.push_back(id);
  return ids;
}

void Engine::Observe(const model::Shape& shape) {
  if (!learning_) return;
  if (workload_.Add(shape)) policy_->SetTargetWorkload(workload_.Target());
}

Result<std::vector<NodePlacement>> Engine::Place(const Request& request) {
  return PlaceGang(*policy_, cluster_, request);
}

void Engine::Unplace(const std::vector<NodePlacement>& placements) {
  for (auto it = placements.rbegin(); it != placements.rend(); ++it) {
    cluster_.Release(*it).IgnoreError();  // exactly what Place applied
    policy_->OnNodeChanged(cluster_, it->node);
  }
}

}  // namespace fastgpu::sched

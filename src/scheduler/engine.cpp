#include "scheduler/engine.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "model/units.h"
#include "scheduler/filters.h"

namespace fastgpu::sched {

Result<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options) {
  PolicyOptions popts;
  popts.seed = options.seed;
  popts.target_workload = options.target_workload;
  FASTGPU_ASSIGN_OR_RETURN(std::unique_ptr<Policy> policy, MakePolicy(options.policy, popts));
  policy->SetElasticPool(options.elastic_pool);
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

Status Engine::SetAvailability(int index, NodeAvailability availability) {
  if (index < 0 || index >= cluster_.size()) {
    return OutOfRange("no node with index " + std::to_string(index));
  }
  if (availability == NodeAvailability::kOpen && nodes_[index].availability != availability)
    ++freed_epoch_;  // opened: room for what waits
  nodes_[index].availability = availability;
  FASTGPU_RETURN_IF_ERROR(cluster_.SetAvailability(index, availability));
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
    static const GpuVmSizes kNoVm;
    const GpuVmSizes& vm = g < static_cast<int>(node.vm.size()) ? node.vm[g] : kNoVm;
    if (!(cluster_.node(index).gpus[g].vm == vm))
      cluster_.SetGpuVm(index, g, vm).IgnoreError();  // index checked above
  }
  if (cluster_.node(index).availability != node.availability)
    cluster_.SetAvailability(index, node.availability).IgnoreError();
}

Result<int> Engine::UpsertNode(const EngineNode& node) {
  auto it = node_index_.find(node.spec.id);
  if (it == node_index_.end()) {
    ++freed_epoch_;  // a new node: room for what waits
    const int index = cluster_.AddNode(node.spec);
    node_index_.emplace(node.spec.id, index);
    nodes_.push_back(node);
    node_allocs_.emplace_back();
    if (!node.vm.empty()) vm_stale_ = true;
    SetFlags(index, node);
    policy_->OnNodeChanged(cluster_, index);
    return index;
  }
  const int index = it->second;
  EngineNode& known = nodes_[index];
  if (known == node) return index;
  ++freed_epoch_;  // any change may give room (a larger node, a GPU healthy, undrained)
  const bool spec_changed = !(known.spec == node.spec);
  if (!(known.vm == node.vm)) vm_stale_ = true;
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
  ++freed_epoch_;
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
  if (workload_.Add(shape)) {
    policy_->SetTargetWorkload(workload_.Target());
    ++target_version_;
  }
}

const std::vector<int>& Engine::VmSizes() {
  if (!vm_stale_) return vm_sizes_;
  vm_sizes_.clear();
  vm_passthrough_ = false;
  for (const EngineNode& n : nodes_) {
    for (const GpuVmSizes& g : n.vm) {
      vm_passthrough_ = vm_passthrough_ || g.passthrough;
      vm_sizes_.insert(vm_sizes_.end(), g.milli.begin(), g.milli.begin() + g.count);
    }
  }
  std::sort(vm_sizes_.begin(), vm_sizes_.end());
  vm_sizes_.erase(std::unique(vm_sizes_.begin(), vm_sizes_.end()), vm_sizes_.end());
  vm_stale_ = false;
  return vm_sizes_;
}

int Engine::VmShareFor(int milli) {
  const std::vector<int>& sizes = VmSizes();
  auto it = std::lower_bound(sizes.begin(), sizes.end(), milli);
  return it == sizes.end() ? 0 : *it;
}

std::string Engine::VmRefusal(const model::Shape& shape) {
  if (shape.EffectiveIsolation() != model::Isolation::kVm || !shape.NeedsGpu()) return "";
  const std::vector<int>& sizes = VmSizes();
  if (!shape.IsFractional()) {
    return vm_passthrough_ ? "" : "no GPU offers whole-GPU vm passthrough";
  }
  if (VmShareFor(shape.gpu_milli) > 0) return "";
  std::string text = "no GPU offers a vm type of at least " +
                     model::FormatGpuAmount({1, shape.gpu_milli});
  if (sizes.empty()) return text + " (no GPU offers vm types)";
  text += " (types offered:";
  for (int m : sizes) text += " " + model::FormatGpuAmount({1, m});
  return text + ")";
}

Result<std::vector<NodePlacement>> Engine::Place(const Request& request) {
  const model::Shape& shape = request.shape;
  if (shape.EffectiveIsolation() != model::Isolation::kVm || !shape.IsFractional()) {
    return PlaceGang(*policy_, cluster_, request);
  }
  // A vm fraction: each type size that holds it, smallest first.
  const std::vector<int>& sizes = VmSizes();
  auto it = std::lower_bound(sizes.begin(), sizes.end(), shape.gpu_milli);
  if (it == sizes.end()) return ResourceExhausted(VmRefusal(shape));
  Status last = OkStatus();
  Request sized = request;
  for (; it != sizes.end(); ++it) {
    sized.shape.gpu_milli = *it;
    Result<std::vector<NodePlacement>> placed = PlaceGang(*policy_, cluster_, sized);
    if (placed.ok()) return placed;
    if (last.ok()) last = placed.status();  // the smallest size's answer says most
  }
  return last;
}

namespace {

// Why `p` cannot hold one replica of `shape` on `cluster` now, model, health and MIG-wise
// ("" when it can; room is checked by Apply).
std::string Unfit(const Cluster& cluster, const model::Shape& shape, const NodePlacement& p) {
  if (p.node < 0 || p.node >= cluster.size()) return "no node with index " + std::to_string(p.node);
  const NodeState& node = cluster.node(p.node);
  if (!node.schedulable) return "node " + node.id + " takes no new work";
  if (static_cast<int>(p.gpus.size()) != (shape.NeedsGpu() ? shape.gpu_count : 0)) {
    return "wrong number of GPUs on node " + node.id;
  }
  if (shape.NeedsGpu() && !shape.AllowsModel(node.gpu_model)) {
    return "node " + node.id + " has GPU model " + node.gpu_model;
  }
  for (const GpuSlot& slot : p.gpus) {
    if (slot.gpu_index < 0 || slot.gpu_index >= static_cast<int>(node.gpus.size())) {
      return "no GPU " + std::to_string(slot.gpu_index) + " on node " + node.id;
    }
    // The filters every policy's placements pass (room is left to Apply).
    const std::optional<Filter> refusal = GpuRefusal(node.gpus[slot.gpu_index], shape);
    if (refusal && *refusal != Filter::kGpuCompute && *refusal != Filter::kGpuMemory) {
      return "GPU " + std::to_string(slot.gpu_index) + " of " + node.id + " " +
             DescribeGpuRefusal(node.gpus[slot.gpu_index], *refusal);
    }
  }
  return "";
}

}  // namespace

std::vector<Result<std::vector<NodePlacement>>> Engine::PlaceBatch(
    const std::vector<Request>& requests, BatchPlacer& placer) {
  std::vector<Request> asked;  // the requests with replicas
  std::vector<Request> sized;  // `requests`, vm fractions at the smallest type size that holds them
  sized.reserve(requests.size());
  for (const Request& r : requests) {
    sized.push_back(r);
    const model::Shape& s = r.shape;
    if (s.EffectiveIsolation() == model::Isolation::kVm && s.IsFractional()) {
      const int share = VmShareFor(s.gpu_milli);
      if (share > 0) sized.back().shape.gpu_milli = share;
    }
    if (r.replicas >= 1) asked.push_back(sized.back());
  }
  std::vector<std::vector<NodePlacement>> answer;
  if (!asked.empty()) answer = placer.PlaceBatch(cluster_, asked);
  const std::string who = "batch placer " + std::string(placer.Name());
  std::vector<Result<std::vector<NodePlacement>>> out;
  out.reserve(requests.size());
  size_t next = 0;  // index into `asked` and `answer`
  for (const Request& r : sized) {
    if (r.replicas < 1) {
      out.push_back(InvalidArgument("request " + r.id + " asks for no replicas"));
      continue;
    }
    const size_t i = next++;
    if (i >= answer.size() || answer[i].empty()) {
      out.push_back(ResourceExhausted("request " + r.id + ": " + who + " left it unplaced"));
      continue;
    }
    if (answer[i].size() != static_cast<size_t>(r.replicas)) {
      out.push_back(ResourceExhausted("request " + r.id + ": " + who + " placed " +
                                      std::to_string(answer[i].size()) + " of its " +
                                      std::to_string(r.replicas) + " replicas"));
      continue;
    }
    std::vector<NodePlacement> done;
    std::string why;
    for (size_t k = 0; k < answer[i].size() && why.empty(); ++k) {
      NodePlacement p = answer[i][k];
      if (!p.gpus.empty()) p.isolation = GpuMode(r.shape);  // as the policies' placements
      std::string unfit = Unfit(cluster_, r.shape, p);
      if (unfit.empty()) {
        Status applied = cluster_.Apply(p);
        if (!applied.ok()) unfit = applied.message();
      }
      if (!unfit.empty()) {
        why = (r.replicas > 1
                   ? "replica " + std::to_string(k + 1) + " of " + std::to_string(r.replicas) + ": "
                   : "") +
              who + "'s place does not apply: " + unfit;
        continue;
      }
      done.push_back(p);
    }
    if (!why.empty()) {
      Unplace(done);
      out.push_back(ResourceExhausted("request " + r.id + ": " + why));
      continue;
    }
    for (const NodePlacement& p : done) policy_->OnNodeChanged(cluster_, p.node);
    out.push_back(std::move(done));
  }
  return out;
}

void Engine::Unplace(const std::vector<NodePlacement>& placements) {
  if (!placements.empty()) ++freed_epoch_;
  for (auto it = placements.rbegin(); it != placements.rend(); ++it) {
    cluster_.Release(*it).IgnoreError();  // exactly what Place applied
    policy_->OnNodeChanged(cluster_, it->node);
  }
}

}  // namespace fastgpu::sched

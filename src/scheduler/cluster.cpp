#include "scheduler/cluster.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <string>

namespace fastgpu::sched {

int64_t NodePlacement::TotalGpuMilli() const {
  int64_t total = 0;
  for (const GpuSlot& slot : gpus) total += slot.milli;
  return total;
}

uint64_t ChangeLog::NextId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

void ChangeLog::Restart() {
  id_ = NextId();
  start_ = count_;
  entries_.clear();
}

ChangeLog& ChangeLog::operator=(const ChangeLog& other) {
  count_ = other.count_;
  Restart();
  return *this;
}

ChangeLog::ChangeLog(ChangeLog&& other) noexcept
    : id_(other.id_),
      count_(other.count_),
      start_(other.start_),
      entries_(std::move(other.entries_)) {
  other.Restart();
}

ChangeLog& ChangeLog::operator=(ChangeLog&& other) noexcept {
  id_ = other.id_;
  count_ = other.count_;
  start_ = other.start_;
  entries_ = std::move(other.entries_);
  other.Restart();
  return *this;
}

void ChangeLog::Add(int index, size_t nodes) {
  const size_t keep = std::max(kMinEntries, 2 * nodes);
  if (entries_.size() >= 2 * keep) {  // drop the older half
    const size_t drop = entries_.size() - keep;
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(drop));
    start_ += drop;
  }
  entries_.push_back(index);
  ++count_;
}

std::optional<std::span<const int>> ChangeLog::Since(uint64_t since) const {
  if (since < start_ || since > count_) return std::nullopt;
  return std::span<const int>(entries_).subspan(since - start_);
}

int64_t NodeState::FreeGpuMilli() const {
  int64_t total = 0;
  for (const GpuState& gpu : gpus) {
    if (gpu.healthy) total += gpu.free_milli;
  }
  return total;
}

int NodeState::FullyFreeGpus() const {
  int count = 0;
  for (const GpuState& gpu : gpus) {
    if (gpu.healthy && gpu.free_milli == kMilliPerGpu) ++count;
  }
  return count;
}

Result<Cluster> Cluster::FromNodes(const std::vector<model::Node>& nodes) {
  Cluster cluster;
  for (const model::Node& node : nodes) {
    if (static_cast<int>(node.gpus.size()) > kMaxGpusPerNode) {
      return InvalidArgument("node " + node.id + " has more than " +
                             std::to_string(kMaxGpusPerNode) + " GPUs");
    }
    NodeSpec spec;
    spec.id = node.id;
    spec.cpu_milli = node.cpu_milli;
    spec.memory_mib = node.memory_mib;
    spec.gpu_count = static_cast<int>(node.gpus.size());
    if (!node.gpus.empty()) spec.gpu_model = node.gpus[0].model;
    for (const model::Gpu& gpu : node.gpus) {
      if (gpu.model != spec.gpu_model) {
        return InvalidArgument("node " + node.id + " mixes GPU models " + spec.gpu_model + " and " +
                               gpu.model);
      }
    }
    if (spec.cpu_milli < 0 || spec.memory_mib < 0) {
      return InvalidArgument("node " + node.id + " has negative CPU or memory");
    }
    int index = cluster.AddNode(spec);
    NodeState& state = cluster.nodes_[index];
    for (size_t i = 0; i < node.gpus.size(); ++i) {
      const model::Gpu& gpu = node.gpus[i];
      int pos = gpu.index;
      if (pos < 0 || pos >= spec.gpu_count) {
        return InvalidArgument("node " + node.id + " has GPU index " + std::to_string(pos) +
                               " out of range");
      }
      state.gpus[pos].total_memory_mib = gpu.memory_mib;
      state.gpus[pos].free_memory_mib = gpu.memory_mib;
      if (!gpu.healthy) FASTGPU_RETURN_IF_ERROR(cluster.SetGpuHealthy(index, pos, false));
      if (!gpu.vm.Empty()) FASTGPU_RETURN_IF_ERROR(cluster.SetGpuVm(index, pos, VmSizesOf(gpu.vm)));
    }
  }
  return cluster;
}

int Cluster::InternModel(const std::string& model) {
  for (size_t i = 0; i < models_.size(); ++i) {
    if (models_[i] == model) return static_cast<int>(i);
  }
  models_.push_back(model);
  return static_cast<int>(models_.size()) - 1;
}

int Cluster::ModelId(std::string_view model) const {
  for (size_t i = 0; i < models_.size(); ++i) {
    if (models_[i] == model) return static_cast<int>(i);
  }
  return -1;
}

int Cluster::FindNode(std::string_view id) const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

NodeState Cluster::FreshNode(const NodeSpec& spec) {
  assert(spec.gpu_count >= 0 && spec.gpu_count <= kMaxGpusPerNode);
  assert(spec.cpu_milli >= 0 && spec.memory_mib >= 0 && spec.gpu_memory_mib >= 0);
  NodeState node;
  node.id = spec.id;
  node.gpu_model = spec.gpu_count > 0 ? spec.gpu_model : "";
  node.model_id = spec.gpu_count > 0 ? InternModel(spec.gpu_model) : -1;
  node.cpu_total_milli = node.cpu_free_milli = spec.cpu_milli;
  node.memory_total_mib = node.memory_free_mib = spec.memory_mib;
  node.gpus.resize(spec.gpu_count);
  for (GpuState& gpu : node.gpus) {
    gpu.total_memory_mib = gpu.free_memory_mib = spec.gpu_memory_mib;
  }
  total_gpu_milli_ += static_cast<int64_t>(spec.gpu_count) * kMilliPerGpu;
  free_gpu_milli_ += static_cast<int64_t>(spec.gpu_count) * kMilliPerGpu;
  return node;
}

int Cluster::AddNode(const NodeSpec& spec) {
  nodes_.push_back(FreshNode(spec));
  const int index = static_cast<int>(nodes_.size()) - 1;
  LogChange(index);
  return index;
}

void Cluster::Changed(int index) {
  ++nodes_[index].version;
  LogChange(index);
}

void Cluster::LogChange(int index) { log_.Add(index, nodes_.size()); }

namespace {

Status CheckSlots(const NodeState& node, const NodePlacement& p) {
  uint32_t seen = 0;
  for (const GpuSlot& slot : p.gpus) {
    if (slot.gpu_index < 0 || slot.gpu_index >= static_cast<int>(node.gpus.size())) {
      return FailedPrecondition("node " + node.id + " has no GPU " +
                                std::to_string(slot.gpu_index));
    }
    if (seen & (1u << slot.gpu_index)) {
      return FailedPrecondition("GPU " + std::to_string(slot.gpu_index) + " of node " + node.id +
                                " used twice in one placement");
    }
    seen |= 1u << slot.gpu_index;
    if (slot.milli < 1 || slot.milli > kMilliPerGpu || slot.memory_mib < 0) {
      return FailedPrecondition("bad GPU slot amounts on node " + node.id);
    }
  }
  if (p.cpu_milli < 0 || p.memory_mib < 0) {
    return FailedPrecondition("negative CPU or memory in a placement on node " + node.id);
  }
  return OkStatus();
}

}  // namespace

Status Cluster::Apply(const NodePlacement& p) {
  if (p.node < 0 || p.node >= size()) {
    return FailedPrecondition("no node with index " + std::to_string(p.node));
  }
  NodeState& node = nodes_[p.node];
  FASTGPU_RETURN_IF_ERROR(CheckSlots(node, p));
  for (const GpuSlot& slot : p.gpus) {
    const GpuState& gpu = node.gpus[slot.gpu_index];
    std::string where = "GPU " + std::to_string(slot.gpu_index) + " of node " + node.id;
    if (!gpu.healthy) return FailedPrecondition(where + " is unhealthy");
    if (gpu.free_milli < slot.milli) {
      return FailedPrecondition(where + " has " + std::to_string(gpu.free_milli) + " milli free, " +
                                std::to_string(slot.milli) + " asked");
    }
    if (gpu.free_memory_mib < slot.memory_mib) {
      return FailedPrecondition(where + " has " + std::to_string(gpu.free_memory_mib) +
                                " MiB free, " + std::to_string(slot.memory_mib) + " asked");
    }
    if (p.isolation != model::Isolation::kDefault && gpu.mode != model::Isolation::kDefault &&
        gpu.mode != p.isolation) {
      return FailedPrecondition(where + " runs " + std::string(model::IsolationName(gpu.mode)) +
                                " work; " + std::string(model::IsolationName(p.isolation)) +
                                " is not mixed with it");
    }
  }
  if (node.cpu_free_milli < p.cpu_milli) {
    return FailedPrecondition("node " + node.id + " has " + std::to_string(node.cpu_free_milli) +
                              " CPU milli free, " + std::to_string(p.cpu_milli) + " asked");
  }
  if (node.memory_free_mib < p.memory_mib) {
    return FailedPrecondition("node " + node.id + " has " + std::to_string(node.memory_free_mib) +
                              " MiB memory free, " + std::to_string(p.memory_mib) + " asked");
  }
  for (const GpuSlot& slot : p.gpus) {
    GpuState& gpu = node.gpus[slot.gpu_index];
    gpu.free_milli -= slot.milli;
    gpu.free_memory_mib -= slot.memory_mib;
    free_gpu_milli_ -= slot.milli;
    if (p.isolation != model::Isolation::kDefault) {
      gpu.mode = p.isolation;
      ++gpu.mode_holders;
    }
  }
  node.cpu_free_milli -= p.cpu_milli;
  node.memory_free_mib -= p.memory_mib;
  Changed(p.node);
  return OkStatus();
}

Status Cluster::Release(const NodePlacement& p) {
  if (p.node < 0 || p.node >= size()) {
    return FailedPrecondition("no node with index " + std::to_string(p.node));
  }
  NodeState& node = nodes_[p.node];
  FASTGPU_RETURN_IF_ERROR(CheckSlots(node, p));
  for (const GpuSlot& slot : p.gpus) {
    const GpuState& gpu = node.gpus[slot.gpu_index];
    if (gpu.free_milli + slot.milli > kMilliPerGpu ||
        gpu.free_memory_mib + slot.memory_mib > gpu.total_memory_mib) {
      return FailedPrecondition("release of GPU " + std::to_string(slot.gpu_index) + " of node " +
                                node.id + " exceeds what is allocated");
    }
  }
  if (node.cpu_free_milli + p.cpu_milli > node.cpu_total_milli ||
      node.memory_free_mib + p.memory_mib > node.memory_total_mib) {
    return FailedPrecondition("release of CPU or memory on node " + node.id +
                              " exceeds what is allocated");
  }
  for (const GpuSlot& slot : p.gpus) {
    GpuState& gpu = node.gpus[slot.gpu_index];
    gpu.free_milli += slot.milli;
    gpu.free_memory_mib += slot.memory_mib;
    if (gpu.healthy) free_gpu_milli_ += slot.milli;
    if (p.isolation != model::Isolation::kDefault && gpu.mode == p.isolation &&
        --gpu.mode_holders <= 0) {
      gpu.mode = model::Isolation::kDefault;
      gpu.mode_holders = 0;
    }
  }
  node.cpu_free_milli += p.cpu_milli;
  node.memory_free_mib += p.memory_mib;
  Changed(p.node);
  return OkStatus();
}

Status Cluster::CheckGpu(int node_index, int gpu_index) const {
  if (node_index < 0 || node_index >= size()) {
    return OutOfRange("no node with index " + std::to_string(node_index));
  }
  const NodeState& node = nodes_[node_index];
  if (gpu_index < 0 || gpu_index >= static_cast<int>(node.gpus.size())) {
    return OutOfRange("node " + node.id + " has no GPU " + std::to_string(gpu_index));
  }
  return OkStatus();
}

Status Cluster::SetGpuHealthy(int node_index, int gpu_index, bool healthy) {
  FASTGPU_RETURN_IF_ERROR(CheckGpu(node_index, gpu_index));
  NodeState& node = nodes_[node_index];
  GpuState& gpu = node.gpus[gpu_index];
  if (gpu.healthy == healthy) return OkStatus();
  int64_t sign = healthy ? 1 : -1;
  total_gpu_milli_ += sign * kMilliPerGpu;
  free_gpu_milli_ += sign * gpu.free_milli;
  gpu.healthy = healthy;
  Changed(node_index);
  return OkStatus();
}

Status Cluster::SetGpuMig(int node_index, int gpu_index, bool mig) {
  FASTGPU_RETURN_IF_ERROR(CheckGpu(node_index, gpu_index));
  NodeState& node = nodes_[node_index];
  if (node.gpus[gpu_index].mig == mig) return OkStatus();
  node.gpus[gpu_index].mig = mig;
  Changed(node_index);
  return OkStatus();
}

Status Cluster::SetGpuVm(int node_index, int gpu_index, const GpuVmSizes& vm) {
  FASTGPU_RETURN_IF_ERROR(CheckGpu(node_index, gpu_index));
  NodeState& node = nodes_[node_index];
  if (node.gpus[gpu_index].vm == vm) return OkStatus();
  node.gpus[gpu_index].vm = vm;
  Changed(node_index);
  return OkStatus();
}

GpuVmSizes VmSizesOf(const model::VmOffer& offer) {
  GpuVmSizes out;
  out.passthrough = offer.passthrough;
  for (const model::VmGpuType& t : offer.types) {
    if (t.milli < 1 || t.milli >= kMilliPerGpu || out.Offers(t.milli)) continue;
    if (out.count == model::kMaxVmGpuTypes) break;
    out.milli[out.count++] = static_cast<int16_t>(t.milli);
  }
  std::sort(out.milli.begin(), out.milli.begin() + out.count);
  return out;
}

void Cluster::ReplaceNode(int index, const NodeSpec& spec) {
  assert(index >= 0 && index < size());
  NodeState& node = nodes_[index];
  for (const GpuState& gpu : node.gpus) {
    if (!gpu.healthy) continue;
    total_gpu_milli_ -= kMilliPerGpu;
    free_gpu_milli_ -= gpu.free_milli;
  }
  const uint64_t version = node.version;
  const std::string id = node.id;
  node = FreshNode(spec);
  node.id = id;
  node.version = version + 1;
  LogChange(index);
}

Status Cluster::SetAvailability(int node_index, NodeAvailability availability) {
  if (node_index < 0 || node_index >= size()) {
    return OutOfRange("no node with index " + std::to_string(node_index));
  }
  NodeState& node = nodes_[node_index];
  node.availability = availability;
  node.schedulable = availability == NodeAvailability::kOpen;
  Changed(node_index);
  return OkStatus();
}

Status Cluster::SetSchedulable(int node_index, bool schedulable) {
  if (node_index < 0 || node_index >= size()) {
    return OutOfRange("no node with index " + std::to_string(node_index));
  }
  const NodeAvailability now = nodes_[node_index].availability;
  if (schedulable) return SetAvailability(node_index, NodeAvailability::kOpen);
  return SetAvailability(node_index,
                         now == NodeAvailability::kOpen ? NodeAvailability::kDrained : now);
}

}  // namespace fastgpu::sched

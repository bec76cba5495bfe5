// Cluster: the scheduler's mutable view of the pool's free capacity.
//
// It holds, per node, the GPU model, CPU and memory (total and free), each GPU's free
// compute (milli, 0..1000) and free memory, GPU health and the node's `schedulable`
// flag (false for drained or lost nodes). Policies read it; only Apply/Release and the
// setters change it. Every change to a node bumps that node's version, so a policy can
// cache per-node values (fragmentation, scores) keyed by (node, version), and is written
// to a change log (the node's index, with a count of all changes), so a policy can learn
// which nodes changed since it last looked without visiting every node.
//
// Ownership: the Cluster owns its node states. Thread-safety: none; a Cluster is used
// by one thread at a time (the reconciler or one simulation). Const methods may be called
// concurrently when no thread mutates.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "model/gpu.h"
#include "scheduler/placement.h"

namespace fastgpu::sched {

inline constexpr int kMilliPerGpu = 1000;
// Most GPUs one node may have in a Cluster (the fragmentation memo packs states).
inline constexpr int kMaxGpusPerNode = 16;

// ---- vm isolation ----
// What one GPU offers to `vm` work, as placement needs it (model::VmOffer without names):
// whole-GPU passthrough, and the shares of its vGPU types. A type of the whole GPU's size
// (1000) is no fraction and is left out. Plain value; copy freely.
struct GpuVmSizes {
  bool passthrough = false;
  std::array<int16_t, model::kMaxVmGpuTypes> milli{};  // distinct shares, smallest first
  int count = 0;                                        // how many of `milli` are set
  bool Offers(int share) const {
    for (int i = 0; i < count; ++i) {
      if (milli[i] == share) return true;
    }
    return false;
  }
  friend bool operator==(const GpuVmSizes&, const GpuVmSizes&) = default;
};
// The sizes of `offer` (its types' shares below 1000, each once, smallest first).
GpuVmSizes VmSizesOf(const model::VmOffer& offer);

struct GpuState {
  int free_milli = kMilliPerGpu;  // 0..1000
  int64_t total_memory_mib = 0;   // 0 = unknown (trace GPUs); memory asks then cannot fit
  int64_t free_memory_mib = 0;
  bool healthy = true;  // false: gets no new work
  bool mig = false;     // in MIG mode: only MIG-isolated work may use it (filters.h)
  // The isolation mode of the placements on it (kDefault when none says one), and how
  // many placements hold it in that mode: other modes' fractions stay off it.
  model::Isolation mode = model::Isolation::kDefault;
  int mode_holders = 0;
  GpuVmSizes vm;  // what it offers to `vm` work (filters.h); default nothing
};

// Whether a node takes new work, and if not, why.
enum class NodeAvailability { kOpen, kDrained, kLost, kOvercommitted, kRevoked };

struct NodeState {
  std::string id;
  std::string gpu_model;  // empty when the node has no GPU
  int model_id = -1;      // Cluster::ModelId(gpu_model); -1 without GPUs
  int64_t cpu_total_milli = 0;
  int64_t cpu_free_milli = 0;
  int64_t memory_total_mib = 0;
  int64_t memory_free_mib = 0;
  std::vector<GpuState> gpus;  // by GPU index
  bool schedulable = true;     // availability == kOpen: false gets no new work
  NodeAvailability availability = NodeAvailability::kOpen;
  uint64_t version = 0;  // bumped on every change of this node

  // Sum of free milli over healthy GPUs.
  int64_t FreeGpuMilli() const;
  // Number of healthy GPUs with all of their compute free.
  int FullyFreeGpus() const;
};

// What AddNode needs to know about a node.
struct NodeSpec {
  std::string id;
  std::string gpu_model;  // one model per node; empty for CPU-only nodes
  int gpu_count = 0;
  int64_t gpu_memory_mib = 0;  // per GPU; 0 = unknown
  int64_t cpu_milli = 0;
  int64_t memory_mib = 0;
  friend bool operator==(const NodeSpec&, const NodeSpec&) = default;
};

// The change log of one Cluster: the indexes of the nodes changed, in order, with a count
// of all changes ever made and an id naming this history. A copy (made or assigned) keeps
// the count but starts a new history with an empty log, so a policy that remembers
// (history, count) knows when it looks at another Cluster or at a copy and checks every
// node instead. A moved-to log keeps the history it took; the moved-from one starts a new
// one. Keeps at least the last max(kMinEntries, 2 * nodes) changes; amortised O(1) a change.
class ChangeLog {
 public:
  static constexpr size_t kMinEntries = 4096;

  ChangeLog() : id_(NextId()) {}
  ChangeLog(const ChangeLog& other) : id_(NextId()), count_(other.count_), start_(other.count_) {}
  ChangeLog& operator=(const ChangeLog& other);
  ChangeLog(ChangeLog&& other) noexcept;
  ChangeLog& operator=(ChangeLog&& other) noexcept;

  // Logs a change of node `index` in a cluster of `nodes` nodes.
  void Add(int index, size_t nodes);
  uint64_t id() const { return id_; }
  uint64_t count() const { return count_; }
  // See Cluster::ChangesSince.
  std::optional<std::span<const int>> Since(uint64_t since) const;

 private:
  static uint64_t NextId();  // process-wide, thread-safe
  void Restart();            // a new history: new id, empty log, same count

  uint64_t id_;
  uint64_t count_ = 0;
  uint64_t start_ = 0;  // the change number of entries_[0]
  std::vector<int> entries_;
};

class Cluster {
 public:
  Cluster() = default;

  // Builds a Cluster from registered nodes (all free, all schedulable). A node's GPU
  // model is that of its first GPU; GPU health, memory and vm offers come from the Gpu
  // values.
  // Fails (InvalidArgument) on mixed models within a node or more than kMaxGpusPerNode GPUs.
  static Result<Cluster> FromNodes(const std::vector<model::Node>& nodes);

  // Adds a node with everything free; returns its index (0, 1, ...). Asserts on a spec
  // with more than kMaxGpusPerNode GPUs or negative amounts (programmer error).
  int AddNode(const NodeSpec& spec);

  // Takes the placement's resources. Fails, changing nothing, when the node index is
  // bad, a GPU index is bad or repeated, a GPU is unhealthy, or any amount would go
  // below zero (FailedPrecondition, naming the resource). Apply does not check the
  // node's schedulable flag (the server may re-apply existing allocations on a drained node).
  Status Apply(const NodePlacement& placement);
  // Gives the resources back. Fails, changing nothing, when anything would exceed the
  // node's total (over-release).
  Status Release(const NodePlacement& placement);

  // Health and drain marks; each bumps the node's version. Out-of-range indexes fail.
  Status SetGpuHealthy(int node, int gpu_index, bool healthy);
  Status SetAvailability(int node, NodeAvailability availability);
  // SetAvailability(kOpen) or, for false, closed as drained (a closed node stays as it is).
  Status SetSchedulable(int node, bool schedulable);
  // Marks a GPU as in MIG mode (MIG-isolated shapes fit only on such GPUs); bumps the
  // node's version when it changes. Out-of-range indexes fail.
  Status SetGpuMig(int node, int gpu_index, bool mig);
  // Sets what a GPU offers to `vm` work; bumps the node's version when it changes.
  // Out-of-range indexes fail.
  Status SetGpuVm(int node, int gpu_index, const GpuVmSizes& vm);

  // Gives node `index` a new spec (same id): everything free again, all GPUs healthy, not
  // in MIG mode and offering nothing to vm work, schedulable. Its version keeps rising (caches keyed by version stay
  // sound). The caller re-applies what the node still holds. Asserts as AddNode does.
  void ReplaceNode(int index, const NodeSpec& spec);

  const std::vector<NodeState>& nodes() const { return nodes_; }
  const NodeState& node(int index) const { return nodes_[index]; }
  int size() const { return static_cast<int>(nodes_.size()); }
  // Index of the node with this id, or -1.
  int FindNode(std::string_view id) const;

  // Dense id of a GPU model name (0, 1, ... in order of first appearance), or -1.
  int ModelId(std::string_view model) const;
  const std::vector<std::string>& models() const { return models_; }

  // The change log. Every node version bump (and every added node) counts one change.
  // history_id() differs between Cluster objects and copies (see ChangeLog).
  uint64_t history_id() const { return log_.id(); }
  uint64_t change_count() const { return log_.count(); }
  // The indexes of the nodes changed since change_count() was `since`, oldest first (a node
  // may repeat); empty when `since` is change_count(). nullopt when `since` is in the
  // future or the log no longer reaches back that far (it keeps at least the last
  // max(ChangeLog::kMinEntries, 2 * size()) changes; a copy starts with none): the caller
  // then checks every node's version. The span is valid until the next change.
  std::optional<std::span<const int>> ChangesSince(uint64_t since) const {
    return log_.Since(since);
  }

  // Totals over healthy GPUs of all nodes (schedulable or not).
  int64_t TotalGpuMilli() const { return total_gpu_milli_; }
  int64_t FreeGpuMilli() const { return free_gpu_milli_; }

 private:
  int InternModel(const std::string& model);
  // A node with everything free, its GPUs counted in the totals (AddNode, ReplaceNode).
  NodeState FreshNode(const NodeSpec& spec);
  // OutOfRange unless node `node` has GPU `gpu_index`.
  Status CheckGpu(int node, int gpu_index) const;
  // Bumps node `index`'s version and logs the change.
  void Changed(int index);
  // Logs a change of node `index` (its version already set).
  void LogChange(int index);

  std::vector<NodeState> nodes_;
  ChangeLog log_;
  std::vector<std::string> models_;
  int64_t total_gpu_milli_ = 0;
  int64_t free_gpu_milli_ = 0;
};

}  // namespace fastgpu::sched

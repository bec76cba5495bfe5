// Policy: an online placement policy, chosen by name from a registry.
//
// A policy answers "where should one replica of this shape go?" against a Cluster.
// Place is pure with respect to the cluster (it never changes it); it may update the
// policy's own caches, so one Policy object serves one thread at a time. Policies start
// no threads and do no I/O. PlaceGang places every replica of a request and applies
// them to the cluster, or applies none.
//
// Every policy:
//   - never over-commits GPU milli, GPU memory, CPU or memory;
//   - respects the shape's GPU model constraint;
//   - gives nothing to unhealthy GPUs or unschedulable nodes;
//   - gives the same answer for the same cluster, history, options and seed.
// Whole GPUs take all of their memory; a fraction takes Shape::gpu_memory_mib (0 = none).
// Shape::isolation is left to the caller (MIG profiles are not modelled here).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "model/shape.h"
#include "scheduler/cluster.h"
#include "scheduler/placement.h"

namespace fastgpu::sched {

// One kind of task in the target workload, with its share of arrivals.
struct TargetTask {
  model::Shape shape;
  double popularity = 0;  // relative weight; normalised by the policy
};

struct PolicyOptions {
  // Seeds random choices and the fixed node order that breaks ties. Default 0.
  uint64_t seed = 0;
  // The workload fgd and fastgpu measure fragmentation against: every task kind with its
  // popularity (fgd keeps the most popular kinds covering 95%, as the paper does; fastgpu
  // uses all). Default empty: the policy learns it from the shapes it is asked to place
  // (re-estimated each time their number doubles).
  std::vector<TargetTask> target_workload;
  // Mean CPU and memory asked per requested GPU (fastgpu keeps that much per idle GPU).
  // Default 0: estimated from target_workload (or from the shapes seen).
  double cpu_milli_per_gpu = 0;
  double memory_mib_per_gpu = 0;
};

class Policy {
 public:
  virtual ~Policy() = default;
  // The registry name ("fgd", "best-fit", ...).
  virtual std::string_view Name() const = 0;
  // Chooses a place for one replica of `shape`; does not change the cluster.
  // ResourceExhausted, with a message saying why, when it fits nowhere (no schedulable
  // node with a healthy GPU of an allowed model, not enough CPU, ...); only then: a policy
  // never refuses a shape that some node can take (the engine's freed_epoch relies on it).
  virtual Result<NodePlacement> Place(const Cluster& cluster, const model::Shape& shape) = 0;
  // Hint that a node changed (placement applied, released, health). Policies that cache
  // per-node values also check node versions, so calling this is optional.
  virtual void OnNodeChanged(const Cluster& cluster, int node) {
    (void)cluster;
    (void)node;
  }
  // Replaces the target workload (PolicyOptions::target_workload) from now on, and stops
  // the policy's own learning: the caller (the engine) learns it. Policies that do not
  // measure against a workload ignore it.
  virtual void SetTargetWorkload(const std::vector<TargetTask>& target) { (void)target; }
  // Says whether the pool is elastic: nodes that empty out are given back, so where work
  // lands decides which nodes can go. On an elastic pool the scoring policies (all the
  // built-in ones) choose a node holding no work only when no node holding work fits, and
  // among the nodes holding work prefer the one with the larger share of its GPUs in use
  // (fewer whole GPUs left free to keep a node up for); their own score decides between
  // nodes equal in that. Nothing of how long work will stay is used (it is not known).
  // Default off (a static pool: every answer as before). Scores cached before a change are
  // dropped.
  virtual void SetElasticPool(bool elastic) { (void)elastic; }
};

// "first-fit", "best-fit", "dot-product", "gpu-packing", "gpu-clustering", "fgd",
// "random", "fastgpu" (the default).
std::vector<std::string> PolicyNames();
inline constexpr std::string_view kDefaultPolicy = "fastgpu";

// A new policy by name; NotFound (listing the names) for an unknown name.
Result<std::unique_ptr<Policy>> MakePolicy(std::string_view name, const PolicyOptions& options);

// Places all replicas of `request` one after the other, applying each to `cluster`.
// On failure releases what it applied and returns the failure (the cluster is as before).
Result<std::vector<NodePlacement>> PlaceGang(Policy& policy, Cluster& cluster,
                                             const Request& request);

}  // namespace fastgpu::sched

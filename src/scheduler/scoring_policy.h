// ScoringPolicy: the shared frame of the node-scoring policies (internal to the module).
//
// Place() filters nodes (schedulable, CPU and memory fit, allowed model, enough healthy
// GPUs with enough free milli and memory), asks the subclass to score each feasible
// node and to pick the GPU inside it for a fraction, and takes the highest score; equal
// scores go to the node earliest in a fixed order (a seeded permutation, or index order).
// Scores of cacheable policies are kept per (shape, node) and reused while the node's
// version is unchanged, so one placement rescores only the nodes changed since the same
// shape was last placed. One instance serves one thread.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "scheduler/filters.h"
#include "scheduler/policy.h"

namespace fastgpu::sched {

// A shape prepared for one cluster: which model ids it may use.
struct ShapeInfo {
  int id = 0;                       // dense id of the shape within the policy
  std::vector<bool> model_allowed;  // by cluster model id
  bool whole = false;               // gpu_milli == 1000
  bool fractional = false;
};

// True when `node` can take one replica of `shape`: every filter of filters.h passes
// (GpuFits for each GPU, NodeFitsShape for the node), the model judged by `info`.
bool NodeFits(const NodeState& node, const model::Shape& shape, const ShapeInfo& info);
// The placement of `shape` on `node_index`: a fraction on `gpu_index`; whole GPUs on the
// first fitting GPUs by index.
NodePlacement MakePlacement(const Cluster& cluster, int node_index, const model::Shape& shape,
                            int gpu_index);
// ResourceExhausted saying why no node takes `shape`: how many nodes each filter refused.
Status NoFitStatus(const Cluster& cluster, const model::Shape& shape, const ShapeInfo& info);

class ScoringPolicy : public Policy {
 public:
  ScoringPolicy(const PolicyOptions& options, bool seeded_order, bool cacheable);
  Result<NodePlacement> Place(const Cluster& cluster, const model::Shape& shape) override;

 protected:
  // Scores a feasible node (higher is better) and, for a fraction, sets *gpu_index to
  // the GPU to use. Called only when NodeFits holds.
  virtual double Score(const Cluster& cluster, int node, const model::Shape& shape,
                       const ShapeInfo& info, int* gpu_index) = 0;
  // Called before a placement is scored (e.g. to refresh a learned target workload).
  virtual void BeforePlace(const Cluster& cluster, const model::Shape& shape) {
    (void)cluster;
    (void)shape;
  }
  // Called with the chosen placement.
  virtual void AfterPlace(const Cluster& cluster, const NodePlacement& placement) {
    (void)cluster;
    (void)placement;
  }
  // Drops every cached score (after the scoring function itself changed).
  void InvalidateScores();
  // Fitting GPU with the least free milli (first index on ties); -1 if none.
  static int TightestGpu(const NodeState& node, const model::Shape& shape);

  PolicyOptions options_;
  std::mt19937_64 rng_;

 private:
  const ShapeInfo& Prepare(const Cluster& cluster, const model::Shape& shape);
  void EnsureOrder(int nodes);

  struct Entry {
    uint64_t version = 0;
    bool valid = false;
    bool fits = false;
    int gpu_index = -1;
    double score = 0;
  };
  bool seeded_order_;
  bool cacheable_;
  std::vector<int> rank_;  // node -> position in the tie-break order
  std::unordered_map<std::string, int> shape_ids_;
  std::vector<ShapeInfo> shapes_;
  std::vector<std::vector<Entry>> cache_;  // [shape id][node]
  size_t cluster_models_ = 0;
};

}  // namespace fastgpu::sched

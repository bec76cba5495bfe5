// ScoringPolicy: the shared frame of the node-scoring policies (internal to the module).
//
// Place() filters nodes (schedulable, CPU and memory fit, allowed model, enough healthy
// GPUs with enough free milli and memory), asks the subclass to score each feasible
// node and to pick the GPU inside it for a fraction, and takes the highest score; equal
// scores go to the node earliest in a fixed order (a seeded permutation, or index order).
// Scores of cacheable policies are kept per (shape, node) and reused while the node's
// version is unchanged, and the recently placed shapes (up to kIndexedShapes) each keep
// their feasible nodes in a ScoreTree ordered by (score desc, tie-break order asc): one
// placement rescores only the nodes that the Cluster's change log names as changed since
// the same shape was last placed, and reads the best node off the tree, in O(changes *
// log nodes) rather than O(nodes). A shape without a tree (new, evicted as least recently
// used, or after InvalidateScores, a new Cluster or a new node) gets one built by a scan
// of every node. The answer is the one a scan of every node gives. A policy whose score
// may change without its node's version changing (random) is not cacheable and scans
// every node each time. A shape's tree also keeps the tally that NoFitStatus reports (how
// many nodes each filter of filters.h refused), so a failure costs no scan either; the
// message is NoFitStatus's, word for word. One instance serves one
// thread.
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "scheduler/filters.h"
#include "scheduler/policy.h"
#include "scheduler/score_tree.h"

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
  // Most shapes that keep a ScoreTree at once (16 bytes per node each: 64 MiB for 256
  // shapes on 16,384 nodes). The trace's pod lists have 126 to 337 shapes.
  static constexpr int kIndexedShapes = 256;

  ScoringPolicy(const PolicyOptions& options, bool seeded_order, bool cacheable);
  Result<NodePlacement> Place(const Cluster& cluster, const model::Shape& shape) override;
  // false: every Place scans every node (using the cached scores), as before the score
  // trees; the reference the trees must match in tests. Default true.
  void set_use_index(bool use_index) { use_index_ = use_index; }
  // On an elastic pool every score gets kPoolTermStep * PoolTerm(node) added (see
  // Policy::SetElasticPool); a change drops the cached scores.
  void SetElasticPool(bool elastic) override;
  bool elastic_pool() const { return elastic_; }
  // The pool term of a node: 0 when it holds no work (every GPU, its CPU and its memory
  // all free); otherwise 1 + 1000 * (GPUs holding work) / (GPUs), floored: 1 to 1001.
  // Reads only the node's contents, so scores by content stay valid.
  static int PoolTerm(const NodeState& node);
  // A step of the pool term, above any policy's own score (every built-in policy scores
  // within [0, 100]), so the term decides first and the policy's score within a step.
  static constexpr double kPoolTermStep = 1000;

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
  // Drops every cached score (after the scoring function itself changed). O(1): the
  // cached scores carry the epoch they were computed in.
  void InvalidateScores();
  // Declares that Score (and the GPU it picks) depends only on a node's contents (every
  // field of NodeState but its id, model name and version) and on the policy's own state,
  // which changes only together with InvalidateScores. Then a shape's tree is built with one
  // Score per distinct node contents, copied to the nodes with equal contents. Default off.
  void set_scores_by_content(bool on) { scores_by_content_ = on; }
  // Fitting GPU with the least free milli (first index on ties); -1 if none.
  static int TightestGpu(const NodeState& node, const model::Shape& shape);

  PolicyOptions options_;
  std::mt19937_64 rng_;

 private:
  struct Entry {
    uint64_t version = 0;
    uint32_t epoch = 0;  // valid when it is epoch_ (InvalidateScores moves epoch_ on)
    // fits and refusal hold for `version` in any epoch (trees only: InvalidateScores
    // changes the scores, not the filters).
    bool filtered = false;
    bool fits = false;
    uint8_t refusal = 0;  // the refusing filter, kFilterCount when it fits (trees only)
    int gpu_index = -1;
    double score = 0;
  };
  // One shape's tree, and the point of the cluster's history it reflects.
  struct IndexSlot {
    int shape = -1;  // shape id, -1 = free
    bool valid = false;
    uint64_t history = 0;  // Cluster::history_id()
    uint64_t seen = 0;     // Cluster::change_count() when last brought up to date
    uint64_t last_used = 0;
    ScoreTree tree;
    // Entries by refusal (filter index; kFilterCount: fits): what NoFitStatus tallies.
    std::array<int, kFilterCount + 1> refusals{};
  };

  // Score, plus the pool term on an elastic pool.
  double ScoreInPool(const Cluster& cluster, int n, const model::Shape& shape,
                     const ShapeInfo& info, int* gpu_index);
  const ShapeInfo& Prepare(const Cluster& cluster, const model::Shape& shape);
  void ClearShapes();
  void EnsureOrder(int nodes);
  // Rescores node `n` for the shape unless its cached entry is current; true if rescored.
  bool Refresh(const Cluster& cluster, int n, const model::Shape& shape, const ShapeInfo& info,
               std::vector<Entry>& row);
  // The best feasible node (-1 if none): through the shape's tree, or a scan of every node.
  int BestIndexed(const Cluster& cluster, const model::Shape& shape, const ShapeInfo& info,
                  std::vector<Entry>& row);
  int BestScanned(const Cluster& cluster, const model::Shape& shape, const ShapeInfo& info,
                  std::vector<Entry>& row);
  IndexSlot& SlotFor(int shape_id);
  // Dense id of node `n`'s contents (equal contents, equal ids), cached by node version.
  uint32_t ContentId(const Cluster& cluster, int n);
  // Forgets the content ids when they could pass kMaxContents with `more` new ones.
  void BoundContents(int more);
  // The placement on node `best` (a fraction on `best_gpu`, or the tightest fitting GPU).
  NodePlacement Choose(const Cluster& cluster, int best, const model::Shape& shape,
                       const ShapeInfo& info, int best_gpu);

  bool seeded_order_;
  bool cacheable_;
  bool use_index_ = true;
  bool elastic_ = false;    // SetElasticPool; default off (a static pool)
  std::vector<int> rank_;   // node -> position in the tie-break order
  std::vector<int> order_;  // position -> node
  std::unordered_map<std::string, int> shape_ids_;
  std::vector<ShapeInfo> shapes_;
  std::vector<std::vector<Entry>> cache_;  // [shape id][node]
  std::vector<int> shape_slot_;            // [shape id] -> index in slots_, or -1
  std::vector<IndexSlot> slots_;           // at most kIndexedShapes
  uint64_t use_clock_ = 0;
  size_t cluster_models_ = 0;
  uint32_t epoch_ = 1;

  // Content ids (scores_by_content_): at most kMaxContents, then forgotten and restarted.
  static constexpr size_t kMaxContents = size_t{1} << 17;
  struct NodeContent {
    uint64_t history = 0;  // Cluster::history_id() and node version the id is for
    uint64_t version = 0;
    int64_t id = -1;  // -1: none yet
  };
  bool scores_by_content_ = false;
  std::string content_key_;                             // scratch
  std::unordered_map<std::string, uint32_t> contents_;  // contents -> id
  std::vector<NodeContent> node_content_;               // by node index
  // While a tree is built: by content id, the first node with those contents in this scan
  // (valid when first_stamp_ is scan_stamp_).
  std::vector<int> first_node_;
  std::vector<uint32_t> first_stamp_;
  uint32_t scan_stamp_ = 0;
};

}  // namespace fastgpu::sched

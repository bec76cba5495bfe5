// ScoreTree: the best of a set of scored positions, kept up to date as scores change.
//
// Positions 0..size-1 each hold a score or nothing. Best() is the occupied position with
// the highest score, the lowest position among equal scores; it costs O(1), Set O(log
// size), Assign plus Build O(size). ScoringPolicy keeps one per shape, with a node's
// position in the tie-break order as its position, so Best() is the node a scan over all
// nodes would choose. Scores compare with `>` (NaN never wins over a number).
//
// Memory: 16 bytes per position (rounded up to a power of two). Thread-safety: none.
#pragma once

#include <cstdint>
#include <vector>

namespace fastgpu::sched {

class ScoreTree {
 public:
  // Empties the tree and sizes it for `size` positions (all empty until Build or Set).
  void Reset(int size);
  int size() const { return size_; }

  // Sets position `pos` (0 <= pos < size) without updating the tree; call Build after the
  // last Assign.
  void Assign(int pos, bool occupied, double score) {
    score_[pos] = score;
    tree_[leaves_ + pos] = occupied ? pos : -1;
  }
  // Recomputes every inner node from the positions.
  void Build();
  // Sets position `pos` and updates the tree.
  void Set(int pos, bool occupied, double score);

  // The best occupied position, or -1 when none is.
  int Best() const { return tree_.empty() ? -1 : tree_[1]; }

 private:
  // The better of two positions (-1 = none); `a` is the lower one on ties.
  int Better(int a, int b) const {
    if (a < 0) return b;
    if (b < 0) return a;
    return score_[b] > score_[a] ? b : a;
  }

  int size_ = 0;
  int leaves_ = 1;             // a power of two >= size_
  std::vector<double> score_;  // by position
  std::vector<int32_t> tree_;  // heap layout: [1] root, [leaves_ + pos] leaves
};

}  // namespace fastgpu::sched

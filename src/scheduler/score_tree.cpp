#include "scheduler/score_tree.h"

#include <cstddef>

namespace fastgpu::sched {

void ScoreTree::Reset(int size) {
  size_ = size;
  leaves_ = 1;
  while (leaves_ < size) leaves_ *= 2;
  score_.assign(leaves_, 0);
  tree_.assign(2 * static_cast<std::size_t>(leaves_), -1);
}

void ScoreTree::Build() {
  for (int i = leaves_ - 1; i >= 1; --i) tree_[i] = Better(tree_[2 * i], tree_[2 * i + 1]);
}

void ScoreTree::Set(int pos, bool occupied, double score) {
  Assign(pos, occupied, score);
  for (int i = (leaves_ + pos) / 2; i >= 1; i /= 2) {
    int winner = Better(tree_[2 * i], tree_[2 * i + 1]);
    if (tree_[i] == winner && winner != pos) break;  // nothing above can change
    tree_[i] = winner;
  }
}

}  // namespace fastgpu::sched

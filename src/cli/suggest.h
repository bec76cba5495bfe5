// "Did you mean" for the command line: the closest known word to a mistyped one.
//
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fastgpu::cli {

// Levenshtein distance (insertions, deletions, substitutions; each costs one).
int EditDistance(std::string_view a, std::string_view b);

// The candidates close enough to `typed` to suggest, closest first: within an edit
// distance of max(1, length/3) (at most 3), or a candidate `typed` is a prefix of or that
// is a prefix of `typed` ("jobs" -> "job"). Empty when nothing is close.
std::vector<std::string> Suggest(std::string_view typed,
                                 const std::vector<std::string>& candidates);

}  // namespace fastgpu::cli

#include "cli/suggest.h"

#include <algorithm>
#include <numeric>

namespace fastgpu::cli {

int EditDistance(std::string_view a, std::string_view b) {
  std::vector<int> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    int diagonal = row[0];
    row[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::vector<std::string> Suggest(std::string_view typed,
                                 const std::vector<std::string>& candidates) {
  const int limit = std::clamp(static_cast<int>(typed.size()) / 3, 1, 3);
  std::vector<std::pair<int, std::string>> close;
  for (const std::string& c : candidates) {
    if (c.empty() || c == typed) continue;
    int d = EditDistance(typed, c);
    bool prefix = typed.size() >= 2 && (c.starts_with(typed) || typed.starts_with(c)) &&
                  std::min(c.size(), typed.size()) >= 2;
    if (d <= limit || prefix) close.emplace_back(prefix ? std::min(d, 1) : d, c);
  }
  std::stable_sort(close.begin(), close.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> out;
  for (auto& [d, c] : close) {
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(std::move(c));
  }
  return out;
}

}  // namespace fastgpu::cli

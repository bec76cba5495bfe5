// Column generation for the GPU configuration LP (see config_lp.h).
#include "optimizer/config_lp.h"

#include <ClpSimplex.hpp>
#include <CoinError.hpp>
#include <algorithm>
#include <cmath>
#include <exception>
#include <string>

namespace fastgpu::opt {
namespace {

constexpr int kGpuMilli = 1000;

struct Item {
  int size = 0;       // milli
  int64_t count = 0;  // available
};

// The best configuration for item values `value` (exact, bounded knapsack over 0..1000
// by binary splitting of the copies). Returns its value; `copies` gets copies per item.
double PriceConfiguration(const std::vector<Item>& items, const std::vector<double>& value,
                          std::vector<int>& copies) {
  struct Piece {
    int item;
    int mult;
  };
  std::vector<Piece> pieces;
  for (size_t i = 0; i < items.size(); ++i) {
    if (value[i] <= 1e-12) continue;
    int64_t left = std::min<int64_t>(items[i].count, kGpuMilli / items[i].size);
    for (int64_t m = 1; left > 0; m *= 2) {
      const int take = static_cast<int>(std::min(m, left));
      pieces.push_back({static_cast<int>(i), take});
      left -= take;
    }
  }
  std::vector<double> best(kGpuMilli + 1, 0.0);
  std::vector<std::vector<char>> took(pieces.size(), std::vector<char>(kGpuMilli + 1, 0));
  for (size_t p = 0; p < pieces.size(); ++p) {
    const int w = pieces[p].mult * items[pieces[p].item].size;
    const double v = pieces[p].mult * value[pieces[p].item];
    for (int cap = kGpuMilli; cap >= w; --cap) {
      if (best[cap - w] + v > best[cap] + 1e-12) {
        best[cap] = best[cap - w] + v;
        took[p][cap] = 1;
      }
    }
  }
  copies.assign(items.size(), 0);
  int cap = kGpuMilli;
  for (size_t p = pieces.size(); p-- > 0;) {
    if (!took[p][cap]) continue;
    copies[pieces[p].item] += pieces[p].mult;
    cap -= pieces[p].mult * items[pieces[p].item].size;
  }
  return best[kGpuMilli];
}

// Adds the configuration `copies` as a column (row 0: GPUs; row 1 + i: items of size i).
void AddConfiguration(ClpSimplex& lp, const std::vector<Item>& items,
                      const std::vector<int>& copies) {
  std::vector<int> rows{0};
  std::vector<double> elements{1.0};
  double milli = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    if (copies[i] == 0) continue;
    rows.push_back(static_cast<int>(i) + 1);
    elements.push_back(copies[i]);
    milli += static_cast<double>(copies[i]) * items[i].size;
  }
  lp.addColumn(static_cast<int>(rows.size()), rows.data(), elements.data(), 0.0, COIN_DBL_MAX,
               -milli);
}

}  // namespace

std::map<int, int64_t> ItemsFromShapes(const std::vector<model::Shape>& shapes) {
  std::map<int, int64_t> items;
  for (const model::Shape& s : shapes) {
    if (s.gpu_count <= 0 || s.gpu_milli <= 0) continue;
    if (s.gpu_milli >= kGpuMilli) {
      items[kGpuMilli] += s.gpu_count;
    } else {
      items[s.gpu_milli] += 1;
    }
  }
  return items;
}

Result<ConfigLpBound> GpuConfigLpBound(int64_t num_gpus,
                                       const std::map<int, int64_t>& items_by_milli,
                                       const ConfigLpOptions& options) {
  if (num_gpus < 0) return InvalidArgument("number of GPUs must be >= 0");
  ConfigLpBound out;
  out.capacity_milli = num_gpus * kGpuMilli;
  std::vector<Item> items;
  for (auto [size, count] : items_by_milli) {
    if (size < 1 || size > kGpuMilli) {
      return InvalidArgument("item size " + std::to_string(size) + " outside 1..1000 milli");
    }
    if (count < 0) return InvalidArgument("negative item count for size " + std::to_string(size));
    if (count == 0) continue;
    items.push_back({size, count});
    out.demand_milli += static_cast<int64_t>(size) * count;
  }
  // Trivial bounds: the capacity and the demand.
  double bound = static_cast<double>(std::min(out.capacity_milli, out.demand_milli));
  out.upper_bound_milli = bound;
  if (items.empty() || num_gpus == 0) {
    out.converged = true;
    return out;
  }
  try {
    ClpSimplex lp;
    lp.setLogLevel(0);
    lp.messageHandler()->setLogLevel(0);
    std::vector<double> row_lb(items.size() + 1, -COIN_DBL_MAX), row_ub(items.size() + 1);
    row_ub[0] = static_cast<double>(num_gpus);
    for (size_t i = 0; i < items.size(); ++i) row_ub[i + 1] = static_cast<double>(items[i].count);
    lp.resize(static_cast<int>(row_ub.size()), 0);
    for (size_t r = 0; r < row_ub.size(); ++r) {
      lp.setRowLower(static_cast<int>(r), row_lb[r]);
      lp.setRowUpper(static_cast<int>(r), row_ub[r]);
    }
    // Start from the homogeneous configurations: as many items of one size as fit.
    for (size_t i = 0; i < items.size(); ++i) {
      std::vector<int> copies(items.size(), 0);
      copies[i] = static_cast<int>(std::min<int64_t>(items[i].count, kGpuMilli / items[i].size));
      AddConfiguration(lp, items, copies);
    }
    std::vector<double> value(items.size());
    std::vector<int> copies;
    for (out.iterations = 1; out.iterations <= options.max_iterations; ++out.iterations) {
      lp.primal(1);
      if (!lp.isProvenOptimal()) return Internal("Clp did not solve the configuration master");
      out.primal_milli = -lp.objectiveValue();
      const double* dual = lp.dualRowSolution();
      // Minimising the negated milli: a <= row's dual is <= 0; y = -dual, clipped at 0.
      const double y_gpu = std::max(0.0, -dual[0]);
      double item_part = 0;
      for (size_t i = 0; i < items.size(); ++i) {
        const double y = std::max(0.0, -dual[i + 1]);
        value[i] = items[i].size - y;
        item_part += y * static_cast<double>(items[i].count);
      }
      const double best = PriceConfiguration(items, value, copies);
      bound = std::min(bound, static_cast<double>(num_gpus) * std::max(0.0, best) + item_part);
      out.upper_bound_milli = bound;
      if (best - y_gpu <= 1e-9 ||
          bound - out.primal_milli <= options.relative_tolerance * std::max(1.0, bound)) {
        out.converged = true;
        break;
      }
      AddConfiguration(lp, items, copies);
    }
    out.iterations = std::min(out.iterations, options.max_iterations);
    out.configurations = lp.numberColumns();
  } catch (const CoinError& e) {
    return Internal("Clp: " + e.message());
  } catch (const std::exception& e) {
    return Internal(std::string("Clp: ") + e.what());
  }
  // The master's primal is a placement of the relaxation: the bound is never below it.
  out.upper_bound_milli = std::max(out.upper_bound_milli, out.primal_milli);
  return out;
}

}  // namespace fastgpu::opt

// The GPU-level configuration LP: an upper bound on the GPU milli that ANY policy,
// online or offline, can allocate to a set of tasks on a pool.
//
// Relaxation: CPU, memory, node boundaries and GPU models are dropped; a whole-GPU task
// of n GPUs becomes n items of 1000 milli; a fractional task is one item of its milli.
// Items of equal size are counted together. A configuration is a multiset of item sizes
// that fits one GPU (sum <= 1000). The LP chooses how many GPUs use each configuration
// (at most the number of GPUs in all, at most the available items of each size) to
// maximise the milli placed. It is solved by column generation: Clp solves the master
// over the configurations found so far, and an exact bounded-knapsack dynamic programme
// over 0..1000 milli prices a new configuration from the master's duals. Every
// iteration's duals y (clipped at 0) give a valid bound by LP duality:
//   bound = gpus * max(0, K(y)) + sum_i count_i * y_i,  K(y) = max over configurations
//   of sum (size_i - y_i), so the reported bound is valid even if stopped early.
//
// Thread-safety: reentrant; concurrent calls are safe. Clp prints nothing.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "common/result.h"
#include "model/shape.h"

namespace fastgpu::opt {

struct ConfigLpOptions {
  int max_iterations = 5000;         // column-generation rounds; default 5000
  double relative_tolerance = 1e-7;  // stop when (bound - primal) <= this * bound; default 1e-7
};

struct ConfigLpBound {
  double upper_bound_milli = 0;  // the dual bound: no placement allocates more
  double primal_milli = 0;       // the master's optimum at the end (<= LP optimum)
  int64_t capacity_milli = 0;    // gpus * 1000
  int64_t demand_milli = 0;      // sum of all items
  int iterations = 0;
  int configurations = 0;  // columns in the final master
  bool converged = false;  // no configuration with positive reduced value left
  // The bound as a share of capacity (0 when the pool is empty).
  double UpperBoundShare() const {
    return capacity_milli > 0 ? upper_bound_milli / static_cast<double>(capacity_milli) : 0;
  }
};

// Bound for `num_gpus` GPUs of 1000 milli and `items_by_milli` (item size in milli,
// 1..1000 -> number of items). InvalidArgument for negative counts or sizes outside
// 1..1000; Internal if Clp fails.
Result<ConfigLpBound> GpuConfigLpBound(int64_t num_gpus,
                                       const std::map<int, int64_t>& items_by_milli,
                                       const ConfigLpOptions& options = {});

// The items of a list of task shapes: a fraction adds one item of its milli, n whole
// GPUs add n items of 1000, CPU-only shapes add nothing.
std::map<int, int64_t> ItemsFromShapes(const std::vector<model::Shape>& shapes);

}  // namespace fastgpu::opt

// Shape: what one replica of a workload asks for.
//
// GPU part, as in the Alibaba trace: `gpu_count` GPUs of `gpu_milli` thousandths each.
//   CPU-only:   gpu_count 0, gpu_milli 0
//   fraction:   gpu_count 1, gpu_milli 1..999   (part of one GPU)
//   whole GPUs: gpu_count n >= 1, gpu_milli 1000
// Plain value type; ValidateShape is pure and thread-safe.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace fastgpu::model {

// How a virtual GPU is isolated, strongest first. kDefault resolves to kExclusive for
// whole GPUs and kMps for fractions (see EffectiveIsolation).
enum class Isolation { kDefault, kVm, kMig, kMps, kShared, kExclusive };

std::string_view IsolationName(Isolation iso);  // "default", "vm", "mig", ...
Result<Isolation> ParseIsolation(std::string_view name);

struct Shape {
  int gpu_count = 0;                    // default 0 (CPU-only)
  int gpu_milli = 0;                    // per GPU; default 0; 1000 for whole GPUs
  int64_t gpu_memory_mib = 0;           // per GPU; 0 = no memory ask (whole: all of it)
  std::vector<std::string> gpu_models;  // allowed models; empty = any
  int64_t cpu_milli = 0;                // default 0
  int64_t memory_mib = 0;               // default 0
  Isolation isolation = Isolation::kDefault;

  bool IsFractional() const { return gpu_count == 1 && gpu_milli > 0 && gpu_milli < 1000; }
  bool NeedsGpu() const { return gpu_count > 0; }
  int64_t TotalGpuMilli() const { return static_cast<int64_t>(gpu_count) * gpu_milli; }
  Isolation EffectiveIsolation() const {
    if (isolation != Isolation::kDefault) return isolation;
    return IsFractional() ? Isolation::kMps : Isolation::kExclusive;
  }
  // True when `model` satisfies the constraint (always, when gpu_models is empty).
  bool AllowsModel(std::string_view model) const;

  friend bool operator==(const Shape&, const Shape&) = default;
};

// Checks a shape and names the offending field in the error. `known_models`, when
// given, is the set a model constraint must come from (else only the syntax is checked).
// Refused: negative values; gpu_milli without GPUs; GPU memory without GPUs; gpu_milli
// over 1000; several GPUs that are not whole; more than 64 GPUs; an empty request;
// unknown or repeated models; an isolation the GPU part cannot use (exclusive for a
// fraction, vm which is not available yet).
Status ValidateShape(const Shape& shape, const std::set<std::string>* known_models = nullptr);

// "0.5 GPU (20GiB) H100-80GB, 2 CPU, 8GiB" for tables and messages.
std::string DescribeShape(const Shape& shape);

}  // namespace fastgpu::model

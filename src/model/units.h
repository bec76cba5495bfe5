// Parsing and printing of human units, in one place.
//
//   GPU:    "0.5" -> 500 milli of one GPU; "500m" -> 500 milli; "2" -> two whole GPUs;
//           "1" / "1000m" -> one whole GPU. Fractions above one GPU ("1.5") are refused:
//           a request is either a fraction of one GPU or a whole count.
//   Memory: "40GiB"/"40Gi", "512MiB", "1TiB" (binary, whole MiB); "8G"/"8GB" = 8e9 bytes,
//           "500M"/"500MB", "1T" (decimal, as Kubernetes reads them, rounded up to whole MiB);
//           "1024" (bare number = MiB) -> MiB.
//   CPU:    "2" -> 2000 milli, "500m" -> 500 milli, "0.25" -> 250 milli.
// All functions are pure and thread-safe; errors name the bad text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace fastgpu::model {

// A GPU amount as the scheduler sees it: `count` GPUs, each `milli_per_gpu` (1..1000).
// A fraction has count == 1 and milli_per_gpu < 1000; zero GPUs is count == 0, milli 0.
struct GpuAmount {
  int count = 0;
  int milli_per_gpu = 0;
  int64_t TotalMilli() const { return static_cast<int64_t>(count) * milli_per_gpu; }
  friend bool operator==(const GpuAmount&, const GpuAmount&) = default;
};

Result<GpuAmount> ParseGpuAmount(std::string_view text);
Result<int64_t> ParseMemoryMib(std::string_view text);
Result<int64_t> ParseCpuMilli(std::string_view text);

// "0.5" / "2" / "0"; the inverse of ParseGpuAmount.
std::string FormatGpuAmount(const GpuAmount& amount);
// "40GiB", "512MiB", "1.5GiB".
std::string FormatMemoryMib(int64_t mib);
// "2", "0.5".
std::string FormatCpuMilli(int64_t milli);
// A GPU total in GPUs, for people: 1500 -> "1.5 GPU", 250 -> "0.25 GPU", 2000 -> "2 GPU".
std::string FormatGpuMilli(int64_t milli);

}  // namespace fastgpu::model

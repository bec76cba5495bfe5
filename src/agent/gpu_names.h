// Mapping of the product names NVML reports to FastGPU's catalogue model names
// (KnownGpuModels() in model/gpu.h), e.g. "NVIDIA H100 80GB HBM3" -> "H100-80GB".
// Names it does not know are kept, sanitised to a valid model name
// ("NVIDIA RTX A6000" -> "RTX-A6000"). Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fastgpu::agent {

// `memory_mib` (the device's total memory, 0 if unknown) picks the variant where the
// name does not say it (an "NVIDIA A100-PCIE" with 40 GiB -> "A100-40GB").
std::string ModelFromProductName(std::string_view product_name, int64_t memory_mib);

// Keeps [A-Za-z0-9._-], turns runs of anything else into one '-', trims '-' at both
// ends and cuts to 64 characters; "unknown" when nothing is left.
std::string SanitizeModelName(std::string_view name);

}  // namespace fastgpu::agent

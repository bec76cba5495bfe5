// The metering commands of the CLI:
//   fastgpu usage [--tenant T] [--from WHEN] [--to WHEN] [--by job|model|day] [-o table|json|csv]
//   fastgpu price set --model M --gpu-hour 2.49 [--cpu-hour X] [--gib-hour X]
//                     [--minimum-seconds N]                               (admin)
//   fastgpu price list
//   fastgpu tenant quota TENANT [--max-gpu 4] [--budget 100.00]           (admin)
// Each takes --server, --token, --config like the other client commands. Exit codes:
// 0 success, 1 the request failed, 2 bad usage.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace fastgpu::cli {

// Adds `usage` (replacing a placeholder of that name) and `price` to `app`, and `quota`
// under its `tenant` command when there is one.
void RegisterUsageCommands(CLI::App& app, int* exit_code);

// "4" -> 4000, "0.5" -> 500, "1500m" -> 1500: GPUs held at once, in milli (at most
// 3 decimals). InvalidArgument otherwise.
Result<int64_t> ParseGpuMilliLimit(std::string_view text);
// "100", "100.00", "$99.5" -> cents; refuses fractions of a cent.
Result<int64_t> ParseDollarsToCents(std::string_view text);

}  // namespace fastgpu::cli

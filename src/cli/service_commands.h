// The service commands of the CLI (docs/services.md):
//   fastgpu service create NAME [--gpu 0.5] [--port] [--min N] [--max N]
//                              [--target-rps R | --target-gpu-util P] ... -- CMD...
//   fastgpu service list | get NAME | scale NAME N | update NAME [flags] [-- CMD...]
//                 | delete NAME...
// over /v1/services. Each takes --server, --token, --config and -o table|json like the other
// client commands. Exit codes: 0 success, 1 the request failed, 2 bad usage.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <string>

#include "common/result.h"

namespace fastgpu::cli {

// Adds `service` with its subcommands to `app`.
void RegisterServiceCommands(CLI::App& app, int* exit_code);

// A duration in seconds from "300", "300s", "5m" or "2h"; a usage error naming `flag` else.
Result<int64_t> ParseDurationSeconds(const std::string& text, const std::string& flag);

// The table of a GET /v1/services answer, and the detail view of one service.
std::string RenderServiceList(const boost::json::value& list);
std::string RenderService(const boost::json::value& service);

}  // namespace fastgpu::cli

// The node pool's command of the CLI (docs/pool.md):
//   fastgpu pool status [-o table|json]   (admin)
// the groups of `fastgpu server --pool FILE`, their nodes (booting, ready, draining), the
// reason of each group's latest provider failure or boot timeout, and the pending jobs with
// what the pool did for them (GET /v1/pool). Takes --server, --token, --config like the other
// client commands. Exit codes: 0 success, 1 the request failed, 2 bad usage.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <string>

#include "common/result.h"

namespace fastgpu::cli {

// Adds `pool` with its `status` subcommand to `app`.
void RegisterPoolCommands(CLI::App& app, int* exit_code);

// The table of a GET /v1/pool answer; an answer of another form is an error naming the field.
Result<std::string> RenderPoolStatus(const boost::json::value& pool);

}  // namespace fastgpu::cli

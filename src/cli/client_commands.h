// The API client subcommands of the `fastgpu` binary: login, job, node, tenant, token, and
// through usage_commands.h usage, price and tenant quota. Each leaf command takes
// --server, --token, --config and -o table|json; output goes to stdout, errors to stderr
// as "fastgpu: <message>".
//
// Exit codes stored in `*exit_code`: 0 success; 1 the request failed (unreachable,
// 401, 404, refused by the server); 2 bad usage (a value the CLI could not parse).
#pragma once

#include <CLI/CLI.hpp>

namespace fastgpu::cli {

void RegisterClientCommands(CLI::App& app, int* exit_code);

}  // namespace fastgpu::cli

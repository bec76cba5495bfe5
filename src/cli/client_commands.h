// The API client subcommands of the `fastgpu` binary: login, job, node, tenant, token, and
// through usage_commands.h usage, price and tenant quota. Each leaf command takes
// --server, --token, --config and -o table|json; output goes to stdout, errors to stderr
// as "fastgpu: <message>".
//
// Exit codes stored in `*exit_code`: 0 success; 1 the request failed (unreachable,
// 401, 404, refused by the server); 2 bad usage (a value the CLI could not parse).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "common/result.h"

namespace fastgpu::cli {

// The flags of `job submit` (and the shape flags `run` shares).
struct SubmitFlags {
  std::string gpu = "0", gpu_memory, cpu, memory, isolation = "default", name, key, image;
  std::vector<std::string> gpu_models, env, command;
  int replicas = 1, retries = 0, priority = 0;
  bool wait = false;
  bool root = false;
  double timeout_seconds = 0;
  bool port = false;       // --port: each replica gets PORT from its agent
  std::string ready_http;  // --ready-http PATH (needs --port)
  bool ready_tcp = false;  // --ready-tcp (needs --port)
};

// The job spec in the model's JSON form (model/json.h), the one the API decodes; a usage
// error ("usage: --gpu: ...") for a value that does not parse.
Result<std::string> SubmitBody(const SubmitFlags& s);

void RegisterClientCommands(CLI::App& app, int* exit_code);

}  // namespace fastgpu::cli

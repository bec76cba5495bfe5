// The frame every API client command runs in: the flags they share (--server, --token,
// --ca-cert, --config, -o) and one runner that resolves the config, connects, runs the command's
// body and prints its output or its error with a fitting exit code.
// Not thread-safe; used from main's thread only.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/config.h"
#include "common/result.h"

namespace fastgpu::cli {

struct ClientFlags {
  std::string server;   // default: $FASTGPU_SERVER, then the config file
  std::string token;    // default: $FASTGPU_TOKEN, then the config file
  std::string ca_cert;  // default: $FASTGPU_CA_CERT, then the config file
  std::string config = DefaultConfigPath();
  std::string output = "table";  // one of the command's output formats
};

// Adds the shared flags to `cmd`; `outputs` lists the formats -o accepts.
void AddClientFlags(CLI::App* cmd, const std::shared_ptr<ClientFlags>& flags,
                    std::vector<std::string> outputs = {"table", "json"});

// The flags' configuration and a client for it. On failure prints the reason to stderr,
// sets *exit_code (1: no usable configuration, 2: the client cannot be made) and answers
// nullopt. Every client command opens its connection this way.
struct ClientConnection {
  ClientConfig config;
  std::unique_ptr<ApiClient> api;
};
std::optional<ClientConnection> OpenClient(const ClientFlags& flags, int* exit_code);

// The command's work: given a connected client and the output format, the text to print.
// A status whose message starts with "usage:" is a usage error (exit 2).
using ClientBody = std::function<Result<std::string>(ApiClient& api, const std::string& output)>;

// Runs `body` and returns the exit code: 0 printed, 1 failed (with the error on stderr
// and its code in brackets), 2 bad usage or an unusable config.
int RunClientCommand(const ClientFlags& flags, const ClientBody& body);

}  // namespace fastgpu::cli

// The `fastgpu` binary's subcommands. Each part of the system registers its own
// subcommands on the CLI11 app; main() only wires them together and picks the
// concrete implementations (SQLite or PostgreSQL, NVML or fake inventory).
//
// A registered command's callback stores its process exit code in `*exit_code`
// (0 success, 1 runtime failure, 2 bad usage).
#pragma once

#include <CLI/CLI.hpp>

namespace fastgpu::main {

void RegisterUpCommand(CLI::App& app, int* exit_code);      // cmd_up.cpp
void RegisterServerCommand(CLI::App& app, int* exit_code);  // cmd_server.cpp
void RegisterAgentCommand(CLI::App& app, int* exit_code);   // cmd_agent.cpp
void RegisterSimCommand(CLI::App& app, int* exit_code);     // cmd_sim.cpp
void RegisterStoreCommand(CLI::App& app, int* exit_code);   // cmd_store.cpp
// login, job, node, tenant, token, usage: the API client commands.
void RegisterClientCommands(CLI::App& app, int* exit_code);  // cmd_client.cpp

}  // namespace fastgpu::main

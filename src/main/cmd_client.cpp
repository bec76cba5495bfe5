// login, job, node, tenant, token, usage: the API client (src/cli).
#include "cli/client_commands.h"
#include "main/commands.h"

namespace fastgpu::main {

void RegisterClientCommands(CLI::App& app, int* exit_code) {
  cli::RegisterClientCommands(app, exit_code);
}

}  // namespace fastgpu::main

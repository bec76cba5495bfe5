// login, job, node, tenant, token, usage, pool: the API client (src/cli).
#include "cli/client_commands.h"
#include "cli/pool_commands.h"
#include "main/commands.h"

namespace fastgpu::main {

void RegisterClientCommands(CLI::App& app, int* exit_code) {
  cli::RegisterClientCommands(app, exit_code);
  cli::RegisterPoolCommands(app, exit_code);  // pool status (docs/pool.md)
}

}  // namespace fastgpu::main

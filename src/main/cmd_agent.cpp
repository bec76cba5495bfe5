#include "main/commands.h"

#include <iostream>

namespace fastgpu {

void RegisterAgentCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("agent", "Run the node agent on a GPU machine");
  cmd->callback([exit_code] {
    std::cerr << "fastgpu agent: the node agent is not built yet\n";
    *exit_code = 2;
  });
}

}  // namespace fastgpu

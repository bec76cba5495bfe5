#include "main/commands.h"

#include <iostream>

namespace fastgpu {

void RegisterUpCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "up", "Start a control plane with embedded SQLite and a local agent in one process");
  cmd->callback([exit_code] {
    std::cerr << "fastgpu up: the control plane is not built yet\n";
    *exit_code = 2;
  });
}

}  // namespace fastgpu

#include "main/commands.h"

#include <iostream>

namespace fastgpu {

void RegisterServerCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("server", "Run the control plane (REST API, reconciler)");
  cmd->callback([exit_code] {
    std::cerr << "fastgpu server: the control plane is not built yet\n";
    *exit_code = 2;
  });
}

}  // namespace fastgpu

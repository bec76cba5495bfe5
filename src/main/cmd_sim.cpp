#include "main/commands.h"

#include <iostream>

namespace fastgpu {

void RegisterSimCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("sim", "Replay a cluster trace through the placement policies");
  cmd->callback([exit_code] {
    std::cerr << "fastgpu sim: the simulator is not built yet\n";
    *exit_code = 2;
  });
}

}  // namespace fastgpu

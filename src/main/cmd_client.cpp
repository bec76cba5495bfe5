#include "main/commands.h"

#include <iostream>
#include <string>

namespace fastgpu {

void RegisterClientCommands(CLI::App& app, int* exit_code) {
  const std::pair<const char*, const char*> kCommands[] = {
      {"login", "Save the control plane's address and an API token in the config file"},
      {"job", "Submit, list, inspect, follow and cancel jobs"},
      {"node", "List and drain nodes"},
      {"tenant", "Create and list tenants (admin)"},
      {"token", "Create and revoke API tokens (admin)"},
      {"usage", "Report metered GPU usage and cost"},
  };
  for (const auto& [name, help] : kCommands) {
    std::string n = name;
    app.add_subcommand(name, help)->callback([exit_code, n] {
      std::cerr << "fastgpu " << n << ": the API client is not built yet\n";
      *exit_code = 2;
    });
  }
}

}  // namespace fastgpu

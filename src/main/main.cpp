// fastgpu: one binary, many subcommands (see commands.h).
#include <CLI/CLI.hpp>

#include <iostream>

#include "common/log.h"
#include "common/version.h"
#include "main/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"FastGPU: pool GPUs across machines, slice them into isolated virtual GPUs, "
               "and place work so that few GPUs sit idle.",
               "fastgpu"};
  app.require_subcommand(1);
  app.set_version_flag("--version", fastgpu::Version());
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();

  int exit_code = 0;
  app.add_subcommand("version", "Print the FastGPU version")->callback([] {
    std::cout << "fastgpu " << fastgpu::Version() << "\n";
  });
  fastgpu::RegisterUpCommand(app, &exit_code);
  fastgpu::RegisterServerCommand(app, &exit_code);
  fastgpu::RegisterAgentCommand(app, &exit_code);
  fastgpu::RegisterSimCommand(app, &exit_code);
  fastgpu::RegisterClientCommands(app, &exit_code);

  app.parse_complete_callback([&] {
    fastgpu::Status st = fastgpu::InitLogging(log_level);
    if (!st.ok()) throw CLI::ValidationError("--log-level", st.message());
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}

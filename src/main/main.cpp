// fastgpu: one binary, many subcommands (see commands.h).
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/completion.h"
#include "common/log.h"
#include "common/version.h"
#include "main/cli_hints.h"
#include "main/commands.h"
#include "main/vm_flags.h"

int main(int argc, char** argv) {
  CLI::App app{
      "FastGPU: pool GPUs across machines, slice them into isolated virtual GPUs, "
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
  fastgpu::main::RegisterUpCommand(app, &exit_code);
  fastgpu::main::RegisterServerCommand(app, &exit_code);
  fastgpu::main::RegisterAgentCommand(app, &exit_code);
  fastgpu::main::RegisterSimCommand(app, &exit_code);
  fastgpu::main::RegisterStoreCommand(app, &exit_code);
  fastgpu::main::RegisterClientCommands(app, &exit_code);
  fastgpu::main::RegisterVmRunCommand(app, &exit_code);
  std::string shell;
  auto* completion = app.add_subcommand(
      "completion", "Print a shell completion script: source <(fastgpu completion bash)");
  completion->add_option("shell", shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
  completion->callback([&] {
    auto script = fastgpu::cli::CompletionScript(app, shell);
    if (!script.ok()) {
      std::cerr << "fastgpu: " << script.status().message() << "\n";
      exit_code = 2;
      return;
    }
    std::cout << *script;
  });

  app.parse_complete_callback([&] {
    fastgpu::Status st = fastgpu::InitLogging(log_level);
    if (!st.ok()) throw CLI::ValidationError("--log-level", st.message());
  });
  if (argc == 1) {  // bare `fastgpu`: what it can do
    std::cout << app.help();
    return 0;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fastgpu::main::ReportParseError(app, argc, argv, e);
  }
  return exit_code;
}

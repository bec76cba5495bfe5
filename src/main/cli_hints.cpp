#include "main/cli_hints.h"

#include <iostream>
#include <string>
#include <vector>

#include "cli/suggest.h"

namespace fastgpu::main {

namespace {

std::vector<CLI::App*> Subcommands(CLI::App* app) {
  return app->get_subcommands([](CLI::App*) { return true; });
}

// "fastgpu job submit" for the app `job submit`.
std::string CommandPath(CLI::App* app) {
  std::string path;
  for (CLI::App* a = app; a != nullptr; a = a->get_parent()) {
    path = a->get_name() + (path.empty() ? "" : " " + path);
  }
  return path;
}

struct Walk {
  CLI::App* deepest = nullptr;  // the last command named on the line
  std::string unknown_command;  // a word where a subcommand was expected
  std::string unknown_flag;     // a flag the deepest command does not have
};

Walk WalkArgs(CLI::App& root, int argc, char** argv) {
  Walk w;
  w.deepest = &root;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") break;
    if (a.size() > 1 && a[0] == '-') {
      std::string name = a.substr(0, a.find('='));
      const CLI::Option* opt = w.deepest->get_option_no_throw(name);
      if (opt == nullptr) {
        if (w.unknown_flag.empty()) w.unknown_flag = name;
        continue;
      }
      // A flag that takes a value, given as "--flag value": skip the value.
      if (opt->get_type_size() != 0 && a.find('=') == std::string::npos && i + 1 < argc) ++i;
      continue;
    }
    CLI::App* next = nullptr;
    for (CLI::App* s : Subcommands(w.deepest)) {
      if (s->check_name(a)) next = s;
    }
    if (next != nullptr) {
      w.deepest = next;
    } else if (!Subcommands(w.deepest).empty()) {
      w.unknown_command = a;
      break;
    }
  }
  return w;
}

void PrintSuggestions(const std::vector<std::string>& close) {
  if (close.empty()) return;
  std::cerr << "\nDid you mean " << (close.size() == 1 ? "this" : "one of these") << "?\n";
  for (size_t i = 0; i < close.size() && i < 3; ++i) std::cerr << "        " << close[i] << "\n";
}

}  // namespace

int ReportParseError(CLI::App& root, int argc, char** argv, const CLI::ParseError& error) {
  Walk w = WalkArgs(root, argc, argv);
  const std::string path = CommandPath(w.deepest);
  if (!w.unknown_command.empty()) {
    std::vector<std::string> names;
    for (CLI::App* s : Subcommands(w.deepest)) names.push_back(s->get_name());
    std::cerr << "fastgpu: unknown command \"" << w.unknown_command << "\" for \"" << path
              << "\"\n";
    PrintSuggestions(cli::Suggest(w.unknown_command, names));
    std::cerr << "\nRun '" << path << " --help' for the commands.\n";
    return 2;
  }
  if (!w.unknown_flag.empty()) {
    std::vector<std::string> names;
    for (const CLI::Option* o : w.deepest->get_options()) {
      for (const std::string& l : o->get_lnames()) names.push_back("--" + l);
      for (const std::string& s : o->get_snames()) names.push_back("-" + s);
    }
    std::cerr << "fastgpu: unknown flag " << w.unknown_flag << " for \"" << path << "\"\n";
    PrintSuggestions(cli::Suggest(w.unknown_flag, names));
    std::cerr << "\nRun '" << path << " --help' for its flags.\n";
    return 2;
  }
  const std::string what = error.what();
  if (error.get_name() == "RequiredError" && what.find("subcommand") != std::string::npos &&
      !Subcommands(w.deepest).empty()) {
    std::cout << w.deepest->help();  // a command group on its own: show what it holds
    return 0;
  }
  std::cerr << "fastgpu: " << what << "\nRun '" << path << " --help' for usage.\n";
  return 2;
}

}  // namespace fastgpu::main

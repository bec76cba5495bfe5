#include "cli/completion.h"

#include <sstream>
#include <vector>

namespace fastgpu::cli {

namespace {

// One `case` arm per command path ("fastgpu job submit" -> "job/submit"): its subcommands
// and long flags.
void Arms(CLI::App& app, const std::string& path, std::ostringstream& out) {
  std::string words;
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    words += (words.empty() ? "" : " ") + sub->get_name();
  }
  for (const CLI::Option* opt : app.get_options()) {
    for (const std::string& name : opt->get_lnames())
      words += (words.empty() ? "--" : " --") + name;
  }
  out << "    \"" << path << "\") words=\"" << words << "\" ;;\n";
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    Arms(*sub, path.empty() ? sub->get_name() : path + "/" + sub->get_name(), out);
  }
}

// The space-separated names of every command path, for walking the words typed so far.
void Paths(CLI::App& app, const std::string& path, std::vector<std::string>& out) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    std::string p = path.empty() ? sub->get_name() : path + "/" + sub->get_name();
    out.push_back(p);
    Paths(*sub, p, out);
  }
}

}  // namespace

Result<std::string> CompletionScript(CLI::App& root, const std::string& shell) {
  if (shell != "bash" && shell != "zsh") {
    return InvalidArgument("usage: fastgpu completion bash|zsh (got '" + shell + "')");
  }
  std::vector<std::string> paths;
  Paths(root, "", paths);
  std::ostringstream out;
  if (shell == "zsh") {
    out << "# fastgpu completion for zsh: source <(fastgpu completion zsh)\n"
        << "autoload -U +X bashcompinit && bashcompinit\n";
  } else {
    out << "# fastgpu completion for bash: source <(fastgpu completion bash)\n";
  }
  out << "_fastgpu() {\n"
      << "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" path=\"\" w words i\n"
      << "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      << "    w=\"${COMP_WORDS[i]}\"\n"
      << "    [[ \"$w\" == -* ]] && continue\n"
      << "    case \" $_fastgpu_paths \" in\n"
      << "      *\" ${path:+$path/}$w \"*) path=\"${path:+$path/}$w\" ;;\n"
      << "    esac\n"
      << "  done\n"
      << "  case \"$path\" in\n";
  Arms(root, "", out);
  out << "    *) words=\"\" ;;\n"
      << "  esac\n"
      << "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
      << "}\n"
      << "_fastgpu_paths=\"";
  for (size_t i = 0; i < paths.size(); ++i) out << (i ? " " : "") << paths[i];
  out << "\"\n"
      << "complete -o default -F _fastgpu fastgpu\n";
  return out.str();
}

}  // namespace fastgpu::cli

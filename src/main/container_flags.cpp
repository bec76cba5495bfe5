#include "main/container_flags.h"

#include <sstream>

#include "model/image_ref.h"

namespace fastgpu::main {
namespace {

std::vector<std::string> SplitWords(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

void AddContainerFlags(CLI::App* cmd, ContainerFlags* flags) {
  cmd->add_option("--registries", flags->registries,
                  "Registries images of jobs may come from, comma-separated host[:port] "
                  "(localhost: images imported or built on this node; '' allows none)")
      ->capture_default_str();
  cmd->add_option("--container-runtime", flags->runtime,
                  "Runtime for jobs with --image (a name in PATH or a path)")
      ->capture_default_str();
  cmd->add_option("--container-network", flags->network,
                  "Network of containers: host (what plain jobs have) or none")
      ->check(CLI::IsMember({"host", "none"}))
      ->capture_default_str();
  cmd->add_option("--container-runtime-args", flags->runtime_args,
                  "Options put before 'run', split at spaces, e.g. \"--root /srv/containers "
                  "--storage-driver vfs\"");
  cmd->add_option("--container-run-args", flags->run_args,
                  "Options added to 'run', split at spaces, e.g. \"--ulimit nofile=65536:65536\"");
}

Result<agent::ContainerOptions> ContainerOptionsFromFlags(const ContainerFlags& flags) {
  agent::ContainerOptions o;
  o.runtime = flags.runtime;
  o.network = flags.network;
  o.allowed_registries.clear();
  std::stringstream in(flags.registries);
  for (std::string r; std::getline(in, r, ',');) {
    r.erase(0, r.find_first_not_of(" \t"));
    r.erase(r.find_last_not_of(" \t") + 1);
    if (r.empty()) continue;
    // A registry is valid when it is the registry of a reference made with it.
    auto ref = model::ParseImageRef(r + "/x");
    if (!ref.ok() || ref->registry.empty() || r.find('/') != std::string::npos ||
        (r.find_first_of(".:") == std::string::npos && r != "localhost")) {
      return InvalidArgument("--registries: '" + r +
                             "' is not a registry host[:port] (e.g. localhost, "
                             "registry.internal:5000, docker.io)");
    }
    o.allowed_registries.push_back(r);
  }
  o.runtime_args = SplitWords(flags.runtime_args);
  o.run_args = SplitWords(flags.run_args);
  return o;
}

}  // namespace fastgpu::main

#include "cli/command_runner.h"

#include <iostream>

#include "cli/config.h"

namespace fastgpu::cli {

void AddClientFlags(CLI::App* cmd, const std::shared_ptr<ClientFlags>& f,
                    std::vector<std::string> outputs) {
  cmd->add_option("--server", f->server,
                  "Control plane URL, or several replicas comma-separated or as repeated flags "
                  "(default: $FASTGPU_SERVER, config)")
      ->delimiter(',')
      ->multi_option_policy(CLI::MultiOptionPolicy::Join);
  cmd->add_option("--token", f->token, "API token (default: $FASTGPU_TOKEN, config)");
  cmd->add_option("--ca-cert", f->ca_cert,
                  "https: PEM file of the control plane's CA, e.g. <data-dir>/ca.crt (default: "
                  "$FASTGPU_CA_CERT, config, else the system CA store)");
  cmd->add_option("--config", f->config, "Config file")->capture_default_str();
  cmd->add_option("-o,--output", f->output, "Output format")
      ->capture_default_str()
      ->check(CLI::IsMember(outputs));
}

std::optional<ClientConnection> OpenClient(const ClientFlags& f, int* exit_code) {
  auto cfg = ResolveConfig(f.server, f.token, f.config, f.ca_cert);
  if (!cfg.ok()) {
    std::cerr << "fastgpu: " << cfg.status().message() << "\n";
    *exit_code = 1;
    return std::nullopt;
  }
  auto api = ApiClient::Create(*cfg);
  if (!api.ok()) {
    std::cerr << "fastgpu: " << api.status().message() << "\n";
    *exit_code = 2;
    return std::nullopt;
  }
  return ClientConnection{std::move(*cfg), std::move(*api)};
}

int RunClientCommand(const ClientFlags& f, const ClientBody& body) {
  int rc = 0;
  std::optional<ClientConnection> conn = OpenClient(f, &rc);
  if (!conn) return rc;
  std::unique_ptr<ApiClient>* api = &conn->api;
  // A body reads the control plane's JSON with checked readers (model/json.h) and turns an
  // answer of an unexpected shape into UnexpectedAnswer; this catch is only the last line
  // for an exception a library might still raise, so that the command never aborts.
  Result<std::string> out = Internal("no answer");
  try {
    out = body(**api, f.output);
  } catch (const std::exception& e) {
    out = Internal(std::string("unexpected answer from the control plane: ") + e.what());
  }
  if (!out.ok()) {
    std::cerr << "fastgpu: " << out.status().message() << " ["
              << StatusCodeName(out.status().code()) << "]\n";
    return out.status().code() == StatusCode::kInvalidArgument &&
                   out.status().message().rfind("usage:", 0) == 0
               ? 2
               : 1;
  }
  std::cout << *out << std::flush;
  return 0;
}

}  // namespace fastgpu::cli

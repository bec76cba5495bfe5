// Client configuration: which control plane to talk to and with which token.
//
// The config file (default ~/.config/fastgpu/config.json, or $XDG_CONFIG_HOME/fastgpu/
// config.json) holds {"server": URL, "token": TOKEN, "ca_cert": PEM FILE}; `fastgpu
// login` writes it with mode 0600 ("ca_cert" only when set, as an absolute path).
// Precedence: command-line flag, then the FASTGPU_SERVER / FASTGPU_TOKEN /
// FASTGPU_CA_CERT environment variables, then the file; the server defaults to
// http://127.0.0.1:8080. "ca_cert" is the CA an https server's certificate must chain to
// (instead of the system store); it is ignored for http URLs.
// Pure functions except for the file I/O named; thread-compatible.
#pragma once

#include <string>

#include "common/result.h"

namespace fastgpu::cli {

struct ClientConfig {
  std::string server;   // base URL, e.g. "http://127.0.0.1:8080"
  std::string token;    // API token; empty when none is known
  std::string ca_cert;  // PEM CA file for https; empty: the system CA store
};

inline constexpr char kDefaultServer[] = "http://127.0.0.1:8080";

// $XDG_CONFIG_HOME/fastgpu/config.json, else $HOME/.config/fastgpu/config.json.
std::string DefaultConfigPath();

// Reads the file. A missing file is an empty config (not an error); a malformed one is
// InvalidArgument naming the path.
Result<ClientConfig> LoadConfig(const std::string& path);
// Writes the file (creating its folder), mode 0600.
Status SaveConfig(const std::string& path, const ClientConfig& config);

// Flags override the environment, which overrides the file (see the file comment).
Result<ClientConfig> ResolveConfig(const std::string& flag_server, const std::string& flag_token,
                                   const std::string& config_path,
                                   const std::string& flag_ca_cert = "");

}  // namespace fastgpu::cli

#include "cli/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fastgpu::cli {

namespace json = boost::json;

std::string DefaultConfigPath() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && *xdg != '\0') return std::string(xdg) + "/fastgpu/config.json";
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.config/fastgpu/config.json";
}

Result<ClientConfig> LoadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return ClientConfig{};
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  json::value v = json::parse(ss.str(), ec);
  if (ec || !v.is_object()) return InvalidArgument(path + ": not a JSON object");
  ClientConfig c;
  const json::object& o = v.as_object();
  if (auto* s = o.if_contains("server"); s != nullptr && s->is_string()) c.server = s->as_string();
  if (auto* t = o.if_contains("token"); t != nullptr && t->is_string()) c.token = t->as_string();
  if (auto* a = o.if_contains("ca_cert"); a != nullptr && a->is_string()) {
    c.ca_cert = a->as_string();
  }
  return c;
}

Status SaveConfig(const std::string& path, const ClientConfig& config) {
  std::error_code ec;
  std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  json::object obj{{"server", config.server}, {"token", config.token}};
  if (!config.ca_cert.empty()) {
    // Absolute, so that the saved config works from any directory.
    auto abs = std::filesystem::absolute(config.ca_cert, ec);
    obj["ca_cert"] = ec ? config.ca_cert : abs.lexically_normal().string();
  }
  std::string text = json::serialize(obj) + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot write " + path + ": " + std::strerror(errno));
  ::fchmod(fd, 0600);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok ? OkStatus() : Internal("cannot write " + path);
}

Result<ClientConfig> ResolveConfig(const std::string& flag_server, const std::string& flag_token,
                                   const std::string& config_path,
                                   const std::string& flag_ca_cert) {
  FASTGPU_ASSIGN_OR_RETURN(ClientConfig c, LoadConfig(config_path));
  if (const char* s = std::getenv("FASTGPU_SERVER"); s != nullptr && *s != '\0') c.server = s;
  if (const char* t = std::getenv("FASTGPU_TOKEN"); t != nullptr && *t != '\0') c.token = t;
  if (const char* a = std::getenv("FASTGPU_CA_CERT"); a != nullptr && *a != '\0') c.ca_cert = a;
  if (!flag_server.empty()) c.server = flag_server;
  if (!flag_ca_cert.empty()) c.ca_cert = flag_ca_cert;
  if (!flag_token.empty()) c.token = flag_token;
  if (c.server.empty()) c.server = kDefaultServer;
  // "127.0.0.1:8080" means plain HTTP, as kubectl's --server does without a scheme.
  if (c.server.find("://") == std::string::npos) c.server = "http://" + c.server;
  return c;
}

}  // namespace fastgpu::cli

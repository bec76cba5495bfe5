#include "tests/fault_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace fastgpu::testing {

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ListeningUrl(const std::string& log_path) {
  std::string log = ReadText(log_path);
  size_t at = log.rfind("listening on ");
  if (at == std::string::npos) return "";
  size_t end = log.find('\n', at);
  if (end == std::string::npos) return "";
  return log.substr(at + 13, end - at - 13);
}

JsonClient::JsonClient(const std::string& url, const std::string& token) {
  net::HttpClientOptions o;
  o.bearer_token = token;
  o.read_timeout = std::chrono::seconds(10);
  auto c = net::HttpClient::Create(url, o);
  if (c.ok()) client_ = std::move(c).value();
}

std::string JsonClient::Reply::Str(std::string_view key) const {
  if (!body.is_object()) return "";
  const boost::json::value* v = body.as_object().if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
}

JsonClient::Reply JsonClient::Do(const std::string& method, const std::string& path,
                                 const std::string& body) {
  Reply r;
  if (!client_) return r;
  auto res = client_->Do(method, path, body);
  if (!res.ok()) return r;
  r.status = res->status;
  r.raw = res->body;
  boost::system::error_code ec;
  r.body = boost::json::parse(res->body, ec);
  if (ec) r.body = nullptr;
  return r;
}

}  // namespace fastgpu::testing

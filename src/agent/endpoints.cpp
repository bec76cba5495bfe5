#include "agent/endpoints.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

namespace fastgpu::agent {
namespace {

// A socket address for `host` ("" = the IPv4 any address) and `port`.
Result<sockaddr_storage> AddressOf(const std::string& host, int port, socklen_t* len) {
  sockaddr_storage ss{};
  if (host.empty() || host.find(':') == std::string::npos) {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    in->sin_family = AF_INET;
    in->sin_port = htons(static_cast<uint16_t>(port));
    if (host.empty()) {
      in->sin_addr.s_addr = htonl(INADDR_ANY);
    } else if (inet_pton(AF_INET, host.c_str(), &in->sin_addr) != 1) {
      return InvalidArgument("advertise host '" + host + "' is not an IP address");
    }
    *len = sizeof(sockaddr_in);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) != 1) {
      return InvalidArgument("advertise host '" + host + "' is not an IP address");
    }
    *len = sizeof(sockaddr_in6);
  }
  return ss;
}

// Binds a TCP socket to host:port (SO_REUSEADDR, as servers do) and returns the port it
// got; -1 when it cannot be bound.
int TryBind(const sockaddr_storage& addr, socklen_t len) {
  int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  int port = -1;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) == 0) {
    sockaddr_storage got{};
    socklen_t got_len = sizeof(got);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&got), &got_len) == 0) {
      port = got.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&got)->sin6_port)
                                       : ntohs(reinterpret_cast<sockaddr_in*>(&got)->sin_port);
    }
  }
  ::close(fd);
  return port;
}

void SetPort(sockaddr_storage& ss, int port) {
  if (ss.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(static_cast<uint16_t>(port));
  } else {
    reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(static_cast<uint16_t>(port));
  }
}

Result<int> ParsePort(std::string_view text) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || v < 1 || v > 65535) {
    return InvalidArgument("port range: '" + std::string(text) + "' is not a port (1-65535)");
  }
  return v;
}

}  // namespace

Result<PortRange> ParsePortRange(std::string_view text) {
  if (text.empty()) return PortRange{};
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) {
    return InvalidArgument("port range: expected FIRST-LAST such as 30000-32767, got '" +
                           std::string(text) + "'");
  }
  FASTGPU_ASSIGN_OR_RETURN(int first, ParsePort(text.substr(0, dash)));
  FASTGPU_ASSIGN_OR_RETURN(int last, ParsePort(text.substr(dash + 1)));
  if (first > last) {
    return InvalidArgument("port range: " + std::string(text) + " ends before it starts");
  }
  return PortRange{first, last};
}

Result<int> PickPort(const std::string& host, const PortRange& range, const std::set<int>& held) {
  socklen_t len = 0;
  FASTGPU_ASSIGN_OR_RETURN(sockaddr_storage addr, AddressOf(host, 0, &len));
  if (range.empty()) {
    // The kernel's pick; it may hand back a port a replica holds but has not bound yet.
    for (int attempt = 0; attempt < 32; ++attempt) {
      int port = TryBind(addr, len);
      if (port < 0) {
        return Unavailable("cannot bind a TCP socket on " + (host.empty() ? "*" : host) + ": " +
                           std::strerror(errno));
      }
      if (!held.count(port)) return port;
    }
    return ResourceExhausted("the kernel kept giving ports other replicas hold");
  }
  for (int port = range.first; port <= range.last; ++port) {
    if (held.count(port)) continue;
    SetPort(addr, port);
    if (TryBind(addr, len) == port) return port;
  }
  return ResourceExhausted("no free port in " + std::to_string(range.first) + "-" +
                           std::to_string(range.last) + " on " + (host.empty() ? "*" : host));
}

Result<std::string> LocalAddressToward(std::string_view server_urls) {
  std::string_view url = server_urls.substr(0, server_urls.find(','));
  std::string service = "80";
  if (url.rfind("https://", 0) == 0) {
    url.remove_prefix(8);
    service = "443";
  } else if (url.rfind("http://", 0) == 0) {
    url.remove_prefix(7);
  } else {
    return InvalidArgument("server URL '" + std::string(url) + "' is not http:// or https://");
  }
  url = url.substr(0, url.find('/'));
  std::string host;
  if (!url.empty() && url[0] == '[') {
    size_t close = url.find(']');
    if (close == std::string_view::npos) {
      return InvalidArgument("server URL: unclosed '[' in '" + std::string(url) + "'");
    }
    host = std::string(url.substr(1, close - 1));
    if (close + 1 < url.size() && url[close + 1] == ':') service = url.substr(close + 2);
  } else {
    size_t colon = url.rfind(':');
    host = std::string(url.substr(0, colon));
    if (colon != std::string_view::npos) service = url.substr(colon + 1);
  }
  if (host.empty()) return InvalidArgument("server URL has no host");
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return Unavailable("cannot resolve " + host + ": " + ::gai_strerror(rc));
  }
  std::string why = "no address";
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    // A UDP "connect" only picks the route and local address: no packet is sent.
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      why = std::strerror(errno);
      ::close(fd);
      continue;
    }
    sockaddr_storage local{};
    socklen_t len = sizeof(local);
    char text[INET6_ADDRSTRLEN] = {};
    bool ok = ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0;
    ::close(fd);
    if (!ok) continue;
    const void* bytes =
        local.ss_family == AF_INET6
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&local)->sin_addr);
    if (::inet_ntop(local.ss_family, bytes, text, sizeof(text)) == nullptr) continue;
    ::freeaddrinfo(found);
    return std::string(text);
  }
  ::freeaddrinfo(found);
  return Unavailable("no route to " + host + ": " + why);
}

bool IsIpAddress(const std::string& host) {
  in6_addr buf{};
  return inet_pton(AF_INET, host.c_str(), &buf) == 1 || inet_pton(AF_INET6, host.c_str(), &buf) == 1;
}

std::string JoinHostPort(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace fastgpu::agent

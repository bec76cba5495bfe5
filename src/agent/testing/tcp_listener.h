// TcpListener: a listening TCP socket on 127.0.0.1 for tests of ports and readiness
// probes (never used in production). It accepts nothing itself: the kernel completes
// connections into its backlog, which is what a TCP probe checks. Closed by the
// destructor. Not thread-safe (one test thread owns it).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

namespace fastgpu::testing {

class TcpListener {
 public:
  // Listens on 127.0.0.1:`port` (0: any free port); ok() is false when it cannot.
  explicit TcpListener(int port = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    port_ = ntohs(a.sin_port);
  }
  ~TcpListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  bool ok() const { return fd_ >= 0; }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A port nothing listens on right now: one a listener had, closed again.
inline int ClosedPort() {
  TcpListener l;
  return l.port();
}

}  // namespace fastgpu::testing

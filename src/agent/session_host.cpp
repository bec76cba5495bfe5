#include "agent/session_host.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "net/ws_client.h"
#include "protocol/session_frames.h"

namespace fastgpu::agent {

using std::chrono::milliseconds;

void UniqueFd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<SessionIo> OpenSessionIo(bool tty) {
  SessionIo io;
  io.tty = tty;
  if (tty) {
    int master = -1, slave = -1;
    struct winsize ws = {24, 80, 0, 0};
    if (::openpty(&master, &slave, nullptr, nullptr, &ws) != 0) {
      return Internal(std::string("openpty: ") + std::strerror(errno));
    }
    ::fcntl(master, F_SETFD, FD_CLOEXEC);
    ::fcntl(slave, F_SETFD, FD_CLOEXEC);
    io.agent_in = UniqueFd(master);
    io.workload_in = UniqueFd(slave);
    return io;
  }
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return Internal(std::string("pipe: ") + std::strerror(errno));
  }
  io.workload_in = UniqueFd(in[0]);
  io.agent_in = UniqueFd(in[1]);
  io.agent_out = UniqueFd(out[0]);
  io.workload_out = UniqueFd(out[1]);
  return io;
}

SessionHost::SessionHost(SessionHostOptions options, ProcessLauncher& launcher)
    : options_(std::move(options)), launcher_(launcher) {}

SessionHost::~SessionHost() { Stop(); }

void SessionHost::SetCredentials(const std::string& node_id, const std::string& node_token) {
  std::lock_guard lock(mu_);
  node_id_ = node_id;
  node_token_ = node_token;
}

std::string SessionHost::Route(const std::string& allocation_id, const std::string& exec_id) const {
  std::lock_guard lock(mu_);
  std::string route = "/v1/nodes/" + node_id_ + "/sessions/" + allocation_id;
  if (!exec_id.empty()) route += "?exec=" + exec_id;
  return route;
}

void SessionHost::Refuse(const std::string& allocation_id, const std::string& exec_id,
                         const std::string& why) {
  std::lock_guard lock(mu_);
  if (stopping_) return;
  auto old = threads_.find(exec_id);
  if (old != threads_.end()) {
    if (old->second.joinable()) old->second.detach();
    threads_.erase(old);
  }
  ++active_;
  threads_[exec_id] = std::thread([this, allocation_id, exec_id, why] {
    std::string token;
    {
      std::lock_guard l(mu_);
      token = node_token_;
    }
    auto ws = net::WsClient::Connect(options_.server_url, Route(allocation_id, exec_id), token,
                                     milliseconds(5000));
    if (ws.ok()) {
      (*ws)->Send(protocol::EncodeMessage("cannot start the command: " + why));
      (*ws)->Send(protocol::EncodeExit(126));
      (*ws)->Close();
      for (int i = 0; i < 40; ++i) {
        auto m = (*ws)->Read(milliseconds(50));
        if (!m.ok() && m.status().code() != StatusCode::kDeadlineExceeded) break;
      }
    }
    --active_;
  });
}

void SessionHost::Start(const std::string& allocation_id, SessionIo io, const ProcessHandle& handle,
                        const std::string& status_path, const std::string& exec_id) {
  std::lock_guard lock(mu_);
  if (stopping_) return;
  const std::string key = exec_id.empty() ? allocation_id : exec_id;
  auto old = threads_.find(key);
  if (old != threads_.end()) {  // an earlier relay of the same id has ended by now
    if (old->second.joinable()) old->second.detach();
    threads_.erase(old);
  }
  ++active_;
  threads_[key] = std::thread(
      [this, allocation_id, exec_id, io = std::move(io), handle, status_path]() mutable {
        Relay(allocation_id, exec_id, std::move(io), handle, status_path);
        --active_;
      });
}

void SessionHost::Stop() {
  std::map<std::string, std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  for (auto& [id, t] : threads) {
    if (t.joinable()) t.join();
  }
}

int SessionHost::ExitCode(const ProcessHandle& handle, const std::string& status_path) {
  const auto deadline = std::chrono::steady_clock::now() + options_.exit_wait;
  while (std::chrono::steady_clock::now() < deadline) {
    ProcessState ps = launcher_.Poll(handle, status_path);
    if (ps.kind == ProcessState::Kind::kExited) {
      return ps.signal != 0 ? 128 + ps.signal : ps.exit_code;
    }
    if (ps.kind == ProcessState::Kind::kLost) return 255;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return 255;
}

void SessionHost::Relay(const std::string& allocation_id, const std::string& exec_id, SessionIo io,
                        ProcessHandle handle, std::string status_path) {
  const int out_fd = io.tty ? io.agent_in.get() : io.agent_out.get();
  bool output_open = true;
  std::optional<int> exit_code;
  auto stopping = [this] {
    std::lock_guard lock(mu_);
    return stopping_;
  };
  while (!stopping()) {
    std::string token;
    {
      std::lock_guard lock(mu_);
      token = node_token_;
    }
    auto ws = net::WsClient::Connect(options_.server_url, Route(allocation_id, exec_id), token,
                                     milliseconds(5000));
    if (!ws.ok()) {
      spdlog::warn("session {}: cannot reach the control plane: {}", allocation_id,
                   ws.status().message());
      if (ws.status().code() == StatusCode::kNotFound ||
          ws.status().code() == StatusCode::kFailedPrecondition) {
        return;  // the control plane no longer knows this replica as a session
      }
      std::this_thread::sleep_for(milliseconds(1000));
      continue;
    }
    net::WsClient& conn = **ws;
    bool lost = false;
    char buf[16384];
    while (!lost && !stopping()) {
      if (!output_open && !exit_code) {
        exit_code = ExitCode(handle, status_path);
      }
      if (exit_code) {
        conn.Send(protocol::EncodeExit(*exit_code));
        conn.Close();
        // Wait for the relay to close (it forwards the exit first).
        for (int i = 0; i < 40; ++i) {
          auto m = conn.Read(milliseconds(50));
          if (!m.ok() && m.status().code() != StatusCode::kDeadlineExceeded) break;
        }
        return;
      }
      struct pollfd pfd = {out_fd, POLLIN, 0};
      int ready = ::poll(&pfd, 1, 20);
      if (ready > 0) {
        ssize_t n = ::read(out_fd, buf, sizeof(buf));
        if (n > 0) {
          if (!conn.Send(protocol::EncodeOutput(std::string_view(buf, static_cast<size_t>(n))))) {
            lost = true;
          }
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
          output_open = false;  // EIO on a terminal: every holder of the slave has gone
        }
      }
      // Input from the client, without waiting.
      for (;;) {
        auto m = conn.Read(milliseconds(0));
        if (!m.ok()) {
          if (m.status().code() != StatusCode::kDeadlineExceeded) lost = true;
          break;
        }
        auto f = protocol::DecodeFrame(*m);
        if (!f.ok()) continue;
        switch (f->kind) {
          case protocol::FrameKind::kInput: {
            const char* p = f->data.data();
            size_t left = f->data.size();
            while (left > 0 && io.agent_in.get() >= 0) {
              ssize_t w = ::write(io.agent_in.get(), p, left);
              if (w < 0 && errno == EINTR) continue;
              if (w <= 0) break;
              p += w;
              left -= static_cast<size_t>(w);
            }
            break;
          }
          case protocol::FrameKind::kResize:
            if (io.tty) {
              struct winsize ws = {static_cast<unsigned short>(f->rows),
                                   static_cast<unsigned short>(f->cols), 0, 0};
              ::ioctl(io.agent_in.get(), TIOCSWINSZ, &ws);  // the kernel sends SIGWINCH
            }
            break;
          case protocol::FrameKind::kEof:
            if (io.tty) {
              const char eot = 0x04;  // end-of-file for the terminal's line discipline
              if (::write(io.agent_in.get(), &eot, 1) < 0) {
                spdlog::debug("session {}: cannot write EOF", allocation_id);
              }
            } else {
              io.agent_in.Reset();
            }
            break;
          default:
            break;
        }
      }
    }
    if (lost) {
      spdlog::info("session {}: lost the control plane's connection; reconnecting", allocation_id);
      std::this_thread::sleep_for(milliseconds(500));
    }
  }
}

}  // namespace fastgpu::agent

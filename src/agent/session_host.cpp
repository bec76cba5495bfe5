#include "agent/session_host.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
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
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return Internal(std::string("pipe: ") + std::strerror(errno));
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    for (int fd : {in[0], in[1], out[0], out[1]}) ::close(fd);
    return Internal(std::string("pipe: ") + std::strerror(errno));
  }
  io.workload_in = UniqueFd(in[0]);
  io.agent_in = UniqueFd(in[1]);
  io.agent_out = UniqueFd(out[0]);
  io.workload_out = UniqueFd(out[1]);
  io.agent_err = UniqueFd(err[0]);
  io.workload_err = UniqueFd(err[1]);
  return io;
}

namespace {

// Appends a session's output to its replica's log, up to a cap (then one line says so).
class SessionLog {
 public:
  SessionLog(const std::string& path, int64_t cap) : cap_(cap) {
    if (path.empty()) return;
    fd_ = UniqueFd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (fd_.get() < 0) {
      spdlog::warn("session: cannot open its log {}: {}", path, std::strerror(errno));
      return;
    }
    struct stat st {};
    if (::fstat(fd_.get(), &st) == 0) written_ = st.st_size;
  }

  void Append(std::string_view bytes) {
    if (fd_.get() < 0 || capped_) return;
    if (written_ + static_cast<int64_t>(bytes.size()) > cap_) {
      bytes = bytes.substr(0, static_cast<size_t>(std::max<int64_t>(0, cap_ - written_)));
      capped_ = true;
    }
    Write(bytes);
    if (capped_) Write("\n[fastgpu: the log reached its cap; later output is not kept]\n");
  }

 private:
  void Write(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::write(fd_.get(), bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      written_ += n;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }

  UniqueFd fd_;
  int64_t cap_;
  int64_t written_ = 0;
  bool capped_ = false;
};

}  // namespace

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
    net::HttpClientOptions http = options_.tls;
    http.bearer_token = token;
    auto ws = net::WsClient::Connect(options_.server_url, Route(allocation_id, exec_id), http);
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
                        const std::string& status_path, const std::string& exec_id,
                        const std::string& log_path) {
  std::lock_guard lock(mu_);
  if (stopping_) return;
  const std::string key = exec_id.empty() ? allocation_id : exec_id;
  auto old = threads_.find(key);
  if (old != threads_.end()) {  // an earlier relay of the same id has ended by now
    if (old->second.joinable()) old->second.detach();
    threads_.erase(old);
  }
  if (!exec_id.empty()) {
    execs_[exec_id] = Exec{allocation_id, handle, ""};
  } else {
    relaying_.insert(allocation_id);
  }
  ++active_;
  threads_[key] = std::thread([this, allocation_id, exec_id, io = std::move(io), handle,
                               status_path, log_path]() mutable {
    Relay(allocation_id, exec_id, std::move(io), handle, status_path, log_path);
    {
      std::lock_guard l(mu_);
      if (exec_id.empty()) {
        relaying_.erase(allocation_id);
      } else {
        execs_.erase(exec_id);
      }
    }
    --active_;
  });
}

int SessionHost::StopExecs(const std::string& allocation_id, const std::string& why) {
  int stopped = 0;
  std::lock_guard lock(mu_);
  for (auto& [id, e] : execs_) {
    if (e.allocation_id != allocation_id || !e.stopped.empty()) continue;
    e.stopped = why;
    ++stopped;
    spdlog::info("exec {}: its replica {} ended; stopping it", id, allocation_id);
    if (Status st = launcher_.Signal(e.handle, SIGKILL); !st.ok()) {
      spdlog::warn("exec {}: {}", id, st.message());
    }
  }
  return stopped;
}

bool SessionHost::Relaying(const std::string& allocation_id) const {
  std::lock_guard lock(mu_);
  return relaying_.count(allocation_id) > 0;
}

std::string SessionHost::StopReason(const std::string& exec_id) const {
  std::lock_guard lock(mu_);
  auto it = execs_.find(exec_id);
  return it == execs_.end() ? "" : it->second.stopped;
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
                        ProcessHandle handle, std::string status_path, std::string log_path) {
  // The streams to read: a terminal's master, or the stdout and stderr pipes.
  struct Stream {
    int fd;
    bool is_stderr;
    bool open = true;
  };
  std::vector<Stream> streams;
  if (io.tty) {
    streams.push_back({io.agent_in.get(), false});
  } else {
    streams.push_back({io.agent_out.get(), false});
    if (io.agent_err.get() >= 0) streams.push_back({io.agent_err.get(), true});
  }
  SessionLog log(log_path, options_.log_cap_bytes);
  std::optional<int> exit_code;
  auto stopping = [this] {
    std::lock_guard lock(mu_);
    return stopping_;
  };
  auto output_open = [&] {
    return std::any_of(streams.begin(), streams.end(), [](const Stream& s) { return s.open; });
  };
  while (!stopping()) {
    std::string token;
    {
      std::lock_guard lock(mu_);
      token = node_token_;
    }
    net::HttpClientOptions http = options_.tls;
    http.bearer_token = token;
    auto ws = net::WsClient::Connect(options_.server_url, Route(allocation_id, exec_id), http);
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
    // A control plane that does not forward stderr frames gets stderr as output.
    const bool stderr_apart = conn.Header(protocol::kStderrHeader) == "1";
    bool lost = false;
    char buf[16384];
    while (!lost && !stopping()) {
      if (!output_open() && !exit_code) {
        exit_code = ExitCode(handle, status_path);
      }
      if (exit_code) {
        if (!exec_id.empty()) {
          std::string why = StopReason(exec_id);
          if (!why.empty()) conn.Send(protocol::EncodeMessage("the command was stopped: " + why));
        }
        conn.Send(protocol::EncodeExit(*exit_code));
        conn.Close();
        // Wait for the relay to close (it forwards the exit first).
        for (int i = 0; i < 40; ++i) {
          auto m = conn.Read(milliseconds(50));
          if (!m.ok() && m.status().code() != StatusCode::kDeadlineExceeded) break;
        }
        return;
      }
      std::vector<struct pollfd> pfds;
      std::vector<Stream*> polled;
      for (Stream& st : streams) {
        if (!st.open) continue;
        pfds.push_back({st.fd, POLLIN, 0});
        polled.push_back(&st);
      }
      int ready = ::poll(pfds.data(), pfds.size(), 20);
      for (size_t i = 0; ready > 0 && i < pfds.size(); ++i) {
        if (pfds[i].revents == 0) continue;
        Stream& st = *polled[i];
        ssize_t n = ::read(st.fd, buf, sizeof(buf));
        if (n > 0) {
          std::string_view bytes(buf, static_cast<size_t>(n));
          if (exec_id.empty()) log.Append(bytes);
          std::string frame = st.is_stderr && stderr_apart ? protocol::EncodeStderr(bytes)
                                                           : protocol::EncodeOutput(bytes);
          if (!conn.Send(std::move(frame))) lost = true;
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
          st.open = false;  // EIO on a terminal: every holder of the slave has gone
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

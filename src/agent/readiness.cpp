#include "agent/readiness.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/endpoints.h"
#include "net/http_client.h"

namespace fastgpu::agent {
namespace {

// A TCP connect to host:port within `timeout`.
ProbeResult TcpConnect(const std::string& host, int port, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return {false, "cannot resolve " + host + ": " + ::gai_strerror(rc)};
  }
  ProbeResult result{false, "no address for " + host};
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    int err = rc == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
      if (n == 0) {
        err = ETIMEDOUT;
      } else {
        socklen_t len = sizeof(err);
        if (n < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      }
    }
    ::close(fd);
    if (err == 0) {
      result = {true, ""};
      break;
    }
    result = {false, "connect to " + JoinHostPort(host, port) + ": " + std::strerror(err)};
  }
  ::freeaddrinfo(found);
  return result;
}

ProbeResult HttpGet(const std::string& host, int port, const std::string& path,
                    std::chrono::milliseconds timeout) {
  net::HttpClientOptions options;
  options.connect_timeout = timeout;
  options.read_timeout = timeout;
  options.max_body_bytes = size_t{1} << 20;
  auto client = net::HttpClient::Create("http://" + JoinHostPort(host, port), options);
  if (!client.ok()) return {false, client.status().message()};
  auto answer = (*client)->Get(path);
  if (!answer.ok()) {
    // A large body still has a status: a ResourceExhausted came after the status line,
    // but the client does not keep it, so it counts as not ready (keep probe pages small).
    return {false, answer.status().message()};
  }
  if (answer->status >= 200 && answer->status < 400) return {true, ""};
  return {false, "HTTP " + std::to_string(answer->status)};
}

}  // namespace

ProbeResult ProbeOnce(const std::string& host, int port, const model::ReadinessProbe& probe,
                      std::chrono::milliseconds timeout) {
  switch (probe.kind) {
    case model::ReadinessProbe::Kind::kNone:
      return {true, ""};
    case model::ReadinessProbe::Kind::kTcp:
      return TcpConnect(host, port, timeout);
    case model::ReadinessProbe::Kind::kHttp:
      return HttpGet(host, port, probe.http_path, timeout);
  }
  return {false, "unknown probe"};
}

ReadinessProber::ReadinessProber(std::chrono::milliseconds interval,
                                 std::chrono::milliseconds timeout)
    : interval_(interval), timeout_(timeout) {
  thread_ = std::thread([this] { Loop(); });
}

ReadinessProber::~ReadinessProber() { Stop(); }

void ReadinessProber::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ReadinessProber::SetTargets(std::vector<ProbeTarget> targets) {
  bool added = false;
  {
    std::lock_guard lock(mu_);
    std::map<std::string, ProbeTarget> next;
    for (ProbeTarget& t : targets) {
      auto old = targets_.find(t.allocation_id);
      if (old == targets_.end() || old->second.host != t.host || old->second.port != t.port ||
          !(old->second.probe == t.probe)) {
        verdicts_.erase(t.allocation_id);
        added = true;
      }
      std::string id = t.allocation_id;
      next.emplace(std::move(id), std::move(t));
    }
    std::erase_if(verdicts_, [&](const auto& kv) { return !next.count(kv.first); });
    targets_ = std::move(next);
  }
  if (added) cv_.notify_all();  // a new replica is probed at once, not after a full interval
}

bool ReadinessProber::Ready(const std::string& allocation_id) const {
  std::lock_guard lock(mu_);
  auto it = verdicts_.find(allocation_id);
  return it != verdicts_.end() && it->second.ready;
}

void ReadinessProber::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    std::vector<ProbeTarget> round;
    for (const auto& [id, t] : targets_) round.push_back(t);
    lock.unlock();
    std::vector<ProbeResult> results;
    for (const ProbeTarget& t : round)
      results.push_back(ProbeOnce(t.host, t.port, t.probe, timeout_));
    lock.lock();
    for (size_t i = 0; i < round.size(); ++i) {
      const ProbeTarget& probed = round[i];
      auto t = targets_.find(probed.allocation_id);
      // Dropped or changed meanwhile: this verdict is not about the current target.
      if (t == targets_.end() || t->second.host != probed.host || t->second.port != probed.port ||
          !(t->second.probe == probed.probe)) {
        continue;
      }
      verdicts_[probed.allocation_id] = std::move(results[i]);
    }
    // Until the next round, or at once when a target without a verdict arrives.
    cv_.wait_for(lock, interval_, [this] {
      if (stopping_) return true;
      for (const auto& [id, t] : targets_) {
        if (!verdicts_.count(id)) return true;
      }
      return false;
    });
  }
}

}  // namespace fastgpu::agent

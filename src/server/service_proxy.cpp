#include "server/service_proxy.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <utility>

#include "common/text.h"

namespace fastgpu::server {

namespace {

// The service as messages name it: a key "tenant/name" shows its name.
std::string Shown(const std::string& key) {
  const size_t slash = key.rfind('/');
  return slash == std::string::npos ? key : key.substr(slash + 1);
}


// RFC 9110 section 7.6.1's hop-by-hop fields, plus what the client sets itself (Host,
// Content-Length) and the tenant's credentials.
constexpr std::array<std::string_view, 12> kNotForwarded = {"connection",
                                                            "keep-alive",
                                                            "proxy-authenticate",
                                                            "proxy-authorization",
                                                            "proxy-connection",
                                                            "te",
                                                            "trailer",
                                                            "transfer-encoding",
                                                            "upgrade",
                                                            "host",
                                                            "content-length",
                                                            "authorization"};

// Response fields the control plane's own server writes (or that concern the replica's
// connection only).
constexpr std::array<std::string_view, 7> kNotReturned = {
    "connection", "keep-alive",        "proxy-connection", "te",
    "trailer",    "transfer-encoding", "content-length"};

// Whether `name` (lower case) is one of the comma-separated tokens of `list`.
bool Listed(std::string_view name, std::string_view list) {
  const std::string lower = AsciiLower(list);
  std::string_view rest = lower;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view one = rest.substr(0, comma);
    while (!one.empty() && (one.front() == ' ' || one.front() == '\t')) one.remove_prefix(1);
    while (!one.empty() && (one.back() == ' ' || one.back() == '\t')) one.remove_suffix(1);
    if (one == name) return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

// "120 s", "0.5 s".
std::string SecondsText(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

bool Idempotent(std::string_view method) {
  return method == "GET" || method == "PUT" || method == "DELETE";
}

// The header of that name (any case) in `headers`, or "".
std::string_view HeaderOf(const net::HttpHeaders& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (AsciiLower(k) == name) return v;
  }
  return {};
}

}  // namespace

bool ForwardedRequestHeader(std::string_view name, std::string_view connection) {
  const std::string lower = AsciiLower(name);
  for (std::string_view h : kNotForwarded) {
    if (lower == h) return false;
  }
  return !Listed(lower, connection);
}

ServiceProxy::ServiceProxy(const Clock& clock, ServiceProxyOptions options)
    : clock_(clock), options_(std::move(options)) {}

ServiceProxy::~ServiceProxy() = default;

int ServiceProxy::held() const {
  std::lock_guard lock(mu_);
  return held_;
}

size_t ServiceProxy::idle_connections() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [endpoint, clients] : idle_) n += clients.size();
  return n;
}

Result<std::unique_ptr<net::HttpClient>> ServiceProxy::Take(const std::string& endpoint,
                                                            bool* pooled) {
  {
    std::lock_guard lock(mu_);
    auto it = idle_.find(endpoint);
    if (it != idle_.end() && !it->second.empty()) {
      std::unique_ptr<net::HttpClient> client = std::move(it->second.back());
      it->second.pop_back();
      *pooled = true;
      return client;
    }
  }
  *pooled = false;
  net::HttpClientOptions opts;
  opts.connect_timeout = options_.connect_timeout;
  opts.read_timeout = options_.read_timeout;
  opts.max_body_bytes = options_.max_body_bytes;
  return net::HttpClient::Create("http://" + endpoint, opts);
}

void ServiceProxy::Give(const std::string& endpoint, std::unique_ptr<net::HttpClient> client) {
  std::lock_guard lock(mu_);
  auto& idle = idle_[endpoint];
  if (idle.size() < options_.max_idle_connections_per_endpoint) idle.push_back(std::move(client));
}

Result<std::vector<std::string>> ServiceProxy::WaitForEndpoints(const std::string& service,
                                                                ServiceBackends& backends,
                                                                std::chrono::milliseconds* held) {
  FASTGPU_ASSIGN_OR_RETURN(std::vector<std::string> ready, backends.ReadyEndpoints());
  if (!ready.empty()) return ready;
  {
    std::lock_guard lock(mu_);
    if (held_ >= options_.max_held) {
      return Unavailable("service '" + Shown(service) + "' has no ready replica and " +
                         std::to_string(held_) +
                         " requests are already waiting for one; retry later");
    }
    ++held_;
  }
  backends.HoldBegins();
  const MonoTime start = clock_.MonotonicNow();
  const MonoTime deadline = start + options_.cold_start_timeout;
  Result<std::vector<std::string>> out = ready;
  while (true) {
    const MonoTime now = clock_.MonotonicNow();
    if (now >= deadline) {
      out = Unavailable("service '" + Shown(service) + "' has no ready replica after " +
                        SecondsText(options_.cold_start_timeout) +
                        " (the cold-start timeout); its replica is still starting or cannot "
                        "be placed: see its replica jobs");
      break;
    }
    clock_.SleepUntil(std::min(deadline, now + options_.poll_interval));
    out = backends.ReadyEndpoints();
    if (!out.ok() || !out->empty()) break;
  }
  *held = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.MonotonicNow() - start);
  backends.HoldEnds();
  std::lock_guard lock(mu_);
  --held_;
  return out;
}

Result<ProxyResponse> ServiceProxy::Forward(const std::string& service, const ProxyRequest& req,
                                            ServiceBackends& backends) {
  static constexpr std::array<std::string_view, 5> kMethods = {"GET", "POST", "PUT", "DELETE",
                                                               "PATCH"};
  if (std::find(kMethods.begin(), kMethods.end(), req.method) == kMethods.end()) {
    return InvalidArgument(
        "method: the service proxy forwards GET, POST, PUT, DELETE and "
        "PATCH, not '" +
        req.method + "'");
  }
  if (req.path.empty() || req.path.front() != '/') {
    return InvalidArgument("path: must start with '/': '" + req.path + "'");
  }
  std::chrono::milliseconds held{0};
  FASTGPU_ASSIGN_OR_RETURN(std::vector<std::string> ready,
                           WaitForEndpoints(service, backends, &held));
  std::sort(ready.begin(), ready.end());
  ready.erase(std::unique(ready.begin(), ready.end()), ready.end());
  uint64_t first;
  std::vector<std::unique_ptr<net::HttpClient>> closing;  // closed outside the lock
  {
    std::lock_guard lock(mu_);
    first = next_[service]++;
    std::vector<std::string>& before = endpoints_[service];
    if (before != ready) {
      for (const std::string& gone : before) {
        if (std::binary_search(ready.begin(), ready.end(), gone)) continue;
        auto it = idle_.find(gone);
        if (it == idle_.end()) continue;
        for (auto& c : it->second) closing.push_back(std::move(c));
        idle_.erase(it);
      }
      before = ready;
    }
  }
  closing.clear();

  const std::string connection(HeaderOf(req.headers, "connection"));
  net::HttpHeaders headers;
  for (const auto& [name, value] : req.headers) {
    if (ForwardedRequestHeader(name, connection)) headers.emplace_back(name, value);
  }
  const std::string target = req.path + (req.query.empty() ? "" : "?" + req.query);

  std::string failures;
  for (size_t i = 0; i < ready.size(); ++i) {
    const std::string& endpoint = ready[(first + i) % ready.size()];
    bool pooled = false;
    Result<std::unique_ptr<net::HttpClient>> client = Take(endpoint, &pooled);
    if (!client.ok()) {
      failures += (failures.empty() ? "" : "; ") + client.status().message();
      continue;  // a malformed endpoint: nothing was sent
    }
    const int opened = (*client)->connections_opened();
    Result<net::HttpResponse> answer = (*client)->Do(req.method, target, req.body, headers);
    if (answer.ok()) {
      Give(endpoint, std::move(*client));
      ProxyResponse out;
      out.status = answer->status;
      out.body = std::move(answer->body);
      out.endpoint = endpoint;
      out.held = held;
      const std::string reply_connection = answer->Header("connection");
      for (auto& [name, value] : answer->headers) {
        const std::string lower = AsciiLower(name);
        if (std::find(kNotReturned.begin(), kNotReturned.end(), lower) != kNotReturned.end() ||
            Listed(lower, reply_connection)) {
          continue;
        }
        out.headers.emplace_back(std::move(name), std::move(value));
      }
      return out;
    }
    failures += (failures.empty() ? "" : "; ") + answer.status().message();
    const bool never_connected = !pooled && (*client)->connections_opened() == opened;
    if (!never_connected && !Idempotent(req.method)) {
      return Unavailable("service '" + Shown(service) + "': replica " + endpoint +
                         " gave no answer (not sent again: " + req.method +
                         " is not idempotent): " + answer.status().message());
    }
  }
  return Unavailable("service '" + Shown(service) + "': no ready replica answered (" +
                     std::to_string(ready.size()) + " tried): " + failures);
}

}  // namespace fastgpu::server

// ServiceProxy: the forwarding core of `/v1/services/{name}/proxy/...`: a tenant's request
// goes to one of the service's ready replicas, round-robin, and the replica's answer comes
// back as it was given.
//
// For each request Forward():
//   - asks the service's ServiceBackends for the ready endpoints ("host:port"); with none,
//     holds the request (scale from zero): HoldBegins() once (the caller asks for a
//     replica and wakes its reconciler), then polls every `poll_interval` until an endpoint
//     is ready or `cold_start_timeout` passed (then Unavailable, 503, saying so), and
//     HoldEnds() whatever the outcome; at most `max_held` requests are held at once
//     (beyond: Unavailable at once), since each holds an HTTP worker;
//   - sends it to the next endpoint in the service's round-robin order over plain HTTP with
//     the shared client (net/http_client.h), its method, path, query and body unchanged;
//     the hop-by-hop headers (Connection and those it names, Keep-Alive, TE, Trailer,
//     Transfer-Encoding, Upgrade, Proxy-*), Host, Content-Length and Authorization (the
//     tenant's FastGPU token is never handed to a replica) are not forwarded;
//   - when the endpoint gives no answer and resending is safe (the connection could not be
//     made, or the method is idempotent: GET, PUT, DELETE), tries the next ready endpoint,
//     each at most once; otherwise Unavailable names the endpoint and the failure;
//   - returns the replica's status, headers (less the hop-by-hop ones and Content-Length)
//     and body, whatever the status.
// Connections to each endpoint are kept alive and reused (at most
// `max_idle_connections_per_endpoint` idle ones each).
//
// Borrows the clock (it must outlive the proxy). Thread-safe: Forward runs on several HTTP
// workers at once; a ServiceBackends is used by the one call it was given to.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "net/http_client.h"

namespace fastgpu::server {

struct ServiceProxyOptions {
  // Time allowed to connect to a replica. Default 2 s.
  std::chrono::milliseconds connect_timeout{2000};
  // Time allowed for a replica to answer a forwarded request whole. Default 60 s.
  std::chrono::milliseconds read_timeout{60000};
  // How long a request waits for a ready replica (scale from zero) before 503. Default
  // 120 s.
  std::chrono::milliseconds cold_start_timeout{120000};
  // How often a held request looks for a ready endpoint again. Default 200 ms.
  std::chrono::milliseconds poll_interval{200};
  // The most requests held at once, over all services. Default 16 (half the HTTP server's
  // default 32 workers).
  int max_held = 16;
  // Idle kept-alive connections kept per endpoint. Default 8.
  size_t max_idle_connections_per_endpoint = 8;
  // A replica's answer larger than this fails (Unavailable). Default 64 MiB.
  size_t max_body_bytes = size_t{64} << 20;
};

// A tenant's request as the proxy forwards it.
struct ProxyRequest {
  std::string method;        // GET, POST, PUT, DELETE, PATCH
  std::string path = "/";    // the path after ".../proxy", as sent (percent-encoded); "/..."
  std::string query;         // the query string as sent, without '?'; "" for none
  net::HttpHeaders headers;  // as received (any case)
  std::string body;
};

// A replica's answer.
struct ProxyResponse {
  int status = 0;
  net::HttpHeaders headers;  // less hop-by-hop ones and Content-Length
  std::string body;
  std::string endpoint;  // "host:port" that answered
  // How long the request was held for want of a ready replica (0 when one was ready).
  std::chrono::milliseconds held{0};
};

// What the proxy needs from the control plane about one service, for one request.
class ServiceBackends {
 public:
  virtual ~ServiceBackends() = default;
  // The service's ready endpoints now ("host:port"), in any order; an error ends the
  // request with it (the service was deleted, say).
  virtual Result<std::vector<std::string>> ReadyEndpoints() = 0;
  // The request found no ready endpoint and is held from now on: ask for a replica.
  virtual void HoldBegins() = 0;
  // The hold ended (an endpoint is ready, or the time is up). Called once after each
  // HoldBegins.
  virtual void HoldEnds() = 0;
};

class ServiceProxy {
 public:
  ServiceProxy(const Clock& clock, ServiceProxyOptions options);
  ~ServiceProxy();
  ServiceProxy(const ServiceProxy&) = delete;
  ServiceProxy& operator=(const ServiceProxy&) = delete;

  // Forwards `req` for `service` (a key of the round-robin order, "tenant/name"; messages
  // name the part after the last '/') to a
  // ready replica, holding it while none is (see the header comment). The replica's answer
  // whatever its status; Unavailable when no replica answered or none was ready in time;
  // InvalidArgument for a method it does not forward; an error of `backends` as it is.
  Result<ProxyResponse> Forward(const std::string& service, const ProxyRequest& req,
                                ServiceBackends& backends);

  const ServiceProxyOptions& options() const { return options_; }
  // How many requests are held now.
  int held() const;
  // Idle kept-alive connections over all endpoints. An endpoint that leaves a service's
  // ready list has its idle connections closed at that service's next request.
  size_t idle_connections() const;

 private:
  // A client for `endpoint`: an idle kept-alive one (pooled = true) or a new one.
  Result<std::unique_ptr<net::HttpClient>> Take(const std::string& endpoint, bool* pooled);
  void Give(const std::string& endpoint, std::unique_ptr<net::HttpClient> client);
  // The ready endpoints, waiting for one while there are none (Unavailable after the cold
  // start timeout). `held` gets the time waited.
  Result<std::vector<std::string>> WaitForEndpoints(const std::string& service,
                                                    ServiceBackends& backends,
                                                    std::chrono::milliseconds* held);

  const Clock& clock_;
  const ServiceProxyOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, uint64_t> next_;  // round-robin position per service
  // Each service's ready endpoints at its last request (sorted), to close the idle
  // connections of those that left.
  std::unordered_map<std::string, std::vector<std::string>> endpoints_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<net::HttpClient>>> idle_;
  int held_ = 0;  // guarded by mu_
};

// Whether a request header of this name is forwarded to a replica (case-insensitive);
// `connection` is the request's Connection header, whose names are not forwarded either.
bool ForwardedRequestHeader(std::string_view name, std::string_view connection);

}  // namespace fastgpu::server

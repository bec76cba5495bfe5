// WsClient: a WebSocket client for the control plane's session routes (docs/sessions.md):
// the CLI's `fastgpu run -it` / `fastgpu attach` / `fastgpu job exec` and the node agent's
// side of a session.
//
// Connect() resolves, connects and upgrades synchronously, sending `Authorization: Bearer`.
// `https` base URLs speak `wss`: the server's certificate is verified exactly as HttpClient
// verifies it (the same HttpClientOptions: a pinned CA, a CA file or the system store, and
// the URL's host; net/tls_client.h), before the upgrade request (and its token) is sent.
// Given several base URLs (comma-separated: control-plane replicas, docs/ha.md), it tries
// them in order, moving on when one does not answer or answers 503 (a replica that does
// not serve sessions: only the leader does), as HttpClient does. An upgrade the server
// refuses otherwise becomes the Status of its answer (ApiStatus: 404 NotFound, 401
// Unauthenticated, ... with the server's message). Afterwards one I/O thread of the
// client's own reads and writes: Read() waits for the next message, Send() queues one.
// The connection pings a silent server every 15 s and counts it lost when it does not
// answer within another 15 s.
//
// Thread safety: Send, Close and Read may be called from any thread (Read from one at a
// time); the accessors from any thread. The destructor closes and joins the thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "net/http_client.h"

namespace fastgpu::net {

class WsClient {
 public:
  // `base_urls` as for HttpClient ("http://127.0.0.1:8080", "https://a:8443,https://b:8443"),
  // `path` the route with its query ("/v1/jobs/job-1/attach"). Of `options`, Connect uses
  // bearer_token, connect_timeout (per address: resolve, connect, TLS and upgrade),
  // verify_tls, ca_file and ca_sha256. InvalidArgument for a malformed URL or pin;
  // Unavailable when no address could be reached (the last one's reason), or every one
  // answered 503 (the last answer's message).
  static Result<std::unique_ptr<WsClient>> Connect(std::string_view base_urls,
                                                   const std::string& path,
                                                   const HttpClientOptions& options);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // The base URL that accepted the connection.
  const std::string& address() const;
  // A header of the server's upgrade answer (case-insensitive name), or "" when absent.
  std::string Header(std::string_view name) const;

  // The next message. DeadlineExceeded when none came within `timeout` (the connection
  // is still open); Cancelled once the server closed it normally and every message was
  // read; Unavailable when it was lost (the message says why).
  Result<std::string> Read(std::chrono::milliseconds timeout);
  // Queues a binary message. False once the connection has ended.
  bool Send(std::string message);
  // Sends what is queued, then closes normally. Idempotent.
  void Close();

 private:
  class Impl;
  template <class Stream>
  class StreamImpl;
  explicit WsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fastgpu::net

// HttpServer: a small HTTP/1.1 server on Boost.Beast and Asio, plain or over TLS
// (HTTPS with the certificate and key files of the options; the same sessions serve
// both, through a Beast ssl_stream or a plain tcp_stream).
//
// It owns an io_context run by `io_threads` threads (default 2) that do all socket
// I/O, and a pool of `worker_threads` (default 32) that run the handler, so that a
// handler may block on the store (a durable write waits for its group commit)
// without stalling other connections. Keep-alive is supported; a body larger than
// `max_body_bytes` is answered 413 without reaching the handler; a malformed request
// is answered 400; a handler that throws is answered 500 (no exception escapes a
// handler or the accept loop). The handler must be thread-safe: it runs on several
// workers at once.
//
// Limits against clients that hold connections (docs/api.md, "Connection limits"):
//   - a keep-alive connection idle for `idle_timeout_ms` is closed, and a request must
//     arrive whole within `request_timeout_ms` of its first byte (slow senders);
//   - at most `max_connections` connections are open. A connection accepted beyond
//     that closes the oldest idle one (failing that, the oldest one still reading its
//     request); when every connection is busy in a handler it is answered 503 and
//     closed. New clients (a /healthz probe) are therefore always answered;
//   - when accept fails (EMFILE: out of descriptors) the server closes the oldest idle
//     connection and retries after a back-off that doubles from 5 ms to 1 s, and logs
//     the failure at most once per 10 s with the count of repeats.
//
// Streamed answers: a handler may return a response with `stream` set. The server then
// sends the status line and headers with `Transfer-Encoding: chunked`, runs `stream` on
// the handler's worker (it may block there: bound how many run at once) handing it a
// StreamWriter that sends each piece as one chunk, and ends the body with the last
// chunk when `stream` returns. The connection counts as busy meanwhile (never idle, never
// evicted); each chunk must be sent within `request_timeout_ms`. The writer returns false
// once the client is gone or the server is stopping; `stream` should then return soon
// (Stop() waits for it).
//
// Start() binds and returns the bound port (0 in options picks a free one); Stop()
// closes the listener and every connection and joins all threads. Stop() is
// idempotent and is called by the destructor.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "server/websocket.h"

namespace fastgpu::server {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // "/v1/jobs/job-1" (no query string)
  std::map<std::string, std::string> query;    // decoded query parameters
  std::string raw_query;                       // the query as sent, without '?'; "" for none
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  // The header's value, or "" when absent. `name` must be lower-case.
  std::string Header(const std::string& name) const;
};

// Sends `bytes` of a streamed answer as one chunk and waits until it is written. Empty
// bytes send nothing and only check the connection. False when the client is gone or the
// server is stopping: the stream should end then.
using StreamWriter = std::function<bool(std::string_view bytes)>;

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers = {};  // extra fields: "Allow"
  // When set, the answer is streamed (chunked) instead of sending `body`; see the header
  // comment. Runs once on a worker thread.
  std::function<void(const StreamWriter&)> stream = nullptr;
  // When set in the answer to a WebSocket upgrade request (Upgrade: websocket), the
  // server accepts the upgrade instead of sending this answer and hands the connection to
  // this function (websocket.h); the connection then leaves the HTTP server's limits and
  // is no longer one of its connections. Ignored for any other request.
  WebSocketHandler websocket = nullptr;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";   // address to bind
  uint16_t port = 0;                // 0: any free port
  int io_threads = 2;               // threads running the io_context
  int worker_threads = 32;          // threads running the handler
  size_t max_body_bytes = 1 << 20;  // larger bodies get 413
  int idle_timeout_ms = 60000;      // default 60 s: a connection idle this long is closed
  int request_timeout_ms = 30000;   // default 30 s: a request's whole header and body
                                    // must arrive within this of its first byte
  int max_connections = 0;          // default 0: DefaultMaxConnections()
  // HTTPS when both are set (default empty: plain HTTP): the PEM certificate chain the
  // server presents (its certificate first) and its private key. The TLS handshake
  // (TLS 1.2 or later) must end within `request_timeout_ms`; a plain-HTTP request is
  // answered 400 ("this server speaks HTTPS") and closed; a connection refused at the
  // limit is closed without the 503 answer.
  std::string tls_cert_file;
  std::string tls_key_file;
};

// The connection limit used when none is given: the soft RLIMIT_NOFILE less a reserve
// of descriptors for the store, logs and runtime (64, or half the limit when it is under
// 128), between 8 and 16384.
int DefaultMaxConnections();

// Parses one whole HTTP/1.1 request from `bytes` as the server does (the same parser,
// limits and target decoding); for the fuzzer and tests. ResourceExhausted when the body
// exceeds `max_body_bytes`, InvalidArgument when the request is malformed or incomplete.
Result<HttpRequest> ParseHttpRequest(std::string_view bytes, size_t max_body_bytes = 1 << 20);

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the threads. Returns the bound port, Unavailable when the
  // address cannot be bound, or InvalidArgument when the TLS files cannot be loaded (or
  // the key is not the certificate's). Call once.
  Result<uint16_t> Start();
  // Stops accepting, closes connections, joins the threads. Idempotent.
  void Stop();
  // Connections open now (for tests and logs). Thread-safe.
  int open_connections() const;

  struct Impl;  // defined in http_server.cpp (sessions reach it too)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace fastgpu::server

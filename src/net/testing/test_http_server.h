// TestHttpServer: a tiny HTTP/1.1 server for hermetic tests (never used in production).
//
// Binds 127.0.0.1 port 0 and reports the port it got. Each connection is served by
// its own thread with keep-alive; every request goes to the handler given at start.
// The handler is called from connection threads, possibly at the same time: it must
// be thread-safe. Stop() (or the destructor) closes the listener and every open
// connection and joins all threads.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "net/http_client.h"

namespace fastgpu::testing {

struct TestRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, e.g. "/v1/jobs?x=1"
  net::HttpHeaders headers;
  std::string body;
  // The first header of that name (case-insensitive), or "".
  std::string Header(std::string_view name) const;
  // The target without its query string.
  std::string Path() const;
};

struct TestResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  // When not empty the body is ignored and these are sent with chunked encoding,
  // one HTTP chunk each, flushed one after another.
  std::vector<std::string> chunks;
  // Waits this long before answering (for timeout tests). Default none.
  std::chrono::milliseconds delay{0};
  // Closes the connection after this answer. Default false (keep-alive).
  bool close = false;
};

// A plain answer: `status` with a JSON (or any) `body`.
inline TestResponse Reply(int status, std::string body) {
  TestResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

using TestHandler = std::function<TestResponse(const TestRequest&)>;

class TestHttpServer {
 public:
  // Listens on 127.0.0.1:0 and starts accepting. Unavailable if it cannot bind.
  static Result<std::unique_ptr<TestHttpServer>> Start(TestHandler handler);
  // The same over TLS with the PEM certificate chain and key in these files;
  // InvalidArgument when they cannot be loaded. url() then starts with https.
  static Result<std::unique_ptr<TestHttpServer>> StartTls(TestHandler handler,
                                                          const std::string& cert_file,
                                                          const std::string& key_file);
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  void Stop();
  int port() const;
  std::string url() const;  // "http://127.0.0.1:<port>"
  int connections_accepted() const;
  // Closes every open connection (the listener stays), e.g. to test reconnection.
  void DropConnections();

 private:
  struct Impl;
  explicit TestHttpServer(std::unique_ptr<Impl> impl);
  static Result<std::unique_ptr<TestHttpServer>> Listen(std::unique_ptr<Impl> impl,
                                                        TestHandler handler);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fastgpu::testing

// WsClient: a WebSocket client for the control plane's session routes (docs/sessions.md):
// the CLI's `fastgpu run -it` / `fastgpu attach` and the node agent's side of a session.
//
// Connect() resolves, connects and upgrades synchronously (plain `http` base URLs only:
// `https` ones are refused with Unimplemented for now), sending `Authorization: Bearer`.
// An upgrade the server refuses becomes the Status of its answer (ApiStatus: 404 NotFound,
// 401 Unauthenticated, ... with the server's message). Afterwards one I/O thread of the
// client's own reads and writes: Read() waits for the next message, Send() queues one.
// The connection pings a silent server every 15 s and counts it lost when it does not
// answer within another 15 s.
//
// Thread safety: Send, Close and Read may be called from any thread (Read from one at a
// time). The destructor closes and joins the thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace fastgpu::net {

class WsClient {
 public:
  // `base_url` as for HttpClient ("http://127.0.0.1:8080"; the first of a comma list),
  // `path` the route ("/v1/jobs/job-1/attach"). Unavailable when the server cannot be
  // reached within `timeout`.
  static Result<std::unique_ptr<WsClient>> Connect(std::string_view base_url,
                                                   const std::string& path,
                                                   const std::string& bearer_token,
                                                   std::chrono::milliseconds timeout);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

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
  explicit WsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fastgpu::net

// WebSocketConn: one accepted WebSocket connection of the HTTP server (http_server.h), as
// the handlers that take one over see it (the session relay, session_relay.h). The server
// accepts the upgrade when a handler answers a WebSocket request with
// HttpResponse::websocket set; the handler's function is then called once with the open
// connection, on an I/O thread: it must not block.
//
// Messages are binary. The connection pings a silent peer and closes when the peer does
// not answer (a lost client or agent is noticed within about a minute). It is owned by
// shared pointers: the I/O side holds it while reading or writing, and whoever keeps one
// may still Send and Close. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace fastgpu::server {

class WebSocketConn {
 public:
  virtual ~WebSocketConn() = default;
  // Starts reading: `on_message` gets each message, then `on_close` is called once when
  // the connection ends (either side closed it, or it failed). Both run on an I/O thread
  // and must not block. Call once; messages that arrived earlier wait for it.
  virtual void Start(std::function<void(std::string)> on_message,
                     std::function<void()> on_close) = 0;
  // Queues `message` (binary) to be sent; nothing happens once the connection is closing.
  virtual void Send(std::string message) = 0;
  // Sends what is queued, then closes (a normal WebSocket close). Idempotent.
  virtual void Close() = 0;
};

using WebSocketHandler = std::function<void(std::shared_ptr<WebSocketConn>)>;

}  // namespace fastgpu::server

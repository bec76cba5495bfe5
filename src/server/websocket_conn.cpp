// WebSocketConn over Boost.Beast (plain or TLS): one read loop and one write queue, both on
// the connection's strand.
#include <boost/asio.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <deque>
#include <mutex>

#include "protocol/session_frames.h"
#include "server/websocket_upgrade.h"

namespace fastgpu::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;

namespace {

template <class Next>
class BeastWebSocket : public WebSocketConn,
                       public std::enable_shared_from_this<BeastWebSocket<Next>> {
 public:
  explicit BeastWebSocket(Next next) : ws_(std::move(next)) {}

  void Accept(http::request<http::string_body> req, WebSocketHandler handler) {
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout t;
    t.handshake_timeout = std::chrono::seconds(30);
    t.idle_timeout = std::chrono::seconds(60);  // a ping after 30 s of silence
    t.keep_alive_pings = true;
    ws_.set_option(t);
    ws_.binary(true);
    ws_.read_message_max(1 << 20);
    // The session relay forwards stderr frames (protocol/session_frames.h).
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(protocol::kStderrHeader, "1"); }));
    auto self = this->shared_from_this();
    auto r = std::make_shared<http::request<http::string_body>>(std::move(req));
    ws_.async_accept(*r, [self, r, handler = std::move(handler)](beast::error_code ec) {
      if (ec) return;
      handler(self);
    });
  }

  void Start(std::function<void(std::string)> on_message, std::function<void()> on_close) override {
    net::post(ws_.get_executor(),
              [self = this->shared_from_this(), on_message = std::move(on_message),
               on_close = std::move(on_close)]() mutable {
                self->on_message_ = std::move(on_message);
                self->on_close_ = std::move(on_close);
                self->Read();
              });
  }

  void Send(std::string message) override {
    net::post(ws_.get_executor(), [self = this->shared_from_this(), m = std::move(message)] {
      if (self->closing_ || self->ended_) return;
      self->outbox_.push_back(std::move(m));
      if (!self->writing_) self->WriteNext();
    });
  }

  void Close() override {
    net::post(ws_.get_executor(), [self = this->shared_from_this()] {
      if (self->closing_ || self->ended_) return;
      self->closing_ = true;
      if (!self->writing_) self->DoClose();
    });
  }

 private:
  void Read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->End();
      std::string m = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      if (self->on_message_) self->on_message_(std::move(m));
      self->Read();
    });
  }

  void WriteNext() {
    if (outbox_.empty()) {
      writing_ = false;
      if (closing_) DoClose();
      return;
    }
    writing_ = true;
    ws_.async_write(net::buffer(outbox_.front()),
                    [self = this->shared_from_this()](beast::error_code ec, size_t) {
                      if (ec) {
                        self->writing_ = false;
                        self->outbox_.clear();
                        return;  // the read loop sees the failure and ends the connection
                      }
                      self->outbox_.pop_front();
                      self->WriteNext();
                    });
  }

  void DoClose() {
    ws_.async_close(websocket::close_code::normal,
                    [self = this->shared_from_this()](beast::error_code) {});
  }

  void End() {
    if (ended_) return;
    ended_ = true;
    outbox_.clear();
    if (auto f = std::move(on_close_)) f();
    on_message_ = nullptr;
  }

  websocket::stream<Next> ws_;
  beast::flat_buffer buffer_;
  std::deque<std::string> outbox_;
  bool writing_ = false, closing_ = false, ended_ = false;
  std::function<void(std::string)> on_message_;
  std::function<void()> on_close_;
};

}  // namespace

void UpgradeToWebSocket(beast::tcp_stream stream, http::request<http::string_body> req,
                        WebSocketHandler handler) {
  auto conn = std::make_shared<BeastWebSocket<beast::tcp_stream>>(std::move(stream));
  conn->Accept(std::move(req), std::move(handler));
}

void UpgradeToWebSocket(beast::ssl_stream<beast::tcp_stream> stream,
                        http::request<http::string_body> req, WebSocketHandler handler) {
  auto conn =
      std::make_shared<BeastWebSocket<beast::ssl_stream<beast::tcp_stream>>>(std::move(stream));
  conn->Accept(std::move(req), std::move(handler));
}

}  // namespace fastgpu::server

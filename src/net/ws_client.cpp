#include "net/ws_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/url/parse.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "net/http_client.h"

namespace fastgpu::net {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class WsClient::Impl {
 public:
  Impl() : ws(ioc) {}

  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws;
  std::thread thread;
  beast::flat_buffer buffer;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> inbox;
  bool ended = false;              // the read loop ended
  Status end_status;               // why (Cancelled: a normal close)
  std::deque<std::string> outbox;  // I/O thread only
  bool writing = false, closing = false;

  void ReadLoop() {
    ws.async_read(buffer, [this](beast::error_code ec, size_t) {
      std::lock_guard lock(mu);
      if (ec) {
        ended = true;
        end_status = ec == websocket::error::closed
                         ? Status(StatusCode::kCancelled, "the control plane closed the connection")
                         : Unavailable("lost the connection to the control plane: " + ec.message());
        cv.notify_all();
        return;
      }
      inbox.push_back(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
      cv.notify_all();
      ReadLoop();
    });
  }

  void WriteNext() {
    if (outbox.empty()) {
      writing = false;
      if (closing) ws.async_close(websocket::close_code::normal, [](beast::error_code) {});
      return;
    }
    writing = true;
    ws.async_write(asio::buffer(outbox.front()), [this](beast::error_code ec, size_t) {
      if (ec) {
        writing = false;
        outbox.clear();
        return;
      }
      outbox.pop_front();
      WriteNext();
    });
  }
};

WsClient::WsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WsClient::~WsClient() {
  Close();
  if (impl_->thread.joinable()) {
    // Give the close a moment, then stop whatever is left.
    {
      std::unique_lock lock(impl_->mu);
      impl_->cv.wait_for(lock, std::chrono::seconds(2), [&] { return impl_->ended; });
    }
    impl_->ioc.stop();
    impl_->thread.join();
  }
}

Result<std::unique_ptr<WsClient>> WsClient::Connect(std::string_view base_url,
                                                    const std::string& path,
                                                    const std::string& bearer_token,
                                                    std::chrono::milliseconds timeout) {
  std::string_view first = base_url.substr(0, base_url.find(','));
  auto parsed = boost::urls::parse_uri(first);
  if (!parsed) return InvalidArgument("bad URL '" + std::string(first) + "'");
  if (parsed->scheme() == "https") {
    return Unimplemented("interactive sessions over https are not supported yet");
  }
  if (parsed->scheme() != "http") return InvalidArgument("URL scheme must be http or https");
  const std::string host(parsed->host_address());
  const std::string port = parsed->has_port() ? std::string(parsed->port()) : "80";
  std::string prefix(parsed->encoded_path());
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();

  auto impl = std::make_unique<Impl>();
  beast::error_code ec;
  tcp::resolver resolver(impl->ioc);
  auto results = resolver.resolve(host, port, ec);
  const std::string where = std::string(first);
  if (ec) return Unavailable("cannot reach the control plane at " + where + ": " + ec.message());
  auto& tcp_stream = beast::get_lowest_layer(impl->ws);
  tcp_stream.expires_after(timeout);
  tcp_stream.connect(results, ec);
  if (ec) return Unavailable("cannot reach the control plane at " + where + ": " + ec.message());
  impl->ws.set_option(websocket::stream_base::decorator([&](websocket::request_type& req) {
    req.set(http::field::authorization, "Bearer " + bearer_token);
    req.set(http::field::user_agent, "fastgpu");
  }));
  websocket::response_type res;
  impl->ws.handshake(res, std::string(parsed->encoded_host_and_port()), prefix + path, ec);
  if (ec) {
    if (res.result_int() != 0 && res.result_int() != 101) {
      net::HttpResponse answer;
      answer.status = static_cast<int>(res.result_int());
      answer.body = res.body();
      return ApiStatus(answer);
    }
    return Unavailable("cannot open a WebSocket to " + where + ": " + ec.message());
  }
  tcp_stream.expires_never();
  websocket::stream_base::timeout t;
  t.handshake_timeout = std::chrono::seconds(10);
  t.idle_timeout = std::chrono::seconds(30);
  t.keep_alive_pings = true;
  impl->ws.set_option(t);
  impl->ws.binary(true);
  impl->ws.read_message_max(1 << 20);
  Impl* raw = impl.get();
  raw->ReadLoop();
  raw->thread = std::thread([raw] { raw->ioc.run(); });
  return std::unique_ptr<WsClient>(new WsClient(std::move(impl)));
}

Result<std::string> WsClient::Read(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait_for(lock, timeout, [&] { return !impl_->inbox.empty() || impl_->ended; });
  if (!impl_->inbox.empty()) {
    std::string m = std::move(impl_->inbox.front());
    impl_->inbox.pop_front();
    return m;
  }
  if (impl_->ended) return impl_->end_status;
  return DeadlineExceeded("no message yet");
}

bool WsClient::Send(std::string message) {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->ended) return false;
  }
  Impl* raw = impl_.get();
  asio::post(raw->ioc, [raw, m = std::move(message)]() mutable {
    if (raw->closing) return;
    raw->outbox.push_back(std::move(m));
    if (!raw->writing) raw->WriteNext();
  });
  return true;
}

void WsClient::Close() {
  Impl* raw = impl_.get();
  asio::post(raw->ioc, [raw] {
    if (raw->closing) return;
    raw->closing = true;
    if (!raw->writing) raw->ws.async_close(websocket::close_code::normal, [](beast::error_code) {});
  });
}

}  // namespace fastgpu::net

#include "net/ws_client.h"

#include <strings.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/parse.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "net/tls_client.h"

namespace fastgpu::net {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// What does not depend on the stream: the I/O context and thread, the inbox and outbox.
class WsClient::Impl {
 public:
  virtual ~Impl() = default;

  std::unique_ptr<TlsClientSetup> tls;  // https only; outlives the stream (declared first)
  asio::io_context ioc;
  std::thread thread;
  beast::flat_buffer buffer;
  std::string address;
  HttpHeaders headers;  // of the upgrade answer

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> inbox;
  bool ended = false;              // the read loop ended
  Status end_status;               // why (Cancelled: a normal close)
  std::deque<std::string> outbox;  // I/O thread only
  bool writing = false, closing = false;

  virtual void ReadLoop() = 0;
  virtual void WriteNext() = 0;
  virtual void AsyncClose() = 0;

  // Starts one asynchronous operation through `start(handler)` and runs the I/O context
  // until it completes (before the I/O thread starts; the stream's expiry bounds it).
  template <class Start>
  error_code Run(Start&& start) {
    error_code result = asio::error::would_block;
    start([&result](error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  void OnRead(error_code ec) {
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
  }
};

template <class Stream>
class WsClient::StreamImpl : public WsClient::Impl {
 public:
  template <class... Args>
  explicit StreamImpl(Args&&... args) : ws(ioc, std::forward<Args>(args)...) {}

  websocket::stream<Stream> ws;

  void ReadLoop() override {
    ws.async_read(buffer, [this](error_code ec, size_t) {
      OnRead(ec);
      if (!ec) ReadLoop();
    });
  }

  void WriteNext() override {
    if (outbox.empty()) {
      writing = false;
      if (closing) AsyncClose();
      return;
    }
    writing = true;
    ws.async_write(asio::buffer(outbox.front()), [this](error_code ec, size_t) {
      if (ec) {
        writing = false;
        outbox.clear();
        return;
      }
      outbox.pop_front();
      WriteNext();
    });
  }

  void AsyncClose() override {
    ws.async_close(websocket::close_code::normal, [](error_code) {});
  }
};

namespace {

// The outcome of trying one address: a connection, or why not (and whether the next
// address should be tried).
struct Attempt {
  Status status;
  bool try_next = false;
};

template <class Impl>
Attempt Upgrade(Impl& impl, const std::string& where, const std::string& host_and_port,
                const std::string& target, const HttpClientOptions& options) {
  websocket::response_type res;
  impl.ws.set_option(websocket::stream_base::decorator([&](websocket::request_type& req) {
    req.set(http::field::authorization, "Bearer " + options.bearer_token);
    req.set(http::field::user_agent, "fastgpu");
  }));
  beast::get_lowest_layer(impl.ws).expires_after(options.connect_timeout);
  error_code ec = impl.Run([&](auto handler) {
    impl.ws.async_handshake(res, host_and_port, target, std::move(handler));
  });
  if (ec) {
    if (res.result_int() != 0 && res.result_int() != 101) {
      HttpResponse answer;
      answer.status = static_cast<int>(res.result_int());
      answer.body = res.body();
      return {ApiStatus(answer), answer.status == 503};
    }
    return {Unavailable("cannot open a WebSocket to " + where + ": " + ec.message()), true};
  }
  for (const auto& field : res) {
    impl.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  beast::get_lowest_layer(impl.ws).expires_never();
  websocket::stream_base::timeout t;
  t.handshake_timeout = std::chrono::seconds(10);
  t.idle_timeout = std::chrono::seconds(30);
  t.keep_alive_pings = true;
  impl.ws.set_option(t);
  impl.ws.binary(true);
  impl.ws.read_message_max(1 << 20);
  return {OkStatus(), false};
}

}  // namespace

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

Result<std::unique_ptr<WsClient>> WsClient::Connect(std::string_view base_urls,
                                                    const std::string& path,
                                                    const HttpClientOptions& options) {
  Status last = InvalidArgument("no server address given");
  size_t start = 0;
  while (start <= base_urls.size()) {
    size_t comma = base_urls.find(',', start);
    if (comma == std::string_view::npos) comma = base_urls.size();
    std::string_view url = base_urls.substr(start, comma - start);
    start = comma + 1;
    while (!url.empty() && url.front() == ' ') url.remove_prefix(1);
    while (!url.empty() && url.back() == ' ') url.remove_suffix(1);
    if (url.empty()) continue;
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed || parsed->host_address().empty()) {
      return InvalidArgument("bad URL '" + RedactedUrl(url) + "'");
    }
    const std::string scheme(parsed->scheme());
    if (scheme != "http" && scheme != "https") {
      return InvalidArgument("URL '" + RedactedUrl(url) + "': scheme must be http or https");
    }
    const bool use_tls = scheme == "https";
    const std::string host(parsed->host_address());
    const std::string port =
        parsed->has_port() ? std::string(parsed->port()) : (use_tls ? "443" : "80");
    const std::string host_and_port(parsed->encoded_host_and_port());
    const std::string where = scheme + "://" + host_and_port;
    std::string prefix(parsed->encoded_path());
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();

    std::unique_ptr<TlsClientSetup> tls;
    if (use_tls) {
      FASTGPU_ASSIGN_OR_RETURN(tls, TlsClientSetup::Create(where, host, options));
    }
    std::unique_ptr<Impl> impl;
    Attempt attempt;
    {
      asio::io_context resolve_ctx;
      tcp::resolver resolver(resolve_ctx);
      error_code ec;
      auto results = resolver.resolve(host, port, ec);
      if (ec) {
        last = Unavailable("cannot reach the control plane at " + where + ": " + ec.message());
        continue;
      }
      auto connect = [&](auto& typed) -> Status {
        auto& lowest = beast::get_lowest_layer(typed.ws);
        lowest.expires_after(options.connect_timeout);
        error_code cec =
            typed.Run([&](auto handler) { lowest.async_connect(results, std::move(handler)); });
        if (cec) {
          return Unavailable(
              "cannot reach the control plane at " + where + ": " +
              (cec == beast::error::timeout ? std::string("timed out") : cec.message()));
        }
        return OkStatus();
      };
      if (use_tls) {
        using Tls = beast::ssl_stream<beast::tcp_stream>;
        auto typed = std::make_unique<StreamImpl<Tls>>(tls->context());
        typed->tls = std::move(tls);
        attempt.status = connect(*typed);
        if (attempt.status.ok()) {
          SSL* handle = typed->ws.next_layer().native_handle();
          attempt.status = typed->tls->Prepare(handle);
        }
        if (attempt.status.ok()) {
          beast::get_lowest_layer(typed->ws).expires_after(options.connect_timeout);
          error_code hec = typed->Run([&](auto handler) {
            typed->ws.next_layer().async_handshake(ssl::stream_base::client, std::move(handler));
          });
          if (hec) {
            std::string why = typed->tls->Failure(typed->ws.next_layer().native_handle());
            attempt.status = why.empty()
                                 ? Unavailable("TLS handshake with " + where + ": " + hec.message())
                                 : Unavailable("TLS handshake with " + where +
                                               ": the server's certificate is not trusted: " + why);
          }
        }
        if (attempt.status.ok()) {
          attempt = Upgrade(*typed, where, host_and_port, prefix + path, options);
        } else {
          attempt.try_next = true;
        }
        impl = std::move(typed);
      } else {
        auto typed = std::make_unique<StreamImpl<beast::tcp_stream>>();
        attempt.status = connect(*typed);
        if (attempt.status.ok()) {
          attempt = Upgrade(*typed, where, host_and_port, prefix + path, options);
        } else {
          attempt.try_next = true;
        }
        impl = std::move(typed);
      }
    }
    if (!attempt.status.ok()) {
      last = attempt.status;
      if (attempt.try_next) continue;
      return last;
    }
    impl->address = std::string(url);
    Impl* raw = impl.get();
    raw->ReadLoop();
    raw->thread = std::thread([raw] {
      raw->ioc.restart();
      raw->ioc.run();
    });
    return std::unique_ptr<WsClient>(new WsClient(std::move(impl)));
  }
  return last;
}

const std::string& WsClient::address() const { return impl_->address; }

std::string WsClient::Header(std::string_view name) const {
  for (const auto& [k, v] : impl_->headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return "";
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
    if (!raw->writing) raw->AsyncClose();
  });
}

}  // namespace fastgpu::net

#include "server/http_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

namespace fastgpu::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::string HttpRequest::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string ErrorBody(std::string_view code, std::string_view message) {
  return "{\"code\":\"" + std::string(code) + "\",\"message\":\"" + std::string(message) + "\"}";
}

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler handler;
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> io_threads;
  std::unique_ptr<net::thread_pool> workers;
  std::atomic<bool> stopped{false};
  bool started = false;

  void Accept();
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl* impl) : stream_(std::move(socket)), impl_(impl) {}
  void Start() { DoRead(); }

 private:
  void DoRead();
  void OnRead(beast::error_code ec);
  void Dispatch(http::request<http::string_body> req);
  void Write(HttpResponse r, bool keep_alive, unsigned version);
  // Closes after a final answer without resetting the connection: stops sending, then
  // reads and discards what the client still sends (an oversized body, say) until it
  // closes or 2 s pass, so that the client gets to read the answer.
  void LingeringClose();
  void Drain(std::shared_ptr<std::array<char, 16384>> buf);

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpServer::Impl* impl_;
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || stopped) return;
      spdlog::warn("http: accept failed: {}", ec.message());
    } else {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(socket), this)->Start();
    }
    if (!stopped) Accept();
  });
}

namespace {

void Session::DoRead() {
  parser_.emplace();
  parser_->body_limit(impl_->options.max_body_bytes);
  parser_->header_limit(64 * 1024);
  stream_.expires_after(std::chrono::milliseconds(impl_->options.idle_timeout_ms));
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
}

void Session::OnRead(beast::error_code ec) {
  if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
      ec == beast::error::timeout || ec == net::error::connection_reset || ec == net::error::eof) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return;
  }
  if (ec == http::error::body_limit) {
    Write({413, "application/json",
           ErrorBody("RESOURCE_EXHAUSTED", "request body is larger than " +
                                               std::to_string(impl_->options.max_body_bytes) +
                                               " bytes")},
          false, 11);
    return;
  }
  if (ec) {
    Write({400, "application/json", ErrorBody("INVALID_ARGUMENT", "malformed HTTP request")}, false,
          11);
    return;
  }
  Dispatch(parser_->release());
}

void Session::Dispatch(http::request<http::string_body> req) {
  HttpRequest r;
  r.method = std::string(req.method_string());
  std::string_view target(req.target().data(), req.target().size());
  auto url = boost::urls::parse_origin_form(target);
  if (!url) {
    Write({400, "application/json", ErrorBody("INVALID_ARGUMENT", "malformed request target")},
          false, req.version());
    return;
  }
  r.path = std::string(url->encoded_path());
  for (auto param : url->params()) r.query[param.key] = param.value;
  for (const auto& field : req) {
    r.headers[Lower(std::string_view(field.name_string().data(), field.name_string().size()))] =
        std::string(field.value());
  }
  r.body = std::move(req.body());
  bool keep_alive = req.keep_alive();
  unsigned version = req.version();
  net::post(*impl_->workers, [self = shared_from_this(), r = std::move(r), keep_alive, version] {
    HttpResponse resp = self->impl_->handler(r);
    net::post(self->stream_.get_executor(), [self, resp = std::move(resp), keep_alive, version] {
      self->Write(std::move(resp), keep_alive, version);
    });
  });
}

void Session::Write(HttpResponse r, bool keep_alive, unsigned version) {
  auto res = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(r.status), version);
  res->set(http::field::server, "fastgpu");
  res->set(http::field::content_type, r.content_type);
  res->keep_alive(keep_alive && !impl_->stopped);
  res->body() = std::move(r.body);
  res->prepare_payload();
  stream_.expires_after(std::chrono::milliseconds(impl_->options.idle_timeout_ms));
  http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
    if (ec) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return;
    }
    if (!res->keep_alive()) {
      self->LingeringClose();
      return;
    }
    self->DoRead();
  });
}

void Session::LingeringClose() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.expires_after(std::chrono::seconds(2));
  Drain(std::make_shared<std::array<char, 16384>>());
}

void Session::Drain(std::shared_ptr<std::array<char, 16384>> buf) {
  stream_.async_read_some(net::buffer(*buf),
                          [self = shared_from_this(), buf](beast::error_code ec, size_t) {
                            if (ec) {
                              beast::error_code ignored;
                              self->stream_.socket().close(ignored);
                              return;
                            }
                            self->Drain(buf);
                          });
}

}  // namespace

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
}

HttpServer::~HttpServer() { Stop(); }

Result<uint16_t> HttpServer::Start() {
  Impl& m = *impl_;
  beast::error_code ec;
  auto address = net::ip::make_address(m.options.host, ec);
  if (ec) return InvalidArgument("listen address '" + m.options.host + "': " + ec.message());
  tcp::endpoint endpoint(address, m.options.port);
  m.acceptor.open(endpoint.protocol(), ec);
  if (!ec) m.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) m.acceptor.bind(endpoint, ec);
  if (!ec) m.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable("cannot listen on " + m.options.host + ":" + std::to_string(m.options.port) +
                       ": " + ec.message());
  }
  uint16_t port = m.acceptor.local_endpoint().port();
  m.workers = std::make_unique<net::thread_pool>(std::max(1, m.options.worker_threads));
  m.work.emplace(m.ioc.get_executor());
  m.Accept();
  for (int i = 0; i < std::max(1, m.options.io_threads); ++i) {
    m.io_threads.emplace_back([&m] { m.ioc.run(); });
  }
  m.started = true;
  return port;
}

void HttpServer::Stop() {
  Impl& m = *impl_;
  if (!m.started || m.stopped.exchange(true)) return;
  net::post(m.ioc, [&m] {
    beast::error_code ignored;
    m.acceptor.close(ignored);
  });
  m.work.reset();
  m.workers->join();  // in-flight handlers finish; their writes are queued on ioc
  m.ioc.stop();
  for (auto& t : m.io_threads) t.join();
  m.io_threads.clear();
}

}  // namespace fastgpu::server

#include "server/http_server.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <chrono>
#include <future>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/text.h"
#include "server/log_limiter.h"
#include "server/websocket_upgrade.h"

namespace fastgpu::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

std::string HttpRequest::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

namespace {

std::string ErrorBody(std::string_view code, std::string_view message) {
  return "{\"code\":\"" + std::string(code) + "\",\"message\":\"" + std::string(message) + "\"}";
}

// The request as handlers see it (path without the query, decoded query parameters,
// lower-case header names), or nullopt when the target is malformed.
std::optional<HttpRequest> ToHttpRequest(http::request<http::string_body>& req) {
  HttpRequest r;
  r.method = std::string(req.method_string());
  std::string_view target(req.target().data(), req.target().size());
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return std::nullopt;
  r.path = std::string(url->encoded_path());
  for (auto param : url->params()) r.query[param.key] = param.value;
  if (url->has_query()) r.raw_query = std::string(url->encoded_query());
  for (const auto& field : req) {
    r.headers[AsciiLower(std::string_view(
        field.name_string().data(), field.name_string().size()))] = std::string(field.value());
  }
  r.body = std::move(req.body());
  return r;
}

constexpr size_t kHeaderLimitBytes = 64 * 1024;

}  // namespace

Result<HttpRequest> ParseHttpRequest(std::string_view bytes, size_t max_body_bytes) {
  http::request_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(max_body_bytes);
  parser.header_limit(kHeaderLimitBytes);
  beast::error_code ec;
  size_t used = 0;
  while (!parser.is_done()) {
    size_t n = parser.put(net::buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (ec == http::error::need_more && used < bytes.size() && n > 0) continue;
    if (ec == http::error::need_more) {
      // Beast asserts that a parser given end-of-input has seen some of a message.
      if (!parser.got_some()) return InvalidArgument("incomplete HTTP request");
      parser.put_eof(ec);
    }
    if (ec == http::error::body_limit) return ResourceExhausted("request body too large");
    if (ec) return InvalidArgument("malformed HTTP request: " + ec.message());
    if (!parser.is_done()) return InvalidArgument("incomplete HTTP request");
  }
  auto req = parser.release();
  std::optional<HttpRequest> r = ToHttpRequest(req);
  if (!r) return InvalidArgument("malformed request target");
  return *std::move(r);
}

class HttpSession;

struct HttpServer::Impl {
  // Open connections in the order they were accepted. Sessions add and remove
  // themselves; the acceptor scans it to pick one to close at the limit. Declared
  // before the io_context: sessions still queued there unregister as it is destroyed.
  mutable std::mutex sessions_mu;
  std::list<std::weak_ptr<HttpSession>> sessions;

  HttpServerOptions options;
  HttpHandler handler;
  int max_connections = 0;
  std::optional<ssl::context> tls;  // set when serving HTTPS
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  tcp::acceptor acceptor{ioc};
  net::steady_timer accept_retry{ioc};
  std::chrono::milliseconds accept_backoff{0};
  std::vector<std::thread> io_threads;
  std::unique_ptr<net::thread_pool> workers;
  std::atomic<bool> stopped{false};
  bool started = false;
  LogLimiter accept_log;
  LogLimiter limit_log;
  LogLimiter handler_log;

  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  // Closes the oldest idle connection, else the oldest still reading its request.
  // False when every connection is busy in a handler or already closing.
  // `why` completes the log line ("out of descriptors").
  bool EvictOne(const std::string& why);
  // Answers 503 on a socket beyond the limit and closes it.
  void Reject(tcp::socket socket);
  // Sets `tls` from the options' certificate and key files (nothing when neither is set).
  Status LoadTls();
};

Status HttpServer::Impl::LoadTls() {
  const std::string& cert = options.tls_cert_file;
  const std::string& key = options.tls_key_file;
  if (cert.empty() && key.empty()) return OkStatus();
  if (cert.empty() || key.empty()) {
    return InvalidArgument("HTTPS needs both a certificate chain file and a key file");
  }
  try {
    tls.emplace(ssl::context::tls_server);
    tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                     ssl::context::single_dh_use);
    tls->use_certificate_chain_file(cert);
  } catch (const boost::system::system_error& e) {
    tls.reset();
    return InvalidArgument("TLS certificate chain " + cert + ": " + e.code().message());
  }
  try {
    tls->use_private_key_file(key, ssl::context::pem);
  } catch (const boost::system::system_error& e) {
    tls.reset();
    return InvalidArgument("TLS key " + key + ": " + e.code().message());
  }
  return OkStatus();
}

namespace {

// Where a connection is in its life: the acceptor may close kIdle and kReading ones.
enum class Phase { kIdle, kReading, kBusy, kClosing };

}  // namespace

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, HttpServer::Impl* impl) : impl_(impl) {
    if (impl->tls) {
      tls_.emplace(std::move(socket), *impl->tls);
    } else {
      plain_.emplace(std::move(socket));
    }
  }
  ~HttpSession();
  // Registers with the server and waits for the first request.
  void Start();
  // From any thread: closes the connection if it is in `from`; true when it did.
  bool CloseIf(Phase from);
  Phase phase() const { return phase_.load(); }

 private:
  // HTTPS: the TLS handshake, which must end within the request timeout.
  void Handshake();
  void OnFirstBytes();
  void OnHandshake(beast::error_code ec);
  void WaitForRequest();
  void ReadRequest();
  void OnRead(beast::error_code ec);
  void Dispatch(http::request<http::string_body> req);
  void Write(HttpResponse r, bool keep_alive, unsigned version);
  // On the strand: hands the connection's stream to a WebSocket (websocket_upgrade.h).
  void Upgrade(http::request<http::string_body> req, WebSocketHandler handler);
  // On a worker thread: sends a streamed answer (HttpResponse::stream), then goes on
  // with the connection on its strand.
  void Stream(HttpResponse r, bool keep_alive, unsigned version);
  // On a worker thread: runs `start(done)` on the strand, which starts one write that
  // calls `done(ec)`, and waits for it. False when the write failed.
  bool WriteAndWait(const std::function<void(std::function<void(beast::error_code)>)>& start);
  // On a worker thread between writes of a stream: false once the client has closed the
  // connection or reset it.
  bool PeerStillThere();
  void Close();
  // Closes after a final answer without resetting the connection: stops sending, then
  // reads and discards what the client still sends (an oversized body, say) until it
  // closes or 2 s pass, so that the client gets to read the answer.
  void LingeringClose();
  void Drain(std::shared_ptr<std::array<char, 16384>> buf);

  // The TCP stream under either kind of connection (timeouts, socket, executor).
  beast::tcp_stream& Tcp() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }
  // Calls `f` with the stream requests and answers go through (TLS or plain).
  template <class F>
  void WithStream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(*plain_);
    }
  }

  std::optional<beast::tcp_stream> plain_;                   // plain HTTP
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;  // HTTPS
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpServer::Impl* impl_;
  std::atomic<Phase> phase_{Phase::kIdle};
  std::list<std::weak_ptr<HttpSession>>::iterator entry_;
  bool registered_ = false;
};

int DefaultMaxConnections() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 16384;
  const auto soft = static_cast<int64_t>(rl.rlim_cur);
  const int64_t reserve = soft >= 128 ? 64 : soft / 2;
  return static_cast<int>(std::clamp<int64_t>(soft - reserve, 8, 16384));
}

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void HttpServer::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (stopped || ec == net::error::operation_aborted) return;
  if (ec) {
    if (auto n = accept_log.Allow()) {
      spdlog::warn("http: accept failed: {}; retrying with back-off{}", ec.message(),
                   SuppressedSuffix(*n));
    }
    // Out of descriptors: free one (a client waiting in the backlog, a health probe
    // say, then gets in) and wait before trying again instead of spinning.
    if (ec == net::error::no_descriptors || ec.value() == ENFILE) EvictOne("out of descriptors");
    accept_backoff = std::clamp(accept_backoff * 2, std::chrono::milliseconds(5),
                                std::chrono::milliseconds(1000));
    accept_retry.expires_after(accept_backoff);
    accept_retry.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && !stopped) Accept();
    });
    return;
  }
  accept_backoff = std::chrono::milliseconds(0);
  try {
    socket.set_option(tcp::no_delay(true), ec);
    size_t open;
    {
      std::lock_guard lock(sessions_mu);
      open = sessions.size();
    }
    if (open >= static_cast<size_t>(max_connections) &&
        !EvictOne("connection limit " + std::to_string(max_connections) + " reached")) {
      if (auto n = limit_log.Allow()) {
        spdlog::warn("http: {} connections open, all busy; answering 503{}", open,
                     SuppressedSuffix(*n));
      }
      Reject(std::move(socket));
    } else {
      std::make_shared<HttpSession>(std::move(socket), this)->Start();
    }
  } catch (const std::exception& e) {  // std::bad_alloc: drop this connection, go on
    if (auto n = accept_log.Allow()) {
      spdlog::warn("http: cannot serve a connection: {}{}", e.what(), SuppressedSuffix(*n));
    }
  }
  Accept();
}

bool HttpServer::Impl::EvictOne(const std::string& why) {
  std::vector<std::shared_ptr<HttpSession>> candidates;
  {
    std::lock_guard lock(sessions_mu);
    candidates.reserve(sessions.size());
    for (const auto& w : sessions) {
      if (auto s = w.lock()) candidates.push_back(std::move(s));
    }
  }
  for (Phase phase : {Phase::kIdle, Phase::kReading}) {
    for (const auto& s : candidates) {
      if (s->phase() == phase && s->CloseIf(phase)) {
        if (auto n = limit_log.Allow()) {
          spdlog::info("http: {}; closed the oldest {} connection{}", why,
                       phase == Phase::kIdle ? "idle" : "reading", SuppressedSuffix(*n));
        }
        return true;
      }
    }
  }
  return false;
}

void HttpServer::Impl::Reject(tcp::socket socket) {
  static const std::string kAnswer =
      "HTTP/1.1 503 Service Unavailable\r\nServer: fastgpu\r\n"
      "Content-Type: application/json\r\nConnection: close\r\nRetry-After: 1\r\n"
      "Content-Length: 70\r\n\r\n"
      "{\"code\":\"UNAVAILABLE\",\"message\":\"too many connections; retry later\"}";
  beast::error_code ec;
  socket.non_blocking(true, ec);
  // Under TLS a plain answer would be noise to the client: it just sees the close.
  if (!tls) socket.write_some(net::buffer(kAnswer), ec);  // a fresh socket's buffer takes it
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

HttpSession::~HttpSession() {
  if (!registered_) return;
  std::lock_guard lock(impl_->sessions_mu);
  impl_->sessions.erase(entry_);
}

void HttpSession::Start() {
  {
    std::lock_guard lock(impl_->sessions_mu);
    entry_ = impl_->sessions.insert(impl_->sessions.end(), weak_from_this());
    registered_ = true;
  }
  net::dispatch(Tcp().get_executor(), [self = shared_from_this()] {
    if (self->tls_) return self->Handshake();
    self->WaitForRequest();
  });
}

bool HttpSession::CloseIf(Phase from) {
  if (!phase_.compare_exchange_strong(from, Phase::kClosing)) return false;
  net::post(Tcp().get_executor(), [self = shared_from_this()] { self->Close(); });
  return true;
}

void HttpSession::Close() {
  phase_ = Phase::kClosing;
  if (!plain_ && !tls_) return;  // upgraded: the WebSocket owns the stream
  beast::error_code ignored;
  Tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
  Tcp().socket().close(ignored);
}

void HttpSession::Handshake() {
  // Counts as reading: the acceptor may close a connection stuck here at the limit.
  Phase expected = Phase::kIdle;
  if (!phase_.compare_exchange_strong(expected, Phase::kReading)) return Close();
  Tcp().expires_after(std::chrono::milliseconds(impl_->options.request_timeout_ms));
  // The first bytes tell a TLS client (a handshake record, 0x16) from a plain-HTTP one.
  Tcp().async_read_some(buffer_.prepare(4096),
                        [self = shared_from_this()](beast::error_code ec, size_t n) {
                          if (ec) return self->Close();
                          self->buffer_.commit(n);
                          self->OnFirstBytes();
                        });
}

void HttpSession::OnFirstBytes() {
  if (phase_.load() == Phase::kClosing) return Close();
  const auto* first = static_cast<const unsigned char*>(buffer_.data().data());
  if (buffer_.size() > 0 && first[0] != 0x16) {
    // Plain HTTP sent to the HTTPS port: say so in plain HTTP, then close.
    static const std::string kAnswer =
        "HTTP/1.1 400 Bad Request\r\nServer: fastgpu\r\nContent-Type: application/json\r\n"
        "Connection: close\r\nContent-Length: 85\r\n\r\n"
        "{\"code\":\"INVALID_ARGUMENT\",\"message\":\"this server speaks HTTPS: use an https:// "
        "URL\"}";
    buffer_.clear();
    net::async_write(Tcp(), net::buffer(kAnswer),
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->Close();
                       self->LingeringClose();
                     });
    return;
  }
  // The default for `used` satisfies Beast 1.81's check of this overload's handler against
  // the unbuffered signature void(error_code); Asio calls it with both arguments.
  tls_->async_handshake(ssl::stream_base::server, buffer_.cdata(),
                        [self = shared_from_this()](beast::error_code ec, size_t used = 0) {
                          self->buffer_.consume(used);
                          self->OnHandshake(ec);
                        });
}

void HttpSession::OnHandshake(beast::error_code ec) {
  if (ec) {
    // A client that does not trust the certificate, an old TLS version, a scanner.
    spdlog::debug("http: TLS handshake failed: {}", ec.message());
    return Close();
  }
  // Bytes past the handshake would be TLS records read around the TLS stream: none are
  // expected (the client waits for the server's Finished); drop them rather than parse them.
  buffer_.clear();
  Phase reading = Phase::kReading;
  if (!phase_.compare_exchange_strong(reading, Phase::kIdle)) return Close();
  WaitForRequest();
}

// Waits up to the idle timeout for the first byte of the next request.
void HttpSession::WaitForRequest() {
  Phase expected = Phase::kBusy;
  if (!phase_.compare_exchange_strong(expected, Phase::kIdle) && expected != Phase::kIdle) {
    return Close();  // closed by the acceptor meanwhile
  }
  if (buffer_.size() > 0) return ReadRequest();  // a pipelined request is here already
  Tcp().expires_after(std::chrono::milliseconds(impl_->options.idle_timeout_ms));
  WithStream([this](auto& stream) {
    stream.async_read_some(
        buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, size_t n) {
          if (ec) return self->Close();  // timeout, peer gone, or closed by the acceptor
          self->buffer_.commit(n);
          self->ReadRequest();
        });
  });
}

// Reads one whole request, which must arrive within the request timeout.
void HttpSession::ReadRequest() {
  Phase expected = Phase::kIdle;
  if (!phase_.compare_exchange_strong(expected, Phase::kReading)) return Close();
  parser_.emplace();
  parser_->body_limit(impl_->options.max_body_bytes);
  parser_->header_limit(kHeaderLimitBytes);
  Tcp().expires_after(std::chrono::milliseconds(impl_->options.request_timeout_ms));
  WithStream([this](auto& stream) {
    http::async_read(
        stream, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  });
}

void HttpSession::OnRead(beast::error_code ec) {
  Phase expected = Phase::kReading;
  if (!phase_.compare_exchange_strong(expected, Phase::kBusy)) return Close();
  if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
      ec == beast::error::timeout || ec == net::error::connection_reset || ec == net::error::eof) {
    return Close();
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
  try {
    Dispatch(parser_->release());
  } catch (const std::exception& e) {  // std::bad_alloc copying a large request, say
    if (auto n = impl_->handler_log.Allow()) {
      spdlog::error("http: cannot dispatch a request: {}{}", e.what(), SuppressedSuffix(*n));
    }
    Write({500, "application/json", ErrorBody("INTERNAL", "internal error")}, false, 11);
  }
}

void HttpSession::Dispatch(http::request<http::string_body> req) {
  std::optional<HttpRequest> parsed = ToHttpRequest(req);
  if (!parsed) {
    Write({400, "application/json", ErrorBody("INVALID_ARGUMENT", "malformed request target")},
          false, req.version());
    return;
  }
  HttpRequest r = *std::move(parsed);
  bool keep_alive = req.keep_alive();
  unsigned version = req.version();
  // A WebSocket upgrade keeps its request: the accept answers it.
  std::shared_ptr<http::request<http::string_body>> upgrade;
  if (beast::websocket::is_upgrade(req)) {
    upgrade = std::make_shared<http::request<http::string_body>>(std::move(req));
  }
  // The guard keeps the I/O threads running until the answer's writes are queued (and,
  // for a stream, done): without it Stop() could let them finish while a worker still
  // has an answer to send, and a stream would wait forever for its write.
  net::post(*impl_->workers, [self = shared_from_this(), r = std::move(r), keep_alive, version,
                              upgrade, io_work = net::make_work_guard(impl_->ioc)] {
    HttpResponse resp;
    try {
      resp = self->impl_->handler(r);
    } catch (const std::exception& e) {
      if (auto n = self->impl_->handler_log.Allow()) {
        spdlog::error("http: {} {}: handler failed: {}{}", r.method.substr(0, 16),
                      r.path.substr(0, 128), e.what(), SuppressedSuffix(*n));
      }
      resp = {500, "application/json", ErrorBody("INTERNAL", "internal error")};
    } catch (...) {
      resp = {500, "application/json", ErrorBody("INTERNAL", "internal error")};
    }
    if (resp.stream) return self->Stream(std::move(resp), keep_alive, version);
    if (resp.websocket && upgrade) {
      net::post(self->Tcp().get_executor(), [self, upgrade, h = std::move(resp.websocket)] {
        self->Upgrade(std::move(*upgrade), h);
      });
      return;
    }
    net::post(self->Tcp().get_executor(), [self, resp = std::move(resp), keep_alive, version] {
      self->Write(std::move(resp), keep_alive, version);
    });
  });
}

void HttpSession::Upgrade(http::request<http::string_body> req, WebSocketHandler handler) {
  if (phase_.load() == Phase::kClosing || impl_->stopped) return Close();
  phase_ = Phase::kClosing;  // no longer the HTTP server's: never evicted, never read here
  if (tls_) {
    UpgradeToWebSocket(std::move(*tls_), std::move(req), std::move(handler));
    tls_.reset();
  } else {
    UpgradeToWebSocket(std::move(*plain_), std::move(req), std::move(handler));
    plain_.reset();
  }
}

void HttpSession::Write(HttpResponse r, bool keep_alive, unsigned version) {
  if (phase_.load() == Phase::kClosing) return Close();
  auto res = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(r.status), version);
  res->set(http::field::server, "fastgpu");
  res->set(http::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers) res->set(name, value);
  res->keep_alive(keep_alive && !impl_->stopped);
  res->body() = std::move(r.body);
  res->prepare_payload();
  Tcp().expires_after(std::chrono::milliseconds(impl_->options.request_timeout_ms));
  WithStream([this, &res](auto& stream) {
    http::async_write(stream, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      if (!res->keep_alive()) {
        self->LingeringClose();
        return;
      }
      self->WaitForRequest();
    });
  });
}

bool HttpSession::WriteAndWait(
    const std::function<void(std::function<void(beast::error_code)>)>& start) {
  auto done = std::make_shared<std::promise<beast::error_code>>();
  std::future<beast::error_code> result = done->get_future();
  net::post(Tcp().get_executor(), [self = shared_from_this(), &start, done] {
    if (self->phase_.load() == Phase::kClosing) {
      done->set_value(net::error::operation_aborted);
      return;
    }
    self->Tcp().expires_after(std::chrono::milliseconds(self->impl_->options.request_timeout_ms));
    start([self, done](beast::error_code ec) {
      self->Tcp().expires_never();
      done->set_value(ec);
    });
  });
  // The I/O threads run while the handler's worker holds its work guard (Dispatch), so
  // the write completes, fails or times out, and this returns.
  return !result.get();
}

bool HttpSession::PeerStillThere() {
  // No operation is pending on the socket while a stream runs (its writes are waited
  // for), so a non-blocking peek from this thread is safe: 0 bytes means the client
  // closed its side, an error other than "nothing yet" that it is gone. Under TLS this
  // peeks at raw records: a close_notify before the FIN reads as "still there" until the
  // next write fails.
  char byte;
  ssize_t n = ::recv(Tcp().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return true;  // it sent more (a pipelined request): still there
  if (n == 0) return false;
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

void HttpSession::Stream(HttpResponse r, bool keep_alive, unsigned version) {
  auto header = std::make_shared<http::response<http::empty_body>>(
      static_cast<http::status>(r.status), version);
  header->set(http::field::server, "fastgpu");
  header->set(http::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers) header->set(name, value);
  header->keep_alive(keep_alive && !impl_->stopped);
  header->chunked(true);
  auto serializer = std::make_shared<http::response_serializer<http::empty_body>>(*header);
  bool ok = WriteAndWait([&](auto done) {
    WithStream([&](auto& stream) {
      http::async_write_header(
          stream, *serializer,
          [done, header, serializer](beast::error_code ec, size_t) { done(ec); });
    });
  });
  if (ok) {
    StreamWriter writer = [this, &ok](std::string_view bytes) {
      if (!ok || phase_.load() == Phase::kClosing) return ok = false;
      if (impl_->stopped) return false;  // ends with the last chunk, then closes
      if (bytes.empty()) return ok = PeerStillThere();
      ok = WriteAndWait([&](auto done) {
        WithStream([&](auto& stream) {
          net::async_write(stream, http::make_chunk(net::const_buffer(bytes.data(), bytes.size())),
                           [done](beast::error_code ec, size_t) { done(ec); });
        });
      });
      return ok;
    };
    try {
      r.stream(writer);
    } catch (const std::exception& e) {  // the body is cut short: the client sees no end
      if (auto n = impl_->handler_log.Allow()) {
        spdlog::error("http: a streamed answer failed: {}{}", e.what(), SuppressedSuffix(*n));
      }
      ok = false;
    }
    r.stream = nullptr;  // what it holds (a stream slot, say) goes now
  }
  if (ok) {
    ok = WriteAndWait([&](auto done) {
      WithStream([&](auto& stream) {
        net::async_write(stream, http::make_chunk_last(),
                         [done](beast::error_code ec, size_t) { done(ec); });
      });
    });
  }
  const bool again = ok && header->keep_alive() && !impl_->stopped;
  net::post(Tcp().get_executor(), [self = shared_from_this(), ok, again] {
    if (!ok) return self->Close();
    if (!again) return self->LingeringClose();
    self->WaitForRequest();
  });
}

void HttpSession::LingeringClose() {
  phase_ = Phase::kClosing;
  beast::error_code ignored;
  Tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
  Tcp().expires_after(std::chrono::seconds(2));
  Drain(std::make_shared<std::array<char, 16384>>());
}

void HttpSession::Drain(std::shared_ptr<std::array<char, 16384>> buf) {
  // Raw TCP even under TLS: what arrives now is discarded unread.
  Tcp().async_read_some(net::buffer(*buf),
                        [self = shared_from_this(), buf](beast::error_code ec, size_t) {
                          if (ec) {
                            beast::error_code ignored;
                            self->Tcp().socket().close(ignored);
                            return;
                          }
                          self->Drain(buf);
                        });
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
}

HttpServer::~HttpServer() { Stop(); }

Result<uint16_t> HttpServer::Start() {
  Impl& m = *impl_;
  FASTGPU_RETURN_IF_ERROR(m.LoadTls());
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
  m.max_connections =
      m.options.max_connections > 0 ? m.options.max_connections : DefaultMaxConnections();
  spdlog::debug("http: at most {} connections", m.max_connections);
  m.workers = std::make_unique<net::thread_pool>(std::max(1, m.options.worker_threads));
  m.work.emplace(m.ioc.get_executor());
  m.Accept();
  for (int i = 0; i < std::max(1, m.options.io_threads); ++i) {
    m.io_threads.emplace_back([&m] {
      // A completion handler that throws (std::bad_alloc, say) must not end the thread
      // or the process: log it and keep serving.
      for (;;) {
        try {
          m.ioc.run();
          return;
        } catch (const std::exception& e) {
          if (auto n = m.handler_log.Allow()) {
            spdlog::error("http: I/O handler failed: {}{}", e.what(), SuppressedSuffix(*n));
          }
        }
      }
    });
  }
  m.started = true;
  return port;
}

int HttpServer::open_connections() const {
  std::lock_guard lock(impl_->sessions_mu);
  return static_cast<int>(impl_->sessions.size());
}

void HttpServer::Stop() {
  Impl& m = *impl_;
  if (!m.started || m.stopped.exchange(true)) return;
  net::post(m.ioc, [&m] {
    beast::error_code ignored;
    m.acceptor.close(ignored);
    m.accept_retry.cancel();
  });
  m.work.reset();
  m.workers->join();  // in-flight handlers finish; their writes are queued on ioc
  m.ioc.stop();
  for (auto& t : m.io_threads) t.join();
  m.io_threads.clear();
}

}  // namespace fastgpu::server

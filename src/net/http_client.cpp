#include "net/http_client.h"

#include <openssl/ssl.h>
#include <strings.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <optional>

#include "common/join_token.h"
#include "common/text.h"
#include "common/version.h"
#include "net/tls_client.h"

namespace fastgpu::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Request = http::request<http::string_body>;
using ChunkFn = std::function<bool(std::string_view)>;
using HeadersFn = std::function<bool(const HttpResponse&)>;

// Errors that mean "the server closed a kept-alive connection before answering".
bool IsStale(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated;
}

template <class Body>
HttpHeaders CopyHeaders(const http::response<Body>& msg) {
  HttpHeaders out;
  for (const auto& field : msg) {
    out.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return out;
}

}  // namespace

struct HttpClient::Impl {
  HttpClientOptions options;
  bool use_tls = false;
  std::string host;         // for DNS
  std::string host_header;  // "host" or "host:port"
  std::string port;
  std::string prefix;  // base path without a trailing '/'
  std::string origin;
  asio::io_context ioc;
  std::unique_ptr<TlsClientSetup> tls;  // https only
  std::optional<beast::tcp_stream> tcp_stream;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream;
  beast::flat_buffer buffer;
  bool connected = false;
  int connections_opened = 0;
  // GetStream only: sees a 2xx answer's headers; false collects its body instead.
  const HeadersFn* on_headers = nullptr;

  std::string Address() const { return host + ":" + port; }

  beast::tcp_stream& Lowest() {
    return use_tls ? beast::get_lowest_layer(*tls_stream) : *tcp_stream;
  }

  // Starts one asynchronous operation through `start(handler)` and runs the I/O
  // context until it completes (the stream's expiry turns it into a timeout).
  template <class Start>
  error_code Run(Start&& start) {
    error_code result = asio::error::would_block;
    start([&result](error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  Status Fail(std::string_view what, const error_code& ec, std::chrono::milliseconds limit) {
    std::string reason = ec == beast::error::timeout
                             ? "timed out after " + std::to_string(limit.count()) + " ms"
                             : ec.message();
    return Unavailable(std::string(what) + " " + origin + " (" + Address() + "): " + reason);
  }

  void Close() {
    if (tcp_stream || tls_stream) {
      error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
      Lowest().socket().close(ignored);
    }
    tcp_stream.reset();
    tls_stream.reset();
    buffer.clear();
    connected = false;
  }

  Status Connect() {
    Close();
    tcp::resolver resolver(ioc);
    error_code ec;
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec) return Unavailable("resolve " + Address() + ": " + ec.message());
    if (use_tls) {
      tls_stream.emplace(ioc, tls->context());
    } else {
      tcp_stream.emplace(ioc);
    }
    Lowest().expires_after(options.connect_timeout);
    ec = Run([&](auto handler) { Lowest().async_connect(endpoints, std::move(handler)); });
    if (ec) {
      Close();
      return Fail("connect to", ec, options.connect_timeout);
    }
    Lowest().socket().set_option(tcp::no_delay(true), ec);
    if (use_tls) {
      if (Status st = tls->Prepare(tls_stream->native_handle()); !st.ok()) {
        Close();
        return Unavailable("TLS to " + Address() + ": " + st.message());
      }
      ec = Run([&](auto handler) {
        tls_stream->async_handshake(ssl::stream_base::client, std::move(handler));
      });
      if (ec) {
        Status failed = Fail("TLS handshake with", ec, options.connect_timeout);
        std::string why = tls->Failure(tls_stream->native_handle());
        Close();
        if (!why.empty()) {
          return Unavailable("TLS handshake with " + origin + " (" + Address() +
                             "): the server's certificate is not trusted: " + why);
        }
        return failed;
      }
    }
    connected = true;
    ++connections_opened;
    return OkStatus();
  }

  // Sends `req` and reads the answer on stream `s`. Sets `*stale` when the failure
  // looks like a kept-alive connection the server had already closed.
  template <class Stream>
  Result<HttpResponse> ExchangeOn(Stream& s, Request& req, bool* stale, const ChunkFn* on_chunk) {
    Lowest().expires_after(options.read_timeout);
    error_code ec = Run([&](auto handler) { http::async_write(s, req, std::move(handler)); });
    if (ec) {
      *stale = IsStale(ec);
      return Fail("send to", ec, options.read_timeout);
    }
    if (on_chunk == nullptr) {
      http::response_parser<http::string_body> parser;
      parser.body_limit(options.max_body_bytes);
      ec = Run([&](auto handler) { http::async_read(s, buffer, parser, std::move(handler)); });
      if (ec) {
        *stale = !parser.got_some() && IsStale(ec);
        if (ec == http::error::body_limit) {
          return ResourceExhausted("answer from " + origin + " is larger than " +
                                   std::to_string(options.max_body_bytes) + " bytes");
        }
        return Fail("read from", ec, options.read_timeout);
      }
      http::response<http::string_body> msg = parser.release();
      HttpResponse out{static_cast<int>(msg.result_int()), CopyHeaders(msg), std::move(msg.body())};
      if (!msg.keep_alive()) Close();
      return out;
    }
    return StreamOn(s, on_chunk, stale);
  }

  template <class Stream>
  Result<HttpResponse> StreamOn(Stream& s, const ChunkFn* on_chunk, bool* stale) {
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    error_code ec =
        Run([&](auto handler) { http::async_read_header(s, buffer, parser, std::move(handler)); });
    if (ec) {
      *stale = !parser.got_some() && IsStale(ec);
      return Fail("read from", ec, options.read_timeout);
    }
    HttpResponse out{static_cast<int>(parser.get().result_int()), CopyHeaders(parser.get()), ""};
    bool collect = !out.ok() || (on_headers != nullptr && *on_headers && !(*on_headers)(out));
    char chunk[16384];
    while (!parser.is_done()) {
      parser.get().body().data = chunk;
      parser.get().body().size = sizeof(chunk);
      Lowest().expires_after(options.read_timeout);
      ec = Run([&](auto handler) { http::async_read_some(s, buffer, parser, std::move(handler)); });
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return Fail("read from", ec, options.read_timeout);
      size_t n = sizeof(chunk) - parser.get().body().size;
      if (n == 0) continue;
      if (collect) {
        out.body.append(chunk, n);
        if (out.body.size() > options.max_body_bytes) {
          return ResourceExhausted("answer from " + origin + " is too large");
        }
      } else if (!(*on_chunk)(std::string_view(chunk, n))) {
        Close();
        return out;
      }
    }
    if (!parser.get().keep_alive()) Close();
    return out;
  }

  Result<HttpResponse> Exchange(Request& req, bool* stale, const ChunkFn* on_chunk) {
    if (use_tls) return ExchangeOn(*tls_stream, req, stale, on_chunk);
    return ExchangeOn(*tcp_stream, req, stale, on_chunk);
  }

  Result<HttpResponse> Call(std::string_view method, std::string_view path, std::string_view body,
                            const HttpHeaders& headers, const ChunkFn* on_chunk) {
    http::verb verb = http::string_to_verb(method);
    if (verb == http::verb::unknown) {
      return InvalidArgument("unknown HTTP method '" + std::string(method) + "'");
    }
    if (path.empty() || path.front() != '/') {
      return InvalidArgument("request path must start with '/': '" + std::string(path) + "'");
    }
    Request req{verb, prefix + std::string(path), 11};
    req.set(http::field::host, host_header);
    req.set(http::field::user_agent, std::string("fastgpu/") + Version());
    if (!options.bearer_token.empty()) {
      req.set(http::field::authorization, "Bearer " + options.bearer_token);
    }
    for (const auto& [name, value] : headers) req.set(name, value);
    if (!body.empty()) {
      if (req.find(http::field::content_type) == req.end()) {
        req.set(http::field::content_type, "application/json");
      }
      req.body() = std::string(body);
    }
    req.keep_alive(true);
    req.prepare_payload();
    for (int attempt = 0;; ++attempt) {
      bool reused = connected;
      if (!connected) FASTGPU_RETURN_IF_ERROR(Connect());
      bool stale = false;
      Result<HttpResponse> result = Exchange(req, &stale, on_chunk);
      if (result.ok()) return result;
      Close();
      if (!(reused && stale && attempt == 0)) return result.status();
    }
  }
};

HttpClient::HttpClient(std::vector<std::unique_ptr<Impl>> impls) : impls_(std::move(impls)) {}
HttpClient::~HttpClient() {
  for (auto& impl : impls_) impl->Close();
}

namespace {

// The addresses of a base URL list "http://a:8080,http://b:8080" (spaces around commas
// allowed), in order; empty entries dropped.
std::vector<std::string_view> SplitAddresses(std::string_view list) {
  std::vector<std::string_view> out;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view one = list.substr(0, comma);
    while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
    if (!one.empty()) out.push_back(one);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<HttpClient>> HttpClient::Create(std::string_view base_urls,
                                                       HttpClientOptions options) {
  std::vector<std::unique_ptr<Impl>> impls;
  for (std::string_view url : SplitAddresses(base_urls)) {
    FASTGPU_ASSIGN_OR_RETURN(std::unique_ptr<Impl> impl, CreateImpl(url, options));
    impls.push_back(std::move(impl));
  }
  if (impls.empty()) return InvalidArgument("no server address given");
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impls)));
}

Result<std::unique_ptr<HttpClient::Impl>> HttpClient::CreateImpl(std::string_view base_url,
                                                                 const HttpClientOptions& options) {
  auto parsed = boost::urls::parse_uri(base_url);
  if (!parsed) {
    return InvalidArgument("bad URL '" + RedactedUrl(base_url) + "': " + parsed.error().message());
  }
  const boost::urls::url_view& url = *parsed;
  auto impl = std::make_unique<Impl>();
  std::string scheme(url.scheme());
  if (scheme == "https") {
    impl->use_tls = true;
  } else if (scheme != "http") {
    return InvalidArgument("URL '" + RedactedUrl(base_url) + "': scheme must be http or https");
  }
  if (url.host_address().empty()) {
    return InvalidArgument("URL '" + RedactedUrl(base_url) + "' has no host");
  }
  if (url.has_query() || url.has_fragment() || url.has_userinfo()) {
    return InvalidArgument("URL '" + RedactedUrl(base_url) +
                           "': only scheme, host, port and path are allowed (no user:password; "
                           "the token goes in --token or the config)");
  }
  impl->host = std::string(url.host_address());
  impl->port = url.has_port() ? std::string(url.port()) : (impl->use_tls ? "443" : "80");
  impl->host_header = std::string(url.encoded_host_and_port());
  impl->prefix = std::string(url.encoded_path());
  while (!impl->prefix.empty() && impl->prefix.back() == '/') impl->prefix.pop_back();
  impl->origin = scheme + "://" + impl->host_header;
  impl->options = options;
  if (impl->use_tls) {
    FASTGPU_ASSIGN_OR_RETURN(impl->tls, TlsClientSetup::Create(impl->origin, impl->host, options));
  } else if (!options.ca_sha256.empty()) {
    FASTGPU_RETURN_IF_ERROR(ParseSha256Pin(options.ca_sha256).status());
  }
  return impl;
}

Result<HttpResponse> HttpClient::Failover(const std::function<Result<HttpResponse>(Impl&)>& call) {
  const size_t n = impls_.size();
  Result<HttpResponse> res = Unavailable("no server address");
  std::optional<HttpResponse> answered;  // a 503 answer says more than a silent address
  for (size_t i = 0; i < n; ++i) {
    const size_t k = (current_ + i) % n;
    res = call(*impls_[k]);
    // No answer, or "unavailable" (a replica that lost its database): the next address.
    const bool next =
        res.ok() ? res->status == 503 : res.status().code() == StatusCode::kUnavailable;
    if (!next) {
      current_ = k;
      return res;
    }
    if (res.ok()) answered = *res;
  }
  if (answered) return *answered;
  return res;
}

Result<HttpResponse> HttpClient::Do(std::string_view method, std::string_view path,
                                    std::string_view body, const HttpHeaders& headers) {
  return Failover([&](Impl& impl) { return impl.Call(method, path, body, headers, nullptr); });
}

Result<HttpResponse> HttpClient::GetStream(
    std::string_view path, const ChunkFn& on_chunk, const HttpHeaders& headers,
    const std::function<bool(const HttpResponse&)>& on_headers) {
  return Failover([&](Impl& impl) {
    impl.on_headers = &on_headers;
    Result<HttpResponse> res = impl.Call("GET", path, {}, headers, &on_chunk);
    impl.on_headers = nullptr;
    return res;
  });
}

void HttpClient::set_bearer_token(std::string token) {
  for (auto& impl : impls_) impl->options.bearer_token = token;
}
const std::string& HttpClient::origin() const { return impls_[current_]->origin; }
int HttpClient::connections_opened() const {
  int n = 0;
  for (const auto& impl : impls_) n += impl->connections_opened;
  return n;
}
size_t HttpClient::addresses() const { return impls_.size(); }

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), key.size()) == 0) {
      return value;
    }
  }
  return "";
}

std::string RedactedUrl(std::string_view url) {
  size_t start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  size_t end = url.find_first_of("/?#", start);
  size_t at = url.substr(0, end).rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(url);
  return std::string(url.substr(0, start)) + "***" + std::string(url.substr(at));
}

StatusCode StatusCodeFromName(std::string_view name) {
  for (int c = 0; c <= static_cast<int>(StatusCode::kUnauthenticated); ++c) {
    if (StatusCodeName(static_cast<StatusCode>(c)) == name) return static_cast<StatusCode>(c);
  }
  return StatusCode::kUnknown;
}

namespace {
StatusCode CodeForHttpStatus(int status) {
  switch (status) {
    case 400:
      return StatusCode::kInvalidArgument;
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 409:
      return StatusCode::kFailedPrecondition;
    case 429:
      return StatusCode::kResourceExhausted;
    case 501:
      return StatusCode::kUnimplemented;
    case 503:
      return StatusCode::kUnavailable;
    case 504:
      return StatusCode::kDeadlineExceeded;
    default:
      return status >= 500 ? StatusCode::kInternal : StatusCode::kUnknown;
  }
}
}  // namespace

Status ApiStatus(const HttpResponse& response) {
  if (response.ok()) return OkStatus();
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(response.body, ec);
  if (!ec && v.is_object()) {
    const auto& obj = v.as_object();
    const auto* code = obj.if_contains("code");
    const auto* message = obj.if_contains("message");
    if (code != nullptr && code->is_string()) {
      StatusCode c = StatusCodeFromName(code->as_string());
      if (c == StatusCode::kOk) c = StatusCode::kUnknown;
      std::string text = message != nullptr && message->is_string()
                             ? std::string(message->as_string())
                             : "HTTP " + std::to_string(response.status);
      return Status(c, std::move(text));
    }
  }
  std::string snippet = response.body.substr(0, 200);
  return Status(CodeForHttpStatus(response.status), "HTTP " + std::to_string(response.status) +
                                                        (snippet.empty() ? "" : ": " + snippet));
}

}  // namespace fastgpu::net

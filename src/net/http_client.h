// HttpClient: a small synchronous HTTP/1.1 client for FastGPU's REST API.
//
// Used by the CLI, the node agent and the load generator. One client talks to one
// base URL ("http://127.0.0.1:8080", "https://cp.example.com/prefix") and keeps one
// connection open between calls (keep-alive); a call on a connection the server has
// closed meanwhile is retried once on a fresh connection, and a failed connection is
// dropped so the next call reconnects. A comma-separated list of base URLs names several
// control-plane replicas: a call that gets no answer (Unavailable) or a 503 from one
// address is made again at the next, in the list's order, and the client stays with the
// address that answered. (A call is thus sent again only when the first address did not
// answer it; a timeout after the request left can repeat it, so writes that must not be
// applied twice carry an Idempotency-Key, as the CLI's submissions do.) `https` URLs go through
// OpenSSL; the server is verified (unless `verify_tls` is false) in one of three ways:
//   - `ca_sha256` set (a pin, e.g. from a join token): the chain the server presents must
//     hold a CA certificate whose DER SHA-256 is the pin; the server's certificate must
//     chain to that CA and name the URL's host. No other CA is trusted;
//   - else `ca_file` set: the certificate must chain to a CA in that file (only those)
//     and name the URL's host;
//   - else: the system CA store and the URL's host.
// The verification ends the TLS handshake, before any request (or token) is sent.
//
// Errors are values: a call that got any HTTP answer returns it (whatever its status;
// see ApiStatus for turning an error answer into a Status). Connection refused, a
// timeout, a reset or a TLS failure return Unavailable with the address in the message.
//
// Thread safety: NOT thread-safe. A client owns one connection and one I/O context;
// use one object per thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace fastgpu::net {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;       // HTTP status code, e.g. 200
  HttpHeaders headers;  // as received, in order
  std::string body;     // whole body (empty for a streamed GET that succeeded)

  bool ok() const { return status >= 200 && status < 300; }
  // The first header of that name (case-insensitive), or "" when absent.
  std::string Header(std::string_view name) const;
};

struct HttpClientOptions {
  // Time allowed to resolve and connect (and finish the TLS handshake). Default 5 s.
  std::chrono::milliseconds connect_timeout{5000};
  // Time allowed to send a request and read its whole answer. Default 30 s. For a
  // streamed GET it is the longest silence allowed between two pieces of the body.
  std::chrono::milliseconds read_timeout{30000};
  // Sent as "Authorization: Bearer <token>" when not empty. Default empty.
  std::string bearer_token;
  // https only: verify the server's certificate and host name. Default true.
  bool verify_tls = true;
  // https only: a PEM file of the CAs to trust instead of the system store. Default
  // empty (the system store).
  std::string ca_file;
  // https only: the SHA-256 (64 hex digits) of the DER encoding of the CA certificate
  // the server must present in its chain (see the file comment). Default empty: none.
  // Create() refuses a malformed one with InvalidArgument.
  std::string ca_sha256;
  // Answers with a larger body fail with ResourceExhausted. Default 64 MiB.
  size_t max_body_bytes = size_t{64} << 20;
};

class HttpClient {
 public:
  // Parses `base_urls`: one base URL (scheme http or https, host, optional port and path
  // prefix), or several separated by commas (see the file comment). InvalidArgument for a
  // malformed URL, another scheme or an empty list. Does not connect yet.
  static Result<std::unique_ptr<HttpClient>> Create(std::string_view base_urls,
                                                    HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `method` (GET, POST, PUT, DELETE, PATCH) to base path + `path` ("/v1/jobs",
  // query string allowed) with `body` and extra `headers`. A non-empty body without a
  // Content-Type header is sent as application/json. Returns the answer, whatever its
  // HTTP status; Unavailable when no answer came (see the header comment).
  Result<HttpResponse> Do(std::string_view method, std::string_view path,
                          std::string_view body = {}, const HttpHeaders& headers = {});
  Result<HttpResponse> Get(std::string_view path, const HttpHeaders& headers = {}) {
    return Do("GET", path, {}, headers);
  }
  Result<HttpResponse> Post(std::string_view path, std::string_view body,
                            const HttpHeaders& headers = {}) {
    return Do("POST", path, body, headers);
  }
  Result<HttpResponse> Delete(std::string_view path, const HttpHeaders& headers = {}) {
    return Do("DELETE", path, {}, headers);
  }

  // A GET whose body is handed to `on_chunk` piece by piece as it arrives (log
  // following). `on_chunk` returns false to stop early (the connection is then
  // closed; the call still succeeds). For a 2xx answer the returned body is empty;
  // for any other status the body is collected into the answer instead. When given,
  // `on_headers` sees a 2xx answer's status and headers before its body; when it returns
  // false the body is collected into the answer instead of streamed (a server that
  // answered a plain body, say).
  Result<HttpResponse> GetStream(
      std::string_view path, const std::function<bool(std::string_view)>& on_chunk,
      const HttpHeaders& headers = {},
      const std::function<bool(const HttpResponse&)>& on_headers = nullptr);

  // Replaces the bearer token used by later calls ("" sends none).
  void set_bearer_token(std::string token);
  // "http://127.0.0.1:8080" (scheme, host and port, without the path prefix).
  const std::string& origin() const;
  // How many connections this client has opened so far (keep-alive shows as 1).
  int connections_opened() const;
  // How many addresses the client was given.
  size_t addresses() const;

 private:
  struct Impl;
  explicit HttpClient(std::vector<std::unique_ptr<Impl>> impls);
  static Result<std::unique_ptr<Impl>> CreateImpl(std::string_view base_url,
                                                  const HttpClientOptions& options);
  // Runs `call` on the current address, then the next ones while it gets no answer or a
  // 503; returns the first other result, or the last one.
  Result<HttpResponse> Failover(const std::function<Result<HttpResponse>(Impl&)>& call);
  std::vector<std::unique_ptr<Impl>> impls_;
  size_t current_ = 0;
};

// OK for a 2xx answer. Otherwise the API error `{"code": ..., "message": ...}` as a
// Status (code by name; when the body is not such an object, the code fitting the
// HTTP status and the start of the body as message).
Status ApiStatus(const HttpResponse& response);

// `url` with any user:password part replaced by "***" ("https://***@host/"), for
// messages and logs: credentials someone put in a URL are never echoed.
std::string RedactedUrl(std::string_view url);

// "INVALID_ARGUMENT" -> kInvalidArgument; kUnknown for a name it does not know.
StatusCode StatusCodeFromName(std::string_view name);

}  // namespace fastgpu::net

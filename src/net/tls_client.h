// TlsClientSetup: the client side of TLS that HttpClient and WsClient share, so that both
// verify a control plane's certificate the same way (http_client.h's file comment): a CA
// pinned by its SHA-256, or only the CAs of a file, or the system store, always with the
// URL's host name, during the handshake.
//
// Create() builds the OpenSSL context once per base URL; before each handshake Prepare()
// sets the server name (SNI) and the host check on the connection's SSL object; after a
// failed handshake Failure() says why the certificate was refused ("" when it was not).
//
// Owns its ssl::context (the pin check's state lives beside it and is reached by OpenSSL
// through a pointer, so the object does not move: it is held by unique_ptr). Not
// thread-safe: one connection's handshake at a time, as its owners use it.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "common/result.h"
#include "net/http_client.h"

typedef struct ssl_st SSL;

namespace fastgpu::net {

class TlsClientSetup {
 public:
  // `origin` ("https://host:port") names the server in messages; `host` is what its
  // certificate must name. InvalidArgument for a malformed pin or an unreadable CA file.
  static Result<std::unique_ptr<TlsClientSetup>> Create(const std::string& origin,
                                                        const std::string& host,
                                                        const HttpClientOptions& options);
  ~TlsClientSetup();
  TlsClientSetup(const TlsClientSetup&) = delete;
  TlsClientSetup& operator=(const TlsClientSetup&) = delete;

  boost::asio::ssl::context& context() { return *ctx_; }
  // Sets the server name and (unless verification is off or pinned) the host check on
  // `ssl`. Internal when OpenSSL refuses the name.
  Status Prepare(SSL* ssl);
  // Why the last handshake on `ssl` refused the server's certificate, or "" when it did
  // not (the handshake then failed for another reason: a reset, a timeout, ...).
  std::string Failure(SSL* ssl) const;

 private:
  struct Pin;
  TlsClientSetup() = default;
  std::string host_;
  HttpClientOptions options_;
  std::unique_ptr<boost::asio::ssl::context> ctx_;
  std::unique_ptr<Pin> pin_;
};

}  // namespace fastgpu::net

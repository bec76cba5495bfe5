#include "net/tls_client.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "common/join_token.h"
#include "common/text.h"

namespace fastgpu::net {
namespace {

namespace ssl = boost::asio::ssl;

bool IsIpAddress(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// Makes `param` require that the certificate names `host` (a DNS name or an IP address).
void RequireHost(X509_VERIFY_PARAM* param, const std::string& host) {
  if (IsIpAddress(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  }
}

std::string CertSha256(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) != 1) return "";
  return HexLower(md, n);
}

// What the pinned verification needs; lives in the Impl, reached through the SSL_CTX.
struct PinCheck {         // see TlsClientSetup::Pin
  std::string ca_sha256;  // the pin
  std::string host;       // the URL's host, which the certificate must name
  std::string error;      // why the last handshake's verification failed, or ""
};

// SSL_CTX_set_cert_verify_callback: replaces OpenSSL's chain building. Accepts the peer
// when the chain it presented holds a CA certificate with the pinned SHA-256 and its own
// certificate verifies up to that CA alone (signatures, validity dates, the host).
int VerifyAgainstPin(X509_STORE_CTX* ctx, void* arg) {
  auto* pin = static_cast<PinCheck*>(arg);
  pin->error.clear();
  X509* leaf = X509_STORE_CTX_get0_cert(ctx);
  STACK_OF(X509)* presented = X509_STORE_CTX_get0_untrusted(ctx);
  X509* anchor = nullptr;
  std::string seen;
  for (int i = 0; presented != nullptr && i < sk_X509_num(presented); ++i) {
    X509* cert = sk_X509_value(presented, i);
    if (X509_check_ca(cert) < 1) continue;
    std::string hash = CertSha256(cert);
    seen += (seen.empty() ? "" : ", ") + std::string("sha256:") + hash;
    if (hash == pin->ca_sha256) anchor = cert;
  }
  if (anchor == nullptr || leaf == nullptr) {
    pin->error =
        "the server presented no CA certificate with the pinned hash sha256:" + pin->ca_sha256 +
        " (its CA certificates: " + (seen.empty() ? "none" : seen) +
        "); the join token is for another control plane, or the connection is " + "intercepted";
    X509_STORE_CTX_set_error(ctx, X509_V_ERR_CERT_UNTRUSTED);
    return 0;
  }
  X509_STORE* store = X509_STORE_new();
  X509_STORE_CTX* check = X509_STORE_CTX_new();
  int ok = 0;
  if (store != nullptr && check != nullptr && X509_STORE_add_cert(store, anchor) == 1 &&
      X509_STORE_CTX_init(check, store, leaf, presented) == 1) {
    X509_VERIFY_PARAM_set_purpose(X509_STORE_CTX_get0_param(check), X509_PURPOSE_SSL_SERVER);
    RequireHost(X509_STORE_CTX_get0_param(check), pin->host);
    ok = X509_verify_cert(check) == 1 ? 1 : 0;
    if (ok != 1) {
      int err = X509_STORE_CTX_get_error(check);
      pin->error = std::string("the certificate does not verify against the pinned CA: ") +
                   X509_verify_cert_error_string(err);
      X509_STORE_CTX_set_error(ctx, err);
    }
  } else {
    pin->error = "cannot set up the pinned verification";
  }
  X509_STORE_CTX_free(check);
  X509_STORE_free(store);
  return ok;
}

}  // namespace

struct TlsClientSetup::Pin : PinCheck {};

TlsClientSetup::~TlsClientSetup() = default;

Result<std::unique_ptr<TlsClientSetup>> TlsClientSetup::Create(const std::string& origin,
                                                               const std::string& host,
                                                               const HttpClientOptions& options) {
  std::unique_ptr<TlsClientSetup> t(new TlsClientSetup());
  t->host_ = host;
  t->options_ = options;
  t->pin_ = std::make_unique<Pin>();
  if (!t->options_.ca_sha256.empty()) {
    auto pin = ParseSha256Pin(t->options_.ca_sha256);
    if (!pin.ok()) return pin.status();
    t->options_.ca_sha256 = *pin;
  }
  try {
    t->ctx_ = std::make_unique<ssl::context>(ssl::context::tls_client);
    ssl::context& ctx = *t->ctx_;
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    if (t->options_.verify_tls && !t->options_.ca_sha256.empty()) {
      t->pin_->host = host;
      t->pin_->ca_sha256 = t->options_.ca_sha256;
      SSL_CTX_set_cert_verify_callback(ctx.native_handle(), VerifyAgainstPin,
                                     static_cast<PinCheck*>(t->pin_.get()));
      ctx.set_verify_mode(ssl::verify_peer);
    } else if (t->options_.verify_tls) {
      if (t->options_.ca_file.empty()) {
        ctx.set_default_verify_paths();
      } else {
        ctx.load_verify_file(t->options_.ca_file);
      }
      ctx.set_verify_mode(ssl::verify_peer);
    } else {
      ctx.set_verify_mode(ssl::verify_none);
    }
  } catch (const boost::system::system_error& e) {
    return InvalidArgument(
        "TLS setup for " + origin +
        (t->options_.ca_file.empty() ? std::string() : " (CA file '" + t->options_.ca_file + "')") +
        ": " + e.what());
  }
  return t;
}

Status TlsClientSetup::Prepare(SSL* ssl) {
  if (!SSL_set_tlsext_host_name(ssl, host_.c_str())) {
    return Internal("cannot set the TLS server name " + host_);
  }
  if (options_.verify_tls && options_.ca_sha256.empty()) RequireHost(SSL_get0_param(ssl), host_);
  pin_->error.clear();
  return OkStatus();
}

std::string TlsClientSetup::Failure(SSL* ssl) const {
  if (!options_.ca_sha256.empty() && !pin_->error.empty()) return pin_->error;
  long result = SSL_get_verify_result(ssl);
  if (result == X509_V_OK) return "";
  std::string why = X509_verify_cert_error_string(result);
  if (!options_.ca_sha256.empty()) return why;
  return why + (options_.ca_file.empty() ? " (verified against the system CA store; give the "
                                           "control plane's CA with --ca-cert)"
                                         : " (verified against " + options_.ca_file + ")");
}

}  // namespace fastgpu::net

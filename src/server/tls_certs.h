// TLS material for the control plane (docs/security.md).
//
// EnsureAutoTls makes, at first start, a self-signed CA (EC P-256, 10 years) and a
// server certificate it signs (EC P-256, 1 year, subjectAltNames for the names given)
// with the OpenSSL C API, and keeps them in a folder (the data dir):
//   ca.crt      the CA certificate (PEM); clients use it as --ca-cert
//   ca.key      its private key (PEM, mode 0600)
//   server.crt  the server certificate followed by ca.crt (the chain the server presents,
//               so that an agent can find the CA it pins)
//   server.key  the server certificate's private key (PEM, mode 0600)
// At a later start the CA is reused as it is, so its fingerprint (what join tokens pin)
// never changes; the server certificate is reused too unless it no longer matches its
// key or the CA, covers not every name asked for, or expires within 30 days, in which
// case a new one is issued by the same CA.
//
// InspectTlsFiles checks an operator's own certificate chain and key.
//
// Fingerprints are the SHA-256 of a certificate's DER encoding as 64 lower-case hex
// digits (`openssl x509 -noout -fingerprint -sha256` prints the same with colons).
// Functions touch only the files named; thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace fastgpu::server {

struct TlsFiles {
  std::string cert_file;       // PEM chain the server presents: its certificate first
  std::string key_file;        // PEM private key of that certificate
  std::string ca_file;         // PEM CA certificate clients can verify against; "" when unknown
  std::string ca_sha256;       // fingerprint of the CA certificate; "" when the chain has no CA
  bool created_ca = false;     // EnsureAutoTls made a new CA now
  bool issued_server = false;  // EnsureAutoTls issued a new server certificate now
};

// Ensures the four files above in `dir` (created, mode 0700, when missing), with a server
// certificate valid for every entry of `names` (host names or IP addresses). A ca.crt
// without its ca.key (or the reverse) is an error (FailedPrecondition): the CA is never
// replaced behind the operator's back.
Result<TlsFiles> EnsureAutoTls(const std::string& dir, const std::vector<std::string>& names);

// Loads `cert_file` (a PEM chain, server certificate first) and `key_file` and checks
// that the key is the certificate's. The CA fingerprint is that of the last certificate
// of the chain when it is a CA certificate (else ""); `ca_file` is then the chain file.
// InvalidArgument naming the file when either cannot be loaded or they do not match.
Result<TlsFiles> InspectTlsFiles(const std::string& cert_file, const std::string& key_file);

// The names a server certificate for listen address `host` should cover: `host` itself
// unless it is a wildcard (0.0.0.0, ::), then every address of this machine's
// interfaces; always this machine's host name, "localhost", "127.0.0.1" and "::1";
// then `extra`. Without duplicates, in that order.
std::vector<std::string> ServerCertificateNames(const std::string& host,
                                                const std::vector<std::string>& extra);

// The fingerprint of the first certificate in a PEM file; InvalidArgument when none.
Result<std::string> CertificateFileSha256(const std::string& pem_file);

// "ab:cd:..." -> "AB:CD:..." as openssl prints fingerprints (for banners).
std::string ColonFingerprint(const std::string& hex);

// True for addresses that only this machine can reach: 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(const std::string& host);

}  // namespace fastgpu::server

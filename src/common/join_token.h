// JoinToken: what `fastgpu agent --join-token` carries: the secret an agent registers
// with and, optionally, the SHA-256 of the control plane's CA certificate, so that the
// agent can trust the control plane's TLS certificate without a CA file (the way
// `kubeadm join --discovery-token-ca-cert-hash sha256:...` does).
//
// Text forms:
//   <secret>                      an unpinned token (every token before TLS support)
//   <secret>.sha256:<64 hex>      the same secret, pinning the CA certificate whose DER
//                                 encoding has that SHA-256 (`openssl x509 -noout
//                                 -fingerprint -sha256` prints it with colons)
// The secret is what the agent sends as its bearer token; the pin never leaves the agent.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace fastgpu {

struct JoinToken {
  std::string secret;     // never empty in a parsed token
  std::string ca_sha256;  // 64 lower-case hex digits, or "" when the token pins nothing
};

// Parses either form. InvalidArgument for an empty token, an empty secret, or a pin that
// is not "sha256:" and 64 hex digits (upper case is accepted and lowered; colons between
// byte pairs, as openssl prints them, are accepted too).
Result<JoinToken> ParseJoinToken(std::string_view text);

// "<secret>" or "<secret>.sha256:<hex>".
std::string FormatJoinToken(const JoinToken& token);

// "sha256:<hex>" or "AB:CD:..." or "<hex>" -> 64 lower-case hex digits; InvalidArgument
// when it is not a SHA-256 digest.
Result<std::string> ParseSha256Pin(std::string_view text);

}  // namespace fastgpu

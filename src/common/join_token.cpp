#include "common/join_token.h"

#include <cctype>

namespace fastgpu {

namespace {
constexpr std::string_view kPinMarker = ".sha256:";
}  // namespace

Result<std::string> ParseSha256Pin(std::string_view text) {
  std::string_view hex = text;
  if (hex.substr(0, 7) == "sha256:" || hex.substr(0, 7) == "SHA256:") hex.remove_prefix(7);
  std::string out;
  out.reserve(64);
  for (size_t i = 0; i < hex.size(); ++i) {
    char c = hex[i];
    // "AB:CD:..." as `openssl x509 -fingerprint` prints it: a colon after each byte.
    if (c == ':' && out.size() % 2 == 0 && !out.empty() && i + 1 < hex.size()) continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return InvalidArgument("CA hash: want sha256: and 64 hex digits, got '" + std::string(text) +
                             "'");
    }
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (out.size() != 64) {
    return InvalidArgument("CA hash: want 64 hex digits (a SHA-256), got " +
                           std::to_string(out.size()));
  }
  return out;
}

Result<JoinToken> ParseJoinToken(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  if (text.empty()) return InvalidArgument("join token is empty");
  JoinToken token;
  size_t at = text.find(kPinMarker);
  if (at == std::string_view::npos) {
    token.secret = std::string(text);
    return token;
  }
  if (at == 0) return InvalidArgument("join token has a CA hash but no secret");
  token.secret = std::string(text.substr(0, at));
  auto pin = ParseSha256Pin(text.substr(at + 1));
  // The message must not echo the token: it holds the secret.
  if (!pin.ok()) return InvalidArgument("join token: " + pin.status().message());
  token.ca_sha256 = *std::move(pin);
  return token;
}

std::string FormatJoinToken(const JoinToken& token) {
  if (token.ca_sha256.empty()) return token.secret;
  return token.secret + std::string(kPinMarker) + token.ca_sha256;
}

}  // namespace fastgpu

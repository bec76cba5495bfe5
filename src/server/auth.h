// Authentication of API callers by bearer token.
//
// Three kinds of caller: a tenant (API token; the admin tenant sees everything), the
// join token (may only register nodes) and a node (its own node token, only for its own
// heartbeat and logs). Secrets are never stored: tokens are looked up by their SHA-256.
// Tenant tokens are cached in memory after the first look-up; Forget() drops a revoked
// one, ForgetAll() every cached one. Thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "common/result.h"
#include "store/store.h"

namespace fastgpu::server {

// Lowercase hex SHA-256 of `data` (OpenSSL).
std::string Sha256Hex(std::string_view data);

struct Principal {
  enum class Kind { kTenant, kJoin };
  Kind kind = Kind::kTenant;
  std::string tenant_id;  // kTenant only
  bool admin = false;     // kTenant only
};

class Authenticator {
 public:
  // `join_token_sha256` is the hash of the current join token.
  Authenticator(store::Store& store, std::string join_token_sha256);

  // The caller behind an "Authorization: Bearer <token>" header value. Unauthenticated
  // for a missing, malformed, unknown or revoked token.
  Result<Principal> Authenticate(const std::string& authorization);
  // Drops cached entries of the token with this hash (call after revoking it).
  void Forget(const std::string& sha256_hex);
  // Drops every cached entry (call after revoking a token known only by id).
  void ForgetAll();

 private:
  store::Store& store_;
  const std::string join_token_sha256_;
  std::mutex mu_;
  std::unordered_map<std::string, Principal> cache_;  // token hash -> tenant principal
};

// The token inside "Bearer <token>", or "" when the header is not of that form.
std::string BearerToken(const std::string& authorization);

}  // namespace fastgpu::server

#include "server/auth.h"

#include <openssl/evp.h>

#include <cstdio>

#include "common/text.h"

namespace fastgpu::server {

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return HexLower(digest, len);
}

std::string BearerToken(const std::string& authorization) {
  constexpr std::string_view kPrefix = "Bearer ";
  if (authorization.size() <= kPrefix.size() ||
      authorization.compare(0, kPrefix.size(), kPrefix) != 0) {
    return "";
  }
  return authorization.substr(kPrefix.size());
}

Authenticator::Authenticator(store::Store& store, std::string join_token_sha256)
    : store_(store), join_token_sha256_(std::move(join_token_sha256)) {}

Result<Principal> Authenticator::Authenticate(const std::string& authorization) {
  std::string token = BearerToken(authorization);
  if (token.empty()) return Unauthenticated("missing bearer token (Authorization: Bearer <token>)");
  std::string hash = Sha256Hex(token);
  if (hash == join_token_sha256_) return Principal{Principal::Kind::kJoin, "", false};
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end()) return it->second;
  }
  Principal p;
  Status st = store_.Read([&](store::ReadTx& tx) -> Status {
    auto tok = tx.FindTokenByHash(hash);
    if (!tok.ok()) return tok.status();
    if (tok->revoked) return NotFound("revoked");
    FASTGPU_ASSIGN_OR_RETURN(model::Tenant tenant, tx.GetTenant(tok->tenant_id));
    p.tenant_id = tenant.id;
    p.admin = tenant.admin;
    return OkStatus();
  });
  if (st.code() == StatusCode::kNotFound) return Unauthenticated("invalid or revoked token");
  if (!st.ok()) return st;
  std::lock_guard lock(mu_);
  cache_[hash] = p;
  return p;
}

void Authenticator::Forget(const std::string& sha256_hex) {
  std::lock_guard lock(mu_);
  cache_.erase(sha256_hex);
}

}  // namespace fastgpu::server

namespace fastgpu::server {

void Authenticator::ForgetAll() {
  std::lock_guard lock(mu_);
  cache_.clear();
}

}  // namespace fastgpu::server

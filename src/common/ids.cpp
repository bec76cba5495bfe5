#include "common/ids.h"

#include <cstdio>
#include <random>

namespace fastgpu {
namespace {

std::string Format(std::string_view prefix, uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  std::string out(prefix);
  out += '-';
  out += buf;
  return out;
}

}  // namespace

std::string RandomIdGenerator::Next(std::string_view prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   (static_cast<uint64_t>(std::random_device{}()) << 32)};
  return Format(prefix, rng());
}

std::string SequentialIdGenerator::Next(std::string_view prefix) {
  return Format(prefix, next_.fetch_add(1));
}

Status ValidateId(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + 17 || id.substr(0, prefix.size()) != prefix ||
      id[prefix.size()] != '-') {
    return InvalidArgument("malformed " + std::string(prefix) + " id '" + std::string(id) + "'");
  }
  for (char c : id.substr(prefix.size() + 1)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return InvalidArgument("malformed " + std::string(prefix) + " id '" + std::string(id) +
                             "'");
    }
  }
  return OkStatus();
}

std::string RandomHex(size_t n_bytes) {
  std::random_device rd;
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(n_bytes * 2);
  for (size_t i = 0; i < n_bytes; ++i) {
    unsigned b = rd() & 0xff;
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

}  // namespace fastgpu

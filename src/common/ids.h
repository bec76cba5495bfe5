// Identifiers: "<prefix>-<16 hex digits>", e.g. "job-3f2a9c0d11e4b7a2".
//
// IdGenerator is an interface so tests and the simulator get repeatable ids.
// RandomIdGenerator draws from the OS entropy source and is thread-safe;
// SequentialIdGenerator ("job-0000000000000001", ...) is thread-safe too.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace fastgpu {

class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  // A new id with the given prefix ("job", "node", "tok", ...).
  virtual std::string Next(std::string_view prefix) = 0;
};

class RandomIdGenerator final : public IdGenerator {
 public:
  std::string Next(std::string_view prefix) override;
};

class SequentialIdGenerator final : public IdGenerator {
 public:
  std::string Next(std::string_view prefix) override;

 private:
  std::atomic<uint64_t> next_{1};
};

// OK when `id` looks like an id of this kind ("job-" + 16 lowercase hex digits).
Status ValidateId(std::string_view id, std::string_view prefix);

// `n` random bytes from the OS, hex-encoded (2n characters). Used for API tokens.
std::string RandomHex(size_t n_bytes);

}  // namespace fastgpu

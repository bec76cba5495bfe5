// Result<T>: either a value of type T or a non-OK Status.
//
// Usage:
//   Result<Shape> r = ParseShape(...);
//   if (!r.ok()) return r.status();
//   Use(*r);
// Accessing the value of a failed Result is a programmer error (asserts).
// Not thread-safe for concurrent mutation; a const Result may be shared.
#pragma once

#include <cassert>
#include <optional>
#include <utility>

#include "common/status.h"

namespace fastgpu {

template <typename T>
class [[nodiscard]] Result {
 public:
  // Implicit from a value (success) or from a non-OK Status (failure).
  Result(T value) : value_(std::move(value)) {}  // NOLINT(runtime/explicit)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(runtime/explicit)
    assert(!status_.ok() && "Result built from an OK status without a value");
    if (status_.ok()) status_ = Status(StatusCode::kInternal, "Result without value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T value_or(T fallback) const { return ok() ? *value_ : std::move(fallback); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace fastgpu

#define FASTGPU_CONCAT_INNER_(a, b) a##b
#define FASTGPU_CONCAT_(a, b) FASTGPU_CONCAT_INNER_(a, b)
// FASTGPU_ASSIGN_OR_RETURN(auto x, Foo()); returns Foo()'s status on failure.
#define FASTGPU_ASSIGN_OR_RETURN(lhs, expr) \
  FASTGPU_ASSIGN_OR_RETURN_IMPL_(FASTGPU_CONCAT_(fastgpu_result_, __LINE__), lhs, expr)
#define FASTGPU_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()

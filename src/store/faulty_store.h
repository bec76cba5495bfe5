// FaultyStore: a Store that forwards to another one and fails writes on demand, for
// tests of what the control plane does when its store cannot commit (a full disk).
//
// While a fault is set, every Write runs `fn` on the inner store as usual and then
// rolls it back, returning the fault's status (DiskFullError by default): what a
// SQLite commit that finds no space does. Reads are never failed. Counts the writes it
// failed.
//
// Owns the inner store. Thread-safe (as the inner store; the fault may be set and
// cleared from any thread while others write).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include "store/store.h"

namespace fastgpu::store {

class FaultyStore : public Store {
 public:
  explicit FaultyStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {}

  // Every Write from now on fails with `status` (not OK) until ClearFault().
  void FailWrites(Status status = DiskFullError("injected"));
  void ClearFault();
  // Writes failed by the fault so far.
  int64_t failed_writes() const { return failed_writes_.load(); }

  Status Write(std::function<Status(WriteTx&)> fn) override;
  Status Read(std::function<Status(ReadTx&)> fn) override { return inner_->Read(std::move(fn)); }
  std::string_view Kind() const override { return inner_->Kind(); }
  StoreStats Stats() const override { return inner_->Stats(); }

 private:
  std::unique_ptr<Store> inner_;
  mutable std::mutex mu_;
  Status fault_;  // guarded by mu_; OK: no fault
  std::atomic<int64_t> failed_writes_{0};
};

}  // namespace fastgpu::store

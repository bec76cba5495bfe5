#include "store/faulty_store.h"

namespace fastgpu::store {

void FaultyStore::FailWrites(Status status) {
  std::lock_guard lock(mu_);
  fault_ = std::move(status);
}

void FaultyStore::ClearFault() {
  std::lock_guard lock(mu_);
  fault_ = OkStatus();
}

Status FaultyStore::Write(std::function<Status(WriteTx&)> fn) {
  return inner_->Write([&](WriteTx& tx) -> Status {
    FASTGPU_RETURN_IF_ERROR(fn(tx));
    Status fault;
    {
      std::lock_guard lock(mu_);
      fault = fault_;
    }
    if (!fault.ok()) ++failed_writes_;
    return fault;  // not OK: the inner store rolls back what `fn` wrote
  });
}

}  // namespace fastgpu::store

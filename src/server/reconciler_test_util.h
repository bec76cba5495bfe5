// Helpers of the reconciler's tests (reconciler_test.cpp, reconciler_passes_test.cpp):
// job bodies, submissions and reads through the API, agent reports, one pass, and a store
// that lets a test write between a pass's steps.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/reconciler.h"
#include "server/server_test_util.h"
#include "store/store.h"

namespace fastgpu::server::testing {

inline std::string JobBody(int replicas, int retries,
                           const std::string& gpu = "\"gpu_count\":1,\"gpu_milli\":500") {
  return R"({"command":["sleep","1"],"shape":{)" + gpu +
         R"(,"cpu_milli":1000,"memory_mib":1024},)" + R"("replicas":)" + std::to_string(replicas) +
         R"(,"max_retries":)" + std::to_string(retries) + "}";
}

inline std::string Submit(TestControlPlane& cp, const std::string& body) {
  Reply r = cp.Do("POST", "/v1/jobs", cp.admin(), body);
  EXPECT_EQ(r.status, 201) << r.raw;
  return r.Str("id");
}

inline Reply GetJob(TestControlPlane& cp, const std::string& id) {
  return cp.Do("GET", "/v1/jobs/" + id, cp.admin());
}

inline json::array Reports(const std::vector<std::string>& allocs, const std::string& state,
                           int exit_code = 0) {
  json::array a;
  for (const auto& id : allocs) a.push_back(ReplicaReportJson(id, state, exit_code));
  return a;
}

// One pass of the reconciler, now; its stats (empty, with a test failure, when it fails).
inline PassStats Pass(TestControlPlane& cp) {
  Result<PassStats> stats = cp.server().reconciler().RunOnce();
  EXPECT_TRUE(stats.ok()) << stats.status();
  return stats.ok() ? *stats : PassStats();
}

// A store that runs a hook (once) before the first write after Arm(): what another writer
// (the API) does between a pass's placement and its write.
class InterleavingStore : public store::Store {
 public:
  explicit InterleavingStore(std::unique_ptr<store::Store> inner) : inner_(std::move(inner)) {}
  // Runs `hook` (once) before the next write; ArmRead: before the next read.
  void Arm(std::function<void(store::Store&)> hook) { Set(write_hook_, std::move(hook)); }
  void ArmRead(std::function<void(store::Store&)> hook) { Set(read_hook_, std::move(hook)); }
  Status Write(std::function<Status(store::WriteTx&)> fn) override {
    if (auto hook = Take(write_hook_)) hook(*inner_);
    return inner_->Write(std::move(fn));
  }
  Status Read(std::function<Status(store::ReadTx&)> fn) override {
    if (auto hook = Take(read_hook_)) hook(*inner_);
    return inner_->Read(std::move(fn));
  }
  std::string_view Kind() const override { return inner_->Kind(); }
  store::StoreStats Stats() const override { return inner_->Stats(); }

 private:
  using Hook = std::function<void(store::Store&)>;
  void Set(Hook& slot, Hook hook) {
    std::lock_guard lock(mu_);
    slot = std::move(hook);
  }
  Hook Take(Hook& slot) {
    std::lock_guard lock(mu_);
    return std::exchange(slot, nullptr);
  }
  std::unique_ptr<store::Store> inner_;
  std::mutex mu_;
  Hook write_hook_, read_hook_;  // guarded by mu_
};

}  // namespace fastgpu::server::testing

// Test fixtures of the store module: the conformance suite's parameter (one factory per
// implementation), the fixture (a store in a TempDir), and builders of valid records.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "common/testing/temp_dir.h"
#include "store/store.h"

namespace fastgpu::testing {

struct StoreFactory {
  std::string name;
  // Opens a store whose files (if any) live in `dir`, with a log cap per allocation.
  std::function<std::unique_ptr<store::Store>(const std::filesystem::path& dir,
                                              int64_t max_log_bytes)>
      open;
  // Why this implementation cannot run here ("" when it can); its tests then skip.
  std::function<std::string()> unavailable = [] { return std::string(); };
};

// Every implementation the conformance suite runs against: memory and SQLite in
// store_test; PostgreSQL alone in pg_store_test (built with FASTGPU_STORE_POSTGRES_ONLY,
// label "postgres"), whose databases live on one PostgresServer the binary starts.
std::vector<StoreFactory> AllStoreFactories();

// Record builders with deterministic, millisecond-aligned times.
TimePoint T(int64_t unix_ms);
model::Tenant MakeTenant(const std::string& id, const std::string& name);
store::ApiToken MakeToken(const std::string& id, const std::string& tenant_id,
                          const std::string& hash);
store::NodeRecord MakeNode(const std::string& id, const std::string& agent_id, int gpus);
model::Job MakeJob(const std::string& id, const std::string& tenant_id, int64_t created_ms = 1000);
store::AllocationRecord MakeAlloc(const std::string& id, const std::string& job_id,
                                  const std::string& node_id, int replica = 0);

// Fixture of the conformance suite: a store of the parameter's kind in a temp dir.
class StoreConformanceTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override;
  // Runs fn in a write transaction and returns its status.
  Status W(const std::function<Status(store::WriteTx&)>& fn) { return store_->Write(fn); }
  Status R(const std::function<Status(store::ReadTx&)>& fn) { return store_->Read(fn); }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

}  // namespace fastgpu::testing

// The conformance suite, part 5: services (create, read by id and by name, list, update,
// delete), every store the same.
#include <gtest/gtest.h>

#include "store/store_test_util.h"

namespace fastgpu::testing {
namespace {

model::Service MakeService(const std::string& id, const std::string& tenant_id,
                           const std::string& name, int64_t created_ms = 1000) {
  model::Service s;
  s.id = id;
  s.tenant_id = tenant_id;
  s.spec.name = name;
  s.spec.command = {"python", "serve.py", "--model", "llama"};
  s.spec.env = {{"MODEL", "llama"}};
  s.spec.shape.gpu_count = 1;
  s.spec.shape.gpu_milli = 500;
  s.spec.port = true;
  s.spec.readiness.http_path = "/healthz";
  s.spec.min_replicas = 0;
  s.spec.max_replicas = 8;
  s.spec.target_rps = 2.5;
  s.spec.idle_timeout_s = 120;
  s.replicas = 2;
  s.generation = 1;
  s.state = model::ServiceState::kPending;
  s.reason = "created";
  s.created_at = s.updated_at = T(created_ms);
  return s;
}

class ServicesTest : public StoreConformanceTest {
 protected:
  void SetUp() override {
    StoreConformanceTest::SetUp();
    ASSERT_TRUE(W([](store::WriteTx& tx) {
                  FASTGPU_RETURN_IF_ERROR(tx.CreateTenant(MakeTenant("tenant-1", "alpha")));
                  return tx.CreateTenant(MakeTenant("tenant-2", "bravo"));
                }).ok());
  }
  Result<model::Service> Get(const std::string& id) {
    Result<model::Service> out = Internal("not run");
    Status s = R([&](store::ReadTx& tx) -> Status {
      out = tx.GetService(id);
      return OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }
};

TEST_P(ServicesTest, CreateGetByIdAndName) {
  const model::Service svc = MakeService("svc-1", "tenant-1", "chat");
  ASSERT_TRUE(W([&](store::WriteTx& tx) { return tx.CreateService(svc); }).ok());
  auto got = Get("svc-1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, svc);
  Result<model::Service> by_name = Internal("not run");
  ASSERT_TRUE(R([&](store::ReadTx& tx) {
                by_name = tx.GetServiceByName("tenant-1", "chat");
                return OkStatus();
              }).ok());
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->id, "svc-1");
  // Names are per tenant.
  Status other = R([&](store::ReadTx& tx) { return tx.GetServiceByName("tenant-2", "chat").status(); });
  EXPECT_EQ(other.code(), StatusCode::kNotFound);
  EXPECT_EQ(Get("svc-9").status().code(), StatusCode::kNotFound);
}

TEST_P(ServicesTest, UniqueIdAndNamePerTenant) {
  ASSERT_TRUE(W([](store::WriteTx& tx) {
                return tx.CreateService(MakeService("svc-1", "tenant-1", "chat"));
              }).ok());
  EXPECT_EQ(W([](store::WriteTx& tx) {
              return tx.CreateService(MakeService("svc-2", "tenant-1", "chat"));
            }).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(W([](store::WriteTx& tx) {
              return tx.CreateService(MakeService("svc-1", "tenant-2", "other"));
            }).code(),
            StatusCode::kAlreadyExists);
  // Another tenant may use the name; an unknown tenant is NotFound.
  EXPECT_TRUE(W([](store::WriteTx& tx) {
                return tx.CreateService(MakeService("svc-3", "tenant-2", "chat"));
              }).ok());
  EXPECT_EQ(W([](store::WriteTx& tx) {
              return tx.CreateService(MakeService("svc-4", "tenant-9", "chat"));
            }).code(),
            StatusCode::kNotFound);
}

TEST_P(ServicesTest, ListInCreationOrderPerTenant) {
  ASSERT_TRUE(W([](store::WriteTx& tx) {
                FASTGPU_RETURN_IF_ERROR(tx.CreateService(MakeService("svc-b", "tenant-1", "b")));
                FASTGPU_RETURN_IF_ERROR(tx.CreateService(MakeService("svc-a", "tenant-2", "a")));
                return tx.CreateService(MakeService("svc-c", "tenant-1", "c"));
              }).ok());
  std::vector<model::Service> mine, all;
  ASSERT_TRUE(R([&](store::ReadTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(mine, tx.ListServices("tenant-1"));
                FASTGPU_ASSIGN_OR_RETURN(all, tx.ListServices(""));
                return OkStatus();
              }).ok());
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine[0].id, "svc-b");
  EXPECT_EQ(mine[1].id, "svc-c");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].id, "svc-a");
}

TEST_P(ServicesTest, UpdateKeepsIdentityAndDeleteRemoves) {
  const model::Service svc = MakeService("svc-1", "tenant-1", "chat");
  ASSERT_TRUE(W([&](store::WriteTx& tx) { return tx.CreateService(svc); }).ok());
  model::Service changed = svc;
  changed.spec.command = {"python", "serve2.py"};
  changed.spec.readiness = {};
  changed.spec.readiness.tcp = true;
  changed.replicas = 5;
  changed.generation = 2;
  changed.state = model::ServiceState::kBackoff;
  changed.reason = "crash loop: replica exited 1 within 2s; next start in 8s";
  changed.replica_jobs = {"job-1", "job-2"};
  changed.updated_at = T(5000);
  // Identity stays: tenant, name and creation time are not rewritten.
  model::Service attempt = changed;
  attempt.tenant_id = "tenant-2";
  attempt.spec.name = "renamed";
  attempt.created_at = T(9000);
  ASSERT_TRUE(W([&](store::WriteTx& tx) { return tx.UpdateService(attempt); }).ok());
  auto got = Get("svc-1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, changed);
  model::Service missing = changed;
  missing.id = "svc-9";
  EXPECT_EQ(W([&](store::WriteTx& tx) { return tx.UpdateService(missing); }).code(),
            StatusCode::kNotFound);
  // A failed write leaves the stored service as it was.
  EXPECT_FALSE(W([&](store::WriteTx& tx) -> Status {
                 model::Service s = changed;
                 s.replicas = 7;
                 FASTGPU_RETURN_IF_ERROR(tx.UpdateService(s));
                 return Internal("abort");
               }).ok());
  EXPECT_EQ(Get("svc-1")->replicas, 5);
  ASSERT_TRUE(W([](store::WriteTx& tx) { return tx.DeleteService("svc-1"); }).ok());
  EXPECT_EQ(Get("svc-1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(W([](store::WriteTx& tx) { return tx.DeleteService("svc-1"); }).code(),
            StatusCode::kNotFound);
  // The name is free again.
  EXPECT_TRUE(W([](store::WriteTx& tx) {
                return tx.CreateService(MakeService("svc-2", "tenant-1", "chat"));
              }).ok());
}

INSTANTIATE_TEST_SUITE_P(AllStores, ServicesTest, ::testing::ValuesIn(AllStoreFactories()),
                         [](const ::testing::TestParamInfo<StoreFactory>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace fastgpu::testing

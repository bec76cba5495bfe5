// The conformance suite, part 1: transactions, tenants, tokens, nodes and idempotency
// records. Runs against every Store implementation (see AllStoreFactories).
#include <gtest/gtest.h>

#include "store/store_test_util.h"

namespace fastgpu::testing {
namespace {

TEST_P(StoreConformanceTest, FailingWriteRollsBackEverything) {
  Status s = W([](store::WriteTx& tx) {
    FASTGPU_RETURN_IF_ERROR(tx.CreateTenant(MakeTenant("tenant-1", "alpha")));
    FASTGPU_RETURN_IF_ERROR(tx.SetJoinTokenHash("v"));
    return Aborted("changed my mind");
  });
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_EQ(s.message(), "changed my mind");
  EXPECT_EQ(R([](store::ReadTx& tx) { return tx.GetTenant("tenant-1").status(); }).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(R([](store::ReadTx& tx) { return tx.GetJoinTokenHash().status(); }).code(),
            StatusCode::kNotFound);
  // The name is free again.
  EXPECT_TRUE(
      W([](store::WriteTx& tx) { return tx.CreateTenant(MakeTenant("tenant-2", "alpha")); }).ok());
}

TEST_P(StoreConformanceTest, WriteSeesItsOwnWritesAndExceptionsBecomeInternal) {
  ASSERT_TRUE(W([](store::WriteTx& tx) {
                FASTGPU_RETURN_IF_ERROR(tx.SetJoinTokenHash("v1"));
                FASTGPU_ASSIGN_OR_RETURN(std::string v, tx.GetJoinTokenHash());
                return v == "v1" ? OkStatus() : Internal("not read back");
              }).ok());
  Status s = W([](store::WriteTx& tx) -> Status {
    (void)tx.SetJoinTokenHash("v2");
    throw std::runtime_error("boom");
  });
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  std::string v;
  ASSERT_TRUE(R([&](store::ReadTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(v, tx.GetJoinTokenHash());
                return OkStatus();
              }).ok());
  EXPECT_EQ(v, "v1");
}

TEST_P(StoreConformanceTest, Tenants) {
  ASSERT_TRUE(W([](store::WriteTx& tx) {
                FASTGPU_RETURN_IF_ERROR(tx.CreateTenant(MakeTenant("tenant-b", "bravo")));
                model::Tenant admin = MakeTenant("tenant-a", "alpha");
                admin.admin = true;
                return tx.CreateTenant(admin);
              }).ok());
  EXPECT_EQ(
      W([](store::WriteTx& tx) { return tx.CreateTenant(MakeTenant("tenant-c", "bravo")); }).code(),
      StatusCode::kAlreadyExists);
  EXPECT_EQ(
      W([](store::WriteTx& tx) { return tx.CreateTenant(MakeTenant("tenant-b", "other")); }).code(),
      StatusCode::kAlreadyExists);
  EXPECT_TRUE(W([](store::WriteTx& tx) {
                return tx.UpdateTenantQuota("tenant-b", model::Quota{8000, 5});
              }).ok());
  EXPECT_EQ(
      W([](store::WriteTx& tx) { return tx.UpdateTenantQuota("tenant-x", model::Quota{}); }).code(),
      StatusCode::kNotFound);
  ASSERT_TRUE(R([](store::ReadTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(model::Tenant b, tx.GetTenant("tenant-b"));
                EXPECT_EQ(b.name, "bravo");
                EXPECT_EQ(b.quota.max_gpu_milli, 8000);
                EXPECT_EQ(b.quota.budget_cents, 5);
                EXPECT_EQ(b.created_at, T(1000));
                EXPECT_FALSE(b.admin);
                FASTGPU_ASSIGN_OR_RETURN(model::Tenant a, tx.GetTenantByName("alpha"));
                EXPECT_EQ(a.id, "tenant-a");
                EXPECT_TRUE(a.admin);
                EXPECT_EQ(tx.GetTenant("nope").status().code(), StatusCode::kNotFound);
                EXPECT_EQ(tx.GetTenantByName("nope").status().code(), StatusCode::kNotFound);
                FASTGPU_ASSIGN_OR_RETURN(auto all, tx.ListTenants());
                EXPECT_EQ(all.size(), 2u);
                if (all.size() == 2) {
                  EXPECT_EQ(all[0].name, "alpha");
                  EXPECT_EQ(all[1].name, "bravo");
                }
                return OkStatus();
              }).ok());
}

TEST_P(StoreConformanceTest, TenantAllowRoot) {
  ASSERT_TRUE(W([](store::WriteTx& tx) {
                FASTGPU_RETURN_IF_ERROR(tx.CreateTenant(MakeTenant("tenant-b", "bravo")));
                model::Tenant root = MakeTenant("tenant-r", "rooted");
                root.allow_root = true;
                return tx.CreateTenant(root);
              }).ok());
  auto allowed = [&](const std::string& id) {
    bool out = false;
    EXPECT_TRUE(R([&](store::ReadTx& tx) -> Status {
                  FASTGPU_ASSIGN_OR_RETURN(model::Tenant t, tx.GetTenant(id));
                  out = t.allow_root;
                  return OkStatus();
                }).ok());
    return out;
  };
  EXPECT_FALSE(allowed("tenant-b"));  // the default
  EXPECT_TRUE(allowed("tenant-r"));
  EXPECT_TRUE(W([](store::WriteTx& tx) { return tx.SetTenantAllowRoot("tenant-b", true); }).ok());
  EXPECT_TRUE(W([](store::WriteTx& tx) { return tx.SetTenantAllowRoot("tenant-r", false); }).ok());
  EXPECT_TRUE(allowed("tenant-b"));
  EXPECT_FALSE(allowed("tenant-r"));
  EXPECT_EQ(W([](store::WriteTx& tx) { return tx.SetTenantAllowRoot("tenant-x", true); }).code(),
            StatusCode::kNotFound);
}

TEST_P(StoreConformanceTest, Tokens) {
  const std::string h1(64, '1'), h2(64, '2');
  ASSERT_TRUE(W([&](store::WriteTx& tx) {
                FASTGPU_RETURN_IF_ERROR(tx.CreateTenant(MakeTenant("tenant-1", "alpha")));
                FASTGPU_RETURN_IF_ERROR(tx.CreateToken(MakeToken("tok-2", "tenant-1", h2)));
                return tx.CreateToken(MakeToken("tok-1", "tenant-1", h1));
              }).ok());
  EXPECT_EQ(W([&](store::WriteTx& tx) {
              return tx.CreateToken(MakeToken("tok-3", "tenant-1", h1));
            }).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(W([&](store::WriteTx& tx) {
              return tx.CreateToken(MakeToken("tok-1", "tenant-1", std::string(64, '3')));
            }).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(W([&](store::WriteTx& tx) {
              return tx.CreateToken(MakeToken("tok-4", "tenant-x", std::string(64, '4')));
            }).code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(W([](store::WriteTx& tx) { return tx.RevokeToken("tok-2"); }).ok());
  EXPECT_TRUE(W([](store::WriteTx& tx) { return tx.RevokeToken("tok-2"); }).ok());
  EXPECT_EQ(W([](store::WriteTx& tx) { return tx.RevokeToken("tok-x"); }).code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(R([&](store::ReadTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(store::ApiToken t1, tx.FindTokenByHash(h1));
                EXPECT_EQ(t1, MakeToken("tok-1", "tenant-1", h1));
                FASTGPU_ASSIGN_OR_RETURN(store::ApiToken t2, tx.FindTokenByHash(h2));
                EXPECT_TRUE(t2.revoked);
                EXPECT_EQ(tx.FindTokenByHash(std::string(64, '9')).status().code(),
                          StatusCode::kNotFound);
                FASTGPU_ASSIGN_OR_RETURN(auto list, tx.ListTokens("tenant-1"));
                EXPECT_EQ(list.size(), 2u);
                if (list.size() == 2) {
                  EXPECT_EQ(list[0].id, "tok-2");  // creation order
                  EXPECT_EQ(list[1].id, "tok-1");
                }
                FASTGPU_ASSIGN_OR_RETURN(auto none, tx.ListTokens("tenant-x"));
                EXPECT_TRUE(none.empty());
                return OkStatus();
              }).ok());
}

void ExpectSameNode(const store::NodeRecord& a, const store::NodeRecord& b) {
  EXPECT_EQ(a.node.id, b.node.id);
  EXPECT_EQ(a.node.name, b.node.name);
  EXPECT_EQ(a.node.cpu_milli, b.node.cpu_milli);
  EXPECT_EQ(a.node.memory_mib, b.node.memory_mib);
  EXPECT_EQ(a.node.simulated, b.node.simulated);
  ASSERT_EQ(a.node.gpus.size(), b.node.gpus.size());
  for (size_t i = 0; i < a.node.gpus.size(); ++i) {
    const model::Gpu &x = a.node.gpus[i], &y = b.node.gpus[i];
    EXPECT_EQ(x.index, y.index);
    EXPECT_EQ(x.uuid, y.uuid);
    EXPECT_EQ(x.model, y.model);
    EXPECT_EQ(x.memory_mib, y.memory_mib);
    EXPECT_EQ(x.healthy, y.healthy);
    EXPECT_EQ(x.health_reason, y.health_reason);
    EXPECT_EQ(x.mig_enabled, y.mig_enabled);
    EXPECT_EQ(x.simulated, y.simulated);
  }
  EXPECT_EQ(a.agent_id, b.agent_id);
  EXPECT_EQ(a.token_sha256_hex, b.token_sha256_hex);
  EXPECT_EQ(a.secret_sha256_hex, b.secret_sha256_hex);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.last_heartbeat, b.last_heartbeat);
  EXPECT_EQ(a.registered_at, b.registered_at);
}

TEST_P(StoreConformanceTest, NodesUpsertHeartbeatState) {
  store::NodeRecord n1 = MakeNode("node-1", "agent-1", 2);
  n1.node.gpus[1].mig_enabled = true;
  store::NodeRecord n2 = MakeNode("node-2", "agent-2", 0);
  ASSERT_TRUE(W([&](store::WriteTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(store::UpsertNodeResult r1, tx.UpsertNode(n1));
                EXPECT_EQ(r1.node_id, "node-1");
                EXPECT_FALSE(r1.existed);
                FASTGPU_ASSIGN_OR_RETURN(store::UpsertNodeResult r2, tx.UpsertNode(n2));
                EXPECT_FALSE(r2.existed);
                return OkStatus();
              }).ok());
  // The same agent again, with a new id proposed and more memory: keeps node-1.
  store::NodeRecord again = MakeNode("node-9", "agent-1", 2);
  again.node.memory_mib = 1024;
  again.token_sha256_hex = std::string(64, 'c');  // a new session token, the same secret
  again.registered_at = T(9000);
  again.state = store::NodeState::kDraining;
  ASSERT_TRUE(W([&](store::WriteTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(store::UpsertNodeResult r, tx.UpsertNode(again));
                EXPECT_EQ(r.node_id, "node-1");
                EXPECT_TRUE(r.existed);
                return OkStatus();
              }).ok());
  // A new agent claiming a taken node id.
  EXPECT_EQ(W([](store::WriteTx& tx) {
              return tx.UpsertNode(MakeNode("node-2", "agent-3", 1)).status();
            }).code(),
            StatusCode::kAlreadyExists);
  ASSERT_TRUE(
      W([](store::WriteTx& tx) {
        return tx.UpdateNodeHeartbeat("node-1", T(7000), {store::GpuHealth{1, false, "XID 79"}});
      }).ok());
  EXPECT_EQ(W([](store::WriteTx& tx) {
              return tx.UpdateNodeHeartbeat(
                  "node-1", T(8000),
                  {store::GpuHealth{0, true, ""}, store::GpuHealth{5, false, "?"}});
            }).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(W([](store::WriteTx& tx) { return tx.UpdateNodeHeartbeat("node-x", T(1), {}); }).code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(W([](store::WriteTx& tx) {
                return tx.SetNodeState("node-2", store::NodeState::kLost);
              }).ok());
  EXPECT_EQ(W([](store::WriteTx& tx) {
              return tx.SetNodeState("node-x", store::NodeState::kLost);
            }).code(),
            StatusCode::kNotFound);

  ASSERT_TRUE(R([&](store::ReadTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(store::NodeRecord got, tx.GetNode("node-1"));
                store::NodeRecord want = again;
                want.node.id = "node-1";
                want.registered_at = T(4000);
                want.last_heartbeat = T(7000);
                want.node.gpus[1].healthy = false;
                want.node.gpus[1].health_reason = "XID 79";
                ExpectSameNode(got, want);
                FASTGPU_ASSIGN_OR_RETURN(store::NodeRecord by_agent,
                                         tx.GetNodeByAgentId("agent-1"));
                EXPECT_EQ(by_agent.node.id, "node-1");
                EXPECT_EQ(tx.GetNode("node-x").status().code(), StatusCode::kNotFound);
                EXPECT_EQ(tx.GetNodeByAgentId("agent-x").status().code(), StatusCode::kNotFound);
                FASTGPU_ASSIGN_OR_RETURN(auto all, tx.ListNodes());
                EXPECT_EQ(all.size(), 2u);
                if (all.size() == 2) {
                  EXPECT_EQ(all[0].node.id, "node-1");
                  EXPECT_EQ(all[1].node.id, "node-2");
                  EXPECT_EQ(all[1].state, store::NodeState::kLost);
                  EXPECT_TRUE(all[1].node.gpus.empty());
                }
                return OkStatus();
              }).ok());
}

TEST_P(StoreConformanceTest, FindNodesByName) {
  store::NodeRecord a = MakeNode("node-1", "agent-1", 1);
  store::NodeRecord b = MakeNode("node-2", "agent-2", 1);
  store::NodeRecord c = MakeNode("node-3", "agent-3", 1);
  a.node.name = "gpu-host-1";
  b.node.name = "gpu-host-2";
  c.node.name = "gpu-host-1";  // names need not be unique
  ASSERT_TRUE(W([&](store::WriteTx& tx) -> Status {
                for (const auto* n : {&a, &b, &c}) {
                  FASTGPU_RETURN_IF_ERROR(tx.UpsertNode(*n).status());
                }
                return OkStatus();
              }).ok());
  ASSERT_TRUE(R([&](store::ReadTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(auto two, tx.FindNodesByName("gpu-host-1"));
                EXPECT_EQ(two.size(), 2u);
                if (two.size() == 2) {
                  EXPECT_EQ(two[0].node.id, "node-1");  // registration order
                  EXPECT_EQ(two[1].node.id, "node-3");
                }
                FASTGPU_ASSIGN_OR_RETURN(auto one, tx.FindNodesByName("gpu-host-2"));
                EXPECT_EQ(one.size(), 1u);
                FASTGPU_ASSIGN_OR_RETURN(auto none, tx.FindNodesByName("gpu-host"));
                EXPECT_TRUE(none.empty());
                return OkStatus();
              }).ok());
}

TEST_P(StoreConformanceTest, RevokeNodeCredentialsClearsTokenAndSecretOnly) {
  store::NodeRecord n = MakeNode("node-1", "agent-1", 1);
  ASSERT_TRUE(W([&](store::WriteTx& tx) { return tx.UpsertNode(n).status(); }).ok());
  ASSERT_TRUE(W([](store::WriteTx& tx) { return tx.RevokeNodeCredentials("node-1"); }).ok());
  ASSERT_TRUE(
      W([](store::WriteTx& tx) { return tx.RevokeNodeCredentials("node-1"); }).ok());  // twice
  EXPECT_EQ(W([](store::WriteTx& tx) { return tx.RevokeNodeCredentials("node-x"); }).code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(R([&](store::ReadTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(store::NodeRecord got, tx.GetNodeByAgentId("agent-1"));
                store::NodeRecord want = n;
                want.token_sha256_hex.clear();
                want.secret_sha256_hex.clear();
                ExpectSameNode(got, want);
                return OkStatus();
              }).ok());
  // A later registration of the agent stores fresh hashes under the same node id.
  store::NodeRecord again = MakeNode("node-9", "agent-1", 1);
  again.token_sha256_hex = std::string(64, 'd');
  again.secret_sha256_hex = std::string(64, 'e');
  ASSERT_TRUE(W([&](store::WriteTx& tx) { return tx.UpsertNode(again).status(); }).ok());
  ASSERT_TRUE(R([&](store::ReadTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(store::NodeRecord got, tx.GetNode("node-1"));
                EXPECT_EQ(got.token_sha256_hex, again.token_sha256_hex);
                EXPECT_EQ(got.secret_sha256_hex, again.secret_sha256_hex);
                return OkStatus();
              }).ok());
}

TEST_P(StoreConformanceTest, IdempotencyRecords) {
  store::IdempotencyRecord rec{
      "tenant-1", "req-1", "POST /v1/tenants", std::string(64, 'f'), 201, "{\"id\":\"tenant-2\"}",
      T(1000)};
  ASSERT_TRUE(W([&](store::WriteTx& tx) { return tx.PutIdempotency(rec); }).ok());
  store::IdempotencyRecord other = rec;
  other.http_status = 500;
  EXPECT_EQ(W([&](store::WriteTx& tx) { return tx.PutIdempotency(other); }).code(),
            StatusCode::kAlreadyExists);
  store::IdempotencyRecord newer = rec;
  newer.tenant_id = "tenant-2";  // same key, another tenant: a different record
  newer.created_at = T(5000);
  ASSERT_TRUE(W([&](store::WriteTx& tx) { return tx.PutIdempotency(newer); }).ok());
  ASSERT_TRUE(R([&](store::ReadTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(store::IdempotencyRecord got,
                                         tx.GetIdempotency("tenant-1", "req-1"));
                EXPECT_EQ(got, rec);
                EXPECT_EQ(tx.GetIdempotency("tenant-1", "req-2").status().code(),
                          StatusCode::kNotFound);
                return OkStatus();
              }).ok());
  int64_t deleted = -1;
  ASSERT_TRUE(W([&](store::WriteTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(deleted, tx.DeleteIdempotencyBefore(T(3000)));
                return OkStatus();
              }).ok());
  EXPECT_EQ(deleted, 1);
  ASSERT_TRUE(R([&](store::ReadTx& tx) -> Status {
                EXPECT_EQ(tx.GetIdempotency("tenant-1", "req-1").status().code(),
                          StatusCode::kNotFound);
                return tx.GetIdempotency("tenant-2", "req-1").status();
              }).ok());
}

TEST_P(StoreConformanceTest, NestedWriteIsRefusedNotDeadlocked) {
  Status inner;
  ASSERT_TRUE(W([&](store::WriteTx& tx) {
                inner = store_->Write([](store::WriteTx&) { return OkStatus(); });
                return tx.SetJoinTokenHash("outer");
              }).ok());
  EXPECT_EQ(inner.code(), StatusCode::kFailedPrecondition);
}

TEST_P(StoreConformanceTest, StatsCountWrites) {
  const store::StoreStats before = store_->Stats();
  ASSERT_TRUE(W([](store::WriteTx& tx) { return tx.SetJoinTokenHash("a"); }).ok());
  ASSERT_FALSE(W([](store::WriteTx&) { return Aborted("no"); }).ok());
  const store::StoreStats after = store_->Stats();
  EXPECT_EQ(after.writes_ok, before.writes_ok + 1);
  EXPECT_EQ(after.writes_failed, before.writes_failed + 1);
  EXPECT_GE(after.commits, before.commits + 1);
  EXPECT_GE(after.max_batch, 1);
}

TEST_P(StoreConformanceTest, KindIsNamed) { EXPECT_EQ(store_->Kind(), GetParam().name); }

INSTANTIATE_TEST_SUITE_P(AllStores, StoreConformanceTest, ::testing::ValuesIn(AllStoreFactories()),
                         [](const ::testing::TestParamInfo<StoreFactory>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace fastgpu::testing

// Faults of authentication over loopback HTTP: a node taken over with the join token,
// and an Idempotency-Key reused for another job.
#include <gtest/gtest.h>

#include "server/server_test_util.h"

namespace fastgpu::server::testing {
namespace {

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-real-agent";

std::string RegisterBody(const std::string& agent_id, const std::string& secret) {
  json::object body{{"name", agent_id},
                    {"agent_id", agent_id},
                    {"cpu_milli", 64000},
                    {"memory_mib", 524288},
                    {"simulated", true},
                    {"gpus", json::array{json::object{{"index", 0},
                                                      {"uuid", "SIM-" + agent_id + "-0"},
                                                      {"model", "H100-80GB"},
                                                      {"memory_mib", 81559},
                                                      {"simulated", true}}}}};
  if (!secret.empty()) body["node_secret"] = secret;
  return json::serialize(body);
}

Reply Register(TestControlPlane& cp, const std::string& agent_id, const std::string& secret) {
  return cp.Do("POST", "/v1/nodes/register", cp.server().join_token(),
               RegisterBody(agent_id, secret));
}

Reply Beat(TestControlPlane& cp, const std::string& node_id, const std::string& token,
           const json::array& replicas = {}) {
  json::object body{{"gpus", json::array()}, {"replicas", replicas}};
  return cp.Do("POST", "/v1/nodes/" + node_id + "/heartbeat", token, json::serialize(body));
}

constexpr char kJob[] =
    R"({"name":"train","command":["python","train.py"],"env":{"API_KEY":"tenant-secret"},)"
    R"("shape":{"gpu_count":1,"cpu_milli":1000,"memory_mib":1024}})";

TEST(NodeCredentialFaultTest, JoinTokenAloneCannotTakeOverARegisteredNode) {
  TestControlPlane cp;
  Reply real = Register(cp, "a1", "");  // the control plane makes the node's secret
  ASSERT_EQ(real.status, 200) << real.raw;
  const std::string node_id = real.Str("node_id"), token = real.Str("node_token");
  std::string alice = cp.NewTenantToken("alice");
  Reply job = cp.Do("POST", "/v1/jobs", alice, kJob);
  ASSERT_EQ(job.status, 201) << job.raw;
  cp.Reconcile();
  Reply hb = Beat(cp, node_id, token);
  ASSERT_EQ(hb.status, 200) << hb.raw;
  ASSERT_EQ(hb.body.at("allocations").as_array().size(), 1u);
  const std::string alloc(hb.body.at("allocations").as_array()[0].at("allocation_id").as_string());

  // The impostor knows the join token and the agent id, but not the node's secret.
  for (const std::string& guess : {std::string(), std::string(kSecret)}) {
    SCOPED_TRACE("secret '" + guess + "'");
    Reply impostor = Register(cp, "a1", guess);
    EXPECT_EQ(impostor.status, 409) << impostor.raw;
    EXPECT_EQ(impostor.Str("node_token"), "");
    const std::string msg = impostor.Str("message");
    EXPECT_NE(msg.find(node_id), std::string::npos) << msg;
    EXPECT_NE(msg.find("node_secret"), std::string::npos) << msg;
    EXPECT_NE(msg.find("revoke"), std::string::npos) << msg;
  }
  // The real agent keeps its token and its allocation; nothing went to anyone else.
  hb = Beat(cp, node_id, token, {ReplicaReportJson(alloc, "running")});
  ASSERT_EQ(hb.status, 200) << hb.raw;
  ASSERT_EQ(hb.body.at("allocations").as_array().size(), 1u);
  EXPECT_EQ(hb.body.at("allocations").as_array()[0].at("allocation_id").as_string(), alloc);
  // The join token is no node token: no forged exit that way either.
  Reply forged =
      Beat(cp, node_id, cp.server().join_token(), {ReplicaReportJson(alloc, "exited", 0)});
  EXPECT_EQ(forged.status, 401) << forged.raw;
  cp.Reconcile();
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/" + job.Str("id"), alice).Str("state"), "running");
  Reply nodes = cp.Do("GET", "/v1/nodes", cp.admin());
  ASSERT_EQ(nodes.body.at("nodes").as_array().size(), 1u);
}

TEST(NodeCredentialFaultTest, TheNodesOwnSecretRegistersItAgain) {
  TestControlPlane cp;
  Reply first = Register(cp, "a1", kSecret);
  ASSERT_EQ(first.status, 200) << first.raw;
  EXPECT_EQ(first.Str("node_secret"), kSecret);
  Reply again = Register(cp, "a1", kSecret);  // e.g. after the agent's restart
  ASSERT_EQ(again.status, 200) << again.raw;
  EXPECT_EQ(again.Str("node_id"), first.Str("node_id"));
  EXPECT_EQ(again.Str("node_secret"), kSecret);
  EXPECT_NE(again.Str("node_token"), first.Str("node_token"));
  EXPECT_EQ(Beat(cp, again.Str("node_id"), again.Str("node_token")).status, 200);
  EXPECT_EQ(Beat(cp, first.Str("node_id"), first.Str("node_token")).status, 401);  // replaced
  // Without a secret of its own, a new node gets one from the control plane.
  Reply fresh = Register(cp, "a2", "");
  ASSERT_EQ(fresh.status, 200) << fresh.raw;
  const std::string made = fresh.Str("node_secret");
  EXPECT_GE(made.size(), 32u);
  EXPECT_EQ(Register(cp, "a2", made).status, 200);
  EXPECT_EQ(Register(cp, "a2", "").status, 409);
  // A secret too short to be one is refused.
  Reply weak = Register(cp, "a3", "short");
  EXPECT_EQ(weak.status, 400) << weak.raw;
  EXPECT_NE(weak.Str("message").find("node_secret"), std::string::npos) << weak.raw;
}

TEST(NodeCredentialFaultTest, AdminRevokesThenTheJoinTokenRegistersAfresh) {
  TestControlPlane cp;
  Reply first = Register(cp, "a1", kSecret);
  ASSERT_EQ(first.status, 200) << first.raw;
  const std::string node_id = first.Str("node_id"), token = first.Str("node_token");
  const std::string path = "/v1/nodes/" + node_id + "/revoke";
  std::string bob = cp.NewTenantToken("bob");
  EXPECT_EQ(cp.Do("POST", path, bob).status, 403);
  EXPECT_EQ(cp.Do("POST", path, cp.server().join_token()).status, 403);
  EXPECT_EQ(cp.Do("POST", path, token).status, 401);
  EXPECT_EQ(cp.Do("POST", path, "").status, 401);
  EXPECT_EQ(Beat(cp, node_id, token).status, 200);  // none of those revoked anything
  EXPECT_EQ(cp.Do("POST", "/v1/nodes/node-ffffffffffffffff/revoke", cp.admin()).status, 404);

  Reply revoked = cp.Do("POST", path, cp.admin());
  ASSERT_EQ(revoked.status, 200) << revoked.raw;
  EXPECT_EQ(revoked.Str("id"), node_id);
  Reply refused = Beat(cp, node_id, token);
  EXPECT_EQ(refused.status, 401) << refused.raw;
  EXPECT_NE(refused.Str("message").find("revoked"), std::string::npos) << refused.raw;
  EXPECT_EQ(cp.Do("POST", path, cp.admin()).status, 200);  // twice is fine

  // The join token alone now takes the agent id, under the same node id, with a new secret.
  Reply claimed = Register(cp, "a1", "");
  ASSERT_EQ(claimed.status, 200) << claimed.raw;
  EXPECT_EQ(claimed.Str("node_id"), node_id);
  const std::string secret = claimed.Str("node_secret");
  EXPECT_GE(secret.size(), 32u);
  EXPECT_NE(secret, kSecret);
  EXPECT_EQ(Beat(cp, node_id, claimed.Str("node_token")).status, 200);
  // The old secret is worth nothing now; the new one works.
  EXPECT_EQ(Register(cp, "a1", kSecret).status, 409);
  EXPECT_EQ(Register(cp, "a1", secret).status, 200);
}

TEST(IdempotencyFaultTest, AKeyReusedWithAnotherBodyIs422AndTheSameBodyReplays) {
  TestControlPlane cp;
  std::string alice = cp.NewTenantToken("alice");
  std::string bob = cp.NewTenantToken("bob");
  net::HttpHeaders key{{"Idempotency-Key", "submit-42"}};
  Reply first = cp.Do("POST", "/v1/jobs", alice, kJob, key);
  ASSERT_EQ(first.status, 201) << first.raw;
  Reply replay = cp.Do("POST", "/v1/jobs", alice, kJob, key);
  EXPECT_EQ(replay.status, 200) << replay.raw;
  EXPECT_EQ(replay.Str("id"), first.Str("id"));

  const std::string other = R"({"name":"other","command":["rm","-rf","/data"],)"
                            R"("shape":{"gpu_count":1,"cpu_milli":1000,"memory_mib":1024}})";
  Reply reused = cp.Do("POST", "/v1/jobs", alice, other, key);
  EXPECT_EQ(reused.status, 422) << reused.raw;
  EXPECT_NE(reused.Str("message").find("submit-42"), std::string::npos) << reused.raw;
  EXPECT_EQ(reused.Str("id"), "");
  // Nothing was created, and the original still replays.
  EXPECT_EQ(cp.Do("GET", "/v1/jobs", alice).body.at("jobs").as_array().size(), 1u);
  EXPECT_EQ(cp.Do("POST", "/v1/jobs", alice, kJob, key).Str("id"), first.Str("id"));

  // Another tenant's use of the same key is its own: never alice's job.
  Reply bobs = cp.Do("POST", "/v1/jobs", bob, other, key);
  ASSERT_EQ(bobs.status, 201) << bobs.raw;
  EXPECT_NE(bobs.Str("id"), first.Str("id"));
  EXPECT_EQ(bobs.raw.find("tenant-secret"), std::string::npos) << bobs.raw;
  Reply bobs_same =
      cp.Do("POST", "/v1/jobs", bob, kJob, net::HttpHeaders{{"Idempotency-Key", "b"}});
  ASSERT_EQ(bobs_same.status, 201);
  EXPECT_EQ(cp.Do("POST", "/v1/jobs", bob, kJob, key).status, 422);  // bob's key, bob's body
}

}  // namespace
}  // namespace fastgpu::server::testing

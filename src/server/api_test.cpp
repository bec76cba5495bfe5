// The REST API over loopback HTTP: auth on every endpoint, bad input, idempotency,
// tenants and tokens.
#include <gtest/gtest.h>

#include "common/url_text.h"
#include "server/server_test_util.h"

namespace fastgpu::server::testing {
namespace {

constexpr char kJob[] =
    R"({"name":"train","command":["python","train.py"],"env":{"K":"V"},)"
    R"("shape":{"gpu_count":1,"gpu_milli":500,"gpu_memory_mib":20480,"cpu_milli":2000,)"
    R"("memory_mib":8192,"isolation":"mps"},"replicas":2,"max_retries":1})";

int64_t CountJobs(TestControlPlane& cp) {
  Reply r = cp.Do("GET", "/v1/jobs", cp.admin());
  return static_cast<int64_t>(r.body.at("jobs").as_array().size());
}

TEST(ApiTest, HealthIndexAndMetricsNeedNoToken) {
  TestControlPlane cp;
  EXPECT_EQ(cp.Do("GET", "/healthz", "").status, 200);
  Reply index = cp.Do("GET", "/", "");
  EXPECT_EQ(index.status, 200);
  EXPECT_NE(index.raw.find("/v1"), std::string::npos);
  cp.Do("GET", "/v1/jobs", cp.admin());
  Reply m = cp.Do("GET", "/metrics", "");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.raw.find("fastgpu_jobs{state=\"pending\"} 0"), std::string::npos) << m.raw;
  EXPECT_NE(m.raw.find("fastgpu_api_requests_total{route=\"/v1/jobs\",method=\"GET\","
                       "status=\"200\"} 1"),
            std::string::npos)
      << m.raw;
  EXPECT_NE(m.raw.find("fastgpu_scheduling_latency_seconds_bucket"), std::string::npos);
}

TEST(ApiTest, RoutesListsTheTableItself) {
  TestControlPlane cp;
  Reply r = cp.Do("GET", "/v1/routes", cp.admin());
  ASSERT_EQ(r.status, 200);
  bool found = false;
  for (const auto& v : r.body.at("routes").as_array()) {
    const auto& o = v.as_object();
    if (o.at("path").as_string() == "/v1/routes") found = o.at("auth").as_string() == "tenant";
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(r.body.at("routes").as_array().size(), Api::Routes().size());
}

TEST(ApiTest, EveryEndpointRefusesNoTokenAndTheWrongCaller) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 4);
  std::string alice = cp.NewTenantToken("alice");
  std::string bob = cp.NewTenantToken("bob");
  Reply job = cp.Do("POST", "/v1/jobs", alice, kJob);
  ASSERT_EQ(job.status, 201) << job.raw;
  std::string id = job.Str("id");
  cp.Reconcile();
  Reply hb = agent.Heartbeat();
  ASSERT_EQ(agent.Allocations(hb).size(), 2u);
  std::string alloc = agent.Allocations(hb)[0];
  std::string tenant_id = cp.Do("GET", "/v1/jobs/" + id, alice).Str("tenant_id");

  struct Case {
    std::string method, path, body;
    int wrong_tenant_status;  // bob (a non-admin tenant) calling
  };
  const std::vector<Case> cases = {
      {"POST", "/v1/jobs", kJob, 201},  // bob may submit his own
      {"GET", "/v1/jobs", "", 200},     // ... and list his own (checked below)
      {"GET", "/v1/jobs/" + id, "", 404},
      {"POST", "/v1/jobs/" + id + "/cancel", "", 404},
      {"GET", "/v1/jobs/" + id + "/logs", "", 404},
      {"GET", "/v1/allocations/" + alloc, "", 404},
      {"GET", "/v1/allocations?job=" + id, "", 404},
      {"GET", "/v1/allocations", "", 403},
      {"GET", "/v1/nodes", "", 403},
      {"POST", "/v1/nodes/" + agent.node_id() + "/drain", "", 403},
      {"POST", "/v1/nodes/" + agent.node_id() + "/undrain", "", 403},
      {"POST", "/v1/tenants", R"({"name":"carol"})", 403},
      {"GET", "/v1/tenants", "", 403},
      {"GET", "/v1/tenants/" + tenant_id, "", 404},
      {"POST", "/v1/tenants/" + tenant_id + "/tokens", "{}", 403},
      {"GET", "/v1/tenants/" + tenant_id + "/tokens", "", 403},
      {"POST", "/v1/tokens/tok-0000000000000001/revoke", "", 403},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.path);
    Reply none = cp.Do(c.method, c.path, "", c.body);
    EXPECT_EQ(none.status, 401) << none.raw;
    EXPECT_EQ(none.Str("code"), "UNAUTHENTICATED");
    EXPECT_EQ(cp.Do(c.method, c.path, "not-a-token", c.body).status, 401);
    EXPECT_EQ(cp.Do(c.method, c.path, cp.server().join_token(), c.body).status, 403);
    EXPECT_EQ(cp.Do(c.method, c.path, agent.token(), c.body).status, 401);
    Reply wrong = cp.Do(c.method, c.path, bob, c.body);
    EXPECT_EQ(wrong.status, c.wrong_tenant_status) << wrong.raw;
  }
  // Bob's list holds only his job; alice's job is untouched.
  Reply bobs = cp.Do("GET", "/v1/jobs", bob);
  ASSERT_EQ(bobs.body.at("jobs").as_array().size(), 1u);
  EXPECT_NE(bobs.body.at("jobs").as_array()[0].at("id").as_string(), id);
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/" + id, alice).Str("state"), "scheduled");
  // The agent endpoints: no token, a tenant token, another node's token.
  SimAgent other(cp, "a2", 1);
  for (const std::string& path :
       {"/v1/nodes/" + agent.node_id() + "/heartbeat", "/v1/nodes/" + agent.node_id() + "/logs"}) {
    std::string body = path.ends_with("logs")
                           ? R"({"allocation_id":")" + alloc + R"(","offset":0,"data":"x"})"
                           : "{}";
    EXPECT_EQ(cp.Do("POST", path, "", body).status, 401) << path;
    EXPECT_EQ(cp.Do("POST", path, alice, body).status, 401) << path;
    EXPECT_EQ(cp.Do("POST", path, other.token(), body).status, 401) << path;
  }
  EXPECT_EQ(cp.Do("POST", "/v1/nodes/node-ffffffffffffffff/heartbeat", agent.token(), "{}").status,
            404);
  EXPECT_EQ(cp.Do("POST", "/v1/nodes/register", alice, "{}").status, 403);
  EXPECT_EQ(cp.Do("POST", "/v1/nodes/register", "", "{}").status, 401);
}

TEST(ApiTest, BadInputGets4xxNamingTheFieldAndWritesNothing) {
  TestControlPlane cp;
  struct Case {
    std::string body;
    std::string field;  // expected in the message
  };
  const std::vector<Case> cases = {
      {"{not json", "JSON"},
      {"[1,2]", "object"},
      {R"({"command":["x"],"shape":{"cpu_milli":1000},"bogus":1})", "bogus"},
      {R"({"command":"x","shape":{"cpu_milli":1000}})", "command"},
      {R"({"command":["x"],"shape":{"cpu_milli":"lots"}})", "shape.cpu_milli"},
      {R"({"command":["x"],"shape":{"cpu_milli":1000,"colour":"red"}})", "shape.colour"},
      {R"({"command":["x"],"shape":{"gpu_count":2,"gpu_milli":500}})", "shape"},
      {R"({"command":["x"],"shape":{"gpu_count":1,"gpu_milli":1500}})", "shape.gpu_milli"},
      {R"({"command":["x"],"shape":{"gpu_count":1,"isolation":"magic"}})", "isolation"},
      {R"({"command":["x"],"shape":{"gpu_count":1,"gpu_models":["NoSuchGPU"]}})", "model"},
      {R"({"command":["x"],"shape":{}})", "empty request"},
      {R"({"command":[],"shape":{"cpu_milli":1}})", "command"},
      {R"({"command":["x"],"shape":{"cpu_milli":1},"replicas":0})", "replicas"},
      {R"({"command":["x"],"shape":{"cpu_milli":1},"max_retries":1.5})", "max_retries"},
      {R"({"command":["x"],"env":{"A":1},"shape":{"cpu_milli":1}})", "env.A"},
      {R"({"command":["x"]})", "shape"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    Reply r = cp.Do("POST", "/v1/jobs", cp.admin(), c.body);
    EXPECT_EQ(r.status, 400) << r.raw;
    EXPECT_EQ(r.Str("code"), "INVALID_ARGUMENT");
    EXPECT_NE(r.Str("message").find(c.field), std::string::npos) << r.raw;
  }
  // An oversized body is refused before it is read to the end.
  std::string big = R"({"command":["x"],"name":")" + std::string(2 << 20, 'a') + R"("})";
  Reply r = cp.Do("POST", "/v1/jobs", cp.admin(), big);
  EXPECT_EQ(r.status, 413) << r.raw;
  EXPECT_EQ(CountJobs(cp), 0);
  // Other resources validate too.
  Reply t = cp.Do("POST", "/v1/tenants", cp.admin(), R"({"name":"Not Valid"})");
  EXPECT_EQ(t.status, 400);
  EXPECT_NE(t.Str("message").find("name"), std::string::npos) << t.raw;
  Reply reg =
      cp.Do("POST", "/v1/nodes/register", cp.server().join_token(),
            R"({"name":"n","agent_id":"a","cpu_milli":1,"memory_mib":1,"gpus":[{"index":0}]})");
  EXPECT_EQ(reg.status, 400);
  EXPECT_NE(reg.Str("message").find("gpus[0].uuid"), std::string::npos) << reg.raw;
  EXPECT_EQ(cp.Do("GET", "/v1/jobs?limit=0", cp.admin()).status, 400);
  EXPECT_EQ(cp.Do("GET", "/v1/jobs?state=weird", cp.admin()).status, 400);
  EXPECT_EQ(cp.Do("DELETE", "/v1/jobs", cp.admin()).status, 405);
  EXPECT_EQ(cp.Do("GET", "/v1/nothing", cp.admin()).status, 404);
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/job-0000000000000099", cp.admin()).status, 404);
}

TEST(ApiTest, IdempotencyKeyMakesRetriesSafe) {
  TestControlPlane cp;
  net::HttpHeaders key{{"Idempotency-Key", "submit-1"}};
  Reply first = cp.Do("POST", "/v1/jobs", cp.admin(), kJob, key);
  Reply again = cp.Do("POST", "/v1/jobs", cp.admin(), kJob, key);
  EXPECT_EQ(first.status, 201);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(first.Str("id"), again.Str("id"));
  EXPECT_EQ(CountJobs(cp), 1);
  // Another tenant's identical key is its own.
  std::string alice = cp.NewTenantToken("alice");
  EXPECT_EQ(cp.Do("POST", "/v1/jobs", alice, kJob, key).status, 201);
  EXPECT_EQ(CountJobs(cp), 2);

  net::HttpHeaders tkey{{"Idempotency-Key", "tenant-1"}};
  Reply t1 = cp.Do("POST", "/v1/tenants", cp.admin(), R"({"name":"bob"})", tkey);
  Reply t2 = cp.Do("POST", "/v1/tenants", cp.admin(), R"({"name":"bob"})", tkey);
  EXPECT_EQ(t1.status, 201);
  EXPECT_EQ(t2.status, 201);
  EXPECT_EQ(t1.raw, t2.raw);
  Reply reused = cp.Do("POST", "/v1/tenants", cp.admin(), R"({"name":"other"})", tkey);
  EXPECT_EQ(reused.status, 422) << reused.raw;
  // Without a key the name is simply taken.
  EXPECT_EQ(cp.Do("POST", "/v1/tenants", cp.admin(), R"({"name":"bob"})").status, 409);

  net::HttpHeaders ckey{{"Idempotency-Key", "cancel-1"}};
  std::string path = "/v1/jobs/" + first.Str("id") + "/cancel";
  EXPECT_EQ(cp.Do("POST", path, cp.admin(), "", ckey).status, 200);
  EXPECT_EQ(cp.Do("POST", path, cp.admin(), "", ckey).status, 200);
  EXPECT_EQ(cp.Do("POST", path, cp.admin(), "").status, 409);  // already cancelled
}

TEST(ApiTest, RunAsRootOnlyForATenantTheAdminAllows) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 4);
  std::string alice = cp.NewTenantToken("alice");
  const std::string root_job =
      R"({"command":["id","-u"],"shape":{"gpu_count":1},"run_as_root":true})";
  Reply refused = cp.Do("POST", "/v1/jobs", alice, root_job);
  EXPECT_EQ(refused.status, 403) << refused.raw;
  EXPECT_EQ(refused.Str("code"), "PERMISSION_DENIED");
  EXPECT_NE(refused.Str("message").find("may not run jobs as root"), std::string::npos);
  Reply bad = cp.Do("POST", "/v1/jobs", alice,
                    R"({"command":["true"],"shape":{"gpu_count":1},"run_as_root":"yes"})");
  EXPECT_EQ(bad.status, 400) << bad.raw;
  // The setting is the admin's alone.
  EXPECT_EQ(cp.Do("PUT", "/v1/tenants/alice/settings", alice, R"({"allow_root":true})").status,
            403);
  Reply allowed = cp.Do("PUT", "/v1/tenants/alice/settings", cp.admin(), R"({"allow_root":true})");
  ASSERT_EQ(allowed.status, 200) << allowed.raw;
  EXPECT_TRUE(allowed.body.at("allow_root").as_bool());
  EXPECT_TRUE(cp.Do("GET", "/v1/tenants/alice", alice).body.at("allow_root").as_bool());
  Reply job = cp.Do("POST", "/v1/jobs", alice, root_job);
  ASSERT_EQ(job.status, 201) << job.raw;
  EXPECT_TRUE(job.body.at("run_as_root").as_bool());
  // The agent is told (and only for that job).
  ASSERT_EQ(cp.Do("POST", "/v1/jobs", alice, kJob).status, 201);
  cp.Reconcile();
  Reply hb = agent.Heartbeat();
  int rooted = 0, plain = 0;
  for (const auto& a : hb.body.at("allocations").as_array()) {
    const json::value* root = a.as_object().if_contains("run_as_root");
    (root != nullptr && root->as_bool() ? rooted : plain)++;
  }
  EXPECT_EQ(rooted, 1);
  EXPECT_EQ(plain, 2);  // kJob has two replicas
  // Taken back: refused again.
  ASSERT_EQ(
      cp.Do("PUT", "/v1/tenants/alice/settings", cp.admin(), R"({"allow_root":false})").status,
      200);
  EXPECT_EQ(cp.Do("POST", "/v1/jobs", alice, root_job).status, 403);
}

TEST(ApiTest, TenantsAndTokens) {
  TestControlPlane cp;
  Reply t = cp.Do("POST", "/v1/tenants", cp.admin(), R"({"name":"alice","max_gpu_milli":4000})");
  ASSERT_EQ(t.status, 201) << t.raw;
  Reply list = cp.Do("GET", "/v1/tenants", cp.admin());
  ASSERT_EQ(list.body.at("tenants").as_array().size(), 2u);  // admin + alice
  net::HttpHeaders key{{"Idempotency-Key", "tok-1"}};
  Reply tok = cp.Do("POST", "/v1/tenants/alice/tokens", cp.admin(), R"({"name":"ci"})", key);
  ASSERT_EQ(tok.status, 201) << tok.raw;
  std::string secret = tok.Str("token");
  EXPECT_EQ(secret.size(), 64u);
  // A replay does not show the secret again (it is not stored).
  Reply replay = cp.Do("POST", "/v1/tenants/alice/tokens", cp.admin(), R"({"name":"ci"})", key);
  EXPECT_EQ(replay.Str("id"), tok.Str("id"));
  EXPECT_EQ(replay.Str("token"), "");
  EXPECT_EQ(cp.Do("GET", "/v1/tenants/" + t.Str("id"), secret).Str("name"), "alice");
  EXPECT_EQ(cp.Do("GET", "/v1/jobs", secret).status, 200);
  Reply toks = cp.Do("GET", "/v1/tenants/alice/tokens", cp.admin());
  ASSERT_EQ(toks.body.at("tokens").as_array().size(), 1u);
  EXPECT_EQ(toks.raw.find(secret), std::string::npos);  // never shown again
  EXPECT_EQ(cp.Do("POST", "/v1/tokens/" + tok.Str("id") + "/revoke", cp.admin()).status, 200);
  EXPECT_EQ(cp.Do("GET", "/v1/jobs", secret).status, 401);
  EXPECT_EQ(cp.Do("POST", "/v1/tokens/tok-ffffffffffffffff/revoke", cp.admin()).status, 404);
  EXPECT_EQ(cp.Do("POST", "/v1/tenants/nobody/tokens", cp.admin(), "{}").status, 404);
}

// Names and ids are interchangeable: a tenant whose name looks like an id is found by
// name, and allocations are listed by node name as well as by node id.
TEST(ApiTest, NamesThatLookLikeIdsAndNodeNamesResolve) {
  ServerOptions o;
  o.node_timeout = std::chrono::hours(1);
  TestControlPlane cp(nullptr, o);
  Reply t = cp.Do("POST", "/v1/tenants", cp.admin(), R"({"name":"tenant-blue"})");
  ASSERT_EQ(t.status, 201) << t.raw;
  EXPECT_EQ(cp.Do("GET", "/v1/tenants/tenant-blue", cp.admin()).Str("id"), t.Str("id"));
  EXPECT_EQ(cp.Do("GET", "/v1/tenants/" + t.Str("id"), cp.admin()).Str("name"), "tenant-blue");
  EXPECT_EQ(cp.Do("GET", "/v1/tenants/tenant-nobody", cp.admin()).status, 404);

  SimAgent agent(cp, "gpu-host-1", 2);
  const std::string token = cp.NewTenantToken("alice");
  Reply job = cp.Do("POST", "/v1/jobs", token,
                    R"({"command":["x"],"shape":{"gpu_count":1,"gpu_milli":1000}})");
  ASSERT_EQ(job.status, 201) << job.raw;
  cp.Reconcile();
  Reply by_name = cp.Do("GET", "/v1/allocations?node=gpu-host-1", cp.admin());
  Reply by_id = cp.Do("GET", "/v1/allocations?node=" + agent.node_id(), cp.admin());
  ASSERT_EQ(by_name.status, 200) << by_name.raw;
  EXPECT_EQ(by_name.body.at("allocations").as_array().size(), 1u) << by_name.raw;
  EXPECT_EQ(by_name.raw, by_id.raw);
  EXPECT_EQ(cp.Do("GET", "/v1/allocations?node=no-such-host", cp.admin()).status, 404);
}

// A node whose credentials were revoked takes no new work until its agent registers again.
TEST(ApiTest, ARevokedNodeTakesNoNewWork) {
  ServerOptions o;
  o.node_timeout = std::chrono::hours(1);
  o.allow_unplaceable = true;
  TestControlPlane cp(nullptr, o);
  SimAgent agent(cp, "gpu-host-1", 2);
  ASSERT_EQ(cp.Do("POST", "/v1/nodes/gpu-host-1/revoke", cp.admin()).status, 200);
  Reply job = cp.Do("POST", "/v1/jobs", cp.admin(),
                    R"({"command":["x"],"shape":{"gpu_count":1,"gpu_milli":1000}})");
  ASSERT_EQ(job.status, 201) << job.raw;
  cp.Reconcile();
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/" + job.Str("id"), cp.admin()).Str("state"), "pending");
  // Registered again (same agent, new token): the job is placed.
  SimAgent again(cp, "gpu-host-1", 2);
  cp.Reconcile();
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/" + job.Str("id"), cp.admin()).Str("state"), "scheduled");
}

// Ids and names travel percent-encoded (common/url_text.h): a job whose name holds ':',
// '/', '%', a space and UTF-8 is found by its encoded name; a node named with a '%' is
// found by its encoded name in a path and in ?node= (decoded once, not twice); a
// malformed escape is refused with 400.
TEST(ApiTest, EncodedNamesInPathsAndQueriesResolveOnce) {
  ServerOptions o;
  o.node_timeout = std::chrono::hours(1);
  TestControlPlane cp(nullptr, o);
  const std::string name = "a:b/c d%\xC3\xA9";
  Reply job = cp.Do(
      "POST", "/v1/jobs", cp.admin(),
      R"({"name":")" + name + R"(","command":["x"],"shape":{"gpu_count":1,"gpu_milli":1000}})");
  ASSERT_EQ(job.status, 201) << job.raw;
  Reply got = cp.Do("GET", "/v1/jobs/" + EncodePathSegment(name), cp.admin());
  ASSERT_EQ(got.status, 200) << got.raw;
  EXPECT_EQ(got.Str("id"), job.Str("id"));
  EXPECT_EQ(got.Str("name"), name);
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/a%3Ab%2Fc%20d%25%c3%a9", cp.admin()).Str("id"), job.Str("id"));

  SimAgent agent(cp, "gpu%41", 2);
  cp.Reconcile();
  Reply by_name = cp.Do("GET", "/v1/allocations?node=" + EncodeQueryValue("gpu%41"), cp.admin());
  ASSERT_EQ(by_name.status, 200) << by_name.raw;
  EXPECT_EQ(by_name.body.at("allocations").as_array().size(), 1u) << by_name.raw;
  Reply drained = cp.Do("POST", "/v1/nodes/" + EncodePathSegment("gpu%41") + "/drain", cp.admin());
  ASSERT_EQ(drained.status, 200) << drained.raw;
  EXPECT_EQ(drained.Str("id"), agent.node_id());

  for (const std::string& bad : {"/v1/jobs/x%zz", "/v1/jobs/50%25%", "/v1/jobs/%4/cancel",
                                 "/v1/nodes/gpu%4/drain", "/v1/nodes/%/revoke"}) {
    const std::string method =
        bad.starts_with("/v1/jobs/x") || bad.starts_with("/v1/jobs/50") ? "GET" : "POST";
    Reply r = cp.Do(method, bad, cp.admin());
    EXPECT_EQ(r.status, 400) << bad << ": " << r.raw;
  }
  EXPECT_EQ(cp.Do("GET", "/healthz", "").status, 200);  // still serving
}

}  // namespace
}  // namespace fastgpu::server::testing

// The services' API over HTTP: create, get, list, scale, update, delete; tenant isolation;
// bad input with errors naming the field.
#include "server/service_test_util.h"

namespace fastgpu::server::testing {
namespace {

using ServiceApiTest = ServiceFixture;

TEST_F(ServiceApiTest, CreateGetListScaleUpdateDelete) {
  Reply created = Create(Body("chat", R"("port":true,"readiness":{"http":"/healthz"},)"
                                      R"("min_replicas":2,"max_replicas":4,"target_rps":20)"));
  ASSERT_EQ(created.status, 201) << created.raw;
  EXPECT_EQ(created.Str("name"), "chat");
  EXPECT_EQ(created.body.at("replicas").as_int64(), 2);  // min
  EXPECT_EQ(created.body.at("generation").as_int64(), 1);
  EXPECT_EQ(created.Str("state"), "pending");
  const json::object& spec = created.body.at("spec").as_object();
  EXPECT_EQ(spec.at("readiness").at("http").as_string(), "/healthz");
  EXPECT_EQ(spec.at("idle_timeout_s").as_int64(), 300);  // defaults filled in
  EXPECT_EQ(spec.at("shape").at("description").as_string(), "0.25 GPU");

  // By name and by id.
  EXPECT_EQ(Get("chat").Str("id"), created.Str("id"));
  EXPECT_EQ(Get(created.Str("id")).Str("name"), "chat");
  Reply list = cp_.Do("GET", "/v1/services", token_);
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.body.at("services").as_array().size(), 1u);

  // The reconciler starts the replicas: jobs named as the service, carrying it.
  RunAll("chat");
  std::vector<std::string> jobs = Replicas("chat");
  ASSERT_EQ(jobs.size(), 2u);
  Reply job = cp_.Do("GET", "/v1/jobs/" + jobs[0], token_);
  EXPECT_EQ(job.Str("service"), created.Str("id"));
  EXPECT_EQ(job.body.at("service_generation").as_int64(), 1);
  EXPECT_EQ(job.Str("name"), "chat");
  Reply got = Get("chat");
  EXPECT_EQ(got.Str("state"), "running") << got.raw;
  EXPECT_EQ(got.Str("reason"), "2 of 2 replicas ready");
  ASSERT_EQ(got.body.at("replica_status").as_array().size(), 2u);
  EXPECT_TRUE(got.body.at("replica_status").at(0).at("ready").as_bool());

  // Scale within bounds, and clamped with the answer saying so.
  Reply scaled = Scale("chat", 3);
  ASSERT_EQ(scaled.status, 200) << scaled.raw;
  EXPECT_EQ(scaled.body.at("replicas").as_int64(), 3);
  EXPECT_FALSE(scaled.body.at("scale").at("clamped").as_bool());
  Reply clamped = Scale("chat", 50);
  ASSERT_EQ(clamped.status, 200) << clamped.raw;
  EXPECT_EQ(clamped.body.at("replicas").as_int64(), 4);
  EXPECT_TRUE(clamped.body.at("scale").at("clamped").as_bool());
  EXPECT_EQ(clamped.body.at("scale").at("note").as_string(), "clamped to max_replicas 4");
  EXPECT_EQ(Scale("chat", 0).body.at("scale").at("note").as_string(), "clamped to min_replicas 2");

  // A scaling change keeps the generation; a change of what replicas run raises it.
  Reply same = cp_.Do("PATCH", "/v1/services/chat", token_, R"({"max_replicas":6})");
  ASSERT_EQ(same.status, 200) << same.raw;
  EXPECT_EQ(same.body.at("generation").as_int64(), 1);
  EXPECT_EQ(same.body.at("spec").at("max_replicas").as_int64(), 6);
  Reply rolled = cp_.Do("PATCH", "/v1/services/chat", token_, R"({"env":{"MODEL":"v2"}})");
  ASSERT_EQ(rolled.status, 200) << rolled.raw;
  EXPECT_EQ(rolled.body.at("generation").as_int64(), 2);
  EXPECT_EQ(rolled.Str("state"), "updating");
  EXPECT_EQ(rolled.body.at("spec").at("env").at("MODEL").as_string(), "v2");
  // null restores a default.
  Reply probe_off = cp_.Do("PATCH", "/v1/services/chat", token_, R"({"readiness":null})");
  ASSERT_EQ(probe_off.status, 200) << probe_off.raw;
  EXPECT_FALSE(probe_off.body.at("spec").as_object().contains("readiness"));

  // Delete cancels the replicas and removes the service.
  Reply deleted = cp_.Do("DELETE", "/v1/services/chat", token_);
  ASSERT_EQ(deleted.status, 200) << deleted.raw;
  EXPECT_EQ(deleted.body.at("cancelled_jobs").as_array().size(), 2u);
  EXPECT_EQ(Get("chat").status, 404);
  for (const std::string& j : jobs) EXPECT_EQ(JobField(j, "state"), "cancelled");
  cp_.Reconcile();
  EXPECT_EQ(cp_.Do("GET", "/v1/jobs?state=pending", token_).body.at("jobs").as_array().size(), 0u);
}

TEST_F(ServiceApiTest, TenantsSeeOnlyTheirOwn) {
  ASSERT_EQ(Create(Body("chat")).status, 201);
  const std::string other = cp_.NewTenantToken("team-b");
  EXPECT_EQ(cp_.Do("GET", "/v1/services/chat", other).status, 404);
  const std::string id = Get("chat").Str("id");
  EXPECT_EQ(cp_.Do("GET", "/v1/services/" + id, other).status, 404);
  EXPECT_EQ(cp_.Do("POST", "/v1/services/chat/scale", other, R"({"replicas":1})").status, 404);
  EXPECT_EQ(cp_.Do("PATCH", "/v1/services/chat", other, R"({"min_replicas":1})").status, 404);
  EXPECT_EQ(cp_.Do("DELETE", "/v1/services/chat", other).status, 404);
  EXPECT_EQ(cp_.Do("GET", "/v1/services", other).body.at("services").as_array().size(), 0u);
  // The other tenant may use the same name; the admin sees both, and one tenant's by name.
  ASSERT_EQ(cp_.Do("POST", "/v1/services", other, Body("chat")).status, 201);
  EXPECT_EQ(cp_.Do("GET", "/v1/services", cp_.admin()).body.at("services").as_array().size(), 2u);
  EXPECT_EQ(
      cp_.Do("GET", "/v1/services?tenant=team-b", cp_.admin()).body.at("services").as_array().size(),
      1u);
  EXPECT_EQ(cp_.Do("GET", "/v1/services/" + id, cp_.admin()).status, 200);
  EXPECT_EQ(cp_.Do("GET", "/v1/services/chat", cp_.admin()).status, 409);  // ambiguous
}

TEST_F(ServiceApiTest, BadInputNamesTheField) {
  struct Case {
    std::string body;
    int status;
    std::string starts;
  };
  const std::vector<Case> cases = {
      {R"({"command":["x"]})", 400, "name: is required"},
      {Body("Chat"), 400, "name:"},
      {Body("chat", R"("min_replicas":3,"max_replicas":2)"), 400, "max_replicas:"},
      {Body("chat", R"("min_replicas":-1)"), 400, "min_replicas:"},
      {Body("chat", R"("max_replicas":2000)"), 400, "max_replicas:"},
      {Body("chat", R"("target_rps":5,"target_gpu_util":50)"), 400, "target_gpu_util:"},
      {Body("chat", R"("readiness":{"tcp":true})"), 400, "readiness:"},
      {Body("chat", R"("readiness":{"http":"healthz"},"port":true)"), 400, "readiness.http:"},
      {Body("chat", R"("replica":2)"), 400, "replica: unknown field"},
      {Body("chat", R"("idle_timeout_s":0)"), 400, "idle_timeout_s:"},
      {Body("chat", R"("shape":{"gpu_count":1,"gpu_milli":250,"gpu_models":["Z9"]})"), 400,
       "shape"},
      {R"({"name":"chat","command":[]})", 400, "command"},
      {"[1]", 400, "body must be a JSON object"},
      // Root only for a tenant the admin allowed.
      {Body("chat", R"("run_as_root":true)"), 403, "run_as_root:"},
      // More GPU than any node has: never placeable.
      {R"({"name":"big","command":["x"],"shape":{"gpu_count":8}})", 422, ""},
  };
  for (const Case& c : cases) {
    Reply r = Create(c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.raw;
    EXPECT_EQ(r.Str("message").rfind(c.starts, 0), 0u) << c.body << " -> " << r.raw;
  }
  ASSERT_EQ(Create(Body("chat")).status, 201);
  EXPECT_EQ(Create(Body("chat")).status, 409);  // the name is taken
  EXPECT_EQ(Scale("chat", -1).status, 400);
  EXPECT_EQ(cp_.Do("POST", "/v1/services/chat/scale", token_, "{}").status, 400);
  EXPECT_EQ(Scale("nope", 1).status, 404);
  Reply rename = cp_.Do("PATCH", "/v1/services/chat", token_, R"({"name":"other"})");
  EXPECT_EQ(rename.status, 400);
  EXPECT_EQ(rename.Str("message").rfind("name:", 0), 0u) << rename.raw;
  Reply count = cp_.Do("PATCH", "/v1/services/chat", token_, R"({"replicas":3})");
  EXPECT_EQ(count.status, 400);
  EXPECT_EQ(count.Str("message").rfind("replicas:", 0), 0u) << count.raw;
  EXPECT_EQ(cp_.Do("PATCH", "/v1/services/chat", token_, R"({"min_replicas":"2"})").status, 400);
  // A plain job may not claim to be a replica.
  Reply job = cp_.Do("POST", "/v1/jobs", token_,
                     R"({"command":["x"],"shape":{"cpu_milli":100},"service":"svc-1","service_generation":1})");
  EXPECT_EQ(job.status, 400);
  EXPECT_EQ(job.Str("message").rfind("service:", 0), 0u) << job.raw;
}

TEST_F(ServiceApiTest, CreateIsIdempotentUnderAKey) {
  net::HttpHeaders key = {{"Idempotency-Key", "create-chat-1"}};
  Reply first = cp_.Do("POST", "/v1/services", token_, Body("chat"), key);
  ASSERT_EQ(first.status, 201) << first.raw;
  Reply again = cp_.Do("POST", "/v1/services", token_, Body("chat"), key);
  EXPECT_EQ(again.status, 201) << again.raw;  // replayed as first answered
  EXPECT_EQ(again.Str("id"), first.Str("id"));
  EXPECT_EQ(cp_.Do("POST", "/v1/services", token_, Body("other"), key).status, 422);
}

}  // namespace
}  // namespace fastgpu::server::testing

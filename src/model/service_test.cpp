// Services: validation of each field, defaults, the JSON form, and what counts as a change
// of what a replica runs.
#include <gtest/gtest.h>

#include "model/service.h"
#include "model/service_json.h"

namespace fastgpu::model {
namespace {

ServiceSpec GoodSpec() {
  ServiceSpec s;
  s.name = "chat-api";
  s.command = {"python", "serve.py"};
  s.shape.gpu_count = 1;
  s.shape.gpu_milli = 500;
  s.port = true;
  s.min_replicas = 2;
  ApplyServiceDefaults(s);
  return s;
}

std::string ErrorOf(const ServiceSpec& s) {
  Status st = ValidateServiceSpec(s);
  return st.ok() ? "" : std::string(st.message());
}

TEST(ServiceSpecTest, GoodSpecAndDefaults) {
  ServiceSpec s = GoodSpec();
  EXPECT_EQ(ErrorOf(s), "");
  EXPECT_EQ(s.max_replicas, 2);  // as min
  ServiceSpec zero = GoodSpec();
  zero.min_replicas = 0;
  zero.max_replicas = 0;
  ApplyServiceDefaults(zero);
  EXPECT_EQ(zero.max_replicas, 1);  // at least one
  EXPECT_EQ(ErrorOf(zero), "");
}

TEST(ServiceSpecTest, EachBadFieldIsNamed) {
  struct Case {
    void (*change)(ServiceSpec&);
    const char* field;
  };
  const Case cases[] = {
      {[](ServiceSpec& s) { s.name = ""; }, "name:"},
      {[](ServiceSpec& s) { s.name = "Chat"; }, "name:"},
      {[](ServiceSpec& s) { s.name = "-chat"; }, "name:"},
      {[](ServiceSpec& s) { s.name = std::string(64, 'a'); }, "name:"},
      {[](ServiceSpec& s) { s.command.clear(); }, "command"},
      {[](ServiceSpec& s) { s.env["A=B"] = "x"; }, "env"},
      {[](ServiceSpec& s) { s.min_replicas = -1; }, "min_replicas:"},
      {[](ServiceSpec& s) { s.max_replicas = 1; }, "max_replicas:"},
      {[](ServiceSpec& s) { s.max_replicas = 1025; }, "max_replicas:"},
      {[](ServiceSpec& s) { s.target_rps = -1; }, "target_rps:"},
      {[](ServiceSpec& s) { s.target_gpu_util = 101; }, "target_gpu_util:"},
      {[](ServiceSpec& s) {
         s.target_rps = 5;
         s.target_gpu_util = 70;
       },
       "target_gpu_util:"},
      {[](ServiceSpec& s) { s.idle_timeout_s = 0; }, "idle_timeout_s:"},
      {[](ServiceSpec& s) { s.scale_down_delay_s = -1; }, "scale_down_delay_s:"},
      {[](ServiceSpec& s) { s.readiness.http_path = "healthz"; }, "readiness.http:"},
      {[](ServiceSpec& s) {
         s.readiness.http_path = "/h";
         s.readiness.tcp = true;
       },
       "readiness:"},
      {[](ServiceSpec& s) {
         s.port = false;
         s.readiness.tcp = true;
       },
       "readiness:"},
      {[](ServiceSpec& s) { s.shape.gpu_milli = 1500; }, "shape"},
  };
  for (const Case& c : cases) {
    ServiceSpec s = GoodSpec();
    c.change(s);
    const std::string err = ErrorOf(s);
    EXPECT_EQ(err.rfind(c.field, 0), 0u) << "want an error on " << c.field << ", got: " << err;
  }
}

TEST(ServiceSpecTest, JsonRoundTripAndStrictDecoding) {
  ServiceSpec s = GoodSpec();
  s.env["MODEL"] = "llama";
  s.readiness.http_path = "/healthz";
  s.target_rps = 2.5;
  s.run_as_root = true;
  auto back = FromJson<ServiceSpec>(boost::json::value_from(s));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, s);

  auto bad = FromJsonText<ServiceSpec>(R"({"name":"a","command":["x"],"min_replicas":"2"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("min_replicas:", 0), 0u) << bad.status().ToString();
  auto probe = FromJsonText<ServiceSpec>(
      R"({"name":"a","command":["x"],"readiness":{"tcp":"yes"}})");
  ASSERT_FALSE(probe.ok());
  EXPECT_EQ(probe.status().message().rfind("readiness.tcp:", 0), 0u);
  auto unknown = FromJsonText<ServiceSpec>(R"({"name":"a","command":["x"],"replica":3})",
                                           UnknownFields::kRefuse);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message().rfind("replica:", 0), 0u);
}

TEST(ServiceSpecTest, ReplicaChangesAndClamp) {
  ServiceSpec a = GoodSpec();
  ServiceSpec b = a;
  b.max_replicas = 8;
  b.target_rps = 20;
  EXPECT_FALSE(ReplicaSpecChanged(a, b));  // scaling only
  b.env["X"] = "1";
  EXPECT_TRUE(ReplicaSpecChanged(a, b));
  EXPECT_EQ(ClampReplicas(b, 100), 8);
  EXPECT_EQ(ClampReplicas(b, 0), 2);
  EXPECT_EQ(ClampReplicas(b, 5), 5);
}

TEST(ServiceSpecTest, ReplicaJobSpecCarriesTheService) {
  Service svc;
  svc.id = "svc-1";
  svc.spec = GoodSpec();
  svc.generation = 3;
  JobSpec job = ReplicaJobSpec(svc);
  EXPECT_EQ(job.name, "chat-api");
  EXPECT_EQ(job.replicas, 1);
  EXPECT_EQ(job.service, "svc-1");
  EXPECT_EQ(job.service_generation, 3);
  EXPECT_TRUE(ValidateJobSpec(job).ok());
  // The replica's JSON names its service; a plain job's does not.
  boost::json::value v = boost::json::value_from(job);
  EXPECT_EQ(v.as_object().at("service").as_string(), "svc-1");
  EXPECT_EQ(v.as_object().at("service_generation").as_int64(), 3);
  auto back = FromJson<JobSpec>(v);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->service, "svc-1");
  EXPECT_EQ(back->service_generation, 3);
  JobSpec plain;
  plain.command = {"x"};
  EXPECT_FALSE(boost::json::value_from(plain).as_object().contains("service"));
}

}  // namespace
}  // namespace fastgpu::model

#include "protocol/agent_protocol.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace fastgpu::protocol {
namespace {

TEST(ProtocolTest, HeartbeatAnswerRoundTrips) {
  const char* body =
      R"({"lease_ms":15000,"allocations":[{"allocation_id":"alloc-1","job_id":"job-1",
    "replica":0,"replicas":2,"command":["python","train.py"],"env":{"K":"V"},"cpu_milli":2000,
    "memory_mib":8192,"gpu_model":"H100-80GB","slices":[{"gpu_index":0,"gpu_uuid":"GPU-x",
    "milli":500,"memory_mib":40960,"isolation":"mps"}]}],"cancel":["alloc-2"],"extra":1})";
  auto r = DecodeHeartbeatResponse(body);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->allocations.size(), 1u);
  const DesiredReplica& d = r->allocations[0];
  EXPECT_EQ(d.allocation.id, "alloc-1");
  EXPECT_EQ(d.replicas, 2);
  EXPECT_EQ(d.command, (std::vector<std::string>{"python", "train.py"}));
  EXPECT_EQ(d.env.at("K"), "V");
  ASSERT_EQ(d.allocation.slices.size(), 1u);
  EXPECT_EQ(d.allocation.slices[0].isolation, model::Isolation::kMps);
  EXPECT_EQ(d.allocation.slices[0].memory_mib, 40960);
  EXPECT_EQ(r->cancel, std::vector<std::string>{"alloc-2"});
  EXPECT_EQ(d.image, "");
  auto again = DecodeDesiredReplica(EncodeDesiredReplica(d));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(EncodeDesiredReplica(*again), EncodeDesiredReplica(d));
  EXPECT_EQ(EncodeDesiredReplica(d).find("image"), std::string::npos);  // absent when plain
  DesiredReplica boxed = d;
  boxed.image = "localhost/app:v1";
  auto boxed_back = DecodeDesiredReplica(EncodeDesiredReplica(boxed));
  ASSERT_TRUE(boxed_back.ok());
  EXPECT_EQ(boxed_back->image, "localhost/app:v1");
}

TEST(ProtocolTest, BadAnswersNameTheField) {
  EXPECT_FALSE(DecodeHeartbeatResponse("not json").ok());
  auto r = DecodeHeartbeatResponse(R"({"allocations":[{"allocation_id":"a","job_id":"j"}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("command"), std::string::npos) << r.status();
  auto iso = DecodeHeartbeatResponse(R"({"allocations":[{"allocation_id":"a","job_id":"j",
    "command":["x"],"slices":[{"gpu_index":0,"milli":5,"isolation":"magic"}]}]})");
  EXPECT_FALSE(iso.ok());
  EXPECT_FALSE(DecodeRegisterResponse(R"({"node_id":"n"})").ok());
  auto reg =
      DecodeRegisterResponse(R"({"node_id":"n","node_token":"t","heartbeat_interval_ms":2000})");
  ASSERT_TRUE(reg.ok());
  EXPECT_EQ(reg->heartbeat_interval_ms, 2000);
  EXPECT_EQ(reg->node_secret, "");  // an older control plane sends none
  auto with_secret =
      DecodeRegisterResponse(R"({"node_id":"n","node_token":"t","node_secret":"s"})");
  ASSERT_TRUE(with_secret.ok());
  EXPECT_EQ(with_secret->node_secret, "s");
  RegisterRequest req;
  req.agent_id = "a";
  EXPECT_EQ(EncodeRegister(req).find("node_secret"), std::string::npos);  // none: not sent
  req.node_secret = "0123456789abcdef0123456789abcdef";
  EXPECT_NE(EncodeRegister(req).find(R"("node_secret":"0123456789abcdef0123456789abcdef")"),
            std::string::npos);
  EXPECT_EQ(*DecodeLogResponse(R"({"next_offset":42})"), 42);
}

TEST(ProtocolTest, EncodesReportsAsTheProtocolSays) {
  HeartbeatRequest hb;
  hb.gpus.push_back({0, false, "XID 79 (fell off the bus)"});
  hb.replicas.push_back({"alloc-1", "exited", 0, 0, 9, 100, 200, "killed by signal 9"});
  hb.replicas.push_back({"alloc-2", "running", 1234, 0, 0, 100, 0, ""});
  std::string json = EncodeHeartbeat(hb);
  EXPECT_NE(json.find(R"x("health_reason":"XID 79 (fell off the bus)")x"), std::string::npos);
  EXPECT_NE(
      json.find(R"("state":"exited","started_at":100,"exit_code":0,"signal":9,"ended_at":200)"),
      std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("state":"running","pid":1234)"), std::string::npos) << json;
  EXPECT_EQ(json.find(R"("reason")"), std::string::npos) << json;  // only when there is one
  hb.replicas[0].reason = "OOMKilled";
  json = EncodeHeartbeat(hb);
  EXPECT_NE(json.find(R"("message":"killed by signal 9","reason":"OOMKilled")"), std::string::npos)
      << json;
}

TEST(ProtocolTest, EndpointsReadinessAndUtilizationRoundTrip) {
  HeartbeatRequest hb;
  hb.gpus.push_back({0, true, ""});
  hb.gpus.back().utilization_pct = 70;
  hb.gpus.push_back({1, true, ""});  // unknown: not sent
  ReplicaReport web;
  web.allocation_id = "alloc-1";
  web.state = "running";
  web.pid = 1234;
  web.endpoint = "10.0.0.7:40123";
  web.ready = true;
  hb.replicas.push_back(web);
  ReplicaReport plain;
  plain.allocation_id = "alloc-2";
  plain.state = "running";
  hb.replicas.push_back(plain);
  const std::string json = EncodeHeartbeat(hb);
  EXPECT_NE(json.find(R"("utilization_pct":70)"), std::string::npos) << json;
  EXPECT_EQ(json.find(R"("utilization_pct":-1)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("endpoint":"10.0.0.7:40123","ready":true)"), std::string::npos) << json;
  auto back = DecodeHeartbeat(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->gpus[0].utilization_pct, 70);
  EXPECT_EQ(back->gpus[1].utilization_pct, -1);
  EXPECT_EQ(back->replicas[0].endpoint, "10.0.0.7:40123");
  EXPECT_TRUE(back->replicas[0].ready);
  EXPECT_EQ(back->replicas[1].endpoint, "");
  EXPECT_FALSE(back->replicas[1].ready);
  EXPECT_FALSE(DecodeHeartbeat(R"({"gpus":[{"index":0,"utilization_pct":101}]})").ok());
  auto bad = DecodeHeartbeat(R"({"replicas":[{"allocation_id":"a","state":"running","ready":1}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("replicas[0].ready"), std::string::npos) << bad.status();

  DesiredReplica d;
  d.allocation.id = "alloc-1";
  d.allocation.job_id = "job-1";
  d.command = {"server"};
  EXPECT_EQ(EncodeDesiredReplica(d).find("port"), std::string::npos);  // absent by default
  EXPECT_EQ(EncodeDesiredReplica(d).find("readiness"), std::string::npos);
  d.port = true;
  d.readiness = {model::ReadinessProbe::Kind::kHttp, "/ready"};
  auto again = DecodeDesiredReplica(EncodeDesiredReplica(d));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->port);
  EXPECT_EQ(again->readiness, d.readiness);
  d.readiness = {model::ReadinessProbe::Kind::kTcp, ""};
  again = DecodeDesiredReplica(EncodeDesiredReplica(d));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->readiness.kind, model::ReadinessProbe::Kind::kTcp);
}

TEST(ProtocolTest, MessagesWithoutTheNewFieldsStillDecode) {
  // As an agent or control plane from before ports and utilisation sends them.
  auto hb = DecodeHeartbeat(R"({"protocol_version":1,"gpus":[{"index":0,"healthy":true,
    "health_reason":""}],"replicas":[{"allocation_id":"a","state":"running","pid":7}]})");
  ASSERT_TRUE(hb.ok()) << hb.status();
  EXPECT_EQ(hb->gpus[0].utilization_pct, -1);
  EXPECT_EQ(hb->replicas[0].endpoint, "");
  EXPECT_FALSE(hb->replicas[0].ready);
  auto answer = DecodeHeartbeatResponse(R"({"lease_ms":1,"allocations":[{"allocation_id":"a",
    "job_id":"j","command":["x"]}],"cancel":[]})");
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_FALSE(answer->allocations[0].port);
  EXPECT_EQ(answer->allocations[0].readiness.kind, model::ReadinessProbe::Kind::kNone);
}

TEST(ProtocolTest, SanitizesUtf8) {
  EXPECT_EQ(SanitizeUtf8("plain"), "plain");
  EXPECT_EQ(SanitizeUtf8("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(SanitizeUtf8("a\xFF"
                         "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(SanitizeUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong
  EXPECT_EQ(SanitizeUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  size_t consumed = 0;
  EXPECT_EQ(SanitizeUtf8("ab\xE2\x82", true, &consumed), "ab");
  EXPECT_EQ(consumed, 2u);
  EXPECT_EQ(SanitizeUtf8("ab\xE2\x82", false, &consumed), "ab\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(consumed, 4u);
}

TEST(ProtocolTest, PendingExecsRoundTripAndRefuseABadItem) {
  PendingExecs pending;
  pending.execs.push_back({"exec-1", "alloc-1", {"sh", "-c", "true"}, true});
  auto back = DecodePendingExecs(EncodePendingExecs(pending));
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->execs.size(), 1u);
  EXPECT_EQ(back->execs[0].exec_id, "exec-1");
  EXPECT_EQ(back->execs[0].allocation_id, "alloc-1");
  EXPECT_EQ(back->execs[0].command, (std::vector<std::string>{"sh", "-c", "true"}));
  EXPECT_TRUE(back->execs[0].tty);
  auto none = DecodePendingExecs(R"({"protocol_version": 1, "execs": []})");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->execs.empty());
  auto bad = DecodePendingExecs(R"({"protocol_version": 1, "execs": [{"exec_id": 3}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("execs"), std::string::npos) << bad.status();
}

}  // namespace
}  // namespace fastgpu::protocol

// The agent protocol between its two real peers: the node agent's encoders and decoders
// (agent/protocol.h) against the control plane's handlers (server/api_nodes.cpp) over
// loopback HTTP, in both directions, plus the compatibility rules of docs/agent-protocol.md:
// a newer peer's extra fields are ignored, an older peer's missing optional fields default.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "protocol/agent_protocol.h"
#include "server/server_test_util.h"

namespace fastgpu::server::testing {
namespace {

using AgentReport = ::fastgpu::protocol::ReplicaReport;  // the fixture has a helper of that name

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

protocol::RegisterRequest AgentRegistration() {
  protocol::RegisterRequest req;
  req.name = "gpu-host-1";
  req.agent_id = "agent-pair-1";
  req.node_secret = kSecret;
  req.cpu_milli = 64000;
  req.memory_mib = 524288;
  req.simulated = true;
  for (int i = 0; i < 2; ++i) {
    model::Gpu g;
    g.index = i;
    g.uuid = "SIM-pair-" + std::to_string(i);
    g.model = "H100-80GB";
    g.memory_mib = 81559;
    g.simulated = true;
    req.gpus.push_back(g);
  }
  return req;
}

// Adds fields to every message object of `v`, recursively: what a newer peer might send.
void AddFieldsEverywhere(json::value& v) {
  if (v.is_object()) {
    for (auto& kv : v.as_object()) {
      if (kv.key() != "env") AddFieldsEverywhere(kv.value());  // env is data, not a message
    }
    v.as_object()["field_from_the_future"] = json::object{{"nested", json::array{1, "two"}}};
    v.as_object()["another_new_flag"] = true;
  } else if (v.is_array()) {
    for (auto& e : v.as_array()) AddFieldsEverywhere(e);
  }
}

std::string WithFutureFields(const std::string& text, int version) {
  json::value v = json::parse(text);
  AddFieldsEverywhere(v);
  v.as_object()["protocol_version"] = version;
  return json::serialize(v);
}

class AgentProtocolPairTest : public ::testing::Test {
 protected:
  // Registers with the agent's encoder; decodes the real answer with the agent's decoder.
  protocol::RegisterResponse Register(const std::string& body) {
    Reply r = cp_.Do("POST", "/v1/nodes/register", cp_.server().join_token(), body);
    EXPECT_EQ(r.status, 200) << r.raw;
    Result<protocol::RegisterResponse> answer = protocol::DecodeRegisterResponse(r.raw);
    EXPECT_TRUE(answer.ok()) << answer.status() << " in " << r.raw;
    return answer.ok() ? *answer : protocol::RegisterResponse{};
  }

  protocol::HeartbeatResponse Heartbeat(const protocol::RegisterResponse& node,
                                        const std::string& body) {
    Reply r = cp_.Do("POST", "/v1/nodes/" + node.node_id + "/heartbeat", node.node_token, body);
    EXPECT_EQ(r.status, 200) << r.raw;
    Result<protocol::HeartbeatResponse> answer = protocol::DecodeHeartbeatResponse(r.raw);
    EXPECT_TRUE(answer.ok()) << answer.status() << " in " << r.raw;
    return answer.ok() ? *answer : protocol::HeartbeatResponse{};
  }

  // Submits a job on GPUs and places it; returns its id.
  std::string SubmitPlacedJob() {
    Reply job =
        cp_.Do("POST", "/v1/jobs", cp_.admin(),
               R"({"name":"pair","command":["python","train.py"],"env":{"K":"V"},)"
               R"("image":"localhost/app:v1","replicas":1,)"
               R"("shape":{"gpu_count":1,"gpu_milli":500,"gpu_memory_mib":20480,"cpu_milli":2000,)"
               R"("memory_mib":8192,"isolation":"mps"}})");
    EXPECT_EQ(job.status, 201) << job.raw;
    cp_.Reconcile();
    return job.Str("id");
  }

  json::value Node(const std::string& node_id) {
    Reply nodes = cp_.Do("GET", "/v1/nodes", cp_.admin());
    for (const json::value& n : nodes.body.at("nodes").as_array()) {
      if (n.at("id").as_string() == node_id) return n;
    }
    ADD_FAILURE() << "no node " << node_id << " in " << nodes.raw;
    return nullptr;
  }

  TestControlPlane cp_;
};

TEST_F(AgentProtocolPairTest, AgentRequestsAndControlPlaneAnswersMeet) {
  // Register: agent encoder -> server decoder; server encoder -> agent decoder.
  const protocol::RegisterRequest req = AgentRegistration();
  protocol::RegisterResponse node = Register(protocol::EncodeRegister(req));
  ASSERT_FALSE(node.node_id.empty());
  EXPECT_FALSE(node.node_token.empty());
  EXPECT_EQ(node.node_secret, kSecret);
  EXPECT_EQ(node.protocol_version, protocol::kAgentProtocolVersion);
  EXPECT_GT(node.heartbeat_interval_ms, 0);
  EXPECT_GT(node.lease_ms, 0);
  json::value seen = Node(node.node_id);
  ASSERT_TRUE(seen.is_object());
  EXPECT_EQ(seen.at("name").as_string(), req.name);
  EXPECT_EQ(seen.at("agent_id").as_string(), req.agent_id);
  EXPECT_EQ(seen.at("cpu_milli").as_int64(), req.cpu_milli);
  ASSERT_EQ(seen.at("gpus").as_array().size(), 2u);
  EXPECT_EQ(seen.at("gpus").at(1).at("uuid").as_string(), "SIM-pair-1");
  EXPECT_EQ(seen.at("gpus").at(1).at("memory_mib").as_int64(), 81559);

  // Heartbeat: the desired set comes back in the agent's own types.
  const std::string job_id = SubmitPlacedJob();
  protocol::HeartbeatRequest hb;
  hb.gpus = {{0, true, ""}, {1, false, "XID 79 (fell off the bus)"}};
  protocol::HeartbeatResponse answer = Heartbeat(node, protocol::EncodeHeartbeat(hb));
  EXPECT_EQ(answer.protocol_version, protocol::kAgentProtocolVersion);
  EXPECT_EQ(answer.lease_ms, node.lease_ms);
  ASSERT_EQ(answer.allocations.size(), 1u);
  const protocol::DesiredReplica& d = answer.allocations[0];
  EXPECT_EQ(d.allocation.job_id, job_id);
  EXPECT_EQ(d.replicas, 1);
  EXPECT_EQ(d.command, (std::vector<std::string>{"python", "train.py"}));
  EXPECT_EQ(d.env.at("K"), "V");
  EXPECT_EQ(d.image, "localhost/app:v1");
  EXPECT_EQ(d.allocation.cpu_milli, 2000);
  EXPECT_EQ(d.allocation.memory_mib, 8192);
  EXPECT_EQ(d.allocation.gpu_model, "H100-80GB");
  ASSERT_EQ(d.allocation.slices.size(), 1u);
  EXPECT_EQ(d.allocation.slices[0].milli, 500);
  EXPECT_EQ(d.allocation.slices[0].memory_mib, 20480);
  EXPECT_EQ(d.allocation.slices[0].isolation, model::Isolation::kMps);
  EXPECT_FALSE(Node(node.node_id).at("gpus").at(1).at("healthy").as_bool());
  EXPECT_EQ(Node(node.node_id).at("gpus").at(1).at("health_reason").as_string(),
            "XID 79 (fell off the bus)");

  // Replica reports: running, then exited; the control plane reads each.
  AgentReport running;
  running.allocation_id = d.allocation.id;
  running.state = "running";
  running.pid = 4321;
  running.started_at_ms = 1764065461000;
  hb.replicas = {running};
  Heartbeat(node, protocol::EncodeHeartbeat(hb));
  cp_.Reconcile();
  EXPECT_EQ(cp_.Do("GET", "/v1/jobs/" + job_id, cp_.admin()).Str("state"), "running");

  // Logs: the agent's shipment, the control plane's next offset.
  protocol::LogShipment chunk;
  chunk.allocation_id = d.allocation.id;
  chunk.data = "hello from the replica\n";
  Reply logs = cp_.Do("POST", "/v1/nodes/" + node.node_id + "/logs", node.node_token,
                      protocol::EncodeLogShipment(chunk));
  ASSERT_EQ(logs.status, 200) << logs.raw;
  Result<int64_t> next = protocol::DecodeLogResponse(logs.raw);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, static_cast<int64_t>(chunk.data.size()));
  Reply read = cp_.Do("GET", "/v1/jobs/" + job_id + "/logs?replica=0&offset=0", cp_.admin());
  EXPECT_EQ(read.Str("data"), chunk.data) << read.raw;

  AgentReport exited = running;
  exited.state = "exited";
  exited.exit_code = 3;
  exited.ended_at_ms = running.started_at_ms + 5000;
  exited.message = "exit 3";
  hb.replicas = {exited};
  Heartbeat(node, protocol::EncodeHeartbeat(hb));
  cp_.Reconcile();
  Reply job = cp_.Do("GET", "/v1/jobs/" + job_id, cp_.admin());
  EXPECT_EQ(job.Str("state"), "failed") << job.raw;
  EXPECT_NE(job.Str("reason").find("3"), std::string::npos) << job.raw;
}

TEST_F(AgentProtocolPairTest, EndpointsReadinessAndUtilizationReachTheApi) {
  protocol::RegisterResponse node = Register(protocol::EncodeRegister(AgentRegistration()));
  ASSERT_FALSE(node.node_id.empty());
  Reply submitted =
      cp_.Do("POST", "/v1/jobs", cp_.admin(),
             R"({"name":"web","command":["serve"],"port":true,)"
             R"("readiness":{"http":"/healthz"},"shape":{"gpu_count":1,"gpu_milli":500}})");
  ASSERT_EQ(submitted.status, 201) << submitted.raw;
  const std::string job_id = submitted.Str("id");
  cp_.Reconcile();
  protocol::HeartbeatRequest hb;
  hb.gpus = {{0, true, ""}, {1, true, ""}};
  protocol::HeartbeatResponse answer = Heartbeat(node, protocol::EncodeHeartbeat(hb));
  ASSERT_EQ(answer.allocations.size(), 1u);
  const protocol::DesiredReplica& d = answer.allocations[0];
  EXPECT_TRUE(d.port);  // the job's port and probe reach the agent
  EXPECT_EQ(d.readiness, (model::ReadinessProbe{model::ReadinessProbe::Kind::kHttp, "/healthz"}));
  const int gpu = d.allocation.slices.at(0).gpu_index;

  // Running, not ready yet: the endpoint shows, ready is false.
  AgentReport running;
  running.allocation_id = d.allocation.id;
  running.state = "running";
  running.pid = 77;
  running.endpoint = "10.0.0.7:40123";
  hb.replicas = {running};
  hb.gpus[gpu].utilization_pct = 70;
  Heartbeat(node, protocol::EncodeHeartbeat(hb));
  Reply job = cp_.Do("GET", "/v1/jobs/" + job_id, cp_.admin());
  const json::value& alloc = job.body.at("allocations").at(0);
  EXPECT_EQ(alloc.at("endpoint").as_string(), "10.0.0.7:40123") << job.raw;
  EXPECT_FALSE(alloc.at("ready").as_bool());
  EXPECT_EQ(Node(node.node_id).at("gpus").at(gpu).at("utilization_pct").as_int64(), 70);
  EXPECT_FALSE(Node(node.node_id).at("gpus").at(1 - gpu).as_object().contains("utilization_pct"));
  ReplicaStatus& status = cp_.server().replica_status();
  EXPECT_EQ(status.AllocationGpuUtilization(d.allocation.id), 70.0);

  // Ready.
  running.ready = true;
  hb.replicas = {running};
  Heartbeat(node, protocol::EncodeHeartbeat(hb));
  auto eps = status.EndpointsOfJob(job_id);
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_EQ(eps[0].allocation_id, d.allocation.id);
  EXPECT_EQ(eps[0].endpoint, "10.0.0.7:40123");
  EXPECT_TRUE(eps[0].ready);
  Reply listed = cp_.Do("GET", "/v1/allocations?job=" + job_id, cp_.admin());
  EXPECT_TRUE(listed.body.at("allocations").at(0).at("ready").as_bool()) << listed.raw;
  Reply metrics = cp_.Do("GET", "/metrics", "");
  EXPECT_NE(metrics.raw.find("fastgpu_gpu_utilization_percent{node=\"" + node.node_id +
                             "\",gpu=\"" + std::to_string(gpu) + "\"} 70"),
            std::string::npos)
      << metrics.raw;

  // Cancelled: released, so no longer listed by the next heartbeat and forgotten.
  ASSERT_EQ(cp_.Do("POST", "/v1/jobs/" + job_id + "/cancel", cp_.admin()).status, 200);
  Heartbeat(node, protocol::EncodeHeartbeat(hb));
  EXPECT_TRUE(status.EndpointsOfJob(job_id).empty());
  job = cp_.Do("GET", "/v1/jobs/" + job_id, cp_.admin());
  EXPECT_EQ(job.body.at("allocations").at(0).at("endpoint").as_string(), "") << job.raw;
  EXPECT_FALSE(job.body.at("allocations").at(0).at("ready").as_bool());
}

TEST_F(AgentProtocolPairTest, NewerPeersExtraFieldsAreIgnoredBothWays) {
  // A newer agent: a higher version and fields this control plane has never heard of, at
  // the top and inside every nested object (GPUs, replica reports).
  protocol::RegisterResponse node =
      Register(WithFutureFields(protocol::EncodeRegister(AgentRegistration()), 99));
  ASSERT_FALSE(node.node_id.empty());
  EXPECT_EQ(Node(node.node_id).at("gpus").as_array().size(), 2u);
  SubmitPlacedJob();
  protocol::HeartbeatRequest hb;
  hb.gpus = {{0, true, ""}};
  protocol::HeartbeatResponse answer =
      Heartbeat(node, WithFutureFields(protocol::EncodeHeartbeat(hb), 99));
  ASSERT_EQ(answer.allocations.size(), 1u);
  AgentReport running;
  running.allocation_id = answer.allocations[0].allocation.id;
  running.state = "running";
  running.started_at_ms = 1764065461000;
  hb.replicas = {running};
  Heartbeat(node, WithFutureFields(protocol::EncodeHeartbeat(hb), 99));
  EXPECT_EQ(cp_.Do("GET", "/v1/allocations/" + running.allocation_id, cp_.admin()).Str("state"),
            "running");
  protocol::LogShipment chunk;
  chunk.allocation_id = running.allocation_id;
  chunk.data = "x";
  Reply logs = cp_.Do("POST", "/v1/nodes/" + node.node_id + "/logs", node.node_token,
                      WithFutureFields(protocol::EncodeLogShipment(chunk), 99));
  EXPECT_EQ(logs.status, 200) << logs.raw;

  // A newer control plane: its real answers with extra fields everywhere still decode.
  Reply hb_reply = cp_.Do("POST", "/v1/nodes/" + node.node_id + "/heartbeat", node.node_token,
                          protocol::EncodeHeartbeat(hb));
  ASSERT_EQ(hb_reply.status, 200) << hb_reply.raw;
  Result<protocol::HeartbeatResponse> future =
      protocol::DecodeHeartbeatResponse(WithFutureFields(hb_reply.raw, 99));
  ASSERT_TRUE(future.ok()) << future.status();
  ASSERT_EQ(future->allocations.size(), 1u);
  EXPECT_EQ(future->allocations[0].allocation.slices.size(), 1u);
  EXPECT_EQ(future->protocol_version, 99);
  Reply reg = cp_.Do("POST", "/v1/nodes/register", cp_.server().join_token(),
                     protocol::EncodeRegister(AgentRegistration()));
  ASSERT_EQ(reg.status, 200) << reg.raw;
  Result<protocol::RegisterResponse> reg_future =
      protocol::DecodeRegisterResponse(WithFutureFields(reg.raw, 99));
  ASSERT_TRUE(reg_future.ok()) << reg_future.status();
  EXPECT_EQ(reg_future->node_id, node.node_id);
  Result<int64_t> next = protocol::DecodeLogResponse(WithFutureFields(logs.raw, 99));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, 1);
}

TEST_F(AgentProtocolPairTest, OlderPeersMissingOptionalFieldsDefault) {
  // An older agent: no protocol_version, no node secret, GPUs with only the required fields,
  // a heartbeat with neither GPUs nor replicas, a report with only id and state.
  protocol::RegisterResponse node = Register(
      R"({"name":"old-host","agent_id":"agent-old","cpu_milli":64000,"memory_mib":524288,)"
      R"("gpus":[{"index":0,"uuid":"GPU-old-0","model":"H100-80GB","memory_mib":81559}]})");
  ASSERT_FALSE(node.node_id.empty());
  EXPECT_FALSE(node.node_secret.empty());  // the control plane made one
  json::value gpu = Node(node.node_id).at("gpus").at(0);
  EXPECT_TRUE(gpu.at("healthy").as_bool());
  EXPECT_FALSE(gpu.at("mig_enabled").as_bool());
  SubmitPlacedJob();
  protocol::HeartbeatResponse answer = Heartbeat(node, "{}");
  ASSERT_EQ(answer.allocations.size(), 1u);
  const std::string alloc = answer.allocations[0].allocation.id;
  Heartbeat(node, R"({"replicas":[{"allocation_id":")" + alloc + R"(","state":"running"}]})");
  EXPECT_EQ(cp_.Do("GET", "/v1/allocations/" + alloc, cp_.admin()).Str("state"), "running");

  // An older control plane: answers without protocol_version, node_secret, intervals,
  // cancel, or the optional fields of an allocation.
  Result<protocol::RegisterResponse> reg =
      protocol::DecodeRegisterResponse(R"({"node_id":"n","node_token":"t"})");
  ASSERT_TRUE(reg.ok()) << reg.status();
  EXPECT_EQ(reg->protocol_version, 1);
  EXPECT_EQ(reg->node_secret, "");
  EXPECT_EQ(reg->heartbeat_interval_ms, 0);
  Result<protocol::HeartbeatResponse> hb = protocol::DecodeHeartbeatResponse(
      R"({"allocations":[{"allocation_id":"a","job_id":"j","command":["true"]}]})");
  ASSERT_TRUE(hb.ok()) << hb.status();
  ASSERT_EQ(hb->allocations.size(), 1u);
  EXPECT_EQ(hb->allocations[0].replicas, 1);
  EXPECT_TRUE(hb->allocations[0].allocation.slices.empty());
  EXPECT_TRUE(hb->allocations[0].env.empty());
  EXPECT_FALSE(hb->allocations[0].run_as_root);
  EXPECT_TRUE(hb->cancel.empty());
  EXPECT_EQ(hb->protocol_version, 1);
}

TEST_F(AgentProtocolPairTest, MalformedMessagesAreRefusedNamingTheField) {
  protocol::RegisterRequest req = AgentRegistration();
  json::value v = json::parse(protocol::EncodeRegister(req));
  v.at("gpus").as_array()[1].as_object()["memory_mib"] = "lots";
  Reply r = cp_.Do("POST", "/v1/nodes/register", cp_.server().join_token(), json::serialize(v));
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_NE(r.Str("message").find("gpus[1].memory_mib"), std::string::npos) << r.raw;
  v = json::parse(protocol::EncodeRegister(req));
  v.as_object()["protocol_version"] = 0;
  r = cp_.Do("POST", "/v1/nodes/register", cp_.server().join_token(), json::serialize(v));
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_NE(r.Str("message").find("protocol_version"), std::string::npos) << r.raw;
  protocol::RegisterResponse node = Register(protocol::EncodeRegister(req));
  r = cp_.Do("POST", "/v1/nodes/" + node.node_id + "/heartbeat", node.node_token,
             R"({"replicas":[{"allocation_id":"a","state":"running","pid":1e300}]})");
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_NE(r.Str("message").find("replicas[0].pid"), std::string::npos) << r.raw;
}

}  // namespace
}  // namespace fastgpu::server::testing

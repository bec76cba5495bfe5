#include "server/server_test_util.h"

#include "model/json.h"
#include "protocol/agent_protocol.h"

namespace fastgpu::server::testing {

std::string Reply::Str(std::string_view key) const {
  if (!body.is_object()) return "";
  const json::value* v = body.as_object().if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
}

Reply Call(const std::string& base_url, const std::string& method, const std::string& path,
           const std::string& token, const std::string& body, const net::HttpHeaders& headers) {
  net::HttpClientOptions opts;
  opts.bearer_token = token;
  auto client = net::HttpClient::Create(base_url, opts);
  EXPECT_TRUE(client.ok()) << client.status();
  if (!client.ok()) return {};
  auto res = (*client)->Do(method, path, body, headers);
  EXPECT_TRUE(res.ok()) << method << " " << path << ": " << res.status();
  if (!res.ok()) return {};
  Reply r;
  r.status = res->status;
  r.raw = res->body;
  boost::system::error_code ec;
  r.body = json::parse(res->body, ec);
  if (ec) r.body = nullptr;
  return r;
}

TestControlPlane::TestControlPlane(std::unique_ptr<store::Store> store, ServerOptions options,
                                   bool random_ids)
    : store_(store ? std::move(store) : store::NewMemoryStore()) {
  options.listen = "127.0.0.1:0";
  options.run_reconciler = false;
  options.worker_threads = 4;
  IdGenerator& ids = random_ids ? static_cast<IdGenerator&>(random_ids_) : ids_;
  auto server = Server::Create(options, *store_, clock_, ids);
  EXPECT_TRUE(server.ok()) << server.status();
  server_ = std::move(server).value();
  auto port = server_->Start();
  EXPECT_TRUE(port.ok()) << port.status();
  url_ = "http://127.0.0.1:" + std::to_string(*port);
}

TestControlPlane::~TestControlPlane() { server_->Stop(); }

void TestControlPlane::Reconcile() {
  for (int i = 0; i < 10; ++i) {
    auto stats = server_->reconciler().RunOnce();
    ASSERT_TRUE(stats.ok()) << stats.status();
    if (stats->nodes_lost + stats->requeued + stats->failed + stats->succeeded + stats->running +
            stats->placed + stats->services.submitted + stats->services.cancelled +
            stats->services.ended ==
        0) {
      return;
    }
  }
}

std::string TestControlPlane::NewTenantToken(const std::string& name) {
  Reply t = Do("POST", "/v1/tenants", admin(), R"({"name":")" + name + R"("})");
  EXPECT_EQ(t.status, 201) << t.raw;
  Reply tok = Do("POST", "/v1/tenants/" + t.Str("id") + "/tokens", admin(), R"({"name":"t"})");
  EXPECT_EQ(tok.status, 201) << tok.raw;
  return tok.Str("token");
}

namespace {

// `items` (JSON a test built) as protocol values, through the protocol's own strict
// decoder: a test that builds a field the protocol does not know fails here.
template <typename T>
std::vector<T> DecodeEach(const json::array& items, const std::string& what) {
  std::vector<T> out;
  for (size_t i = 0; i < items.size(); ++i) {
    T item;
    Status st = protocol::JsonDecode(items[i], what + "[" + std::to_string(i) + "]",
                                     model::UnknownFields::kRefuse, item);
    EXPECT_TRUE(st.ok()) << st << " in " << json::serialize(items[i]);
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace

SimAgent::SimAgent(TestControlPlane& cp, std::string agent_id, int gpus, std::string model,
                   model::VmOffer vm)
    : cp_(cp) {
  protocol::RegisterRequest req;
  req.name = agent_id;
  req.agent_id = agent_id;
  // A secret of its own, the same for the same agent id, so that the agent registers again
  // (e.g. after the control plane's restart) as a real agent does from its state file.
  req.node_secret = "sim-node-secret-0123456789abcdef-" + agent_id;
  req.cpu_milli = 64000;
  req.memory_mib = 524288;
  req.simulated = true;
  for (int i = 0; i < gpus; ++i) {
    model::Gpu g;
    g.index = i;
    g.uuid = "SIM-" + agent_id + "-" + std::to_string(i);
    g.model = model;
    g.memory_mib = 81559;
    g.healthy = true;
    g.simulated = true;
    g.vm = vm;
    req.gpus.push_back(std::move(g));
  }
  Reply r = cp_.Do("POST", "/v1/nodes/register", cp_.server().join_token(),
                   protocol::EncodeRegister(req));
  EXPECT_EQ(r.status, 200) << r.raw;
  if (r.status != 200) return;
  auto answer = protocol::DecodeRegisterResponse(r.raw);
  EXPECT_TRUE(answer.ok()) << answer.status() << " in " << r.raw;
  if (!answer.ok()) return;
  node_id_ = answer->node_id;
  token_ = answer->node_token;
}

Reply SimAgent::Heartbeat(const json::array& replicas, const json::array& gpus) {
  protocol::HeartbeatRequest req;
  req.replicas = DecodeEach<protocol::ReplicaReport>(replicas, "replicas");
  req.gpus = DecodeEach<protocol::GpuHealthReport>(gpus, "gpus");
  return cp_.Do("POST", "/v1/nodes/" + node_id_ + "/heartbeat", token_,
                protocol::EncodeHeartbeat(req));
}

std::vector<std::string> SimAgent::Allocations(const Reply& hb) const {
  std::vector<std::string> ids;
  if (hb.status != 200) return ids;
  auto answer = protocol::DecodeHeartbeatResponse(hb.raw);
  EXPECT_TRUE(answer.ok()) << answer.status() << " in " << hb.raw;
  if (!answer.ok()) return ids;
  for (const protocol::DesiredReplica& d : answer->allocations) ids.push_back(d.allocation.id);
  return ids;
}

json::object ReplicaReportJson(const std::string& alloc_id, const std::string& state,
                               int exit_code) {
  protocol::ReplicaReport report;
  report.allocation_id = alloc_id;
  report.state = state;
  if (state == "exited") report.exit_code = exit_code;
  return json::value_from(report).as_object();
}

}  // namespace fastgpu::server::testing

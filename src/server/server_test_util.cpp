#include "server/server_test_util.h"

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

TestControlPlane::TestControlPlane(std::unique_ptr<store::Store> store, ServerOptions options)
    : store_(store ? std::move(store) : store::NewMemoryStore()) {
  options.listen = "127.0.0.1:0";
  options.run_reconciler = false;
  options.worker_threads = 4;
  auto server = Server::Create(options, *store_, clock_, ids_);
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
            stats->placed ==
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

SimAgent::SimAgent(TestControlPlane& cp, std::string agent_id, int gpus, std::string model)
    : cp_(cp) {
  json::array list;
  for (int i = 0; i < gpus; ++i) {
    list.push_back(json::object{{"index", i},
                                {"uuid", "SIM-" + agent_id + "-" + std::to_string(i)},
                                {"model", model},
                                {"memory_mib", 81559},
                                {"healthy", true},
                                {"simulated", true}});
  }
  // A secret of its own, the same for the same agent id, so that the agent registers again
  // (e.g. after the control plane's restart) as a real agent does from its state file.
  json::object body{{"name", agent_id},
                    {"agent_id", agent_id},
                    {"node_secret", "sim-node-secret-0123456789abcdef-" + agent_id},
                    {"cpu_milli", 64000},
                    {"memory_mib", 524288},
                    {"simulated", true},
                    {"gpus", std::move(list)}};
  Reply r = cp_.Do("POST", "/v1/nodes/register", cp_.server().join_token(), json::serialize(body));
  EXPECT_EQ(r.status, 200) << r.raw;
  node_id_ = r.Str("node_id");
  token_ = r.Str("node_token");
}

Reply SimAgent::Heartbeat(const json::array& replicas, const json::array& gpus) {
  json::object body{{"gpus", gpus}, {"replicas", replicas}};
  return cp_.Do("POST", "/v1/nodes/" + node_id_ + "/heartbeat", token_, json::serialize(body));
}

std::vector<std::string> SimAgent::Allocations(const Reply& hb) const {
  std::vector<std::string> ids;
  if (!hb.body.is_object()) return ids;
  for (const auto& a : hb.body.at("allocations").as_array()) {
    ids.emplace_back(a.at("allocation_id").as_string());
  }
  return ids;
}

json::object ReplicaReportJson(const std::string& alloc_id, const std::string& state,
                               int exit_code) {
  json::object o{{"allocation_id", alloc_id}, {"state", state}};
  if (state == "exited") {
    o["exit_code"] = exit_code;
    o["signal"] = 0;
  }
  return o;
}

}  // namespace fastgpu::server::testing

#include "agent/testing/fake_control_plane.h"

#include <boost/json.hpp>
#include <thread>

namespace fastgpu::testing {
namespace {
namespace json = boost::json;

TestResponse Error(int status, const std::string& code, const std::string& message) {
  return Reply(status, json::serialize(json::object{{"code", code}, {"message", message}}));
}

// The first field of `o` that the protocol does not define for that message, or "".
// (The real control plane refuses unknown fields, so the fake does too.)
std::string UnknownField(const json::object& o, std::initializer_list<const char*> known) {
  for (const auto& [key, value] : o) {
    bool ok = false;
    for (const char* k : known) ok = ok || key == k;
    if (!ok) return std::string(key);
  }
  return "";
}

std::string Bearer(const TestRequest& req) {
  std::string h = req.Header("authorization");
  return h.rfind("Bearer ", 0) == 0 ? h.substr(7) : "";
}

}  // namespace

Result<std::unique_ptr<FakeControlPlane>> FakeControlPlane::Start(std::string join_token) {
  std::unique_ptr<FakeControlPlane> cp(new FakeControlPlane());
  cp->join_token_ = std::move(join_token);
  FakeControlPlane* raw = cp.get();
  auto server = TestHttpServer::Start([raw](const TestRequest& r) {
    try {
      return raw->Handle(r);
    } catch (const std::exception& e) {  // a malformed body: the agent sent a bad message
      return Error(400, "INVALID_ARGUMENT", e.what());
    }
  });
  if (!server.ok()) return server.status();
  cp->server_ = std::move(server).value();
  return cp;
}

FakeControlPlane::~FakeControlPlane() {
  if (server_) server_->Stop();
}

std::string FakeControlPlane::url() const { return server_->url(); }

TestResponse FakeControlPlane::Handle(const TestRequest& req) {
  std::lock_guard lock(mu_);
  boost::system::error_code ec;
  json::value body = json::parse(req.body, ec);
  if (ec || !body.is_object()) return Error(400, "INVALID_ARGUMENT", "body is not a JSON object");
  const json::object& o = body.as_object();
  std::string path = req.Path();
  if (req.method == "POST" && path == "/v1/nodes/register") {
    if (Bearer(req) != join_token_) return Error(401, "UNAUTHENTICATED", "bad join token");
    std::string unknown = UnknownField(
        o, {"name", "agent_id", "node_secret", "cpu_milli", "memory_mib", "simulated", "gpus"});
    if (!unknown.empty()) return Error(400, "INVALID_ARGUMENT", "unknown field " + unknown);
    std::string agent_id = o.contains("agent_id") ? std::string(o.at("agent_id").as_string()) : "";
    std::string secret =
        o.contains("node_secret") ? std::string(o.at("node_secret").as_string()) : "";
    // As the real control plane: a known agent id registers again only with its secret.
    std::string& stored_secret = secret_by_agent_[agent_id];
    if (!stored_secret.empty() && secret != stored_secret) {
      return Error(409, "ALREADY_EXISTS", "node exists; its node_secret is required");
    }
    std::string& node = node_by_agent_[agent_id];
    if (node.empty()) node = "node-" + std::to_string(1000 + node_by_agent_.size());
    if (secret.empty()) secret = "secret-of-" + node + "-0123456789abcdef0123456789abcdef";
    stored_secret = secret;
    if (first_node_.empty()) first_node_ = node;
    std::string token = "tok-" + node + "-" + std::to_string(++registrations_);
    token_by_node_[node] = token;
    last_register_ = req.body;
    return Reply(200, json::serialize(json::object{{"node_id", node},
                                                   {"node_token", token},
                                                   {"node_secret", secret},
                                                   {"heartbeat_interval_ms", 100},
                                                   {"lease_ms", 15000}}));
  }
  const std::string prefix = "/v1/nodes/";
  if (req.method != "POST" || path.rfind(prefix, 0) != 0) {
    return Error(404, "NOT_FOUND", "no route " + path);
  }
  std::string rest = path.substr(prefix.size());
  std::string node = rest.substr(0, rest.find('/'));
  std::string verb = rest.find('/') == std::string::npos ? "" : rest.substr(rest.find('/') + 1);
  auto tok = token_by_node_.find(node);
  if (tok == token_by_node_.end()) return Error(404, "NOT_FOUND", "unknown node " + node);
  if (Bearer(req) != tok->second) return Error(401, "UNAUTHENTICATED", "bad node token");
  if (verb == "heartbeat") {
    if (std::string unknown = UnknownField(o, {"gpus", "replicas"}); !unknown.empty()) {
      return Error(400, "INVALID_ARGUMENT", "unknown field " + unknown);
    }
    ++heartbeats_;
    last_heartbeat_ = req.body;
    gpus_.clear();
    if (const json::value* g = o.if_contains("gpus"); g && g->is_array()) {
      for (const json::value& gv : g->as_array()) {
        const json::object& go = gv.as_object();
        SeenGpu sg;
        sg.index = static_cast<int>(go.at("index").as_int64());
        sg.healthy = go.at("healthy").as_bool();
        sg.health_reason = std::string(go.at("health_reason").as_string());
        gpus_.push_back(sg);
      }
    }
    if (const json::value* rs = o.if_contains("replicas"); rs && rs->is_array()) {
      for (const json::value& rv : rs->as_array()) {
        const json::object& ro = rv.as_object();
        std::string unknown = UnknownField(ro, {"allocation_id", "state", "pid", "exit_code",
                                                "signal", "started_at", "ended_at", "message",
                                                "reason"});
        if (!unknown.empty()) return Error(400, "INVALID_ARGUMENT", "unknown field " + unknown);
        SeenReplica r;
        r.state = std::string(ro.at("state").as_string());
        if (ro.contains("pid")) r.pid = static_cast<int>(ro.at("pid").as_int64());
        if (ro.contains("exit_code")) r.exit_code = static_cast<int>(ro.at("exit_code").as_int64());
        if (ro.contains("signal")) r.signal = static_cast<int>(ro.at("signal").as_int64());
        if (ro.contains("message")) r.message = std::string(ro.at("message").as_string());
        if (ro.contains("reason")) r.reason = std::string(ro.at("reason").as_string());
        replicas_[std::string(ro.at("allocation_id").as_string())] = r;
      }
    }
    json::array allocs;
    for (const DesiredReplica& d : allocations_)
      allocs.push_back(json::parse(EncodeDesiredReplica(d)));
    json::array cancel;
    for (const std::string& c : cancel_) cancel.push_back(json::string(c));
    return Reply(200, json::serialize(json::object{
                          {"lease_ms", 15000}, {"allocations", allocs}, {"cancel", cancel}}));
  }
  if (verb == "logs") {
    std::string id(o.at("allocation_id").as_string());
    int64_t offset = o.at("offset").as_int64();
    std::string& log = logs_[id];
    if (offset == static_cast<int64_t>(log.size())) log += std::string(o.at("data").as_string());
    return Reply(200, json::serialize(json::object{{"next_offset", log.size()}}));
  }
  return Error(404, "NOT_FOUND", "no route " + path);
}

void FakeControlPlane::SetAllocations(std::vector<DesiredReplica> allocations) {
  std::lock_guard lock(mu_);
  allocations_ = std::move(allocations);
}
void FakeControlPlane::ForgetNodeTokens() {
  std::lock_guard lock(mu_);
  token_by_node_.clear();
}
void FakeControlPlane::SetCancel(std::vector<std::string> cancel) {
  std::lock_guard lock(mu_);
  cancel_ = std::move(cancel);
}
int FakeControlPlane::registrations() const {
  std::lock_guard lock(mu_);
  return registrations_;
}
int FakeControlPlane::heartbeats() const {
  std::lock_guard lock(mu_);
  return heartbeats_;
}
std::string FakeControlPlane::node_id() const {
  std::lock_guard lock(mu_);
  return first_node_;
}
std::string FakeControlPlane::last_register_body() const {
  std::lock_guard lock(mu_);
  return last_register_;
}
std::string FakeControlPlane::last_heartbeat_body() const {
  std::lock_guard lock(mu_);
  return last_heartbeat_;
}
std::map<std::string, FakeControlPlane::SeenReplica> FakeControlPlane::replicas() const {
  std::lock_guard lock(mu_);
  return replicas_;
}
std::vector<FakeControlPlane::SeenGpu> FakeControlPlane::gpus() const {
  std::lock_guard lock(mu_);
  return gpus_;
}
std::string FakeControlPlane::logs(const std::string& allocation_id) const {
  std::lock_guard lock(mu_);
  auto it = logs_.find(allocation_id);
  return it == logs_.end() ? "" : it->second;
}

bool FakeControlPlane::WaitFor(const std::function<bool()>& done,
                               std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

DesiredReplica TestAllocation(const std::string& id, std::vector<std::string> command,
                              std::vector<VgpuSlice> slices) {
  DesiredReplica d;
  d.allocation.id = id;
  d.allocation.job_id = "job-" + id;
  d.allocation.replica = 0;
  d.allocation.cpu_milli = 500;
  d.allocation.memory_mib = 256;
  d.allocation.slices = std::move(slices);
  d.replicas = 1;
  d.command = std::move(command);
  return d;
}

}  // namespace fastgpu::testing

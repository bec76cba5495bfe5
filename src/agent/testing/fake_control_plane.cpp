#include "agent/testing/fake_control_plane.h"

#include <boost/json.hpp>
#include <thread>

namespace fastgpu::testing {
namespace {
namespace json = boost::json;

TestResponse Error(int status, const std::string& code, const std::string& message) {
  return Reply(status, json::serialize(json::object{{"code", code}, {"message", message}}));
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
  auto server = TestHttpServer::Start([raw](const TestRequest& r) { return raw->Handle(r); });
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
  // Requests are read with the protocol's own decoders, the ones the real control plane
  // uses (agent/protocol.h): what the fake accepts, the real one does.
  std::string path = req.Path();
  if (req.method == "POST" && path == "/v1/nodes/register") {
    if (Bearer(req) != join_token_) return Error(401, "UNAUTHENTICATED", "bad join token");
    auto reg = protocol::DecodeRegister(req.body);
    if (!reg.ok()) return Error(400, "INVALID_ARGUMENT", reg.status().message());
    std::string secret = reg->node_secret;
    // As the real control plane: a known agent id registers again only with its secret.
    std::string& stored_secret = secret_by_agent_[reg->agent_id];
    if (!stored_secret.empty() && secret != stored_secret) {
      return Error(409, "ALREADY_EXISTS", "node exists; its node_secret is required");
    }
    std::string& node = node_by_agent_[reg->agent_id];
    if (node.empty()) node = "node-" + std::to_string(1000 + node_by_agent_.size());
    if (secret.empty()) secret = "secret-of-" + node + "-0123456789abcdef0123456789abcdef";
    stored_secret = secret;
    if (first_node_.empty()) first_node_ = node;
    std::string token = "tok-" + node + "-" + std::to_string(++registrations_);
    token_by_node_[node] = token;
    last_register_ = req.body;
    protocol::RegisterResponse resp;
    resp.node_id = node;
    resp.node_token = token;
    resp.node_secret = secret;
    resp.heartbeat_interval_ms = 100;
    resp.lease_ms = 15000;
    return Reply(200, protocol::EncodeRegisterResponse(resp));
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
    auto hb = protocol::DecodeHeartbeat(req.body);
    if (!hb.ok()) return Error(400, "INVALID_ARGUMENT", hb.status().message());
    ++heartbeats_;
    last_heartbeat_ = req.body;
    gpus_.clear();
    for (const protocol::GpuHealthReport& g : hb->gpus)
      gpus_.push_back({g.index, g.healthy, g.health_reason, g.utilization_pct});
    for (const protocol::ReplicaReport& rep : hb->replicas) {
      replicas_[rep.allocation_id] = {rep.state,   rep.pid,    rep.exit_code, rep.signal,
                                      rep.message, rep.reason, rep.endpoint,  rep.ready};
    }
    protocol::HeartbeatResponse resp;
    resp.lease_ms = 15000;
    resp.allocations = allocations_;
    resp.cancel = cancel_;
    return Reply(200, protocol::EncodeHeartbeatResponse(resp));
  }
  if (verb == "logs") {
    auto chunk = protocol::DecodeLogShipment(req.body);
    if (!chunk.ok()) return Error(400, "INVALID_ARGUMENT", chunk.status().message());
    std::string& log = logs_[chunk->allocation_id];
    if (chunk->offset == static_cast<int64_t>(log.size())) log += chunk->data;
    protocol::LogResponse resp;
    resp.next_offset = static_cast<int64_t>(log.size());
    return Reply(200, protocol::EncodeLogResponse(resp));
  }
  return Error(404, "NOT_FOUND", "no route " + path);
}

void FakeControlPlane::SetAllocations(std::vector<protocol::DesiredReplica> allocations) {
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

protocol::DesiredReplica TestAllocation(const std::string& id, std::vector<std::string> command,
                                        std::vector<model::VgpuSlice> slices) {
  protocol::DesiredReplica d;
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

// Test fixtures of the server module: a control plane on 127.0.0.1 port 0 backed by
// an in-memory store and a ManualClock (no reconciler thread: tests call RunOnce),
// a JSON-speaking client, and a simulated agent that speaks docs/agent-protocol.md.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "model/gpu.h"
#include "net/http_client.h"
#include "server/server.h"
#include "store/store.h"

namespace fastgpu::server::testing {

namespace json = boost::json;

struct Reply {
  int status = 0;
  json::value body;  // null when the body is not JSON
  std::string raw;
  // body[key] as a string ("" when absent).
  std::string Str(std::string_view key) const;
};

// One HTTP call; a transport failure fails the test and returns status 0.
Reply Call(const std::string& base_url, const std::string& method, const std::string& path,
           const std::string& token, const std::string& body = "",
           const net::HttpHeaders& headers = {});

class TestControlPlane {
 public:
  // `store` may be null: a fresh in-memory store is made. Ids are sequential (their order
  // is the order of creation) unless `random_ids`, as in a real server.
  explicit TestControlPlane(std::unique_ptr<store::Store> store = nullptr,
                            ServerOptions options = {}, bool random_ids = false);
  ~TestControlPlane();

  Reply Do(const std::string& method, const std::string& path, const std::string& token,
           const std::string& body = "", const net::HttpHeaders& headers = {}) {
    return Call(url_, method, path, token, body, headers);
  }
  // Runs reconciler passes until one changes nothing (at most 10).
  void Reconcile();
  // Creates a tenant and returns a token of it.
  std::string NewTenantToken(const std::string& name);

  ManualClock& clock() { return clock_; }
  store::Store& store() { return *store_; }
  Server& server() { return *server_; }
  const std::string& url() const { return url_; }
  const std::string& admin() const { return server_->admin_token(); }

 private:
  ManualClock clock_;
  SequentialIdGenerator ids_;
  RandomIdGenerator random_ids_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Server> server_;
  std::string url_;
};

// A simulated node agent: registers `gpus` GPUs of `model` (with a node secret derived from
// `agent_id`, so the same agent id registers again) and heartbeats on demand.
class SimAgent {
 public:
  SimAgent(TestControlPlane& cp, std::string agent_id, int gpus, std::string model = "H100-80GB",
           model::VmOffer vm = {});  // what each GPU offers to vm work (default nothing)
  // Sends a heartbeat with the given replica reports and GPU health; returns the answer.
  Reply Heartbeat(const json::array& replicas = {}, const json::array& gpus = {});
  // Allocation ids in the latest heartbeat answer.
  std::vector<std::string> Allocations(const Reply& heartbeat) const;
  const std::string& node_id() const { return node_id_; }
  const std::string& token() const { return token_; }

 private:
  TestControlPlane& cp_;
  std::string node_id_;
  std::string token_;
};

// A replica report {"allocation_id","state",...}.
json::object ReplicaReportJson(const std::string& alloc_id, const std::string& state,
                               int exit_code = 0);

}  // namespace fastgpu::server::testing

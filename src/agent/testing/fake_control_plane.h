// FakeControlPlane: the control plane's side of docs/agent-protocol.md, in memory, for
// agent tests (never used in production). Serves register, heartbeat and logs on
// 127.0.0.1 port 0; the test sets the desired allocations and cancel list and reads back
// what the agent reported. Tokens are checked (join token for register, node token for
// the rest); registering again with the same agent_id keeps the node id and needs the
// node secret given at the first registration (409 without it).
//
// Thread safety: all methods are thread-safe (the server thread calls in too).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/testing/test_http_server.h"
#include "protocol/agent_protocol.h"

namespace fastgpu::testing {

class FakeControlPlane {
 public:
  struct SeenReplica {
    std::string state;
    int pid = 0;
    int exit_code = 0;
    int signal = 0;
    std::string message;
    std::string reason;
    std::string endpoint;
    bool ready = false;
  };
  struct SeenGpu {
    int index = 0;
    bool healthy = true;
    std::string health_reason;
    int utilization_pct = -1;
  };

  static Result<std::unique_ptr<FakeControlPlane>> Start(std::string join_token = "join-secret");
  ~FakeControlPlane();

  std::string url() const;
  const std::string& join_token() const { return join_token_; }

  void SetAllocations(std::vector<protocol::DesiredReplica> allocations);
  void SetCancel(std::vector<std::string> cancel);
  // Forgets every node token, as a control plane that lost its nodes: heartbeats then
  // get 404 and agents must register again (with their node secret).
  void ForgetNodeTokens();

  int registrations() const;
  int heartbeats() const;
  std::string node_id() const;  // of the first agent that registered
  std::string last_register_body() const;
  std::string last_heartbeat_body() const;
  std::map<std::string, SeenReplica> replicas() const;  // latest report per allocation
  std::vector<SeenGpu> gpus() const;                    // latest heartbeat's GPUs
  std::string logs(const std::string& allocation_id) const;

  // Polls `done` every 10 ms until it is true or `timeout` passes; returns its last value.
  static bool WaitFor(const std::function<bool()>& done,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20));

 private:
  FakeControlPlane() = default;
  TestResponse Handle(const TestRequest& req);

  std::string join_token_;
  std::unique_ptr<TestHttpServer> server_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> node_by_agent_;  // agent_id -> node id
  std::map<std::string, std::string> token_by_node_;
  std::map<std::string, std::string> secret_by_agent_;  // agent_id -> its node secret
  std::vector<protocol::DesiredReplica> allocations_;
  std::vector<std::string> cancel_;
  int registrations_ = 0;
  int heartbeats_ = 0;
  std::string first_node_;
  std::string last_register_;
  std::string last_heartbeat_;
  std::map<std::string, SeenReplica> replicas_;
  std::vector<SeenGpu> gpus_;
  std::map<std::string, std::string> logs_;
};

// A fractional or whole-GPU allocation for tests: `command` run as job "job-<id>".
protocol::DesiredReplica TestAllocation(const std::string& id, std::vector<std::string> command,
                                        std::vector<model::VgpuSlice> slices = {});

}  // namespace fastgpu::testing

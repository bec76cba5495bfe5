// The `simulated` node provider: a created node's agent starts in this process after the
// group's boot delay (measured on the Clock, so tests drive it with a ManualClock), through a
// launcher the binary gives (`fastgpu up` and `fastgpu server` start an agent with simulated
// GPUs of the group's shape, as `fastgpu up --simulate-gpus` does; tests register a
// simulated agent over HTTP). Deleting a node stops its agent (the launched object is
// destroyed).
//
// Borrows the clock. Thread-safe (one mutex).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "server/pool_provider.h"

namespace fastgpu::server {

// A running simulated node; destroying it stops the node's agent.
class SimulatedNode {
 public:
  virtual ~SimulatedNode() = default;
};

// Starts the agent of `request`; an error is shown as the group's reason.
using SimulatedNodeLauncher =
    std::function<Result<std::unique_ptr<SimulatedNode>>(const NodeRequest& request)>;

class SimulatedProvider : public NodeProvider {
 public:
  // `boot_delays` by group name (a group not named boots at once).
  SimulatedProvider(Clock& clock, SimulatedNodeLauncher launcher,
                    std::map<std::string, std::chrono::seconds> boot_delays);
  ~SimulatedProvider() override;

  Status Create(const NodeRequest& request) override;
  Status Delete(const std::string& group, const std::string& name) override;
  Result<std::vector<std::string>> List(const std::string& group) override;
  void Tick(MonoTime now) override;

  // Nodes whose agent started (tests).
  int started() const;

 private:
  struct Node {
    NodeRequest request;
    MonoTime start_at{};
    std::unique_ptr<SimulatedNode> running;  // null until started
  };
  Clock& clock_;
  SimulatedNodeLauncher launcher_;
  std::map<std::string, std::chrono::seconds> boot_delays_;
  mutable std::mutex mu_;
  std::map<std::string, Node> nodes_;  // by name
};

}  // namespace fastgpu::server

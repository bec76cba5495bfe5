// NodeProvider: what starts and stops the machines of one node group (pool.h).
//
// A node is asked for by name: the pool picks a unique name ("<group>-<n>"), the provider
// starts a machine whose agent registers with that node name (`fastgpu agent --name`), and
// the pool matches the registered node by it. Implementations: `simulated` (agents in this
// process after a boot delay: pool_sim_provider.h) and `exec` (the operator's command:
// pool_exec_provider.h). Calls come from the reconciler's thread, one at a time; a call may
// block for at most the provider's own time limit.
#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/status.h"
#include "server/pool_config.h"

namespace fastgpu::server {

// What a provider needs to start one node.
struct NodeRequest {
  std::string group;
  std::string name;  // the node name its agent must register with
  PoolNodeShape shape;
  std::string server_url;  // where its agent reaches the control plane
  std::string join_token;  // what its agent joins with
};

class NodeProvider {
 public:
  virtual ~NodeProvider() = default;
  // Asks for a node. OK once the provider accepted (the node boots afterwards); an error
  // carries a reason shown on the group (the command's stderr for `exec`).
  virtual Status Create(const NodeRequest& request) = 0;
  // Gives the node back. OK also when the provider no longer knows it.
  virtual Status Delete(const std::string& group, const std::string& name) = 0;
  // The names of the group's nodes the provider holds (booting or up).
  virtual Result<std::vector<std::string>> List(const std::string& group) = 0;
  // Called at the start of every pool step (the simulated provider starts the agents whose
  // boot delay has passed). Default: nothing.
  virtual void Tick(MonoTime now) { (void)now; }
};

}  // namespace fastgpu::server

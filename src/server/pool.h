// NodePool: node groups that grow and shrink with the pending work (docs/pool.md).
//
// The reconciler calls Step() at the end of each pass, so only the leader scales (a
// follower runs no reconciler). A step:
//   1. lets the providers start what is due (NodeProvider::Tick);
//   2. booting nodes: one that registered (a ready store node of its name) is ready; one
//      that did not within its group's boot_timeout is deleted at its provider and its
//      group shows why (the pending work asks for another at once: retried);
//   3. ready nodes: one the store lost is deleted at the provider and forgotten; one empty
//      (no live allocation) for its group's scale_down_after, above the group's min_nodes,
//      is drained; a drained node still empty at the next step is deleted at the provider
//      and its store record marked lost with its credentials revoked; a node with work is
//      never deleted (a draining node that got work back is undrained);
//   4. scale up: each pending job that is still pending after placement books each of its
//      replicas on the room of a booting node (so one job does not start several nodes),
//      else starts a node of the group whose node costs least for the replica's dominant
//      share of it (price_per_hour times the largest of its GPU, CPU and memory shares, the
//      simulator's rule, docs/elastic.md), never above max_nodes; groups below min_nodes
//      are brought up to it. A provider error stops that group for the step and is shown
//      as its reason;
//   5. a booting node no pending job counts on any more is deleted (down to min_nodes).
// Before its first step (and after Resync) the pool adopts the nodes its providers hold that
// it does not know (Resync below). Time comes from the Clock (monotonic for timeouts). Owns the providers; borrows the
// clock. Thread-safe: Step and Snapshot take one mutex (Snapshot serves GET /v1/pool).
#pragma once

#include <boost/json.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "model/job.h"
#include "server/pool_config.h"
#include "server/pool_provider.h"
#include "store/store.h"

namespace fastgpu::server {

enum class PoolNodeState { kBooting, kReady, kDraining };
std::string_view PoolNodeStateName(PoolNodeState s);  // "booting", "ready", "draining"

// What GET /v1/pool and `fastgpu pool status` show.
struct NodePoolSnapshot {
  struct Node {
    std::string name;
    std::string node_id;  // the store's id once registered, else ""
    PoolNodeState state = PoolNodeState::kBooting;
    int64_t age_s = 0;  // since created
  };
  struct Group {
    NodeGroupConfig config;
    std::vector<Node> nodes;
    std::string reason;  // the latest provider failure or boot timeout; "" when none
    int64_t boot_failures = 0;
    int64_t created = 0;  // nodes asked of the provider so far
    int64_t deleted = 0;  // nodes given back so far
  };
  struct Pending {
    std::string job_id;
    std::string why;
  };
  std::vector<Group> groups;
  std::vector<Pending> pending;  // pending jobs the latest step looked at, with what it did
};

// What one step did.
struct PoolStepStats {
  int created = 0;
  int deleted = 0;
  int drained = 0;
  int boot_timeouts = 0;
};

// GET /v1/pool's answer:
// {"enabled":true,"groups":[{"name","provider","min_nodes","max_nodes","shape",
// "price_per_hour","boot_timeout_s","scale_down_after_s","reason","boot_failures","created",
// "deleted","nodes":[{"name","node_id","state","age_s"}]}],"pending":[{"job_id","why"}]}.
boost::json::object NodePoolSnapshotToJson(const NodePoolSnapshot& snapshot);
// Prometheus text: fastgpu_pool_nodes{group,state} (every state, zeros included),
// fastgpu_pool_nodes_min / _max{group}, fastgpu_pool_boot_failures_total{group},
// fastgpu_pool_nodes_created_total / _deleted_total{group}, fastgpu_pool_pending_jobs.
std::string RenderPoolMetrics(const NodePoolSnapshot& snapshot);

class NodePool {
 public:
  // `providers` by provider name ("exec", "simulated"); every group's provider must be
  // there (InvalidArgument names the group otherwise).
  static Result<std::unique_ptr<NodePool>> Create(
      PoolConfig config, std::map<std::string, std::unique_ptr<NodeProvider>> providers,
      Clock& clock);

  // Where new nodes' agents reach the control plane and what they join with (the server
  // sets it when it starts listening).
  void SetControlPlane(std::string server_url, std::string join_token);

  // One step (see the file comment) against the store. `pending` are the jobs still
  // pending after the pass's placement, oldest first. Store errors end the step early.
  Result<PoolStepStats> Step(store::Store& store, const std::vector<model::Job>& pending);

  NodePoolSnapshot Snapshot() const;

  // CanShrink (pool_config.h) of the groups: whether nodes that empty out can be given back.
  bool CanShrink() const;

  // The next step first asks every group's provider which nodes it holds (List) and adopts
  // those the pool does not know: a control plane that has just started or just become the
  // leader takes over the nodes an earlier leader asked for. A held node registered and
  // ready is ready (draining when it was drained), any other is booting from now (its boot
  // timeout counts from the adoption); new names continue after the highest "<group>-<n>"
  // adopted. A failing List is the group's reason and is retried at the next step. Done
  // once at creation and again after each Resync (the reconciler's, on becoming leader).
  void Resync();

 private:
  struct Instance {
    std::string name;
    std::string node_id;
    PoolNodeState state = PoolNodeState::kBooting;
    MonoTime created{};
    MonoTime empty_since{};
    bool empty = false;
    bool fresh = false;  // became ready in this step: its room still counts as booting room
    // Room left for pending replicas while booting (GPU milli per GPU, CPU, memory).
    std::vector<int> gpu_milli_free;
    int64_t cpu_free = 0;
    int64_t memory_free = 0;
  };
  struct Group {
    NodeGroupConfig config;
    NodeProvider* provider = nullptr;
    std::vector<Instance> instances;
    std::string reason;
    int64_t boot_failures = 0;
    int64_t created = 0;
    int64_t deleted = 0;
    int64_t next_index = 1;
    bool adopted = false;  // the provider's nodes were listed since the last Resync
  };
  NodePool(Clock& clock) : clock_(clock) {}
  Status Observe(store::Store& store, const std::map<std::string, int>& live_by_node, Group& g,
                 PoolStepStats& stats);
  // Lists the group's nodes at its provider and adopts those the pool does not know.
  Status Adopt(store::Store& store, Group& g);
  bool StartNode(Group& g, Instance** started);
  static bool Fits(const Instance& room, const model::Shape& shape, const PoolNodeShape& node);
  static void Book(Instance& room, const model::Shape& shape);
  static Instance EmptyRoom(const PoolNodeShape& shape);

  Clock& clock_;
  std::map<std::string, std::unique_ptr<NodeProvider>> providers_;
  mutable std::mutex mu_;
  std::vector<Group> groups_;  // guarded by mu_
  std::vector<NodePoolSnapshot::Pending> pending_;
  std::string server_url_;
  std::string join_token_;
};

}  // namespace fastgpu::server

// The node pool (pool.h) through a real control plane on 127.0.0.1 port 0 with a ManualClock:
// the simulated provider registers simulated agents over HTTP after its boot delay; the
// test advances time, heartbeats the live agents and runs reconciler passes.
#include "server/pool.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <memory>
#include <string>

#include "server/pool_sim_provider.h"
#include "server/reconciler_test_util.h"
#include "server/server_test_util.h"

namespace fastgpu::server::testing {
namespace {

using std::chrono::seconds;

// A simulated provider whose nodes are SimAgents of the test's control plane.
class PoolHarness {
 public:
  explicit PoolHarness(const std::string& pool_json,
                       std::unique_ptr<NodeProvider> extra_provider = nullptr,
                       const std::string& policy = "") {
    auto config = ParsePoolConfig(pool_json);
    EXPECT_TRUE(config.ok()) << config.status();
    std::map<std::string, seconds> delays;
    for (const auto& g : config->groups) delays[g.name] = g.simulated.boot_delay;
    std::map<std::string, std::unique_ptr<NodeProvider>> providers;
    providers["simulated"] = std::make_unique<SimulatedProvider>(
        clock_, [this](const NodeRequest& r) { return Launch(r); }, delays);
    if (extra_provider) providers["exec"] = std::move(extra_provider);
    auto pool = NodePool::Create(*config, std::move(providers), clock_);
    EXPECT_TRUE(pool.ok()) << pool.status();
    pool_ = std::shared_ptr<NodePool>(std::move(pool).value());
    ServerOptions options;
    options.pool = pool_;
    if (!policy.empty()) options.policy = policy;
    cp_ = std::make_unique<TestControlPlane>(nullptr, options);
  }

  // Advances the clocks by `d` (the control plane's and the pool's), heartbeats every live
  // agent (reporting each replica it was given as exited 0 when `finish`), and runs a pass.
  void Step(std::chrono::seconds d, bool finish = false) {
    cp_->clock().Advance(d);
    clock_.Advance(d);
    for (auto& [name, agent] : live_) {
      Reply hb = agent->Heartbeat();
      if (finish) {
        auto allocs = agent->Allocations(hb);
        if (!allocs.empty()) agent->Heartbeat(Reports(allocs, "exited", 0));
      }
    }
    Pass(*cp_);
  }
  NodePoolSnapshot::Group Group(size_t i) { return pool_->Snapshot().groups.at(i); }
  std::string Why(const std::string& job) {
    for (const auto& p : pool_->Snapshot().pending) {
      if (p.job_id == job) return p.why;
    }
    return "(not pending)";
  }
  TestControlPlane& cp() { return *cp_; }
  NodePool& pool() { return *pool_; }
  int live() const { return static_cast<int>(live_.size()); }

 private:
  class Node : public SimulatedNode {
   public:
    Node(PoolHarness& h, std::string name, std::unique_ptr<SimAgent> agent)
        : h_(h), name_(std::move(name)) {
      h_.live_[name_] = std::move(agent);
    }
    ~Node() override { h_.live_.erase(name_); }

   private:
    PoolHarness& h_;
    std::string name_;
  };
  Result<std::unique_ptr<SimulatedNode>> Launch(const NodeRequest& r) {
    auto agent = std::make_unique<SimAgent>(*cp_, r.name, r.shape.gpus, r.shape.gpu_model);
    if (agent->node_id().empty()) return Internal("registration failed");
    return std::unique_ptr<SimulatedNode>(std::make_unique<Node>(*this, r.name, std::move(agent)));
  }

  ManualClock clock_;  // the pool's (the control plane's is advanced alongside)
  std::map<std::string, std::unique_ptr<SimAgent>> live_;
  std::shared_ptr<NodePool> pool_;
  std::unique_ptr<TestControlPlane> cp_;
};

std::string Group(const std::string& name, int min, int max, int gpus, double price,
                  int boot_delay = 10, int boot_timeout = 60, int down_after = 30) {
  return R"({"name":")" + name + R"(","provider":"simulated","min_nodes":)" + std::to_string(min) +
         R"(,"max_nodes":)" + std::to_string(max) + R"(,"shape":{"gpu_model":"H100-80GB","gpus":)" +
         std::to_string(gpus) + R"(,"cpu":"32","memory":"256GiB"},"price_per_hour":)" +
         std::to_string(price) + R"(,"boot_timeout_s":)" + std::to_string(boot_timeout) +
         R"(,"scale_down_after_s":)" + std::to_string(down_after) +
         R"(,"simulated":{"boot_delay_s":)" + std::to_string(boot_delay) + "}}";
}

std::string Pool(const std::string& groups) { return R"({"groups":[)" + groups + "]}"; }

int Count(const NodePoolSnapshot::Group& g, PoolNodeState s) {
  int n = 0;
  for (const auto& node : g.nodes) n += node.state == s ? 1 : 0;
  return n;
}

TEST(PoolTest, GrowsForAPendingJobOnceThenShrinksAfterIdle) {
  PoolHarness h(Pool(Group("gpu", 0, 3, 2, 4.0)));
  EXPECT_EQ(h.Group(0).nodes.size(), 0u);
  std::string id = Submit(h.cp(), JobBody(1, 0, "\"gpu_count\":1"));
  h.Step(seconds(1));
  ASSERT_EQ(h.Group(0).nodes.size(), 1u);
  EXPECT_EQ(h.Group(0).nodes[0].state, PoolNodeState::kBooting);
  EXPECT_EQ(h.Why(id), "waiting for pool node gpu-1");
  // More passes while it boots: the booting node's room is counted, nothing more starts.
  h.Step(seconds(1));
  h.Step(seconds(1));
  EXPECT_EQ(h.Group(0).nodes.size(), 1u);
  EXPECT_EQ(h.Group(0).created, 1);
  // The boot delay passes: the agent registers, the job is placed on it.
  h.Step(seconds(8));
  ASSERT_EQ(h.live(), 1);
  h.Step(seconds(1));
  EXPECT_EQ(h.Group(0).nodes[0].state, PoolNodeState::kReady);
  EXPECT_EQ(GetJob(h.cp(), id).Str("state"), "scheduled");
  EXPECT_EQ(h.Group(0).nodes.size(), 1u);
  // It runs and ends; the node stays while scale_down_after (30 s) has not passed.
  h.Step(seconds(1), /*finish=*/true);
  h.Step(seconds(1));
  EXPECT_EQ(GetJob(h.cp(), id).Str("state"), "succeeded");
  h.Step(seconds(20));
  EXPECT_EQ(Count(h.Group(0), PoolNodeState::kReady), 1);
  // Empty for 30 s: drained, then given back (below it stays none: min 0).
  h.Step(seconds(10));
  h.Step(seconds(1));
  EXPECT_EQ(h.Group(0).nodes.size(), 0u);
  EXPECT_EQ(h.Group(0).deleted, 1);
  EXPECT_EQ(h.live(), 0);
  Reply nodes = h.cp().Do("GET", "/v1/nodes", h.cp().admin());
  ASSERT_EQ(nodes.body.at("nodes").as_array().size(), 1u);
  EXPECT_EQ(nodes.body.at("nodes").as_array()[0].at("state").as_string(), "lost");
}

TEST(PoolTest, NeverAboveMaxNorBelowMin) {
  PoolHarness h(Pool(Group("gpu", 1, 2, 2, 4.0, /*boot_delay=*/0, 60, /*down_after=*/5)));
  h.Step(seconds(1));  // min_nodes: one node at once, with no work
  EXPECT_EQ(h.Group(0).nodes.size(), 1u);
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(Submit(h.cp(), JobBody(1, 0, "\"gpu_count\":2")));
  for (int i = 0; i < 5; ++i) h.Step(seconds(1));
  EXPECT_EQ(h.Group(0).nodes.size(), 2u);  // max_nodes
  EXPECT_EQ(h.Group(0).created, 2);
  int scheduled = 0;
  for (const auto& id : ids) scheduled += GetJob(h.cp(), id).Str("state") == "scheduled" ? 1 : 0;
  EXPECT_EQ(scheduled, 2);
  int at_max = 0;
  for (const auto& id : ids) at_max += h.Why(id).find("max_nodes") != std::string::npos ? 1 : 0;
  EXPECT_EQ(at_max, 2);
  // All the work ends; after scale_down_after the pool shrinks to min_nodes and stays.
  for (int i = 0; i < 6; ++i) h.Step(seconds(1), /*finish=*/true);
  for (int i = 0; i < 20; ++i) h.Step(seconds(2), /*finish=*/true);
  for (const auto& id : ids) EXPECT_EQ(GetJob(h.cp(), id).Str("state"), "succeeded") << id;
  EXPECT_EQ(h.Group(0).nodes.size(), 1u);
  EXPECT_EQ(Count(h.Group(0), PoolNodeState::kReady), 1);
  EXPECT_EQ(h.live(), 1);
}

TEST(PoolTest, BootTimeoutDeletesAndRetriesWithReason) {
  PoolHarness h(Pool(Group("slow", 0, 2, 1, 1.0, /*boot_delay=*/100, /*boot_timeout=*/20)));
  std::string id = Submit(h.cp(), JobBody(1, 0, "\"gpu_count\":1"));
  h.Step(seconds(1));
  ASSERT_EQ(h.Group(0).nodes.size(), 1u);
  EXPECT_EQ(h.Group(0).nodes[0].name, "slow-1");
  h.Step(seconds(10));
  EXPECT_EQ(h.Group(0).reason, "");
  h.Step(seconds(10));
  auto g = h.Group(0);
  EXPECT_EQ(g.boot_failures, 1);
  EXPECT_NE(g.reason.find("node slow-1 did not register within 20 s"), std::string::npos)
      << g.reason;
  ASSERT_EQ(g.nodes.size(), 1u);  // retried at once: the job still waits
  EXPECT_EQ(g.nodes[0].name, "slow-2");
  EXPECT_EQ(g.nodes[0].state, PoolNodeState::kBooting);
  EXPECT_EQ(h.live(), 0);
  EXPECT_EQ(h.Why(id), "waiting for pool node slow-2");
}

TEST(PoolTest, PicksTheCheapestGroupForTheDominantShare) {
  // big: 8 GPUs at 16/h (2/h a GPU); small: 1 GPU at 3/h. One GPU costs less on big (16 *
  // 1/8 = 2 < 3); four GPUs fit only big.
  PoolHarness h(Pool(Group("small", 0, 4, 1, 3.0) + "," + Group("big", 0, 4, 8, 16.0)));
  std::string one = Submit(h.cp(), JobBody(1, 0, "\"gpu_count\":1"));
  h.Step(seconds(1));
  EXPECT_EQ(h.Group(0).nodes.size(), 0u);
  EXPECT_EQ(h.Group(1).nodes.size(), 1u);
  // A second one-GPU job books the same booting node.
  std::string two = Submit(h.cp(), JobBody(1, 0, "\"gpu_count\":1"));
  std::string four = Submit(h.cp(), JobBody(1, 0, "\"gpu_count\":4"));
  h.Step(seconds(1));
  EXPECT_EQ(h.Group(1).nodes.size(), 1u);
  EXPECT_EQ(h.Why(two), "waiting for pool node big-1");
  EXPECT_EQ(h.Why(four), "waiting for pool node big-1");
  // A job no group's node holds says so and starts nothing.
  std::string huge = Submit(h.cp(), JobBody(1, 0, "\"gpu_count\":16"));
  h.Step(seconds(1));
  EXPECT_EQ(h.Why(huge), "fits no group's node shape");
  EXPECT_EQ(h.Group(0).nodes.size() + h.Group(1).nodes.size(), 1u);
}

TEST(PoolTest, BootNobodyWaitsForIsCancelled) {
  PoolHarness h(Pool(Group("gpu", 0, 3, 2, 4.0, /*boot_delay=*/30)));
  std::string id = Submit(h.cp(), JobBody(1, 0, "\"gpu_count\":1"));
  h.Step(seconds(1));
  ASSERT_EQ(h.Group(0).nodes.size(), 1u);
  Reply cancel = h.cp().Do("POST", "/v1/jobs/" + id + "/cancel", h.cp().admin());
  ASSERT_EQ(cancel.status, 200) << cancel.raw;
  h.Step(seconds(1));
  EXPECT_EQ(h.Group(0).nodes.size(), 0u);
  EXPECT_EQ(h.Group(0).deleted, 1);
  h.Step(seconds(40));  // its boot delay passes: nothing starts
  EXPECT_EQ(h.live(), 0);
}

TEST(PoolTest, ApiAndMetricsShowGroupsNodesAndPendingWork) {
  PoolHarness h(Pool(Group("gpu", 0, 3, 2, 4.0, /*boot_delay=*/10)));
  std::string id = Submit(h.cp(), JobBody(1, 0, "\"gpu_count\":1"));
  h.Step(seconds(1));
  Reply pool = h.cp().Do("GET", "/v1/pool", h.cp().admin());
  ASSERT_EQ(pool.status, 200) << pool.raw;
  EXPECT_TRUE(pool.body.at("enabled").as_bool());
  const auto& g = pool.body.at("groups").as_array().at(0).as_object();
  EXPECT_EQ(g.at("name").as_string(), "gpu");
  EXPECT_EQ(g.at("max_nodes").as_int64(), 3);
  EXPECT_EQ(g.at("shape").at("gpus").as_int64(), 2);
  ASSERT_EQ(g.at("nodes").as_array().size(), 1u);
  EXPECT_EQ(g.at("nodes").as_array()[0].at("state").as_string(), "booting");
  EXPECT_EQ(g.at("nodes").as_array()[0].at("name").as_string(), "gpu-1");
  const auto& p = pool.body.at("pending").as_array().at(0);
  EXPECT_EQ(p.at("job_id").as_string(), id);
  EXPECT_EQ(p.at("why").as_string(), "waiting for pool node gpu-1");
  // Admin only.
  std::string tenant = h.cp().NewTenantToken("t1");
  EXPECT_EQ(h.cp().Do("GET", "/v1/pool", tenant).status, 403);
  Reply metrics = h.cp().Do("GET", "/metrics", h.cp().admin());
  EXPECT_NE(metrics.raw.find("fastgpu_pool_nodes{group=\"gpu\",state=\"booting\"} 1"),
            std::string::npos)
      << metrics.raw;
  EXPECT_NE(metrics.raw.find("fastgpu_pool_nodes{group=\"gpu\",state=\"ready\"} 0"),
            std::string::npos);
  EXPECT_NE(metrics.raw.find("fastgpu_pool_nodes_max{group=\"gpu\"} 3"), std::string::npos);
  EXPECT_NE(metrics.raw.find("fastgpu_pool_pending_jobs 1"), std::string::npos);
  h.Step(seconds(10));
  h.Step(seconds(1));
  metrics = h.cp().Do("GET", "/metrics", h.cp().admin());
  EXPECT_NE(metrics.raw.find("fastgpu_pool_nodes{group=\"gpu\",state=\"ready\"} 1"),
            std::string::npos)
      << metrics.raw;
}

// A provider whose every call fails, as a broken cloud CLI would.
class FailingProvider : public NodeProvider {
 public:
  Status Create(const NodeRequest&) override { return Unavailable("quota exceeded in zone a"); }
  Status Delete(const std::string&, const std::string&) override { return OkStatus(); }
  Result<std::vector<std::string>> List(const std::string&) override {
    return std::vector<std::string>{};
  }
};

TEST(PoolTest, ProviderFailureIsTheGroupsReason) {
  const std::string pool = R"({"groups":[{"name":"cloud","provider":"exec","max_nodes":2,
    "shape":{"gpu_model":"H100-80GB","gpus":1,"cpu":"8","memory":"32GiB"},
    "exec":{"command":["/bin/false"]}}]})";
  PoolHarness h(pool, std::make_unique<FailingProvider>());
  std::string id = Submit(h.cp(), JobBody(1, 0, "\"gpu_count\":1"));
  h.Step(seconds(1));
  h.Step(seconds(1));
  auto g = h.Group(0);
  EXPECT_EQ(g.nodes.size(), 0u);
  EXPECT_EQ(g.reason, "create failed: quota exceeded in zone a");
  EXPECT_NE(h.Why(id).find("quota exceeded"), std::string::npos) << h.Why(id);
  EXPECT_EQ(GetJob(h.cp(), id).Str("state"), "pending");
}

// A pool that can shrink packs work onto nodes holding work: with first-fit, which on a fixed
// pool takes the first node that fits (the idle A100 node, registered first), a job free to
// use any model goes to the H100 node that holds work instead.
TEST(PoolTest, APoolThatCanShrinkPacksOntoNodesHoldingWork) {
  auto group = [](const std::string& name, const std::string& model, int max) {
    return R"({"name":")" + name + R"(","provider":"simulated","min_nodes":1,"max_nodes":)" +
           std::to_string(max) + R"(,"shape":{"gpu_model":")" + model +
           R"(","gpus":2,"cpu":"32","memory":"256GiB"},"simulated":{"boot_delay_s":10}})";
  };
  for (const bool can_shrink : {false, true}) {
    SCOPED_TRACE(can_shrink ? "can shrink" : "fixed");
    PoolHarness h(
        Pool(group("a", "A100-80GB", 1) + "," + group("b", "H100-80GB", can_shrink ? 2 : 1)),
        nullptr, "first-fit");
    EXPECT_EQ(h.pool().CanShrink(), can_shrink);
    for (int i = 0; i < 3; ++i) h.Step(seconds(5));
    ASSERT_EQ(h.live(), 2);
    std::string on_h100 =
        Submit(h.cp(), JobBody(1, 0, R"("gpu_count":1,"gpu_models":["H100-80GB"])"));
    h.Step(seconds(1));
    ASSERT_EQ(GetJob(h.cp(), on_h100).Str("state"), "scheduled");
    std::string any = Submit(h.cp(), JobBody(1, 0, R"("gpu_count":1)"));
    h.Step(seconds(1));
    Reply job = GetJob(h.cp(), any);
    ASSERT_EQ(job.Str("state"), "scheduled") << job.raw;
    const auto& allocs = job.body.as_object().at("allocations").as_array();
    ASSERT_EQ(allocs.size(), 1u) << job.raw;
    EXPECT_EQ(allocs[0].as_object().at("gpu_model").as_string(),
              can_shrink ? "H100-80GB" : "A100-80GB");
  }
}

// A provider that holds machines across control-plane restarts, as a cloud does.
class HeldProvider : public NodeProvider {
 public:
  explicit HeldProvider(std::set<std::string> held) : held_(std::move(held)) {}
  Status Create(const NodeRequest& r) override {
    held_.insert(r.name);
    created_.push_back(r.name);
    return OkStatus();
  }
  Status Delete(const std::string&, const std::string& name) override {
    held_.erase(name);
    deleted_.push_back(name);
    return OkStatus();
  }
  Result<std::vector<std::string>> List(const std::string&) override {
    ++lists_;
    if (fail_) return Unavailable("cloud API down");
    return std::vector<std::string>(held_.begin(), held_.end());
  }
  std::set<std::string> held_;
  std::vector<std::string> created_, deleted_;
  int lists_ = 0;
  bool fail_ = false;
};

// After a restart the pool adopts what its provider holds: a node that registered is ready
// and takes work, one that never registers is deleted after its boot timeout, and new names
// continue after the highest adopted one. A failing list is the group's reason, retried.
TEST(PoolTest, AdoptsTheNodesItsProviderHoldsAfterARestart) {
  const std::string pool = R"({"groups":[{"name":"cloud","provider":"exec","max_nodes":3,
    "boot_timeout_s":60,"scale_down_after_s":600,
    "shape":{"gpu_model":"H100-80GB","gpus":1,"cpu":"8","memory":"32GiB"},
    "exec":{"command":["/bin/false"]}}]})";
  auto owned = std::make_unique<HeldProvider>(std::set<std::string>{"cloud-1", "cloud-4"});
  HeldProvider& provider = *owned;
  provider.fail_ = true;
  PoolHarness h(pool, std::move(owned));
  // cloud-1 booted and registered under the earlier control plane.
  SimAgent one(h.cp(), "cloud-1", 1, "H100-80GB");
  ASSERT_FALSE(one.node_id().empty());
  h.Step(seconds(1));
  EXPECT_EQ(h.Group(0).nodes.size(), 0u);
  EXPECT_NE(h.Group(0).reason.find("list failed"), std::string::npos) << h.Group(0).reason;
  provider.fail_ = false;
  // One job lands on the registered node; the next waits and counts on cloud-4's room (an
  // adopted node nobody waits for would be given back at once, as any cancelled boot).
  std::string first = Submit(h.cp(), JobBody(1, 0, "\"gpu_count\":1"));
  std::string second = Submit(h.cp(), JobBody(1, 0, "\"gpu_count\":1"));
  one.Heartbeat();
  h.Step(seconds(1));
  auto g = h.Group(0);
  ASSERT_EQ(g.nodes.size(), 2u) << GetJob(h.cp(), first).raw << GetJob(h.cp(), second).raw;
  std::map<std::string, NodePoolSnapshot::Node> by_name;
  for (const auto& n : g.nodes) by_name[n.name] = n;
  EXPECT_EQ(by_name["cloud-1"].state, PoolNodeState::kReady);
  EXPECT_EQ(by_name["cloud-1"].node_id, one.node_id());
  EXPECT_EQ(by_name["cloud-4"].state, PoolNodeState::kBooting);
  EXPECT_EQ(GetJob(h.cp(), first).Str("state"), "scheduled");
  EXPECT_EQ(h.Why(second), "waiting for pool node cloud-4");
  EXPECT_TRUE(provider.created_.empty());
  const int lists = provider.lists_;
  one.Heartbeat();
  h.Step(seconds(1));
  EXPECT_EQ(provider.lists_, lists);  // listed once, not at every step
  // cloud-4 never registers: after the boot timeout it is deleted and cloud-5 asked for.
  for (int i = 0; i < 7; ++i) {
    one.Heartbeat();
    h.Step(seconds(10));
  }
  EXPECT_EQ(provider.deleted_, std::vector<std::string>{"cloud-4"});
  EXPECT_EQ(provider.created_, std::vector<std::string>{"cloud-5"});
  EXPECT_NE(h.Group(0).reason.find("cloud-4 did not register"), std::string::npos)
      << h.Group(0).reason;
  // A new leader lists again.
  h.pool().Resync();
  one.Heartbeat();
  h.Step(seconds(1));
  EXPECT_EQ(provider.lists_, lists + 1);
  EXPECT_EQ(h.Group(0).nodes.size(), 2u);  // cloud-1 and cloud-5, nothing twice
}

}  // namespace
}  // namespace fastgpu::server::testing

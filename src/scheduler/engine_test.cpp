#include "scheduler/engine.h"

#include <gtest/gtest.h>

#include <random>

#include "scheduler/filters.h"

namespace fastgpu::sched {
namespace {

model::Shape Frac(int milli, int64_t cpu = 1000) {
  model::Shape s;
  s.gpu_count = 1;
  s.gpu_milli = milli;
  s.cpu_milli = cpu;
  s.memory_mib = 1024;
  return s;
}

EngineNode Node(const std::string& id, int gpus, int64_t cpu = 32000) {
  EngineNode n;
  n.spec = {id, "V100", gpus, 16000, cpu, 256000};
  return n;
}

std::unique_ptr<Engine> NewEngine(EngineOptions o = {}) {
  auto e = Engine::Create(o);
  EXPECT_TRUE(e.ok()) << e.status();
  return std::move(e).value();
}

TEST(EngineTest, UnknownPolicyIsNotFound) {
  EngineOptions o;
  o.policy = "no-such";
  EXPECT_EQ(Engine::Create(o).status().code(), StatusCode::kNotFound);
}

TEST(EngineTest, PlaceBookReleaseRoundTrip) {
  auto e = NewEngine();
  ASSERT_TRUE(e->UpsertNode(Node("a", 2)).ok());
  ASSERT_TRUE(e->UpsertNode(Node("b", 2)).ok());
  EXPECT_EQ(e->NodeIndex("b"), 1);
  EXPECT_EQ(e->NodeIndex("c"), -1);
  e->Observe(Frac(500));
  auto placed = e->Place({"j", Frac(500), 2});
  ASSERT_TRUE(placed.ok()) << placed.status();
  ASSERT_EQ(placed->size(), 2u);
  EXPECT_EQ(e->cluster().FreeGpuMilli(), 3000);
  ASSERT_TRUE(e->AddAllocation("x0", (*placed)[0], true).ok());
  ASSERT_TRUE(e->AddAllocation("x1", (*placed)[1], true).ok());
  EXPECT_EQ(e->AddAllocation("x1", (*placed)[1]).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(e->ReleaseAllocation("x0").ok());
  ASSERT_TRUE(e->ReleaseAllocation("x1").ok());
  EXPECT_EQ(e->ReleaseAllocation("x1").code(), StatusCode::kNotFound);
  EXPECT_EQ(e->cluster().FreeGpuMilli(), 4000);
  EXPECT_TRUE(e->AllocationIds().empty());
}

TEST(EngineTest, UnplaceGivesBackAnUnbookedPlacement) {
  auto e = NewEngine();
  ASSERT_TRUE(e->UpsertNode(Node("a", 1)).ok());
  auto placed = e->Place({"j", Frac(700), 1});
  ASSERT_TRUE(placed.ok());
  e->Unplace(*placed);
  EXPECT_EQ(e->cluster().FreeGpuMilli(), 1000);
}

TEST(EngineTest, ExistingWorkHoldsItsPlaceOnAnUnhealthyGpu) {
  auto e = NewEngine();
  EngineNode n = Node("a", 2);
  n.unhealthy = {true, false};
  ASSERT_TRUE(e->UpsertNode(n).ok());
  NodePlacement p{0, {{0, 1000, 16000}}, 1000, 1024};
  ASSERT_TRUE(e->AddAllocation("held", p).ok());
  EXPECT_FALSE(e->cluster().node(0).gpus[0].healthy);
  EXPECT_EQ(e->cluster().node(0).gpus[0].free_milli, 0);
  // New work goes only to the healthy GPU.
  auto placed = e->Place({"j", Frac(300), 1});
  ASSERT_TRUE(placed.ok());
  EXPECT_EQ((*placed)[0].gpus[0].gpu_index, 1);
}

TEST(EngineTest, ChangedSpecKeepsAllocationsAndVersionRises) {
  auto e = NewEngine();
  ASSERT_TRUE(e->UpsertNode(Node("a", 2)).ok());
  NodePlacement p{0, {{1, 600, 0}}, 4000, 1024};
  ASSERT_TRUE(e->AddAllocation("x", p).ok());
  const uint64_t v = e->cluster().node(0).version;
  ASSERT_TRUE(e->UpsertNode(Node("a", 4, 64000)).ok());
  const NodeState& s = e->cluster().node(0);
  EXPECT_GT(s.version, v);
  EXPECT_EQ(s.gpus.size(), 4u);
  EXPECT_EQ(s.gpus[1].free_milli, 400);
  EXPECT_EQ(s.cpu_free_milli, 60000);
  EXPECT_EQ(e->cluster().TotalGpuMilli(), 4000);
  EXPECT_EQ(e->cluster().FreeGpuMilli(), 3400);
  // Shrunk below what it holds: the allocation is dropped and said so.
  Result<int> shrunk = e->UpsertNode(Node("a", 1));
  EXPECT_EQ(shrunk.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(e->HasAllocation("x"));
  EXPECT_EQ(e->cluster().FreeGpuMilli(), 1000);
}

TEST(EngineTest, FlagsFollowTheNode) {
  auto e = NewEngine();
  ASSERT_TRUE(e->UpsertNode(Node("a", 1)).ok());
  EngineNode drained = Node("a", 1);
  drained.availability = NodeAvailability::kDrained;
  ASSERT_TRUE(e->UpsertNode(drained).ok());
  EXPECT_EQ(e->Place({"j", Frac(100), 1}).status().code(), StatusCode::kResourceExhausted);
  ASSERT_TRUE(e->UpsertNode(Node("a", 1)).ok());
  EXPECT_TRUE(e->Place({"j", Frac(100), 1}).ok());
}

TEST(EngineTest, MigWorkGoesOnlyToGpusInMigMode) {
  auto e = NewEngine();
  EngineNode n = Node("a", 2);
  n.mig = {false, true};
  ASSERT_TRUE(e->UpsertNode(n).ok());
  model::Shape mig = Frac(250);
  mig.isolation = model::Isolation::kMig;
  for (int i = 0; i < 4; ++i) {
    auto placed = e->Place({"m", mig, 1});
    ASSERT_TRUE(placed.ok()) << i << ": " << placed.status();
    EXPECT_EQ((*placed)[0].gpus[0].gpu_index, 1);
  }
  EXPECT_EQ(e->Place({"m", mig, 1}).status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(e->Place({"p", Frac(250), 1}).ok());  // other work may use GPU 0
}

TEST(EngineTest, LearnsTheWorkloadUnlessGivenOne) {
  auto learner = NewEngine();
  EXPECT_TRUE(learner->learning());
  for (int i = 0; i < 5; ++i) learner->Observe(Frac(i % 2 ? 500 : 250));
  EXPECT_EQ(learner->workload().seen(), 5);
  EXPECT_EQ(learner->workload().Target().size(), 2u);

  EngineOptions fixed;
  fixed.target_workload = {{Frac(500), 1.0}};
  auto e = NewEngine(fixed);
  EXPECT_FALSE(e->learning());
  e->Observe(Frac(250));
  EXPECT_EQ(e->workload().seen(), 0);
}

TEST(WorkloadWindowTest, RefreshesAtEveryQuarterMoreThenEveryHalfWindow) {
  WorkloadWindow w(40);
  std::vector<int64_t> refreshed;
  for (int i = 1; i <= 60; ++i) {
    if (w.Add(Frac(100 * (i % 3 + 1)))) refreshed.push_back(i);
  }
  EXPECT_EQ(refreshed,
            (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 18, 22, 27, 33, 40, 60}));
  EXPECT_EQ(w.size(), 40);
  EXPECT_EQ(w.seen(), 60);
}

// A long-lived engine fed many events keeps its books exact: totals agree with the
// nodes, and releasing everything leaves the pool whole.
TEST(EngineTest, EventsMatchARebuild) {
  auto e = NewEngine();
  std::mt19937_64 rng(7);
  for (int n = 0; n < 12; ++n) ASSERT_TRUE(e->UpsertNode(Node("n" + std::to_string(n), 4)).ok());
  std::vector<std::string> live;
  int next = 0;
  for (int step = 0; step < 400; ++step) {
    if (!live.empty() && rng() % 3 == 0) {
      size_t k = rng() % live.size();
      ASSERT_TRUE(e->ReleaseAllocation(live[k]).ok());
      live.erase(live.begin() + static_cast<long>(k));
      continue;
    }
    model::Shape s = Frac(static_cast<int>(100 * (rng() % 10 + 1)), 500);
    e->Observe(s);
    auto placed = e->Place({"j", s, 1});
    if (!placed.ok()) continue;
    std::string id = "a" + std::to_string(next++);
    ASSERT_TRUE(e->AddAllocation(id, (*placed)[0], true).ok());
    live.push_back(id);
  }
  Cluster rebuilt;
  for (int n = 0; n < 12; ++n) rebuilt.AddNode(Node("n" + std::to_string(n), 4).spec);
  int64_t held = 0;
  for (const NodeState& n : e->cluster().nodes()) {
    for (const GpuState& g : n.gpus) held += kMilliPerGpu - g.free_milli;
  }
  EXPECT_EQ(e->cluster().TotalGpuMilli() - e->cluster().FreeGpuMilli(), held);
  // Release everything: the pool is whole again.
  for (const std::string& id : live) ASSERT_TRUE(e->ReleaseAllocation(id).ok());
  EXPECT_EQ(e->cluster().FreeGpuMilli(), rebuilt.TotalGpuMilli());
  for (const NodeState& n : e->cluster().nodes()) {
    EXPECT_EQ(n.cpu_free_milli, n.cpu_total_milli);
    for (const GpuState& g : n.gpus) EXPECT_EQ(g.free_memory_mib, g.total_memory_mib);
  }
}

// freed_epoch moves when room may be given (a node added or changed, a node opened, a
// release, an unplace), never when work is placed or refused, nor for the same view.
TEST(EngineTest, FreedEpochMovesOnlyWhenRoomIsGiven) {
  auto e = NewEngine();
  uint64_t at = e->freed_epoch();
  ASSERT_TRUE(e->UpsertNode(Node("a", 1)).ok());
  EXPECT_GT(e->freed_epoch(), at);  // a new node
  at = e->freed_epoch();
  ASSERT_TRUE(e->UpsertNode(Node("a", 1)).ok());  // the same view
  EXPECT_EQ(e->freed_epoch(), at);
  auto placed = e->Place({"j", Frac(1000), 1});
  ASSERT_TRUE(placed.ok()) << placed.status();
  ASSERT_TRUE(e->AddAllocation("x", (*placed)[0], true).ok());
  EXPECT_FALSE(e->Place({"k", Frac(500), 2}).ok());  // refused
  EXPECT_EQ(e->freed_epoch(), at);
  ASSERT_TRUE(e->SetAvailability(0, NodeAvailability::kDrained).ok());
  EXPECT_EQ(e->freed_epoch(), at);  // closing gives no room
  ASSERT_TRUE(e->SetAvailability(0, NodeAvailability::kOpen).ok());
  EXPECT_GT(e->freed_epoch(), at);
  at = e->freed_epoch();
  ASSERT_TRUE(e->ReleaseAllocation("x").ok());
  EXPECT_GT(e->freed_epoch(), at);
  at = e->freed_epoch();
  EngineNode sick = Node("a", 1);
  sick.unhealthy = {true};
  ASSERT_TRUE(e->UpsertNode(sick).ok());
  EXPECT_GT(e->freed_epoch(), at);  // any change of the view (here: none given back)
  at = e->freed_epoch();
  ASSERT_TRUE(e->UpsertNode(Node("a", 1)).ok());  // healthy again
  EXPECT_GT(e->freed_epoch(), at);
  at = e->freed_epoch();
  placed = e->Place({"j", Frac(300), 1});
  ASSERT_TRUE(placed.ok());
  EXPECT_EQ(e->freed_epoch(), at);
  e->Unplace(*placed);
  EXPECT_GT(e->freed_epoch(), at);
}

// What lets a driver skip a refused request: for every policy, a request refused while
// freed_epoch is E is refused again while it is still E, whatever was placed meanwhile
// (fractions, whole GPUs, CPU-heavy shapes, gangs, isolation modes, GPU models).
TEST(EngineTest, ARefusedRequestStaysRefusedUntilTheEpochMoves) {
  for (const std::string& policy : PolicyNames()) {
    SCOPED_TRACE(policy);
    EngineOptions o;
    o.policy = policy;
    o.seed = 3;
    auto e = NewEngine(o);
    std::mt19937_64 rng(5);
    const int gpus[] = {1, 2, 4, 8, 8, 4, 2};
    for (int n = 0; n < 7; ++n) {
      EngineNode node = Node("n" + std::to_string(n), gpus[n], 8000 * (n % 3 + 1));
      if (n % 2 == 1) node.spec.gpu_model = "A100";
      ASSERT_TRUE(e->UpsertNode(node).ok());
    }
    auto random_shape = [&] {
      model::Shape s;
      switch (rng() % 4) {
        case 0:
          s = Frac(static_cast<int>(100 * (rng() % 9 + 1)), 1000 * static_cast<int64_t>(rng() % 6));
          break;
        case 1:
          s = Frac(1000, 2000 * static_cast<int64_t>(rng() % 8));
          s.gpu_count = 1 << (rng() % 4);
          break;
        case 2:
          s = Frac(1000, 4000);
          s.gpu_count = 0;
          break;
        default:
          s = Frac(static_cast<int>(250 * (rng() % 4 + 1)), 1000);
          s.isolation = rng() % 2 ? model::Isolation::kShared : model::Isolation::kMps;
          break;
      }
      if (rng() % 5 == 0 && s.gpu_count > 0) s.gpu_models = {"A100"};
      return s;
    };
    struct Refused {
      Request request;
      uint64_t epoch;
    };
    std::vector<Refused> refused;
    std::vector<std::string> live;
    int next = 0, checked = 0;
    for (int step = 0; step < 400; ++step) {
      if (!live.empty() && rng() % 6 == 0) {
        const size_t k = rng() % live.size();
        ASSERT_TRUE(e->ReleaseAllocation(live[k]).ok());
        live.erase(live.begin() + static_cast<long>(k));
      } else {
        Request r{"r" + std::to_string(step), random_shape(), static_cast<int>(rng() % 3 + 1)};
        e->Observe(r.shape);
        auto placed = e->Place(r);
        if (placed.ok()) {
          for (const NodePlacement& p : *placed) {
            const std::string id = "a" + std::to_string(next++);
            ASSERT_TRUE(e->AddAllocation(id, p, true).ok());
            live.push_back(id);
          }
        } else {
          refused.push_back({r, e->freed_epoch()});
          if (r.replicas == 1) {  // refused only when no node passes the filters
            int fit = 0;
            for (const NodeState& n : e->cluster().nodes())
              fit += NodeFitsShape(n, r.shape, r.shape.AllowsModel(n.gpu_model)) ? 1 : 0;
            EXPECT_EQ(fit, 0) << "step " << step << ": " << placed.status().message();
          }
        }
      }
      for (const Refused& old : refused) {
        if (old.epoch != e->freed_epoch()) continue;
        ++checked;
        auto again = e->Place(old.request);
        ASSERT_FALSE(again.ok()) << "step " << step << ": " << old.request.id
                                 << " refused at this epoch now fits: "
                                 << model::DescribeShape(old.request.shape) << " x"
                                 << old.request.replicas;
      }
    }
    EXPECT_GT(checked, 100);
  }
}

// Fractions of one size in two isolation modes are two shapes to the policies' caches: a
// shared fraction refused by an mps GPU does not make an mps fraction refused there.
TEST(EngineTest, IsolationModesAreShapesOfTheirOwn) {
  for (const std::string& policy : PolicyNames()) {
    SCOPED_TRACE(policy);
    EngineOptions o;
    o.policy = policy;
    auto e = NewEngine(o);
    ASSERT_TRUE(e->UpsertNode(Node("a", 1)).ok());
    model::Shape mps = Frac(250);
    mps.isolation = model::Isolation::kMps;
    model::Shape shared = Frac(250);
    shared.isolation = model::Isolation::kShared;
    ASSERT_TRUE(e->Place({"m1", mps, 1}).ok());
    EXPECT_FALSE(e->Place({"s1", shared, 1}).ok());
    auto again = e->Place({"m2", mps, 1});
    EXPECT_TRUE(again.ok()) << again.status();
  }
}

// A batch placer that answers what the test tells it, and records what it was asked.
class ScriptedPlacer final : public BatchPlacer {
 public:
  std::string_view Name() const override { return "scripted"; }
  std::vector<std::vector<NodePlacement>> PlaceBatch(
      const Cluster& cluster, const std::vector<Request>& requests) override {
    (void)cluster;
    asked.push_back(requests);
    return answer;
  }
  std::vector<std::vector<NodePlacement>> answer;
  std::vector<std::vector<Request>> asked;
};

NodePlacement At(int node, int gpu, int milli, int64_t cpu = 1000) {
  NodePlacement p;
  p.node = node;
  p.gpus.push_back({gpu, milli, 0});
  p.cpu_milli = cpu;
  p.memory_mib = 1024;
  return p;
}

TEST(EngineBatchTest, AppliesEachPlacedRequestAndAsksThePlacerOnce) {
  auto e = NewEngine();
  ASSERT_TRUE(e->UpsertNode(Node("a", 2)).ok());
  ScriptedPlacer placer;
  placer.answer = {{At(0, 0, 500)}, {}, {At(0, 0, 500)}};
  auto out =
      e->PlaceBatch({{"j1", Frac(500), 1}, {"j2", Frac(500), 1}, {"j3", Frac(500), 1}}, placer);
  ASSERT_EQ(out.size(), 3u);
  ASSERT_EQ(placer.asked.size(), 1u);
  EXPECT_EQ(placer.asked[0].size(), 3u);
  ASSERT_TRUE(out[0].ok()) << out[0].status();
  EXPECT_EQ(out[1].status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(out[1].status().message().find("request j2: batch placer scripted left it unplaced"),
            std::string::npos)
      << out[1].status();
  ASSERT_TRUE(out[2].ok()) << out[2].status();
  EXPECT_EQ(e->cluster().node(0).gpus[0].free_milli, 0);
  EXPECT_EQ(e->cluster().FreeGpuMilli(), 1000);
  // Booked like Place's placements.
  EXPECT_TRUE(e->AddAllocation("x1", (*out[0])[0], /*already_applied=*/true).ok());
  EXPECT_TRUE(e->AddAllocation("x3", (*out[2])[0], /*already_applied=*/true).ok());
  EXPECT_TRUE(e->ReleaseAllocation("x1").ok());
  EXPECT_EQ(e->cluster().FreeGpuMilli(), 1500);
}

TEST(EngineBatchTest, AGangIsPlacedWholeOrItsReplicasAreGivenBack) {
  auto e = NewEngine();
  ASSERT_TRUE(e->UpsertNode(Node("a", 2)).ok());
  ASSERT_TRUE(e->UpsertNode(Node("b", 2)).ok());
  ScriptedPlacer placer;
  // The gang's second replica over-commits GPU 0 of node b (taken by its first replica);
  // the single request after it then gets that GPU.
  placer.answer = {{At(1, 0, 600), At(1, 0, 600)}, {At(1, 0, 1000)}, {At(0, 0, 1000)}};
  auto out = e->PlaceBatch(
      {{"gang", Frac(600), 2}, {"one", Frac(1000), 1}, {"short", Frac(1000), 2}}, placer);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(out[0].status().message().find("replica 2 of 2"), std::string::npos) << out[0].status();
  ASSERT_TRUE(out[1].ok()) << out[1].status();
  EXPECT_EQ((*out[1])[0].node, 1);
  // A gang answered with fewer places than replicas is not placed.
  EXPECT_EQ(out[2].status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(out[2].status().message().find("placed 1 of its 2 replicas"), std::string::npos)
      << out[2].status();
  EXPECT_EQ(e->cluster().FreeGpuMilli(), 3000);
  EXPECT_EQ(e->cluster().node(0).gpus[0].free_milli, 1000);
}

TEST(EngineBatchTest, PlacesThatBreakTheRulesAreRefused) {
  auto e = NewEngine();
  ASSERT_TRUE(e->UpsertNode(Node("a", 2)).ok());
  EngineNode b = Node("b", 2);
  b.unhealthy = {true};
  ASSERT_TRUE(e->UpsertNode(b).ok());
  EngineNode c = Node("c", 2);
  c.availability = NodeAvailability::kDrained;
  ASSERT_TRUE(e->UpsertNode(c).ok());
  model::Shape t4 = Frac(500);
  t4.gpu_models = {"T4"};
  model::Shape mig = Frac(500);
  mig.isolation = model::Isolation::kMig;
  const int64_t free_before = e->cluster().FreeGpuMilli();
  ScriptedPlacer placer;
  placer.answer = {
      {At(1, 0, 500)}, {At(2, 0, 500)}, {At(0, 0, 500)}, {At(0, 1, 500)}, {At(7, 0, 500)}};
  auto out = e->PlaceBatch({{"sick", Frac(500), 1},
                            {"drained", Frac(500), 1},
                            {"model", t4, 1},
                            {"mig", mig, 1},
                            {"nowhere", Frac(500), 1},
                            {"none", Frac(500), 0}},
                           placer);
  ASSERT_EQ(out.size(), 6u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(out[i].status().code(), StatusCode::kResourceExhausted) << i;
  }
  EXPECT_NE(out[0].status().message().find("unhealthy"), std::string::npos) << out[0].status();
  EXPECT_NE(out[1].status().message().find("takes no new work"), std::string::npos);
  EXPECT_NE(out[2].status().message().find("GPU model V100"), std::string::npos);
  EXPECT_NE(out[3].status().message().find("not in MIG mode"), std::string::npos);
  EXPECT_NE(out[4].status().message().find("no node with index 7"), std::string::npos);
  EXPECT_EQ(out[5].status().code(), StatusCode::kInvalidArgument);
  ASSERT_EQ(placer.asked.size(), 1u);
  EXPECT_EQ(placer.asked[0].size(), 5u);  // the request with no replicas is not asked
  EXPECT_EQ(e->cluster().FreeGpuMilli(), free_before);
}

// ---- the pool term (EngineOptions::elastic_pool) ----

model::Shape Whole(int gpus, int64_t cpu) {
  model::Shape s;
  s.gpu_count = gpus;
  s.gpu_milli = 1000;
  s.cpu_milli = cpu;
  s.memory_mib = 1024;
  return s;
}

// Node "empty" (index 0) and node "busy" (index 1, one whole GPU of four and half its CPU
// taken), then `shape` placed: the index of the node it went to.
int NodeChosen(const std::string& policy, bool elastic, const model::Shape& shape) {
  EngineOptions o;
  o.policy = policy;
  o.elastic_pool = elastic;
  auto e = NewEngine(o);
  EXPECT_TRUE(e->UpsertNode(Node("empty", 4)).ok());
  EXPECT_TRUE(e->UpsertNode(Node("busy", 4)).ok());
  const model::Shape held = Whole(1, 16000);
  NodePlacement p;
  p.node = 1;
  p.cpu_milli = held.cpu_milli;
  p.memory_mib = held.memory_mib;
  p.gpus = {{0, 1000, 16000}};
  EXPECT_TRUE(e->AddAllocation("held", p).ok());
  e->Observe(held);
  e->Observe(shape);
  auto placed = e->Place({"j", shape, 1});
  EXPECT_TRUE(placed.ok()) << placed.status();
  return placed.ok() ? (*placed)[0].node : -1;
}

TEST(EngineElasticTest, FirstFitTakesTheFirstNodeOnAStaticPoolAndTheBusyOneOnAnElasticPool) {
  EXPECT_EQ(NodeChosen("first-fit", false, Whole(1, 2000)), 0);
  EXPECT_EQ(NodeChosen("first-fit", true, Whole(1, 2000)), 1);
}

// fastgpu's stranding cost: a 1-GPU pod asking 14 of the busy node's 16 free cores would
// leave its two other free GPUs 2 cores, so on a static pool it goes to the empty node; on
// an elastic pool the empty node is opened only when no busy node fits.
TEST(EngineElasticTest, FastgpuKeepsTheEmptyNodeEmptyOnAnElasticPoolOnly) {
  EXPECT_EQ(NodeChosen("fastgpu", false, Whole(1, 14000)), 0);
  EXPECT_EQ(NodeChosen("fastgpu", true, Whole(1, 14000)), 1);
  // What the busy node cannot hold (17 cores) still goes to the empty one.
  EXPECT_EQ(NodeChosen("fastgpu", true, Whole(1, 17000)), 0);
}

// Every policy, on an elastic pool: a node holding work is preferred to an empty one, and
// the node with the larger share of its GPUs in use to another holding work.
TEST(EngineElasticTest, EveryPolicyPacksOntoTheBusiestNodesOnAnElasticPool) {
  for (const std::string& policy : PolicyNames()) {
    EngineOptions o;
    o.policy = policy;
    o.elastic_pool = true;
    auto e = NewEngine(o);
    // 0: empty; 1: one GPU of four in use; 2: two of four in use (a half and a whole).
    for (const char* id : {"a", "b", "c"}) ASSERT_TRUE(e->UpsertNode(Node(id, 4)).ok());
    auto book = [&](const std::string& id, int node, int gpu, int milli) {
      NodePlacement p;
      p.node = node;
      p.cpu_milli = 1000;
      p.memory_mib = 1024;
      p.gpus = {{gpu, milli, milli == 1000 ? 16000 : 0}};
      ASSERT_TRUE(e->AddAllocation(id, p).ok()) << id;
    };
    book("b0", 1, 0, 1000);
    book("c0", 2, 0, 500);
    book("c1", 2, 1, 1000);
    e->Observe(Whole(1, 1000));
    auto placed = e->Place({"j", Whole(1, 1000), 1});
    ASSERT_TRUE(placed.ok()) << policy << ": " << placed.status();
    EXPECT_EQ((*placed)[0].node, 2) << policy;
    e->Unplace(*placed);
    // Three whole GPUs fit the empty node and node 1 only (node 2 has two left): node 1.
    auto two = e->Place({"k", Whole(3, 1000), 1});
    ASSERT_TRUE(two.ok()) << policy << ": " << two.status();
    EXPECT_EQ((*two)[0].node, 1) << policy;
  }
}

}  // namespace
}  // namespace fastgpu::sched

// The reconciler's passes: which pending jobs a pass looks at (new arrivals beyond the
// window, refused jobs only once capacity is freed, what the feed names), placement equal
// to the engine's one arrival at a time, registration order, writes the store skips, and
// full passes at intervals.
#include <gtest/gtest.h>

#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "scheduler/engine.h"
#include "server/reconciler.h"
#include "server/reconciler_test_util.h"

namespace fastgpu::server::testing {
namespace {

// A whole-GPU job placed by a pass: on a node of one GPU, later whole-GPU jobs wait.
std::string TakeTheGpu(TestControlPlane& cp) {
  const std::string id = Submit(cp, JobBody(1, 0, "\"gpu_count\":1"));
  cp.Reconcile();
  EXPECT_EQ(GetJob(cp, id).Str("state"), "scheduled");
  return id;
}

// However long the queue, a job is looked at by the pass after it arrives (and gets its
// reason), not only once it is among the oldest max_pending_per_pass.
TEST(ReconcilerTest, ANewJobBeyondThePendingWindowIsLookedAt) {
  ServerOptions options;
  options.max_pending_per_pass = 2;
  TestControlPlane cp(nullptr, options);
  SimAgent agent(cp, "a1", 1);
  const std::string first = TakeTheGpu(cp);
  std::vector<std::string> waiting;
  for (int i = 0; i < 4; ++i) {
    waiting.push_back(Submit(cp, JobBody(1, 0, "\"gpu_count\":1")));
    cp.Reconcile();
  }
  // A job that arrives just before a full pass (every 30 s) is looked at by that pass.
  cp.clock().Advance(std::chrono::seconds(31));
  agent.Heartbeat();
  waiting.push_back(Submit(cp, JobBody(1, 0, "\"gpu_count\":1")));
  auto full = cp.server().reconciler().RunOnce();
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_TRUE(full->full);
  for (const std::string& id : waiting) {
    Reply job = GetJob(cp, id);
    EXPECT_EQ(job.Str("state"), "pending") << job.raw;
    EXPECT_NE(job.Str("reason").find("waiting for capacity"), std::string::npos) << job.raw;
  }
  // Capacity comes back: the oldest waiting job gets it.
  ASSERT_EQ(cp.Do("POST", "/v1/jobs/" + first + "/cancel", cp.admin()).status, 200);
  cp.Reconcile();
  EXPECT_EQ(GetJob(cp, waiting[0]).Str("state"), "scheduled");
}

// A whole-GPU job that waits for `cp`'s only free capacity to come back: submitted, refused
// by a pass, and settled (the pass after its reason was written has run).
std::string SubmitWaiting(TestControlPlane& cp) {
  const std::string id = Submit(cp, JobBody(1, 0, "\"gpu_count\":1"));
  cp.Reconcile();
  Pass(cp);
  EXPECT_EQ(GetJob(cp, id).Str("state"), "pending");
  return id;
}

// SubmitWaiting, then a CPU-only arrival whose pass does not ask the waiting job again.
std::string WaitBehindNewWork(TestControlPlane& cp) {
  const std::string id = SubmitWaiting(cp);
  Submit(cp, JobBody(1, 0, "\"gpu_count\":0"));
  EXPECT_EQ(Pass(cp).not_retried, 1);
  return id;
}

// New work never makes a refused job fit: a pass that only has new arrivals looks at each
// of them, not at the jobs it refused before (their reasons stand). A release makes the
// next pass ask again, and the waiting job gets the capacity.
TEST(ReconcilerTest, ARefusedJobIsNotRetriedUntilCapacityIsFreed) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 1);
  const std::string first = TakeTheGpu(cp);
  const std::string waiting = SubmitWaiting(cp);
  const std::string reason = GetJob(cp, waiting).Str("reason");
  EXPECT_NE(reason.find("waiting for capacity"), std::string::npos) << reason;
  for (int i = 0; i < 3; ++i) {
    const std::string cpu_only = Submit(cp, JobBody(1, 0, "\"gpu_count\":0"));
    PassStats pass = Pass(cp);
    EXPECT_EQ(pass.placed, 1) << i;  // the new job is looked at (and fits)
    EXPECT_EQ(GetJob(cp, cpu_only).Str("state"), "scheduled");
    EXPECT_EQ(pass.unplaceable, 1) << i;
    EXPECT_EQ(pass.not_retried, 1) << i;  // the waiting one is not asked again
    EXPECT_EQ(GetJob(cp, waiting).Str("reason"), reason);
  }
  // A pass with nothing new does not retry it either.
  Submit(cp, JobBody(1, 0, "\"gpu_count\":1"));  // refused: new, so looked at
  PassStats pass = Pass(cp);
  EXPECT_EQ(pass.unplaceable, 2);
  EXPECT_EQ(pass.not_retried, 1);
  // The GPU is released: the next pass asks again, oldest first.
  ASSERT_EQ(cp.Do("POST", "/v1/jobs/" + first + "/cancel", cp.admin()).status, 200);
  pass = Pass(cp);
  EXPECT_EQ(pass.not_retried, 0);
  EXPECT_EQ(pass.placed, 1);
  EXPECT_EQ(GetJob(cp, waiting).Str("state"), "scheduled") << GetJob(cp, waiting).raw;
}

// Every event that gives room makes the next pass retry the refused jobs: a node that
// registers, a GPU that is healthy again, a node that is undrained.
TEST(ReconcilerTest, ARefusedJobIsRetriedWhenANodeJoinsHealsOrIsUndrained) {
  TestControlPlane cp;
  SimAgent a(cp, "a1", 1);
  Submit(cp, JobBody(1, 0, "\"gpu_count\":1"));
  cp.Reconcile();
  // Waits; only new work arrives (not retried); then a node registers.
  const std::string for_new_node = WaitBehindNewWork(cp);
  SimAgent b(cp, "b1", 1);
  PassStats pass = Pass(cp);
  EXPECT_EQ(pass.not_retried, 0);
  Reply job = GetJob(cp, for_new_node);
  EXPECT_EQ(job.Str("state"), "scheduled") << job.raw;
  EXPECT_NE(job.Str("reason").find(b.node_id()), std::string::npos) << job.raw;

  // A node whose only GPU is unhealthy; the job waits; the GPU heals.
  SimAgent c(cp, "c1", 1);
  json::array sick;
  sick.push_back(json::object{{"index", 0}, {"healthy", false}, {"health_reason", "XID 79"}});
  c.Heartbeat({}, sick);
  cp.Reconcile();
  const std::string for_healed = WaitBehindNewWork(cp);
  json::array healthy;
  healthy.push_back(json::object{{"index", 0}, {"healthy", true}});
  c.Heartbeat({}, healthy);
  EXPECT_EQ(Pass(cp).not_retried, 0);
  job = GetJob(cp, for_healed);
  EXPECT_EQ(job.Str("state"), "scheduled") << job.raw;
  EXPECT_NE(job.Str("reason").find(c.node_id()), std::string::npos) << job.raw;

  // A drained node; the job waits; the node is undrained.
  SimAgent d(cp, "d1", 1);
  ASSERT_EQ(cp.Do("POST", "/v1/nodes/" + d.node_id() + "/drain", cp.admin()).status, 200);
  cp.Reconcile();
  const std::string for_undrained = WaitBehindNewWork(cp);
  ASSERT_EQ(cp.Do("POST", "/v1/nodes/" + d.node_id() + "/undrain", cp.admin()).status, 200);
  EXPECT_EQ(Pass(cp).not_retried, 0);
  job = GetJob(cp, for_undrained);
  EXPECT_EQ(job.Str("state"), "scheduled") << job.raw;
  EXPECT_NE(job.Str("reason").find(d.node_id()), std::string::npos) << job.raw;
}

// Between passes that free nothing, a pass reads only the jobs written since the previous
// one; what leaves pending meanwhile (a cancel, in the window or beyond it) leaves its list,
// and after a release the oldest job still waiting gets the capacity, however long the queue.
TEST(ReconcilerTest, APassThatReadsOnlyWhatWasWrittenKeepsThePendingOrder) {
  for (int window : {2, 100}) {
    SCOPED_TRACE(window);
    ServerOptions options;
    options.max_pending_per_pass = window;
    TestControlPlane cp(nullptr, options);
    SimAgent agent(cp, "a1", 1);
    const std::string first = TakeTheGpu(cp);
    std::vector<std::string> waiting;
    for (int i = 0; i < 5; ++i) {
      waiting.push_back(Submit(cp, JobBody(1, 0, "\"gpu_count\":1")));
      EXPECT_GE(Pass(cp).unplaceable, 1) << i;  // the new job is looked at
    }
    // Cancelled while waiting: the oldest (in the window) and one beyond a window of 2.
    ASSERT_EQ(cp.Do("POST", "/v1/jobs/" + waiting[0] + "/cancel", cp.admin()).status, 200);
    ASSERT_EQ(cp.Do("POST", "/v1/jobs/" + waiting[3] + "/cancel", cp.admin()).status, 200);
    Pass(cp);
    const std::string late = Submit(cp, JobBody(1, 0, "\"gpu_count\":0"));
    EXPECT_EQ(Pass(cp).placed, 1);
    EXPECT_EQ(GetJob(cp, late).Str("state"), "scheduled");
    for (int round = 0; round < 3; ++round) {
      // Each release goes to the oldest job still waiting: 1, 2, then 4.
      const std::string holder = round == 0 ? first : waiting[round == 1 ? 1 : 2];
      ASSERT_EQ(cp.Do("POST", "/v1/jobs/" + holder + "/cancel", cp.admin()).status, 200);
      cp.Reconcile();
      const std::string next = waiting[round == 0 ? 1 : round == 1 ? 2 : 4];
      EXPECT_EQ(GetJob(cp, next).Str("state"), "scheduled")
          << round << ": " << GetJob(cp, next).raw;
    }
    EXPECT_EQ(GetJob(cp, waiting[0]).Str("state"), "cancelled");
    EXPECT_EQ(GetJob(cp, waiting[3]).Str("state"), "cancelled");
  }
}

// A replica that has just become the leader retries every pending job once (others may
// have changed the pool meanwhile); so does a pass after a failed one.
TEST(ReconcilerTest, AResyncRetriesEveryRefusedJob) {
  TestControlPlane cp;
  SimAgent a(cp, "a1", 1);
  Submit(cp, JobBody(1, 0, "\"gpu_count\":1"));
  cp.Reconcile();
  const std::string waiting = WaitBehindNewWork(cp);
  cp.server().reconciler().Resync();
  PassStats pass = Pass(cp);
  EXPECT_TRUE(pass.full);
  EXPECT_EQ(pass.unplaceable, 1);
  EXPECT_EQ(pass.not_retried, 0);
  EXPECT_EQ(GetJob(cp, waiting).Str("state"), "pending");
}

// Jobs arriving one at a time, each placed by its own pass, land exactly where the
// placement engine driven directly (as the simulator drives it) puts the same arrivals:
// the reconciler keeps one engine, its caches and its learned workload across passes.
TEST(ReconcilerTest, OneJobPerPassPlacesAsTheEngineDoes) {
  TestControlPlane cp;
  std::vector<std::unique_ptr<SimAgent>> agents;
  auto engine = sched::Engine::Create({});
  ASSERT_TRUE(engine.ok());
  for (int i = 0; i < 5; ++i) {
    agents.push_back(std::make_unique<SimAgent>(cp, "a" + std::to_string(i), 4));
    sched::EngineNode node;
    node.spec = {agents.back()->node_id(), "H100-80GB", 4, 81559, 64000, 524288};
    ASSERT_TRUE((*engine)->UpsertNode(node).ok());
  }
  std::mt19937_64 rng(11);
  for (int j = 0; j < 34; ++j) {
    model::Shape shape;
    shape.gpu_count = 1;
    shape.gpu_milli = static_cast<int>(100 * (rng() % 9 + 1));
    shape.cpu_milli = static_cast<int64_t>(1000 * (rng() % 4 + 1));
    shape.memory_mib = 1024;
    std::string id = Submit(
        cp, JobBody(1, 0, "\"gpu_count\":1,\"gpu_milli\":" + std::to_string(shape.gpu_milli)));
    // JobBody asks 1000 CPU milli; give the engine the same shape.
    shape.cpu_milli = 1000;
    cp.Reconcile();
    (*engine)->Observe(shape);
    auto placed = (*engine)->Place({id, shape, 1});
    Reply job = GetJob(cp, id);
    if (!placed.ok()) {
      EXPECT_EQ(job.Str("state"), "pending") << j << ": " << job.raw;
      continue;
    }
    const sched::NodePlacement& p = (*placed)[0];
    const std::string where =
        (*engine)->cluster().node(p.node).id + " (GPU " + std::to_string(p.gpus[0].gpu_index) + ")";
    EXPECT_EQ(job.Str("state"), "scheduled") << j << ": " << job.raw;
    EXPECT_NE(job.Str("reason").find("placed on " + where), std::string::npos)
        << "job " << j << " (" << shape.gpu_milli << " milli): the engine chose " << where
        << "; the control plane: " << job.Str("reason");
  }
}

// Nodes that register between passes reach the engine through the change feed; they take
// its indexes in registration order, as a full read gives them, whatever their (random) ids:
// ties between equal nodes break the same way in the control plane and the simulator.
TEST(ReconcilerTest, NodesJoiningBetweenPassesKeepRegistrationOrder) {
  ServerOptions options;
  options.policy = "first-fit";  // ties go to the lowest engine index
  TestControlPlane cp(nullptr, options, /*random_ids=*/true);
  Reconciler& r = cp.server().reconciler();
  ASSERT_TRUE(r.RunOnce().ok());  // the first, full pass: no node yet
  std::vector<std::unique_ptr<SimAgent>> agents;
  for (int i = 0; i < 8; ++i) {
    agents.push_back(std::make_unique<SimAgent>(cp, "a" + std::to_string(i), 1));
  }
  for (int i = 0; i < 8; ++i) {
    std::string id = Submit(cp, JobBody(1, 0, "\"gpu_count\":1"));
    auto pass = r.RunOnce();
    ASSERT_TRUE(pass.ok()) << pass.status();
    EXPECT_FALSE(pass->full);
    Reply job = GetJob(cp, id);
    EXPECT_NE(job.Str("reason").find("placed on " + agents[i]->node_id()), std::string::npos)
        << "job " << i << " should go to the node registered " << i << "th: " << job.raw;
  }
}

// A job cancelled after the engine placed it but before the placement was written holds
// nothing: the next job gets its GPUs at once, without waiting for a full pass.
TEST(ReconcilerTest, APlacementTheStoreSkipsIsReleasedAtOnce) {
  auto owned = std::make_unique<InterleavingStore>(store::NewMemoryStore());
  InterleavingStore& store = *owned;
  TestControlPlane cp(std::move(owned));
  SimAgent agent(cp, "a1", 2);
  Reconciler& r = cp.server().reconciler();
  ASSERT_TRUE(r.RunOnce().ok());  // the full first pass
  ASSERT_TRUE(r.RunOnce().ok());
  const std::string first = Submit(cp, JobBody(1, 0, "\"gpu_count\":2"));
  store.Arm([&](store::Store& inner) {
    ASSERT_TRUE(inner
                    .Write([&](store::WriteTx& tx) -> Status {
                      FASTGPU_ASSIGN_OR_RETURN(model::Job job, tx.GetJob(first));
                      FASTGPU_RETURN_IF_ERROR(model::TransitionJob(job, model::JobState::kCancelled,
                                                                   "cancelled", cp.clock().Now()));
                      return tx.UpdateJob(job);
                    })
                    .ok());
  });
  auto pass = r.RunOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_FALSE(pass->full);
  EXPECT_EQ(pass->placed, 0);
  EXPECT_EQ(GetJob(cp, first).Str("state"), "cancelled");
  const std::string second = Submit(cp, JobBody(1, 0, "\"gpu_count\":2"));
  pass = r.RunOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_FALSE(pass->full);
  EXPECT_EQ(pass->placed, 1);
  EXPECT_EQ(GetJob(cp, second).Str("state"), "scheduled") << GetJob(cp, second).raw;
}

// After the first pass, a pass reads only what the store's change feed names: nothing
// when nothing changed (a heartbeat that changes no health is not a change), the job and
// its allocations after a cancel; every full_pass_interval it reads everything again.
TEST(ReconcilerTest, PassesReadOnlyWhatChangedAndEverythingAtIntervals) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 2);
  std::string id = Submit(cp, JobBody(1, 0));
  Reconciler& r = cp.server().reconciler();
  auto first = r.RunOnce();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->full);
  EXPECT_EQ(first->placed, 1);
  auto own = r.RunOnce();  // the previous pass's own writes
  ASSERT_TRUE(own.ok());
  EXPECT_FALSE(own->full);
  EXPECT_GT(own->changes, 0);
  auto idle = r.RunOnce();
  ASSERT_TRUE(idle.ok());
  EXPECT_FALSE(idle->full);
  EXPECT_EQ(idle->changes, 0);
  agent.Heartbeat();
  auto after_heartbeat = r.RunOnce();
  ASSERT_TRUE(after_heartbeat.ok());
  EXPECT_EQ(after_heartbeat->changes, 0);

  ASSERT_EQ(cp.Do("POST", "/v1/jobs/" + id + "/cancel", cp.admin()).status, 200);
  auto after_cancel = r.RunOnce();
  ASSERT_TRUE(after_cancel.ok());
  EXPECT_FALSE(after_cancel->full);
  EXPECT_GT(after_cancel->changes, 0);
  // The cancelled job's GPU is free again: a new job takes it without a full pass.
  std::string next = Submit(cp, JobBody(1, 0, "\"gpu_count\":2"));
  auto placed = r.RunOnce();
  ASSERT_TRUE(placed.ok());
  EXPECT_FALSE(placed->full);
  EXPECT_EQ(placed->placed, 1);
  EXPECT_EQ(GetJob(cp, next).Str("state"), "scheduled");

  cp.clock().Advance(std::chrono::seconds(31));
  agent.Heartbeat();
  auto later = r.RunOnce();
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(later->full);
  EXPECT_EQ(later->nodes_lost, 0);
}

}  // namespace
}  // namespace fastgpu::server::testing

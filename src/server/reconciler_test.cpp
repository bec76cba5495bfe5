// The reconciler driven through the API and simulated agents: placement, the job
// lifecycle from agent reports, node loss, unhealthy GPUs, drain, cancel, logs.
#include "server/reconciler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "server/reconciler_test_util.h"

namespace fastgpu::server::testing {
namespace {

TEST(ReconcilerTest, JobGoesFromPendingToSucceededWithReasons) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 4);
  std::string id = Submit(cp, JobBody(2, 0));
  EXPECT_EQ(GetJob(cp, id).Str("state"), "pending");
  cp.Reconcile();
  Reply job = GetJob(cp, id);
  EXPECT_EQ(job.Str("state"), "scheduled") << job.raw;
  EXPECT_NE(job.Str("reason").find("placed on " + agent.node_id()), std::string::npos);
  EXPECT_TRUE(job.body.at("simulated").as_bool());

  Reply hb = agent.Heartbeat();
  ASSERT_EQ(hb.status, 200) << hb.raw;
  auto allocs = agent.Allocations(hb);
  ASSERT_EQ(allocs.size(), 2u);
  const auto& first = hb.body.at("allocations").as_array()[0].as_object();
  EXPECT_EQ(first.at("command").as_array()[0].as_string(), "sleep");
  EXPECT_EQ(first.at("replicas").as_int64(), 2);
  const auto& slice = first.at("slices").as_array()[0].as_object();
  EXPECT_EQ(slice.at("milli").as_int64(), 500);
  EXPECT_EQ(slice.at("isolation").as_string(), "mps");  // the default for a fraction

  agent.Heartbeat(Reports({allocs[0]}, "running"));
  cp.Reconcile();
  EXPECT_EQ(GetJob(cp, id).Str("state"), "scheduled");  // one of two replicas running
  agent.Heartbeat(Reports(allocs, "running"));
  cp.Reconcile();
  EXPECT_EQ(GetJob(cp, id).Str("state"), "running");

  // Logs: the agent appends, a tenant reads from an offset.
  std::string logs = "/v1/nodes/" + agent.node_id() + "/logs";
  Reply l1 = cp.Do("POST", logs, agent.token(),
                   R"({"allocation_id":")" + allocs[0] + R"(","offset":0,"data":"hello "})");
  EXPECT_EQ(l1.body.at("next_offset").as_int64(), 6) << l1.raw;
  Reply gap = cp.Do("POST", logs, agent.token(),
                    R"({"allocation_id":")" + allocs[0] + R"(","offset":99,"data":"x"})");
  EXPECT_EQ(gap.body.at("next_offset").as_int64(), 6) << gap.raw;  // resend from 6
  cp.Do("POST", logs, agent.token(),
        R"({"allocation_id":")" + allocs[0] + R"(","offset":6,"data":"world"})");
  Reply read = cp.Do("GET", "/v1/jobs/" + id + "/logs?replica=0&offset=6", cp.admin());
  EXPECT_EQ(read.Str("data"), "world") << read.raw;
  EXPECT_EQ(read.body.at("next_offset").as_int64(), 11);
  EXPECT_FALSE(read.body.at("done").as_bool());

  Reply answer = agent.Heartbeat(Reports(allocs, "exited", 0));
  EXPECT_EQ(agent.Allocations(answer).size(), 0u);  // finished: no longer desired
  cp.Reconcile();
  job = GetJob(cp, id);
  EXPECT_EQ(job.Str("state"), "succeeded");
  EXPECT_NE(job.Str("reason").find("exited 0"), std::string::npos);
  std::vector<std::string> path;
  for (const auto& e : job.body.at("events").as_array()) {
    path.emplace_back(e.at("to").as_string());
    EXPECT_FALSE(e.at("reason").as_string().empty());
  }
  EXPECT_EQ(path, (std::vector<std::string>{"scheduled", "running", "succeeded"}));
  // The job has ended but its agent has not said the log is complete: not done yet.
  EXPECT_FALSE(
      cp.Do("GET", "/v1/jobs/" + id + "/logs?offset=11", cp.admin()).body.at("done").as_bool());
  cp.Do("POST", logs, agent.token(),
        R"({"allocation_id":")" + allocs[0] + R"(","offset":11,"data":"","final":true})");
  EXPECT_TRUE(
      cp.Do("GET", "/v1/jobs/" + id + "/logs?offset=11", cp.admin()).body.at("done").as_bool());
  Reply metrics = cp.Do("GET", "/metrics", "");
  EXPECT_NE(metrics.raw.find("fastgpu_jobs{state=\"succeeded\"} 1"), std::string::npos);
  EXPECT_NE(metrics.raw.find("fastgpu_scheduling_latency_seconds_count 1"), std::string::npos);
  EXPECT_NE(metrics.raw.find("fastgpu_gpus_free{model=\"H100-80GB\"} 4"), std::string::npos)
      << metrics.raw;
}

TEST(ReconcilerTest, AReplicaFailureFailsTheJobAndStopsTheOthers) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 2);
  std::string id = Submit(cp, JobBody(2, 3, "\"gpu_count\":1"));
  cp.Reconcile();
  auto allocs = agent.Allocations(agent.Heartbeat());
  ASSERT_EQ(allocs.size(), 2u);
  json::array reports;
  reports.push_back(ReplicaReportJson(allocs[0], "running"));
  reports.push_back(ReplicaReportJson(allocs[1], "exited", 3));
  agent.Heartbeat(reports);
  cp.Reconcile();
  Reply job = GetJob(cp, id);
  EXPECT_EQ(job.Str("state"), "failed");
  EXPECT_NE(job.Str("reason").find("exited with code 3"), std::string::npos) << job.raw;
  // The surviving replica is neither desired nor kept: the agent is told to cancel it.
  Reply hb = agent.Heartbeat(Reports({allocs[0]}, "running"));
  EXPECT_TRUE(agent.Allocations(hb).empty());
  ASSERT_EQ(hb.body.at("cancel").as_array().size(), 1u);
  EXPECT_EQ(hb.body.at("cancel").as_array()[0].as_string(), allocs[0]);
}

TEST(ReconcilerTest, GangIsAllOrNothing) {
  // A gang larger than the pool is accepted only when the pool may grow.
  ServerOptions options;
  options.allow_unplaceable = true;
  TestControlPlane cp(nullptr, options);
  SimAgent agent(cp, "a1", 2);
  std::string big = Submit(cp, JobBody(3, 0, "\"gpu_count\":1"));
  cp.Reconcile();
  Reply job = GetJob(cp, big);
  EXPECT_EQ(job.Str("state"), "pending");
  EXPECT_EQ(job.Str("reason"),
            "never fits in this pool as it is: the gang needs 3 GPUs at once; the whole pool "
            "has 2")
      << job.raw;
  EXPECT_TRUE(agent.Allocations(agent.Heartbeat()).empty());
  std::string small = Submit(cp, JobBody(2, 0, "\"gpu_count\":1"));
  cp.Reconcile();
  EXPECT_EQ(GetJob(cp, small).Str("state"), "scheduled");
  EXPECT_EQ(agent.Allocations(agent.Heartbeat()).size(), 2u);
}

TEST(ReconcilerTest, LostNodeRequeuesElsewhereThenFailsWithoutRetries) {
  TestControlPlane cp;
  SimAgent a(cp, "a", 1);
  std::string id = Submit(cp, JobBody(1, 1, "\"gpu_count\":1"));
  cp.Reconcile();
  ASSERT_EQ(a.Allocations(a.Heartbeat()).size(), 1u);
  SimAgent b(cp, "b", 1);
  // a goes silent; b keeps heartbeating.
  for (int i = 0; i < 8; ++i) {
    cp.clock().Advance(std::chrono::seconds(2));
    b.Heartbeat();
    cp.Reconcile();
  }
  Reply job = GetJob(cp, id);
  EXPECT_EQ(job.Str("state"), "scheduled") << job.raw;
  EXPECT_EQ(job.body.at("attempts").as_int64(), 2);
  bool saw_loss = false;
  for (const auto& e : job.body.at("events").as_array()) {
    if (e.at("reason").as_string().find("node " + a.node_id() + " lost") != std::string::npos) {
      saw_loss = true;
    }
  }
  EXPECT_TRUE(saw_loss) << job.raw;
  auto on_b = b.Allocations(b.Heartbeat());
  ASSERT_EQ(on_b.size(), 1u);
  Reply nodes = cp.Do("GET", "/v1/nodes", cp.admin());
  EXPECT_EQ(nodes.body.at("nodes").as_array()[0].at("state").as_string(), "lost");

  // a comes back: ready again, but its old replica is to be cancelled.
  Reply back = a.Heartbeat();
  EXPECT_TRUE(a.Allocations(back).empty());
  EXPECT_EQ(
      cp.Do("GET", "/v1/nodes", cp.admin()).body.at("nodes").as_array()[0].at("state").as_string(),
      "ready");

  // Now b is lost too, and the one retry is spent: the job fails with the reason.
  for (int i = 0; i < 8; ++i) {
    cp.clock().Advance(std::chrono::seconds(2));
    a.Heartbeat();
    cp.Reconcile();
  }
  job = GetJob(cp, id);
  EXPECT_EQ(job.Str("state"), "failed") << job.raw;
  EXPECT_NE(job.Str("reason").find("no retry left"), std::string::npos) << job.raw;
}

TEST(ReconcilerTest, UnhealthyGpuGetsNoWorkAndItsReplicasMove) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 2);
  std::string id = Submit(cp, JobBody(1, 2, "\"gpu_count\":1"));
  cp.Reconcile();
  Reply hb = agent.Heartbeat();
  int gpu = static_cast<int>(hb.body.at("allocations")
                                 .as_array()[0]
                                 .at("slices")
                                 .as_array()[0]
                                 .at("gpu_index")
                                 .as_int64());
  json::array health;
  health.push_back(json::object{{"index", gpu}, {"healthy", false}, {"health_reason", "XID 79"}});
  agent.Heartbeat({}, health);
  cp.Reconcile();
  Reply job = GetJob(cp, id);
  EXPECT_EQ(job.Str("state"), "scheduled");
  EXPECT_EQ(job.body.at("attempts").as_int64(), 2);
  hb = agent.Heartbeat();
  ASSERT_EQ(agent.Allocations(hb).size(), 1u);
  EXPECT_NE(
      hb.body.at("allocations").as_array()[0].at("slices").as_array()[0].at("gpu_index").as_int64(),
      gpu);
  // Only one healthy GPU is left: a second whole-GPU job waits.
  std::string second = Submit(cp, JobBody(1, 0, "\"gpu_count\":1"));
  cp.Reconcile();
  EXPECT_EQ(GetJob(cp, second).Str("state"), "pending");
}

TEST(ReconcilerTest, DrainedNodeGetsNoNewWork) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 2);
  std::string before = Submit(cp, JobBody(1, 0, "\"gpu_count\":1"));
  cp.Reconcile();
  EXPECT_EQ(cp.Do("POST", "/v1/nodes/" + agent.node_id() + "/drain", cp.admin()).status, 200);
  std::string after = Submit(cp, JobBody(1, 0, "\"gpu_count\":1"));
  cp.Reconcile();
  EXPECT_EQ(GetJob(cp, before).Str("state"), "scheduled");  // keeps what it runs
  EXPECT_EQ(GetJob(cp, after).Str("state"), "pending");
  EXPECT_EQ(agent.Allocations(agent.Heartbeat()).size(), 1u);
  EXPECT_EQ(cp.Do("POST", "/v1/nodes/" + agent.node_id() + "/undrain", cp.admin()).status, 200);
  cp.Reconcile();
  EXPECT_EQ(GetJob(cp, after).Str("state"), "scheduled");
}

// The drain mark outlives a loss: the node comes back draining, whether by a heartbeat
// or by registering again, and takes no new work until it is undrained.
TEST(ReconcilerTest, DrainedNodeComesBackFromALossDraining) {
  TestControlPlane cp;
  SimAgent a(cp, "a1", 1);
  auto state = [&] {
    Reply nodes = cp.Do("GET", "/v1/nodes", cp.admin());
    return std::string(nodes.body.at("nodes").as_array()[0].at("state").as_string());
  };
  auto lose = [&] {
    for (int i = 0; i < 8; ++i) {
      cp.clock().Advance(std::chrono::seconds(2));
      cp.Reconcile();
    }
  };
  ASSERT_EQ(cp.Do("POST", "/v1/nodes/" + a.node_id() + "/drain", cp.admin()).status, 200);
  lose();
  ASSERT_EQ(state(), "lost");
  a.Heartbeat();
  EXPECT_EQ(state(), "draining");
  lose();
  ASSERT_EQ(state(), "lost");
  SimAgent again(cp, "a1", 1);  // the same agent registers again
  EXPECT_EQ(again.node_id(), a.node_id());
  EXPECT_EQ(state(), "draining");
  std::string job = Submit(cp, JobBody(1, 0, "\"gpu_count\":1"));
  cp.Reconcile();
  EXPECT_EQ(GetJob(cp, job).Str("state"), "pending");
  ASSERT_EQ(cp.Do("POST", "/v1/nodes/" + a.node_id() + "/undrain", cp.admin()).status, 200);
  lose();
  again.Heartbeat();
  EXPECT_EQ(state(), "ready");  // undrained: a return from a loss is ready again
}

TEST(ReconcilerTest, CancelReleasesAndTellsTheAgent) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 1);
  std::string id = Submit(cp, JobBody(1, 0));
  cp.Reconcile();
  auto allocs = agent.Allocations(agent.Heartbeat(Reports({}, "running")));
  ASSERT_EQ(allocs.size(), 1u);
  agent.Heartbeat(Reports(allocs, "running"));
  cp.Reconcile();
  Reply c = cp.Do("POST", "/v1/jobs/" + id + "/cancel", cp.admin());
  EXPECT_EQ(c.Str("state"), "cancelled") << c.raw;
  Reply hb = agent.Heartbeat(Reports(allocs, "running"));
  EXPECT_TRUE(agent.Allocations(hb).empty());
  EXPECT_EQ(hb.body.at("cancel").as_array().size(), 1u);
  cp.Reconcile();
  EXPECT_EQ(GetJob(cp, id).Str("state"), "cancelled");
  Reply alloc = cp.Do("GET", "/v1/allocations/" + allocs[0], cp.admin());
  EXPECT_EQ(alloc.Str("state"), "released");
}

TEST(ReconcilerTest, MigJobsGoOnlyToMigGpus) {
  ServerOptions options;
  options.allow_unplaceable = true;
  TestControlPlane cp(nullptr, options);
  SimAgent agent(cp, "a1", 2);
  std::string id =
      Submit(cp, JobBody(1, 0, "\"gpu_count\":1,\"gpu_milli\":500,\"isolation\":\"mig\""));
  cp.Reconcile();
  Reply job = GetJob(cp, id);
  EXPECT_EQ(job.Str("state"), "pending");
  EXPECT_EQ(job.Str("reason"),
            "never fits in this pool as it is: asks for MIG isolation; no GPU is in MIG mode")
      << job.raw;
  EXPECT_TRUE(agent.Allocations(agent.Heartbeat()).empty());
}

// The agent runs one isolation mode per GPU: the control plane places a fraction of
// another mode on another GPU, and a job that only a GPU of another mode could take waits,
// saying so.
TEST(ReconcilerTest, IsolationModesAreNotMixedOnAGpu) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 1);
  const std::string mps =
      Submit(cp, JobBody(1, 0, "\"gpu_count\":1,\"gpu_milli\":400,\"isolation\":\"mps\""));
  cp.Reconcile();
  EXPECT_EQ(GetJob(cp, mps).Str("state"), "scheduled");
  const std::string shared =
      Submit(cp, JobBody(1, 0, "\"gpu_count\":1,\"gpu_milli\":400,\"isolation\":\"shared\""));
  cp.Reconcile();
  Reply job = GetJob(cp, shared);
  EXPECT_EQ(job.Str("state"), "pending") << job.raw;
  EXPECT_NE(job.Str("reason").find("1 lack GPUs free of other isolation modes"), std::string::npos)
      << job.raw;
  // Once the mps job is gone, its GPU takes the shared one.
  ASSERT_EQ(cp.Do("POST", "/v1/jobs/" + mps + "/cancel", cp.admin()).status, 200);
  cp.Reconcile();
  EXPECT_EQ(GetJob(cp, shared).Str("state"), "scheduled") << GetJob(cp, shared).raw;
}

TEST(ReconcilerTest, UnknownPolicyIsRefused) {
  auto store = store::NewMemoryStore();
  ManualClock clock;
  SequentialIdGenerator ids;
  Metrics metrics;
  ReconcilerOptions opts;
  opts.policy = "no-such-policy";
  auto r = Reconciler::Create(*store, clock, ids, metrics, opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  // The message lists every placer the control plane takes, online and batch.
  EXPECT_NE(r.status().message().find("online policies: first-fit, best-fit"), std::string::npos)
      << r.status();
  EXPECT_NE(r.status().message().find("batch placers: ilp-batch"), std::string::npos) << r.status();
  opts.policy = "ilp-batch";
  EXPECT_TRUE(Reconciler::Create(*store, clock, ids, metrics, opts).ok());
  opts.batch_size = 0;
  EXPECT_EQ(Reconciler::Create(*store, clock, ids, metrics, opts).status().code(),
            StatusCode::kInvalidArgument);
}

ServerOptions BatchOptions(int batch_size) {
  ServerOptions options;
  options.policy = "ilp-batch";
  options.batch_size = batch_size;
  options.batch_time_limit_seconds = 2;
  options.allow_unplaceable = true;
  return options;
}

// Every allocation id the agents are told to run.
std::set<std::string> AllocationsOf(std::vector<std::unique_ptr<SimAgent>>& agents) {
  std::set<std::string> all;
  for (auto& a : agents) {
    for (const std::string& id : a->Allocations(a->Heartbeat())) all.insert(id);
  }
  return all;
}

// With the batch placer, a pass places the pending jobs oldest first in windows of
// batch_size, one engine call per window; what it places is booked in the engine (the
// next windows and passes do not reuse it) and written as online placements are; jobs
// left over wait with a reason, and the oldest window gets the room when it is freed.
TEST(ReconcilerTest, BatchPlacerPlacesWindowsAndBooksThem) {
  TestControlPlane cp(nullptr, BatchOptions(2));
  std::vector<std::unique_ptr<SimAgent>> agents;
  agents.push_back(std::make_unique<SimAgent>(cp, "a1", 2));
  agents.push_back(std::make_unique<SimAgent>(cp, "a2", 2));
  std::vector<std::string> ids;
  // Seven one-GPU jobs on four GPUs: the first two windows fill the pool, the others wait.
  for (int i = 0; i < 7; ++i) ids.push_back(Submit(cp, JobBody(1, 0, "\"gpu_count\":1")));
  Reconciler& r = cp.server().reconciler();
  auto pass = r.RunOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->placed, 4);
  EXPECT_EQ(pass->unplaceable, 3);
  for (size_t j = 0; j < ids.size(); ++j) {
    Reply job = GetJob(cp, ids[j]);
    if (j < 4) {
      EXPECT_EQ(job.Str("state"), "scheduled") << j << ": " << job.raw;
      EXPECT_NE(job.Str("reason").find("placed on "), std::string::npos) << job.raw;
    } else {
      EXPECT_EQ(job.Str("state"), "pending") << j << ": " << job.raw;
      EXPECT_EQ(job.Str("reason").rfind("waiting for capacity", 0), 0u) << job.raw;
    }
  }
  EXPECT_EQ(AllocationsOf(agents).size(), 4u);
  // Booked: passes that follow place nothing more on the full pool.
  for (int i = 0; i < 3; ++i) {
    auto again = r.RunOnce();
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->placed, 0);
  }
  EXPECT_EQ(AllocationsOf(agents).size(), 4u);
  // A job of the first window ends: its GPU goes to a job of the oldest waiting window.
  std::string ended;
  for (auto& a : agents) {
    Reply hb = a->Heartbeat();
    for (const auto& alloc : hb.body.at("allocations").as_array()) {
      if (alloc.at("job_id").as_string() == ids[2]) {
        ended = std::string(alloc.at("allocation_id").as_string());
        a->Heartbeat(Reports({ended}, "exited", 0));
      }
    }
  }
  ASSERT_FALSE(ended.empty());
  cp.Reconcile();
  EXPECT_EQ(GetJob(cp, ids[2]).Str("state"), "succeeded");
  const std::string s4 = GetJob(cp, ids[4]).Str("state"), s5 = GetJob(cp, ids[5]).Str("state");
  EXPECT_EQ((s4 == "scheduled") + (s5 == "scheduled"), 1) << s4 << ", " << s5;
  EXPECT_EQ((s4 == "pending") + (s5 == "pending"), 1) << s4 << ", " << s5;
  EXPECT_EQ(GetJob(cp, ids[6]).Str("state"), "pending");
  EXPECT_EQ(AllocationsOf(agents).size(), 4u);
}

// A gang in a window is placed whole or not at all: one that can never fit takes nothing
// (its reason says why), and the window's other jobs, a gang among them, get the room.
TEST(ReconcilerTest, BatchPlacerPlacesAGangWholeOrNotAtAll) {
  TestControlPlane cp(nullptr, BatchOptions(64));
  std::vector<std::unique_ptr<SimAgent>> agents;
  agents.push_back(std::make_unique<SimAgent>(cp, "a1", 2));
  agents.push_back(std::make_unique<SimAgent>(cp, "a2", 1));
  const std::string big = Submit(cp, JobBody(4, 0, "\"gpu_count\":1"));
  const std::string pair = Submit(cp, JobBody(2, 0, "\"gpu_count\":1"));
  const std::string one = Submit(cp, JobBody(1, 0, "\"gpu_count\":1"));
  cp.Reconcile();
  Reply job = GetJob(cp, big);
  EXPECT_EQ(job.Str("state"), "pending");
  EXPECT_EQ(job.Str("reason"),
            "never fits in this pool as it is: the gang needs 4 GPUs at once; the whole pool "
            "has 3")
      << job.raw;
  EXPECT_EQ(GetJob(cp, pair).Str("state"), "scheduled") << GetJob(cp, pair).raw;
  EXPECT_EQ(GetJob(cp, one).Str("state"), "scheduled") << GetJob(cp, one).raw;
  int of_pair = 0, of_big = 0;
  for (auto& a : agents) {
    Reply hb = a->Heartbeat();
    for (const auto& alloc : hb.body.at("allocations").as_array()) {
      of_pair += alloc.at("job_id").as_string() == pair ? 1 : 0;
      of_big += alloc.at("job_id").as_string() == big ? 1 : 0;
    }
  }
  EXPECT_EQ(of_pair, 2);
  EXPECT_EQ(of_big, 0);
}

TEST(ReconcilerTest, BackgroundPassesFollowTheInjectedClock) {
  InterleavingStore store(store::NewMemoryStore());
  ManualClock clock;
  SequentialIdGenerator ids;
  Metrics metrics;
  ReconcilerOptions opts;
  opts.interval = std::chrono::seconds(10);
  auto created = Reconciler::Create(store, clock, ids, metrics, opts);
  ASSERT_TRUE(created.ok()) << created.status();
  Reconciler& rec = **created;
  rec.Start();
  ASSERT_TRUE(clock.AwaitWaiters(1));
  EXPECT_EQ(rec.passes(), 1);  // the first pass at once, then it waits on the clock
  clock.Advance(std::chrono::milliseconds(9999));
  ASSERT_TRUE(clock.AwaitWaiters(1));
  EXPECT_EQ(rec.passes(), 1);
  clock.Advance(std::chrono::milliseconds(1));
  ASSERT_TRUE(clock.AwaitWaiters(1));
  EXPECT_EQ(rec.passes(), 2);
  // Poked after a quiet pass (one job at a time): the next pass starts at once, without
  // the clock moving.
  rec.Poke();
  for (int i = 0; i < 5000 && rec.passes() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(rec.passes(), 3);
  // Poked while a pass runs (a stream of submissions): a pause as long as that pass took
  // (no clock time here, so the least pause, 1 ms) before the next.
  store.ArmRead([&](store::Store&) { rec.Poke(); });
  rec.Poke();
  for (int i = 0; i < 5000 && rec.passes() < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(rec.passes(), 4);
  ASSERT_TRUE(clock.AwaitWaiters(1));
  EXPECT_EQ(rec.passes(), 4);
  clock.Advance(std::chrono::milliseconds(1));
  for (int i = 0; i < 5000 && rec.passes() < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(rec.passes(), 5);
  ASSERT_TRUE(clock.AwaitWaiters(1));
  rec.Stop();  // ends the clock wait without advancing it
  EXPECT_EQ(clock.Waiters(), 0);
}

}  // namespace
}  // namespace fastgpu::server::testing

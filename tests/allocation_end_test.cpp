// A replica the control plane stopped says how it ended: a cancelled job's allocation
// reads "stopped by the control plane (job cancelled)" until its agent reports, then the
// signal the agent saw (15), never "exit 0". In-process Api + Reconciler, simulated agent.
#include <gtest/gtest.h>

#include "server/server_test_util.h"

namespace fastgpu::server::testing {
namespace {

const char kJob[] =
    R"({"command":["sleep","60"],"shape":{"gpu_count":1,"gpu_milli":1000},"replicas":2})";

json::object Exited(const std::string& alloc, int exit_code, int signal,
                    const std::string& message) {
  return json::object{{"allocation_id", alloc},
                      {"state", "exited"},
                      {"exit_code", exit_code},
                      {"signal", signal},
                      {"message", message}};
}

Reply Alloc(TestControlPlane& cp, const std::string& id) {
  return cp.Do("GET", "/v1/allocations/" + id, cp.admin());
}

TEST(AllocationEndTest, ACancelledReplicaRecordsTheSignalItWasStoppedWith) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 2);
  Reply sub = cp.Do("POST", "/v1/jobs", cp.admin(), kJob);
  ASSERT_EQ(sub.status, 201) << sub.raw;
  cp.Reconcile();
  auto allocs = agent.Allocations(agent.Heartbeat());
  ASSERT_EQ(allocs.size(), 2u);
  agent.Heartbeat({ReplicaReportJson(allocs[0], "running"), ReplicaReportJson(allocs[1], "running")});
  cp.Reconcile();
  Reply running = Alloc(cp, allocs[0]);
  EXPECT_EQ(running.Str("ended"), "") << running.raw;

  ASSERT_EQ(cp.Do("POST", "/v1/jobs/" + sub.Str("id") + "/cancel", cp.admin()).status, 200);
  Reply stopped = Alloc(cp, allocs[0]);
  EXPECT_EQ(stopped.Str("state"), "released");
  EXPECT_EQ(stopped.Str("ended"), "stopped by the control plane") << stopped.raw;
  EXPECT_EQ(stopped.Str("message"), "stopped by the control plane (job cancelled)");

  // The agent stops replica 0 with SIGTERM and reports it; replica 1 it has not yet.
  json::array reports{Exited(allocs[0], 0, 15, "killed by signal 15 (Terminated)"),
                      ReplicaReportJson(allocs[1], "running")};
  Reply hb = agent.Heartbeat(reports);
  ASSERT_EQ(hb.status, 200) << hb.raw;
  EXPECT_EQ(hb.body.at("cancel").as_array().size(), 2u);  // still told to forget both
  Reply killed = Alloc(cp, allocs[0]);
  EXPECT_EQ(killed.Str("state"), "released") << killed.raw;
  EXPECT_EQ(killed.body.at("signal").as_int64(), 15);
  EXPECT_EQ(killed.Str("ended"), "signal 15");
  EXPECT_EQ(killed.Str("message"),
            "ended after it was stopped by the control plane (job cancelled): killed by signal 15 "
            "(Terminated)");
  EXPECT_EQ(Alloc(cp, allocs[1]).Str("ended"), "stopped by the control plane");
  // A repeated report changes nothing; the job stays cancelled.
  agent.Heartbeat(reports);
  cp.Reconcile();
  EXPECT_EQ(Alloc(cp, allocs[0]).raw, killed.raw);
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/" + sub.Str("id"), cp.admin()).Str("state"), "cancelled");
}

TEST(AllocationEndTest, ExitsBeforeTheReleaseAreKeptAsReported) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 2);
  Reply sub = cp.Do("POST", "/v1/jobs", cp.admin(), kJob);
  ASSERT_EQ(sub.status, 201) << sub.raw;
  cp.Reconcile();
  auto allocs = agent.Allocations(agent.Heartbeat());
  ASSERT_EQ(allocs.size(), 2u);
  // Replica 0 exits 3: the job fails and the control plane stops replica 1.
  agent.Heartbeat({ReplicaReportJson(allocs[0], "exited", 3), ReplicaReportJson(allocs[1], "running")});
  cp.Reconcile();
  EXPECT_EQ(Alloc(cp, allocs[0]).Str("ended"), "exit 3");
  Reply sibling = Alloc(cp, allocs[1]);
  EXPECT_EQ(sibling.Str("ended"), "stopped by the control plane");
  EXPECT_EQ(sibling.Str("message"),
            "stopped by the control plane (job failed: replica 0 exited with code 3)");
  // A late report for the exited replica does not rewrite it.
  agent.Heartbeat({Exited(allocs[0], 0, 9, "killed by signal 9"), Exited(allocs[1], 0, 15, "")});
  EXPECT_EQ(Alloc(cp, allocs[0]).Str("ended"), "exit 3");
  Reply after = Alloc(cp, allocs[1]);
  EXPECT_EQ(after.Str("ended"), "signal 15");
  EXPECT_EQ(after.Str("message"),
            "ended after it was stopped by the control plane (job failed: replica 0 exited with "
            "code 3): killed by signal 15");
}

// A replica its agent could not start fails the job; once released with the job it still
// reads "failed to start", not "exit 0".
TEST(AllocationEndTest, AReplicaThatCouldNotStartStaysFailedToStart) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 2);
  Reply sub = cp.Do("POST", "/v1/jobs", cp.admin(), kJob);
  ASSERT_EQ(sub.status, 201) << sub.raw;
  cp.Reconcile();
  auto allocs = agent.Allocations(agent.Heartbeat());
  ASSERT_EQ(allocs.size(), 2u);
  json::object failed = ReplicaReportJson(allocs[0], "failed");
  failed["message"] = "cannot start python3: Permission denied";
  agent.Heartbeat({failed, ReplicaReportJson(allocs[1], "running")});
  cp.Reconcile();
  agent.Heartbeat({failed, ReplicaReportJson(allocs[1], "running")});
  cp.Reconcile();
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/" + sub.Str("id"), cp.admin()).Str("state"), "failed");
  Reply a = Alloc(cp, allocs[0]);
  EXPECT_EQ(a.Str("ended"), "failed to start") << a.raw;
  EXPECT_EQ(a.Str("message"), "cannot start python3: Permission denied") << a.raw;
}

// An agent's "OOMKilled" reason: the allocation ends "OOMKilled", its message says the
// limit, and the job fails saying so.
TEST(AllocationEndTest, AnOomKilledReplicaFailsTheJobWithThatReason) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 2);
  Reply sub =
      cp.Do("POST", "/v1/jobs", cp.admin(),
            R"({"command":["sh"],"shape":{"gpu_count":1,"gpu_milli":1000,"memory_mib":64}})");
  ASSERT_EQ(sub.status, 201) << sub.raw;
  cp.Reconcile();
  auto allocs = agent.Allocations(agent.Heartbeat());
  ASSERT_EQ(allocs.size(), 1u);
  agent.Heartbeat({ReplicaReportJson(allocs[0], "running")});
  cp.Reconcile();
  json::object oom = Exited(allocs[0], 137, 0, "exceeded its memory limit of 64 MiB (exit 137)");
  oom["reason"] = "OOMKilled";
  Reply hb = agent.Heartbeat({oom});
  ASSERT_EQ(hb.status, 200) << hb.raw;
  cp.Reconcile();
  Reply ended = Alloc(cp, allocs[0]);
  EXPECT_EQ(ended.Str("ended"), "OOMKilled") << ended.raw;
  EXPECT_EQ(ended.Str("message"), "OOMKilled: exceeded its memory limit of 64 MiB (exit 137)");
  Reply job = cp.Do("GET", "/v1/jobs/" + sub.Str("id"), cp.admin());
  EXPECT_EQ(job.Str("state"), "failed") << job.raw;
  EXPECT_EQ(job.Str("reason"),
            "replica 0 was OOMKilled: exceeded its memory limit of 64 MiB (exit 137)");
  // Reasons the protocol does not define, or on a replica that did not exit, are refused.
  json::object bad = Exited(allocs[0], 1, 0, "");
  bad["reason"] = "Evicted";
  EXPECT_EQ(agent.Heartbeat({bad}).status, 400);
  json::object running = ReplicaReportJson(allocs[0], "running");
  running["reason"] = "OOMKilled";
  EXPECT_EQ(agent.Heartbeat({running}).status, 400);
}

}  // namespace
}  // namespace fastgpu::server::testing

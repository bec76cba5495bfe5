// A waiting job's reason names the real obstacle, and a job no registered node could ever
// hold is refused at submission (422) with that same reason. Each case runs the real Api
// and Reconciler in-process (ManualClock, simulated agents) and checks the exact text a
// user reads in `fastgpu job get` or in the refusal.
#include <gtest/gtest.h>

#include <string>

#include "server/server_test_util.h"

namespace fastgpu::server::testing {
namespace {

// A job of `replicas` replicas of `shape` (the inside of the shape object).
std::string Body(const std::string& shape, int replicas = 1) {
  return R"({"command":["sleep","60"],"shape":{)" + shape + R"(},"replicas":)" +
         std::to_string(replicas) + "}";
}
const char kOneGpu[] = R"("gpu_count":1,"gpu_milli":1000,"cpu_milli":1000)";

Reply Submit(TestControlPlane& cp, const std::string& body) {
  return cp.Do("POST", "/v1/jobs", cp.admin(), body);
}

// Submits (expecting 201), reconciles and returns the job's reason.
std::string ReasonAfterSubmit(TestControlPlane& cp, const std::string& body, std::string* id) {
  Reply r = Submit(cp, body);
  EXPECT_EQ(r.status, 201) << r.raw;
  *id = r.Str("id");
  cp.Reconcile();
  Reply job = cp.Do("GET", "/v1/jobs/" + *id, cp.admin());
  EXPECT_EQ(job.Str("state"), "pending") << job.raw;
  return job.Str("reason");
}

std::string Message(const Reply& r) { return r.Str("message"); }

TEST(PendingReasonsTest, AnEmptyPoolAcceptsAndWaitsForNodes) {
  TestControlPlane cp;
  std::string id;
  EXPECT_EQ(ReasonAfterSubmit(cp, Body(kOneGpu, 5), &id), "waiting: no nodes registered yet");
  // The first node arrives: the job is judged again (and here placed).
  SimAgent agent(cp, "a1", 8);
  cp.Reconcile();
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/" + id, cp.admin()).Str("state"), "scheduled");
}

TEST(PendingReasonsTest, AGangLargerThanThePoolIsRefused) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 4);
  Reply r = Submit(cp, Body(kOneGpu, 5));
  EXPECT_EQ(r.status, 422) << r.raw;
  EXPECT_EQ(Message(r),
            "never fits in this pool as it is: the gang needs 5 GPUs at once; the whole pool has "
            "4");
  // Replicas of one GPU may span nodes: with a second node the same gang is accepted.
  SimAgent second(cp, "a2", 2);
  r = Submit(cp, Body(kOneGpu, 5));
  EXPECT_EQ(r.status, 201) << r.raw;
  cp.Reconcile();
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/" + r.Str("id"), cp.admin()).Str("state"), "scheduled");
}

TEST(PendingReasonsTest, MoreGpuMemoryThanAnyGpuIsRefused) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 2);  // 81559 MiB GPUs
  Reply r = Submit(cp, Body(R"("gpu_count":1,"gpu_milli":500,"gpu_memory_mib":204800)"));
  EXPECT_EQ(r.status, 422) << r.raw;
  EXPECT_EQ(Message(r),
            "never fits in this pool as it is: asks 200GiB of GPU memory per GPU; the largest "
            "GPU has 79.6GiB");
}

TEST(PendingReasonsTest, MigWithoutMigModeIsRefused) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 2);
  Reply r = Submit(cp, Body(R"("gpu_count":1,"gpu_milli":500,"isolation":"mig")"));
  EXPECT_EQ(r.status, 422) << r.raw;
  EXPECT_EQ(Message(r),
            "never fits in this pool as it is: asks for MIG isolation; no GPU is in MIG mode");
}

TEST(PendingReasonsTest, ModelCpuAndMemoryBeyondThePoolAreRefused) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 2);  // 64 CPU, 512 GiB
  Reply r = Submit(cp, Body(R"("gpu_count":1,"gpu_milli":1000,"gpu_models":["A100-80GB"])"));
  EXPECT_EQ(r.status, 422) << r.raw;
  EXPECT_EQ(Message(r),
            "never fits in this pool as it is: asks for a GPU of model A100-80GB; the pool has "
            "only H100-80GB");
  r = Submit(cp, Body(R"("gpu_count":1,"gpu_milli":1000,"cpu_milli":128000)"));
  EXPECT_EQ(r.status, 422) << r.raw;
  EXPECT_EQ(Message(r),
            "never fits in this pool as it is: asks 128 CPU per replica; the largest node has 64 "
            "CPU");
  r = Submit(cp, Body(R"("cpu_milli":1000,"memory_mib":1048576)"));
  EXPECT_EQ(r.status, 422) << r.raw;
  EXPECT_EQ(Message(r),
            "never fits in this pool as it is: asks 1TiB of memory per replica; the largest node "
            "has 512GiB");
  r = Submit(cp, Body(R"("gpu_count":8,"gpu_milli":1000)"));
  EXPECT_EQ(r.status, 422) << r.raw;
  EXPECT_EQ(Message(r),
            "never fits in this pool as it is: a replica needs 8 GPUs on one node; the largest "
            "node has 2");
  // A model the pool has, but too few of them for the gang.
  SimAgent a100(cp, "a2", 2, "A100-80GB");
  r = Submit(cp, Body(R"("gpu_count":1,"gpu_milli":1000,"gpu_models":["A100-80GB"])", 3));
  EXPECT_EQ(r.status, 422) << r.raw;
  EXPECT_EQ(Message(r),
            "never fits in this pool as it is: the gang needs 3 GPUs at once; the whole pool has "
            "2 of model A100-80GB");
}

TEST(PendingReasonsTest, AllowUnplaceableAcceptsAndSaysItNeverFits) {
  ServerOptions options;
  options.allow_unplaceable = true;
  TestControlPlane cp(nullptr, options);
  SimAgent agent(cp, "a1", 4);
  std::string id;
  EXPECT_EQ(ReasonAfterSubmit(cp, Body(kOneGpu, 5), &id),
            "never fits in this pool as it is: the gang needs 5 GPUs at once; the whole pool has "
            "4");
  // The pool grows: the job is placed.
  SimAgent second(cp, "a2", 1);
  cp.Reconcile();
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/" + id, cp.admin()).Str("state"), "scheduled");
}

TEST(PendingReasonsTest, ADrainedNodeIsNamed) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 4);
  ASSERT_EQ(cp.Do("POST", "/v1/nodes/" + agent.node_id() + "/drain", cp.admin()).status, 200);
  std::string id;  // a drained node may come back: accepted, and it waits for it
  EXPECT_EQ(ReasonAfterSubmit(cp, Body(kOneGpu), &id),
            "waiting for unavailable capacity: node " + agent.node_id() + " is drained");
  ASSERT_EQ(cp.Do("POST", "/v1/nodes/" + agent.node_id() + "/undrain", cp.admin()).status, 200);
  cp.Reconcile();
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/" + id, cp.admin()).Str("state"), "scheduled");
}

TEST(PendingReasonsTest, ALostNodeIsNamed) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 1);
  cp.clock().Advance(std::chrono::seconds(60));  // past the 15 s lease
  cp.Reconcile();
  std::string id;
  EXPECT_EQ(ReasonAfterSubmit(cp, Body(kOneGpu), &id),
            "waiting for unavailable capacity: node " + agent.node_id() +
                " is lost (its agent stopped sending heartbeats)");
}

TEST(PendingReasonsTest, UnhealthyGpusAreNamed) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 2);
  json::array gpus{json::object{{"index", 1}, {"healthy", false}, {"health_reason", "XID 79"}}};
  ASSERT_EQ(agent.Heartbeat({}, gpus).status, 200);
  std::string id;
  EXPECT_EQ(ReasonAfterSubmit(cp, Body(kOneGpu, 2), &id),
            "waiting for unavailable capacity: GPU 1 of node " + agent.node_id() +
                " is unhealthy (XID 79) (the rest of the pool holds 1 of the 2 replicas)");
}

TEST(PendingReasonsTest, BusySaysWhatHoldsTheCapacity) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 4);
  Reply first = Submit(cp, Body(kOneGpu, 4));
  ASSERT_EQ(first.status, 201) << first.raw;
  cp.Reconcile();
  std::string id;
  EXPECT_EQ(ReasonAfterSubmit(cp, Body(kOneGpu), &id),
            "waiting for capacity: all 4 GPUs are allocated");
  std::string half;
  EXPECT_EQ(ReasonAfterSubmit(cp, Body(R"("gpu_count":1,"gpu_milli":500)"), &half),
            "waiting for capacity: all 4 GPUs are allocated");
  // The holder ends: both are placed.
  ASSERT_EQ(cp.Do("POST", "/v1/jobs/" + first.Str("id") + "/cancel", cp.admin()).status, 200);
  cp.Reconcile();
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/" + id, cp.admin()).Str("state"), "scheduled");
  EXPECT_EQ(cp.Do("GET", "/v1/jobs/" + half, cp.admin()).Str("state"), "scheduled");
}

TEST(PendingReasonsTest, PartlyBusyGangSaysHowManyAreFree) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 4);
  ASSERT_EQ(Submit(cp, Body(kOneGpu, 3)).status, 201);
  cp.Reconcile();
  std::string id;
  EXPECT_EQ(ReasonAfterSubmit(cp, Body(kOneGpu, 2), &id),
            "waiting for capacity: 1 of 4 GPUs is free; it needs 2 at once");
}

}  // namespace
}  // namespace fastgpu::server::testing

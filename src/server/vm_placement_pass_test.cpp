// vm isolation through the control plane: GPUs registered with vm offers, a `vm` fraction
// placed at the smallest vGPU type that holds it (the slice names the type and has its
// share, so usage is metered as the type), and a waiting reason where no GPU offers one.
#include <gtest/gtest.h>

#include "protocol/agent_protocol.h"
#include "server/reconciler_test_util.h"

namespace fastgpu::server::testing {
namespace {

model::VmOffer QuarterAndHalf() {
  model::VmOffer vm;
  vm.passthrough = true;
  vm.types = {{"H100-80GB-20C", 250, 20389}, {"H100-80GB-40C", 500, 40779}};
  return vm;
}

std::string VmJob(const std::string& gpu_milli) {
  return JobBody(1, 0, "\"gpu_count\":1,\"gpu_milli\":" + gpu_milli + ",\"isolation\":\"vm\"");
}

TEST(VmPlacementPassTest, AFractionIsPlacedAndMeteredAsTheSmallestTypeThatHoldsIt) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 1, "H100-80GB", QuarterAndHalf());
  // The offer is kept with the node (node list shows it).
  Reply nodes = cp.Do("GET", "/v1/nodes", cp.admin());
  const json::value* vm =
      nodes.body.at("nodes").as_array()[0].at("gpus").as_array()[0].as_object().if_contains("vm");
  ASSERT_NE(vm, nullptr) << nodes.raw;
  EXPECT_EQ(vm->at("types").as_array().size(), 2u);

  std::string id = Submit(cp, VmJob("300"));
  cp.Reconcile();
  Reply job = GetJob(cp, id);
  ASSERT_EQ(job.Str("state"), "scheduled") << job.raw;
  const json::value& slice = job.body.at("allocations").as_array()[0].at("slices").as_array()[0];
  EXPECT_EQ(slice.at("milli").as_int64(), 500) << job.raw;
  EXPECT_EQ(slice.at("vm_type").as_string(), "H100-80GB-40C") << job.raw;
  EXPECT_EQ(slice.at("isolation").as_string(), "vm");
  // The agent is told the type.
  Reply hb = agent.Heartbeat();
  const json::value& told =
      hb.body.at("allocations").as_array()[0].at("slices").as_array()[0];
  EXPECT_EQ(told.at("vm_type").as_string(), "H100-80GB-40C") << hb.raw;

  // 10 s of it are billed as 0.5 GPU: 5,000 GPU milli-seconds.
  const std::string alloc = agent.Allocations(hb).at(0);
  const int64_t start = ToUnixMillis(cp.clock().Now());
  protocol::ReplicaReport running;
  running.allocation_id = alloc;
  running.state = "running";
  running.started_at_ms = start;
  agent.Heartbeat(json::array{json::value_from(running)});
  cp.Reconcile();
  protocol::ReplicaReport exited = running;
  exited.state = "exited";
  exited.ended_at_ms = start + 10000;
  cp.clock().Advance(std::chrono::seconds(10));
  agent.Heartbeat(json::array{json::value_from(exited)});
  cp.Reconcile();
  Reply usage = cp.Do("GET", "/v1/usage?by=job&from=" + std::to_string(start - 1000) +
                                 "&to=" + std::to_string(start + 60000),
                      cp.admin());
  ASSERT_EQ(usage.status, 200) << usage.raw;
  const json::array& rows = usage.body.at("rows").as_array();
  ASSERT_EQ(rows.size(), 1u) << usage.raw;
  EXPECT_EQ(rows[0].at("gpu_milli_seconds").as_int64(), 5000) << usage.raw;
}

TEST(VmPlacementPassTest, AVmJobNoGpuCanTakeWaitsSayingWhy) {
  TestControlPlane cp;
  model::VmOffer quarter;
  quarter.types = {{"H100-80GB-20C", 250, 20389}};
  quarter.reason = "the host has no IOMMU";
  SimAgent agent(cp, "a1", 1, "H100-80GB", quarter);
  const std::string note = "; " + agent.node_id() + " GPU 0: the host has no IOMMU";
  std::string frac = Submit(cp, VmJob("300"));
  std::string whole = Submit(cp, VmJob("1000"));
  cp.Reconcile();
  Reply f = GetJob(cp, frac);
  EXPECT_EQ(f.Str("state"), "pending");
  EXPECT_EQ(f.Str("reason"),
            "never fits in this pool as it is: no GPU offers a vm type of at least 0.3 (types "
            "offered: 0.25)" +
                note)
      << f.raw;
  Reply w = GetJob(cp, whole);
  EXPECT_EQ(w.Str("reason"),
            "never fits in this pool as it is: no GPU offers whole-GPU vm passthrough" + note)
      << w.raw;
  EXPECT_TRUE(agent.Allocations(agent.Heartbeat()).empty());
  // A GPU offering what they need (its agent registers again) takes them.
  SimAgent again(cp, "a1", 1, "H100-80GB", QuarterAndHalf());
  cp.Reconcile();
  EXPECT_EQ(GetJob(cp, frac).Str("state"), "scheduled") << GetJob(cp, frac).raw;
}

TEST(VmPlacementPassTest, AnAgentThatReportsNoOfferGetsNoVmWork) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 2);  // an older agent: no "vm" field
  std::string id = Submit(cp, VmJob("500"));
  cp.Reconcile();
  Reply job = GetJob(cp, id);
  EXPECT_EQ(job.Str("state"), "pending");
  EXPECT_EQ(job.Str("reason"),
            "never fits in this pool as it is: no GPU offers a vm type of at least 0.5 (no GPU "
            "offers vm types)")
      << job.raw;
  // Other work is placed as before.
  std::string mps = Submit(cp, JobBody(1, 0));
  cp.Reconcile();
  EXPECT_EQ(GetJob(cp, mps).Str("state"), "scheduled");
}

}  // namespace
}  // namespace fastgpu::server::testing

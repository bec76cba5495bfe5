// Validation of nodes, allocations, jobs and tenants: each kind of bad input.
#include <gtest/gtest.h>

#include "model/allocation.h"
#include "model/gpu.h"
#include "model/job.h"
#include "model/tenant.h"

namespace fastgpu::model {
namespace {

Node TwoGpuNode() {
  Node n;
  n.id = "node-1";
  n.name = "gpu-host-1";
  n.cpu_milli = 64000;
  n.memory_mib = 256 * 1024;
  for (int i = 0; i < 2; ++i) {
    n.gpus.push_back(
        Gpu{i, "GPU-" + std::to_string(i), "H100-80GB", 81920, true, "", false, false});
  }
  return n;
}

TEST(NodeValidationTest, Good) { EXPECT_TRUE(ValidateNode(TwoGpuNode()).ok()); }

TEST(NodeValidationTest, Bad) {
  Node n = TwoGpuNode();
  n.name = "";
  EXPECT_FALSE(ValidateNode(n).ok());
  n = TwoGpuNode();
  n.cpu_milli = -1;
  EXPECT_FALSE(ValidateNode(n).ok());
  n = TwoGpuNode();
  n.gpus[1].index = 0;
  EXPECT_NE(ValidateNode(n).message().find("repeats"), std::string::npos);
  n = TwoGpuNode();
  n.gpus[0].memory_mib = 0;
  EXPECT_NE(ValidateNode(n).message().find("memory_mib"), std::string::npos);
  n = TwoGpuNode();
  n.gpus[0].uuid = "";
  EXPECT_NE(ValidateNode(n).message().find("uuid"), std::string::npos);
  n = TwoGpuNode();
  n.gpus[0].model = "";
  EXPECT_FALSE(ValidateNode(n).ok());
}

TEST(AllocationValidationTest, GoodAndBad) {
  Node n = TwoGpuNode();
  Allocation a;
  a.node_id = n.id;
  a.cpu_milli = 1000;
  a.slices.push_back(VgpuSlice{0, "GPU-0", 500, 40960, Isolation::kMps});
  a.slices.push_back(VgpuSlice{1, "GPU-1", 1000, 81920, Isolation::kExclusive});
  EXPECT_TRUE(ValidateAllocation(a, n).ok());
  EXPECT_EQ(a.TotalGpuMilli(), 1500);

  Allocation b = a;
  b.slices[1].gpu_index = 0;
  EXPECT_NE(ValidateAllocation(b, n).message().find("twice"), std::string::npos);
  b = a;
  b.slices[0].gpu_index = 7;
  EXPECT_NE(ValidateAllocation(b, n).message().find("does not have"), std::string::npos);
  b = a;
  b.slices[0].memory_mib = 90000;
  EXPECT_FALSE(ValidateAllocation(b, n).ok());
  b = a;
  b.slices[0].isolation = Isolation::kExclusive;
  EXPECT_NE(ValidateAllocation(b, n).message().find("whole GPU"), std::string::npos);
  b = a;
  b.slices[0].isolation = Isolation::kMig;
  EXPECT_NE(ValidateAllocation(b, n).message().find("MIG"), std::string::npos);
  b = a;
  b.cpu_milli = 100000;
  EXPECT_FALSE(ValidateAllocation(b, n).ok());
  b = a;
  b.slices[0].milli = 0;
  EXPECT_FALSE(ValidateAllocation(b, n).ok());
}

JobSpec GoodSpec() {
  JobSpec s;
  s.command = {"python", "train.py"};
  s.shape.gpu_count = 1;
  s.shape.gpu_milli = 500;
  return s;
}

TEST(JobValidationTest, GoodAndBad) {
  EXPECT_TRUE(ValidateJobSpec(GoodSpec()).ok());
  JobSpec s = GoodSpec();
  s.command.clear();
  EXPECT_NE(ValidateJobSpec(s).message().find("command"), std::string::npos);
  s = GoodSpec();
  s.replicas = 0;
  EXPECT_NE(ValidateJobSpec(s).message().find("replicas"), std::string::npos);
  s = GoodSpec();
  s.max_retries = -1;
  EXPECT_NE(ValidateJobSpec(s).message().find("max_retries"), std::string::npos);
  s = GoodSpec();
  s.env["A=B"] = "x";
  EXPECT_NE(ValidateJobSpec(s).message().find("env"), std::string::npos);
  s = GoodSpec();
  s.shape.gpu_milli = 1500;
  EXPECT_NE(ValidateJobSpec(s).message().find("shape: gpu_milli"), std::string::npos);
  s = GoodSpec();
  s.name = std::string(200, 'x');
  EXPECT_FALSE(ValidateJobSpec(s).ok());
}

TEST(JobLifecycleTest, Transitions) {
  ManualClock clock;
  Job job;
  job.id = "job-1";
  EXPECT_TRUE(TransitionJob(job, JobState::kScheduled, "placed on node-1", clock.Now()).ok());
  EXPECT_EQ(job.attempts, 1);
  EXPECT_TRUE(TransitionJob(job, JobState::kRunning, "agent started it", clock.Now()).ok());
  EXPECT_TRUE(TransitionJob(job, JobState::kPending, "node lost", clock.Now()).ok());
  EXPECT_TRUE(TransitionJob(job, JobState::kScheduled, "placed on node-2", clock.Now()).ok());
  EXPECT_TRUE(TransitionJob(job, JobState::kRunning, "started", clock.Now()).ok());
  EXPECT_TRUE(TransitionJob(job, JobState::kSucceeded, "exit 0", clock.Now()).ok());
  EXPECT_EQ(job.events.size(), 6u);
  EXPECT_EQ(job.reason, "exit 0");
  Status st = TransitionJob(job, JobState::kRunning, "again", clock.Now());
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(job.state, JobState::kSucceeded);
  EXPECT_FALSE(CanTransition(JobState::kPending, JobState::kRunning));
  EXPECT_TRUE(CanTransition(JobState::kPending, JobState::kCancelled));
  EXPECT_EQ(*ParseJobState("running"), JobState::kRunning);
  EXPECT_FALSE(ParseJobState("dancing").ok());
}

TEST(TenantValidationTest, Names) {
  EXPECT_TRUE(ValidateTenantName("team-a1").ok());
  EXPECT_FALSE(ValidateTenantName("").ok());
  EXPECT_FALSE(ValidateTenantName("Team").ok());
  EXPECT_FALSE(ValidateTenantName("1team").ok());
  EXPECT_FALSE(ValidateTenantName("team_a").ok());
  EXPECT_FALSE(ValidateTenantName(std::string(64, 'a')).ok());
  EXPECT_FALSE(ValidateQuota(Quota{-1, 0}).ok());
  EXPECT_TRUE(ValidateQuota(Quota{4000, 100}).ok());
}

TEST(JobValidationTest, ReadinessNeedsAPort) {
  JobSpec spec = GoodSpec();
  spec.readiness.kind = ReadinessProbe::Kind::kTcp;
  Status st = ValidateJobSpec(spec);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("readiness: only a job with a port"), std::string::npos) << st;
  spec.port = true;
  EXPECT_TRUE(ValidateJobSpec(spec).ok());
  spec.readiness = {ReadinessProbe::Kind::kHttp, "/ready"};
  EXPECT_TRUE(ValidateJobSpec(spec).ok());
  spec.readiness.http_path = "ready";
  EXPECT_EQ(ValidateJobSpec(spec).message(), "readiness.http: must start with '/'");
  spec.readiness.http_path = "/" + std::string(1024, 'a');
  EXPECT_EQ(ValidateJobSpec(spec).message(), "readiness.http: at most 1024 characters");
  spec.readiness = {ReadinessProbe::Kind::kTcp, "/x"};
  EXPECT_EQ(ValidateJobSpec(spec).message(), "readiness.http: only for an HTTP probe");
  spec.readiness = {};
  EXPECT_TRUE(ValidateJobSpec(spec).ok());  // a port without a probe: ready when running
}

}  // namespace
}  // namespace fastgpu::model

// ReplicaStatus on a manual clock: what heartbeats say, what is forgotten and when, the
// utilisation of an allocation's GPUs, and the metric lines.
#include "server/replica_status.h"

#include <gtest/gtest.h>

namespace fastgpu::server {
namespace {

using std::chrono::seconds;

ReplicaObservation Seen(const std::string& alloc, const std::string& job, std::vector<int> gpus,
                        const std::string& endpoint, bool ready) {
  return {alloc, job, std::move(gpus), endpoint, ready};
}

TEST(ReplicaStatusTest, KeepsWhatTheLatestHeartbeatSays) {
  ManualClock clock;
  ReplicaStatus status(clock, seconds(15));
  status.ObserveNode("node-1", clock.Now(),
                     {Seen("alloc-a", "job-1", {0}, "10.0.0.7:40001", false),
                      Seen("alloc-b", "job-1", {1}, "10.0.0.7:40002", true),
                      Seen("alloc-c", "job-2", {}, "", true)},
                     {{0, 70}, {1, 30}});
  auto eps = status.EndpointsOfJob("job-1");
  ASSERT_EQ(eps.size(), 2u);
  EXPECT_EQ(eps[0].allocation_id, "alloc-a");
  EXPECT_EQ(eps[0].endpoint, "10.0.0.7:40001");
  EXPECT_FALSE(eps[0].ready);
  EXPECT_EQ(eps[1].allocation_id, "alloc-b");
  EXPECT_TRUE(eps[1].ready);
  EXPECT_EQ(eps[1].updated, clock.Now());
  EXPECT_TRUE(status.EndpointsOfJob("job-9").empty());
  EXPECT_EQ(status.GpuPercent("node-1", 0), 70);
  EXPECT_EQ(status.GpuPercent("node-1", 2), std::nullopt);
  EXPECT_EQ(status.AllocationGpuUtilization("alloc-a"), 70.0);
  EXPECT_EQ(status.AllocationGpuUtilization("alloc-c"), std::nullopt);  // no GPU
  EXPECT_EQ(status.AllocationGpuUtilization("alloc-x"), std::nullopt);  // unknown

  // The next heartbeat: alloc-a is ready, alloc-b is gone (released), GPU 1 unknown now.
  clock.Advance(std::chrono::milliseconds(2000));
  status.ObserveNode("node-1", clock.Now(),
                     {Seen("alloc-a", "job-1", {0}, "10.0.0.7:40001", true),
                      Seen("alloc-c", "job-2", {}, "", true)},
                     {{0, 20}, {1, -1}});
  eps = status.EndpointsOfJob("job-1");
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_TRUE(eps[0].ready);
  EXPECT_EQ(status.EndpointOf("alloc-b"), std::nullopt);
  EXPECT_EQ(status.GpuPercent("node-1", 1), std::nullopt);
  EXPECT_EQ(status.GpuPercent("node-1", 0), 20);
}

TEST(ReplicaStatusTest, AReplicaJobWithAPortIsReadyOnlyOnceItsAgentSaysSo) {
  ManualClock clock;
  ReplicaStatus status(clock);
  model::Job job;
  job.id = "job-1";
  job.state = model::JobState::kRunning;
  EXPECT_TRUE(ReplicaJobReady(job, &status));  // no port: running is ready
  job.spec.port = true;
  EXPECT_FALSE(ReplicaJobReady(job, &status));  // nothing reported yet
  status.ObserveNode("node-1", clock.Now(),
                     {Seen("alloc-a", "job-1", {0}, "127.0.0.1:4000", false)}, {});
  EXPECT_FALSE(ReplicaJobReady(job, &status));
  status.ObserveNode("node-1", clock.Now(), {Seen("alloc-a", "job-1", {0}, "127.0.0.1:4000", true)},
                     {});
  EXPECT_TRUE(ReplicaJobReady(job, &status));
  job.state = model::JobState::kPending;
  EXPECT_FALSE(ReplicaJobReady(job, &status));
  job.state = model::JobState::kRunning;
  EXPECT_TRUE(ReplicaJobReady(job, nullptr));  // no reports kept: running is enough
}

TEST(ReplicaStatusTest, MeanOverTheGpusAnAllocationSitsOn) {
  ManualClock clock;
  ReplicaStatus status(clock);
  status.ObserveNode("node-1", clock.Now(), {Seen("alloc-a", "job-1", {0, 1, 1, 2}, "", true)},
                     {{0, 90}, {1, 30}});  // GPU 2 unknown: left out of the mean
  EXPECT_EQ(status.AllocationGpuUtilization("alloc-a"), 60.0);
  // Another node's GPU 0 is another GPU.
  status.ObserveNode("node-2", clock.Now(), {}, {{0, 10}});
  EXPECT_EQ(status.AllocationGpuUtilization("alloc-a"), 60.0);
  EXPECT_EQ(status.GpuPercent("node-2", 0), 10);
}

TEST(ReplicaStatusTest, ASilentNodeIsForgottenAfterItsLease) {
  ManualClock clock;
  ReplicaStatus status(clock, seconds(15));
  status.ObserveNode("node-1", clock.Now(), {Seen("alloc-a", "job-1", {0}, "h:1", true)},
                     {{0, 50}});
  clock.Advance(std::chrono::milliseconds(15000));
  EXPECT_EQ(status.EndpointsOfJob("job-1").size(), 1u);  // at the lease: still counted
  clock.Advance(std::chrono::milliseconds(1));
  EXPECT_TRUE(status.EndpointsOfJob("job-1").empty());
  EXPECT_EQ(status.EndpointOf("alloc-a"), std::nullopt);
  EXPECT_EQ(status.AllocationGpuUtilization("alloc-a"), std::nullopt);
  EXPECT_EQ(status.GpuPercent("node-1", 0), std::nullopt);
  EXPECT_TRUE(status.GpuUtilizations().empty());
  // Another node's heartbeat purges the stale entries; the node coming back refills.
  status.ObserveNode("node-2", clock.Now(), {}, {});
  status.ObserveNode("node-1", clock.Now(), {Seen("alloc-a", "job-1", {0}, "h:1", false)}, {});
  ASSERT_EQ(status.EndpointsOfJob("job-1").size(), 1u);
  EXPECT_FALSE(status.EndpointsOfJob("job-1")[0].ready);
}

TEST(ReplicaStatusTest, ForgetDropsOneAllocation) {
  ManualClock clock;
  ReplicaStatus status(clock);
  status.ObserveNode(
      "node-1", clock.Now(),
      {Seen("alloc-a", "job-1", {}, "h:1", true), Seen("alloc-b", "job-1", {}, "h:2", true)}, {});
  status.Forget("alloc-a");
  status.Forget("alloc-unknown");
  auto eps = status.EndpointsOfJob("job-1");
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_EQ(eps[0].allocation_id, "alloc-b");
}

TEST(ReplicaStatusTest, RendersTheUtilizationMetric) {
  ManualClock clock;
  ReplicaStatus status(clock);
  EXPECT_EQ(status.RenderMetrics().find("fastgpu_gpu_utilization_percent{"), std::string::npos);
  status.ObserveNode("node-\"1", clock.Now(), {}, {{1, 70}, {0, 5}});
  const std::string text = status.RenderMetrics();
  EXPECT_NE(text.find("# TYPE fastgpu_gpu_utilization_percent gauge\n"), std::string::npos);
  EXPECT_NE(text.find("fastgpu_gpu_utilization_percent{node=\"node-\\\"1\",gpu=\"0\"} 5\n"
                      "fastgpu_gpu_utilization_percent{node=\"node-\\\"1\",gpu=\"1\"} 70\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace fastgpu::server

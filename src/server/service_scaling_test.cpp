// ServiceScaling (service_scaling.h): the autoscaler pass's inputs from RequestRate, one
// memory per service, and the services it forgets.
#include "server/service_scaling.h"

#include <gtest/gtest.h>

namespace fastgpu::server {
namespace {

using std::chrono::seconds;

const TimePoint kT0 = TimePoint() + std::chrono::hours(24);

ServiceLoad Load(std::string key, int current, double target_rps) {
  ServiceLoad s;
  s.key = std::move(key);
  s.policy.min_replicas = 0;
  s.policy.max_replicas = 5;
  s.policy.target_rps = target_rps;
  s.policy.idle_timeout = seconds(60);
  s.policy.scale_down_delay = seconds(30);
  s.current = current;
  s.ready = current;
  s.created_at = kT0;
  return s;
}

TEST(ServiceScalingTest, SizesEachServiceFromItsOwnRequests) {
  RequestRate rate(kT0, seconds(10));
  ServiceScaling scaling(rate);
  for (int i = 0; i < 300; ++i) rate.Record(ServiceKey("t1", "web"), kT0 + seconds(i / 30));
  const TimePoint now = kT0 + seconds(10);
  AutoscaleDecision web = scaling.Decide(Load(ServiceKey("t1", "web"), 1, 10), now);
  EXPECT_EQ(web.replicas, 3) << web.reason;  // 30 rps over a target of 10
  AutoscaleDecision other = scaling.Decide(Load(ServiceKey("t2", "web"), 1, 10), now);
  EXPECT_EQ(other.replicas, 1) << other.reason;  // no request, but not idle for 60 s yet
  EXPECT_EQ(scaling.size(), 2u);
}

TEST(ServiceScalingTest, IdleCountsFromTheLatestOfCreationAndTheLastRequest) {
  RequestRate rate(kT0, seconds(10));
  ServiceScaling scaling(rate);
  ServiceLoad s = Load("t/web", 1, 10);
  s.created_at = kT0 + seconds(100);  // created long after counting began
  EXPECT_EQ(scaling.Decide(s, kT0 + seconds(159)).replicas, 1);
  EXPECT_EQ(scaling.Decide(s, kT0 + seconds(160)).replicas, 0);
  rate.Record("t/web", kT0 + seconds(200));
  s.current = 0;
  s.ready = 0;
  AutoscaleDecision back = scaling.Decide(s, kT0 + seconds(201));
  EXPECT_EQ(back.replicas, 1) << back.reason;
}

TEST(ServiceScalingTest, AWaitingRequestStartsAReplica) {
  RequestRate rate(kT0, seconds(10));
  ServiceScaling scaling(rate);
  ServiceLoad s = Load("t/web", 0, 10);
  EXPECT_EQ(scaling.Decide(s, kT0 + seconds(1000)).replicas, 0);
  rate.BeginWait("t/web");
  AutoscaleDecision d = scaling.Decide(s, kT0 + seconds(1001));
  EXPECT_EQ(d.replicas, 1);
  EXPECT_EQ(d.reason, "a request is waiting: 1 replica");
  rate.EndWait("t/web");
}

TEST(ServiceScalingTest, RetainForgetsDeletedServicesAndPolicyChangesApply) {
  RequestRate rate(kT0, seconds(10));
  ServiceScaling scaling(rate);
  ServiceLoad a = Load("t/a", 2, 0);
  a.policy.min_replicas = 2;
  EXPECT_EQ(scaling.Decide(a, kT0).replicas, 2);
  EXPECT_EQ(scaling.Decide(Load("t/b", 1, 10), kT0).replicas, 1);
  a.policy.min_replicas = 4;  // edited: the new minimum counts at once
  EXPECT_EQ(scaling.Decide(a, kT0 + seconds(1)).replicas, 4);
  scaling.Retain({"t/a"});
  EXPECT_EQ(scaling.size(), 1u);
}

TEST(ServiceScalingTest, MeanUtilizationSkipsMissingReadings) {
  EXPECT_FALSE(MeanUtilization({}).has_value());
  EXPECT_FALSE(MeanUtilization({std::nullopt}).has_value());
  EXPECT_DOUBLE_EQ(*MeanUtilization({80.0, std::nullopt, 40.0}), 60.0);
}

}  // namespace
}  // namespace fastgpu::server

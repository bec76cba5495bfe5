// The autoscaler's decisions (service_autoscaler.h): each rule alone, then sequences over
// time for the stabilisation window, scale to zero and scale from zero.
#include "server/service_autoscaler.h"

#include <gtest/gtest.h>

#include <chrono>

namespace fastgpu::server {
namespace {

using std::chrono::seconds;

const TimePoint kT0 = TimePoint() + std::chrono::hours(24);

AutoscalePolicy RpsPolicy(int min, int max, double target) {
  AutoscalePolicy p;
  p.min_replicas = min;
  p.max_replicas = max;
  p.target_rps = target;
  p.scale_down_delay = seconds(300);
  p.idle_timeout = seconds(600);
  return p;
}

AutoscaleInput At(TimePoint now, int current, double rps) {
  AutoscaleInput in;
  in.now = now;
  in.current = current;
  in.ready = current;
  in.rps = rps;
  in.last_request = now;
  return in;
}

TEST(ServiceAutoscalerTest, RpsModeWantsTheCeilingOfRpsOverTarget) {
  ServiceAutoscaler a(RpsPolicy(1, 10, 20));
  AutoscaleDecision d = a.Decide(At(kT0, 2, 43.2));
  EXPECT_EQ(d.replicas, 3);
  EXPECT_EQ(d.reason, "rps 43.2 > 2 × 20: 3 replicas");
  EXPECT_EQ(a.Decide(At(kT0, 3, 60)).replicas, 3);  // exactly at the target: no fourth
  EXPECT_EQ(a.Decide(At(kT0, 3, 60.1)).replicas, 4);
}

TEST(ServiceAutoscalerTest, ClampsToMinAndMax) {
  ServiceAutoscaler a(RpsPolicy(2, 4, 10));
  AutoscaleDecision up = a.Decide(At(kT0, 2, 1000));
  EXPECT_EQ(up.replicas, 4);
  EXPECT_NE(up.reason.find("(max 4)"), std::string::npos) << up.reason;
  ServiceAutoscaler b(RpsPolicy(2, 4, 10));
  AutoscaleDecision low = b.Decide(At(kT0, 2, 1));
  EXPECT_EQ(low.replicas, 2);
  EXPECT_NE(low.reason.find("(min 2)"), std::string::npos) << low.reason;
}

TEST(ServiceAutoscalerTest, ScalesUpAtOnceAndDownOnlyAfterTheDelay) {
  ServiceAutoscaler a(RpsPolicy(1, 10, 10));
  EXPECT_EQ(a.Decide(At(kT0, 1, 10)).replicas, 1);
  EXPECT_EQ(a.Decide(At(kT0 + seconds(10), 1, 50)).replicas, 5);  // up at once
  // The load falls: the highest recommendation of the last 300 s holds the count.
  AutoscaleDecision held = a.Decide(At(kT0 + seconds(20), 5, 15));
  EXPECT_EQ(held.replicas, 5);
  EXPECT_NE(held.reason.find("keeping 5 replicas"), std::string::npos) << held.reason;
  EXPECT_EQ(a.Decide(At(kT0 + seconds(309), 5, 15)).replicas, 5);
  // 300 s after the peak it is forgotten; the highest since (2) counts.
  EXPECT_EQ(a.Decide(At(kT0 + seconds(311), 5, 15)).replicas, 2);
  EXPECT_EQ(a.Decide(At(kT0 + seconds(700), 2, 5)).replicas, 1);
}

TEST(ServiceAutoscalerTest, AnOscillatingLoadDoesNotFlap) {
  ServiceAutoscaler a(RpsPolicy(1, 10, 10));
  int current = 1;
  int changes = 0;
  for (int i = 0; i < 60; ++i) {  // 10 minutes of 30 s then 5 s of load, every 10 s
    const double rps = i % 2 == 0 ? 30 : 5;
    const int next = a.Decide(At(kT0 + seconds(10 * i), current, rps)).replicas;
    if (next != current) ++changes;
    current = next;
  }
  EXPECT_EQ(current, 3);
  EXPECT_EQ(changes, 1);  // up once, never down
}

TEST(ServiceAutoscalerTest, UtilModeScalesReadyReplicasByTheRatio) {
  AutoscalePolicy p;
  p.min_replicas = 1;
  p.max_replicas = 8;
  p.target_gpu_util = 50;
  ServiceAutoscaler a(p);
  AutoscaleInput in = At(kT0, 2, 0);
  in.gpu_util = 90;  // 2 × 90 / 50 = 3.6
  AutoscaleDecision d = a.Decide(in);
  EXPECT_EQ(d.replicas, 4);
  EXPECT_EQ(d.reason, "gpu util 90% > target 50% on 2 ready: 4 replicas");
  // Within ±10% of the target nothing changes.
  in.current = 4;
  in.ready = 4;
  in.gpu_util = 54;
  EXPECT_EQ(a.Decide(in).replicas, 4);
  in.gpu_util = 46;
  EXPECT_EQ(a.Decide(in).replicas, 4);
  in.gpu_util = 56;  // 4 × 1.12 = 4.48
  EXPECT_EQ(a.Decide(in).replicas, 5);
}

TEST(ServiceAutoscalerTest, UtilModeWithoutAReadingOrReadyReplicaKeepsTheCount) {
  AutoscalePolicy p;
  p.min_replicas = 1;
  p.max_replicas = 8;
  p.target_gpu_util = 50;
  ServiceAutoscaler a(p);
  AutoscaleInput in = At(kT0, 3, 0);
  EXPECT_EQ(a.Decide(in).replicas, 3);  // no reading
  in.gpu_util = 100;
  in.ready = 0;  // all starting: no ratio to scale
  EXPECT_EQ(a.Decide(in).replicas, 3);
}

TEST(ServiceAutoscalerTest, BothTargetsTakeTheHigherRecommendation) {
  AutoscalePolicy p = RpsPolicy(1, 10, 10);
  p.target_gpu_util = 50;
  ServiceAutoscaler a(p);
  AutoscaleInput in = At(kT0, 2, 25);  // rps wants 3
  in.gpu_util = 100;                   // util wants 4
  EXPECT_EQ(a.Decide(in).replicas, 4);
  in.gpu_util = 10;  // util wants 1, rps 3
  in.current = 4;
  in.ready = 4;
  in.rps = 25;
  in.now += seconds(400);
  EXPECT_EQ(a.Decide(in).replicas, 3);
}

TEST(ServiceAutoscalerTest, MinZeroDropsToZeroOnlyAfterTheIdleTimeout) {
  ServiceAutoscaler a(RpsPolicy(0, 4, 10));
  AutoscaleInput in = At(kT0, 1, 0);
  in.last_request = kT0;
  in.now = kT0 + seconds(599);  // no traffic in the window, but a request 599 s ago
  AutoscaleDecision kept = a.Decide(in);
  EXPECT_EQ(kept.replicas, 1);
  in.now = kT0 + seconds(600);
  AutoscaleDecision idle = a.Decide(in);
  EXPECT_EQ(idle.replicas, 0);
  EXPECT_EQ(idle.reason, "idle: no request for 600 s: 0 replicas");
  // Zero stays zero while nobody asks.
  in.current = 0;
  in.ready = 0;
  in.now = kT0 + seconds(900);
  EXPECT_EQ(a.Decide(in).replicas, 0);
}

TEST(ServiceAutoscalerTest, AWaitingRequestStartsOneReplicaFromZero) {
  ServiceAutoscaler a(RpsPolicy(0, 4, 10));
  AutoscaleInput in = At(kT0 + seconds(5000), 0, 0);
  in.last_request = kT0;  // long idle: the request only now arrives and waits
  in.request_waiting = true;
  AutoscaleDecision d = a.Decide(in);
  EXPECT_EQ(d.replicas, 1);
  EXPECT_EQ(d.reason, "a request is waiting: 1 replica");
}

TEST(ServiceAutoscalerTest, AWaitingRequestKeepsTheStartingReplicaPastTheDelays) {
  // min 0, 10 rps per replica, scale-down delay 300 s, idle timeout 600 s (RpsPolicy).
  ServiceAutoscaler a(RpsPolicy(0, 4, 10));
  AutoscaleInput in = At(kT0, 0, 0);
  in.request_waiting = true;
  EXPECT_EQ(a.Decide(in).replicas, 1);
  // The replica takes long to become ready; the request still waits, its rate has left the
  // window and the idle timeout has passed: the replica stays.
  in.current = 1;
  for (int s : {60, 400, 1000}) {
    in.now = kT0 + seconds(s);
    EXPECT_EQ(a.Decide(in).replicas, 1) << "at " << s << " s";
  }
  // Once nothing waits, the idle rule takes it back to zero.
  in.request_waiting = false;
  in.now = kT0 + seconds(1001);
  EXPECT_EQ(a.Decide(in).replicas, 0);
}

TEST(ServiceAutoscalerTest, MaxZeroKeepsAServiceStoppedEvenWithAWaitingRequest) {
  ServiceAutoscaler a(RpsPolicy(0, 0, 10));
  AutoscaleInput in = At(kT0, 0, 5);
  in.request_waiting = true;
  EXPECT_EQ(a.Decide(in).replicas, 0);
}

TEST(ServiceAutoscalerTest, NoTargetKeepsAServiceScaledToZeroByHand) {
  AutoscalePolicy p;  // min 0, no target, idle timeout 300 s
  ServiceAutoscaler a(p);
  AutoscaleInput in = At(kT0, 0, 0);  // just created (last request = now), scaled to 0
  EXPECT_EQ(a.Decide(in).replicas, 0);
  in.current = 1;
  EXPECT_EQ(a.Decide(in).replicas, 1);
}

TEST(ServiceAutoscalerTest, NoTargetKeepsTheCurrentCountWithinBounds) {
  AutoscalePolicy p;
  p.min_replicas = 2;
  p.max_replicas = 3;
  ServiceAutoscaler a(p);
  EXPECT_EQ(a.Decide(At(kT0, 2, 100)).replicas, 2);
  EXPECT_EQ(a.Decide(At(kT0, 5, 100)).replicas, 3);
  EXPECT_EQ(a.Decide(At(kT0, 0, 100)).replicas, 2);
}

TEST(ServiceAutoscalerTest, TimeGoingBackwardsIsTreatedAsTheLatestTime) {
  ServiceAutoscaler a(RpsPolicy(1, 10, 10));
  EXPECT_EQ(a.Decide(At(kT0 + seconds(100), 1, 50)).replicas, 5);
  // A reading from before still counts 5 as recent: no scale-down.
  EXPECT_EQ(a.Decide(At(kT0, 5, 10)).replicas, 5);
}

}  // namespace
}  // namespace fastgpu::server

// ServiceAutoscaler: how many replicas a service should run, decided from what the proxy
// and the agents measured, the way Kubernetes' Horizontal Pod Autoscaler decides.
//
// One object per service, kept from one reconciler pass to the next (it remembers its
// recent recommendations). Decide() is pure arithmetic on its input and that memory: no
// I/O, no threads, no clock of its own (the time comes in AutoscaleInput::now), so the
// reconciler and the tests drive it alike. The rules, in order:
//   1. a recommendation per metric the policy targets:
//        - requests per second (target_rps > 0): ceil(rps / target_rps);
//        - GPU utilisation (target_gpu_util > 0, a reading present, replicas ready):
//          ceil(ready × util / target_gpu_util), or the current count while the ratio
//          util / target is within ±10% (kTolerance) of 1;
//      the highest of them counts (no target at all: the current count);
//   2. the floor: min_replicas, raised to 1 for a service with min 0 and a target that had
//      a request within idle_timeout (without a target the count set by hand stands, 0
//      included); a min-0 service with no request for idle_timeout goes to 0 at once
//      (scale to zero);
//   3. a request waiting in the proxy for want of a ready replica: at least 1 (scale from
//      zero; kept while the first replica starts, however long that takes);
//   4. the ceiling: max_replicas;
//   5. stabilisation: more replicas than now are taken at once; fewer only down to the
//      highest recommendation of the last scale_down_delay, so a dip does not remove a
//      replica that the next burst needs (no flapping).
// A decision carries a readable reason ("rps 43.2 > 2 × 20: 3 replicas").
//
// Thread safety: not thread-safe; one caller at a time (the reconciler's thread).
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <utility>

#include "common/clock.h"

namespace fastgpu::server {

// How a service is sized. Each field's default is given; a field the caller leaves at 0
// turns its rule off (no target: that metric recommends nothing).
struct AutoscalePolicy {
  int min_replicas = 0;                                 // default 0 (scale to zero)
  int max_replicas = 1;                                 // default 1
  double target_rps = 0;                                // default 0: not sized by rps
  double target_gpu_util = 0;                           // percent; default 0: not by util
  std::chrono::milliseconds scale_down_delay{300'000};  // default 300 s
  std::chrono::milliseconds idle_timeout{300'000};      // default 300 s
};

// What the service looks like now.
struct AutoscaleInput {
  TimePoint now;
  int current = 0;                 // the desired count in force (replicas asked for)
  int ready = 0;                   // replicas whose endpoint answers its readiness probe
  double rps = 0;                  // requests per second through the proxy (RequestRate)
  std::optional<double> gpu_util;  // mean GPU utilisation of the ready replicas, 0..100
  TimePoint last_request;          // the last request through the proxy (or a start time)
  bool request_waiting = false;    // a request is held by the proxy for want of a replica
};

struct AutoscaleDecision {
  int replicas = 0;
  std::string reason;  // one line, for the service's status and the log
};

class ServiceAutoscaler {
 public:
  // GPU utilisation within ±10% of the target changes nothing (HPA's default tolerance).
  static constexpr double kTolerance = 0.1;

  explicit ServiceAutoscaler(AutoscalePolicy policy);

  // The policy in force; set_policy replaces it (a service edited) and keeps the memory.
  const AutoscalePolicy& policy() const { return policy_; }
  void set_policy(AutoscalePolicy policy) { policy_ = policy; }

  // The count the service should have now, with the reason; remembers the recommendation
  // for the stabilisation window. `input.now` must not go backwards between calls (an
  // earlier time is treated as the latest one seen).
  AutoscaleDecision Decide(const AutoscaleInput& input);

 private:
  AutoscalePolicy policy_;
  // Recommendations (after floor and ceiling) of the last scale_down_delay, oldest first.
  std::deque<std::pair<TimePoint, int>> history_;
};

}  // namespace fastgpu::server

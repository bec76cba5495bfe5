// AutoscalePass: the reconciler's step that sizes every service from its load
// (docs/services.md), before the service pass starts or stops replicas.
//
// For each service a pass reads its replica jobs (a read snapshot), counts the ready ones
// (ReplicaJobReady) and the mean GPU utilisation their agents reported (ReplicaStatus),
// adds what the proxy counted (RequestRate: requests per second, the last request, a
// request held for want of a replica) and asks the service's ServiceAutoscaler
// (service_scaling.h) for the count it should have. A count that differs from the one in
// force is written with SetServiceReplicas (service_pass.h) in a write transaction of its
// own, and logged with the decision's reason; the service pass acts on it in the same
// reconciler pass. A service without a target (target_rps, target_gpu_util) and with
// min_replicas > 0 keeps the count set by hand; with min_replicas 0 it still goes to zero
// when idle and back to one on a request.
//
// The last decision for each service is kept for `service get` (Last()). Leader only: the
// reconciler runs it; the proxy that feeds RequestRate is served by the leader.
//
// Borrows the store, clock, rate and status (they must outlive it). Run() is called by one
// thread at a time (the reconciler's, under its pass lock); Last() from any thread.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "server/replica_status.h"
#include "server/request_rate.h"
#include "server/service_scaling.h"
#include "store/store.h"

namespace fastgpu::server {

// The autoscaler's last word on one service.
struct AutoscaleNote {
  int replicas = 0;                // the count it decided
  std::string reason;              // why ("rps 43.2 > 2 x 20: 3 replicas")
  double rps = 0;                  // requests per second through the proxy then
  int ready = 0;                   // ready replicas then
  std::optional<double> gpu_util;  // mean GPU utilisation of the ready replicas then
  TimePoint at{};                  // when
};

// What one pass did.
struct AutoscaleStats {
  int services = 0;  // services looked at
  int scaled = 0;    // services whose count it changed
};

class AutoscalePass {
 public:
  AutoscalePass(store::Store& store, const Clock& clock, const RequestRate& rate,
                const ReplicaStatus& status);

  // One pass over every service (see the file comment). A store error ends it early.
  Result<AutoscaleStats> Run();

  // The last decision for the service of this id; nullopt before the first.
  std::optional<AutoscaleNote> Last(const std::string& service_id) const;

 private:
  store::Store& store_;
  const Clock& clock_;
  const RequestRate& rate_;
  const ReplicaStatus& status_;
  ServiceScaling scaling_;  // Run()'s thread only
  mutable std::mutex mu_;
  std::map<std::string, AutoscaleNote> notes_;  // by service id; guarded by mu_
};

}  // namespace fastgpu::server

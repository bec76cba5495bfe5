// ServiceScaling: the autoscaler pass's memory, one ServiceAutoscaler per service, fed with
// what the proxy counted (RequestRate) and what the caller read of the service's replicas.
//
// The reconciler's service pass (leader only) calls Decide() for every service each round
// with the service's policy, its desired count in force and its replicas' readiness and
// GPU utilisation; Decide() adds the proxy's requests per second, last request and waiting
// requests and returns the service's new desired count with its reason. Retain() forgets
// the services that are gone. A service is never judged idle on time before it was
// created, nor on time before the RequestRate started counting (a new leader).
//
// Borrows the RequestRate (it must outlive this object). Not thread-safe: the reconciler's
// thread alone uses it.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "server/request_rate.h"
#include "server/service_autoscaler.h"

namespace fastgpu::server {

// One service as the autoscaler pass sees it this round.
struct ServiceLoad {
  std::string key;  // the RequestRate key of the service: ServiceKey(tenant, name)
  AutoscalePolicy policy;
  int current = 0;                 // the desired count in force
  int ready = 0;                   // replicas whose endpoint is ready
  std::optional<double> gpu_util;  // mean GPU utilisation of the ready replicas, 0..100
  TimePoint created_at;            // when the service was created
};

// "tenant-id/name": the key of a service in RequestRate and ServiceScaling.
std::string ServiceKey(const std::string& tenant_id, const std::string& name);

// The mean of the readings present; nullopt when none is.
std::optional<double> MeanUtilization(const std::vector<std::optional<double>>& readings);

class ServiceScaling {
 public:
  explicit ServiceScaling(const RequestRate& rate) : rate_(rate) {}

  // The count `service` should have at `now`, with the reason (service_autoscaler.h).
  AutoscaleDecision Decide(const ServiceLoad& service, TimePoint now);

  // Forgets every service whose key is not in `keys` (deleted services).
  void Retain(const std::set<std::string>& keys);

  // How many services have an autoscaler now.
  size_t size() const { return scalers_.size(); }

 private:
  const RequestRate& rate_;
  std::map<std::string, ServiceAutoscaler> scalers_;
};

}  // namespace fastgpu::server

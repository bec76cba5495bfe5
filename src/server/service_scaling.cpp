#include "server/service_scaling.h"

#include <algorithm>

namespace fastgpu::server {

std::string ServiceKey(const std::string& tenant_id, const std::string& name) {
  return tenant_id + "/" + name;
}

std::optional<double> MeanUtilization(const std::vector<std::optional<double>>& readings) {
  double sum = 0;
  int n = 0;
  for (const std::optional<double>& r : readings) {
    if (!r) continue;
    sum += *r;
    ++n;
  }
  if (n == 0) return std::nullopt;
  return sum / n;
}

AutoscaleDecision ServiceScaling::Decide(const ServiceLoad& service, TimePoint now) {
  auto it = scalers_.find(service.key);
  if (it == scalers_.end()) {
    it = scalers_.emplace(service.key, ServiceAutoscaler(service.policy)).first;
  } else {
    it->second.set_policy(service.policy);
  }
  AutoscaleInput in;
  in.now = now;
  in.current = service.current;
  in.ready = service.ready;
  in.rps = rate_.Rate(service.key, now);
  in.gpu_util = service.gpu_util;
  in.last_request = std::max(rate_.LastRequest(service.key), service.created_at);
  in.request_waiting = rate_.Waiting(service.key) > 0;
  return it->second.Decide(in);
}

void ServiceScaling::Retain(const std::set<std::string>& keys) {
  std::erase_if(scalers_, [&](const auto& kv) { return !keys.contains(kv.first); });
}

}  // namespace fastgpu::server

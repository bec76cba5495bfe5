#include "model/service.h"

#include <algorithm>
#include <cmath>

namespace fastgpu::model {

namespace {

constexpr int64_t kMaxTimeoutS = int64_t{30} * 24 * 3600;  // 30 days
constexpr double kMaxTargetRps = 1e6;

}  // namespace

std::string_view ServiceStateName(ServiceState s) {
  switch (s) {
    case ServiceState::kPending:
      return "pending";
    case ServiceState::kRunning:
      return "running";
    case ServiceState::kUpdating:
      return "updating";
    case ServiceState::kBackoff:
      return "backoff";
    case ServiceState::kIdle:
      return "idle";
  }
  return "pending";
}

Result<ServiceState> ParseServiceState(std::string_view name) {
  for (ServiceState s : {ServiceState::kPending, ServiceState::kRunning, ServiceState::kUpdating,
                         ServiceState::kBackoff, ServiceState::kIdle}) {
    if (ServiceStateName(s) == name) return s;
  }
  return InvalidArgument("unknown service state '" + std::string(name) + "'");
}

Status ValidateServiceName(const std::string& name) {
  if (name.empty() || name.size() > 63) {
    return InvalidArgument("name: must be 1 to 63 characters");
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return InvalidArgument("name: '" + name + "' may hold only a-z, 0-9 and '-'");
    }
  }
  if (name.front() == '-' || name.back() == '-') {
    return InvalidArgument("name: must not start or end with '-'");
  }
  return OkStatus();
}

void ApplyServiceDefaults(ServiceSpec& spec) {
  if (spec.max_replicas == 0) spec.max_replicas = std::max(spec.min_replicas, 1);
}

Status ValidateServiceSpec(const ServiceSpec& spec, const std::set<std::string>* known_models) {
  FASTGPU_RETURN_IF_ERROR(ValidateServiceName(spec.name));
  if (spec.min_replicas < 0 || spec.min_replicas > kMaxServiceReplicas) {
    return InvalidArgument("min_replicas: must be between 0 and 1024");
  }
  if (spec.max_replicas < 1 || spec.max_replicas > kMaxServiceReplicas) {
    return InvalidArgument("max_replicas: must be between 1 and 1024");
  }
  if (spec.max_replicas < spec.min_replicas) {
    return InvalidArgument("max_replicas: must not be below min_replicas (" +
                           std::to_string(spec.min_replicas) + ")");
  }
  if (!std::isfinite(spec.target_rps) || spec.target_rps < 0 || spec.target_rps > kMaxTargetRps) {
    return InvalidArgument("target_rps: must be between 0 and 1000000");
  }
  if (spec.target_gpu_util < 0 || spec.target_gpu_util > 100) {
    return InvalidArgument("target_gpu_util: must be between 0 and 100 (percent)");
  }
  if (spec.target_rps > 0 && spec.target_gpu_util > 0) {
    return InvalidArgument("target_gpu_util: give target_rps or target_gpu_util, not both");
  }
  if (spec.idle_timeout_s < 1 || spec.idle_timeout_s > kMaxTimeoutS) {
    return InvalidArgument("idle_timeout_s: must be between 1 and 2592000 (30 days)");
  }
  if (spec.scale_down_delay_s < 0 || spec.scale_down_delay_s > kMaxTimeoutS) {
    return InvalidArgument("scale_down_delay_s: must be between 0 and 2592000 (30 days)");
  }
  const ServiceReadiness& probe = spec.readiness;
  if (!probe.http_path.empty() && probe.tcp) {
    return InvalidArgument("readiness: give an HTTP path or tcp, not both");
  }
  if (!probe.http_path.empty()) {
    if (probe.http_path.front() != '/' || probe.http_path.size() > 1024) {
      return InvalidArgument("readiness.http: must be a path starting with '/' (at most 1024)");
    }
    for (char c : probe.http_path) {
      if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
        return InvalidArgument("readiness.http: must be printable ASCII without spaces");
      }
    }
  }
  if (!probe.empty() && !spec.port) {
    return InvalidArgument("readiness: a probe needs port (the replica listens on $PORT)");
  }
  // The rest is a replica's job spec: command, env, image, shape.
  Service s;
  s.spec = spec;
  return ValidateJobSpec(ReplicaJobSpec(s), known_models);
}

bool ReplicaSpecChanged(const ServiceSpec& a, const ServiceSpec& b) {
  return a.command != b.command || a.env != b.env || !(a.shape == b.shape) || a.port != b.port ||
         a.readiness != b.readiness || a.image != b.image || a.run_as_root != b.run_as_root;
}

int ClampReplicas(const ServiceSpec& spec, int n) {
  return std::clamp(n, spec.min_replicas, std::max(spec.min_replicas, spec.max_replicas));
}

JobSpec ReplicaJobSpec(const Service& service) {
  JobSpec job;
  job.name = service.spec.name;
  job.command = service.spec.command;
  job.env = service.spec.env;
  job.shape = service.spec.shape;
  job.replicas = 1;
  job.max_retries = 0;
  job.image = service.spec.image;
  job.run_as_root = service.spec.run_as_root;
  job.port = service.spec.port;
  if (!service.spec.readiness.http_path.empty()) {
    job.readiness.kind = ReadinessProbe::Kind::kHttp;
    job.readiness.http_path = service.spec.readiness.http_path;
  } else if (service.spec.readiness.tcp) {
    job.readiness.kind = ReadinessProbe::Kind::kTcp;
  }
  job.service = service.id;
  job.service_generation = service.generation;
  return job;
}

}  // namespace fastgpu::model

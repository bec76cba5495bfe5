#include "server/autoscale_pass.h"

#include <spdlog/spdlog.h>

#include <set>
#include <vector>

#include "server/service_pass.h"

namespace fastgpu::server {

namespace {

// A service as the autoscaler needs it, read on one snapshot.
struct Observed {
  std::string id, name;
  ServiceLoad load;
};

AutoscalePolicy PolicyOf(const model::ServiceSpec& spec) {
  AutoscalePolicy p;
  p.min_replicas = spec.min_replicas;
  p.max_replicas = spec.max_replicas;
  p.target_rps = spec.target_rps;
  p.target_gpu_util = spec.target_gpu_util;
  p.scale_down_delay = std::chrono::seconds(spec.scale_down_delay_s);
  p.idle_timeout = std::chrono::seconds(spec.idle_timeout_s);
  return p;
}

}  // namespace

AutoscalePass::AutoscalePass(store::Store& store, const Clock& clock, const RequestRate& rate,
                             const ReplicaStatus& status)
    : store_(store), clock_(clock), rate_(rate), status_(status), scaling_(rate) {}

Result<AutoscaleStats> AutoscalePass::Run() {
  AutoscaleStats stats;
  std::vector<Observed> seen;
  FASTGPU_RETURN_IF_ERROR(store_.Read([&](store::ReadTx& tx) -> Status {
    FASTGPU_ASSIGN_OR_RETURN(std::vector<model::Service> services, tx.ListServices(""));
    for (const model::Service& svc : services) {
      Observed o{svc.id, svc.spec.name, {}};
      o.load.key = ServiceKey(svc.tenant_id, svc.spec.name);
      o.load.policy = PolicyOf(svc.spec);
      o.load.current = svc.replicas;
      o.load.created_at = svc.created_at;
      std::vector<std::optional<double>> utils;
      for (const std::string& job_id : svc.replica_jobs) {
        Result<model::Job> job = tx.GetJob(job_id);
        if (!job.ok()) {
          if (job.status().code() == StatusCode::kNotFound) continue;
          return job.status();
        }
        if (!ReplicaJobReady(*job, &status_)) continue;
        ++o.load.ready;
        std::vector<std::optional<double>> per_allocation;
        for (const ReplicaEndpoint& e : status_.EndpointsOfJob(job_id)) {
          per_allocation.push_back(status_.AllocationGpuUtilization(e.allocation_id));
        }
        utils.push_back(MeanUtilization(per_allocation));
      }
      o.load.gpu_util = MeanUtilization(utils);
      seen.push_back(std::move(o));
    }
    return OkStatus();
  }));

  const TimePoint now = clock_.Now();
  std::set<std::string> keys;
  std::map<std::string, AutoscaleNote> notes;
  for (const Observed& o : seen) {
    ++stats.services;
    keys.insert(o.load.key);
    const AutoscaleDecision d = scaling_.Decide(o.load, now);
    notes[o.id] = AutoscaleNote{d.replicas, d.reason, rate_.Rate(o.load.key, now), o.load.ready,
                                o.load.gpu_util, now};
    if (d.replicas == o.load.current) continue;
    int now_replicas = o.load.current;
    Status st = store_.Write([&](store::WriteTx& tx) -> Status {
      Result<ScaleOutcome> out = SetServiceReplicas(tx, o.id, d.replicas, "autoscaler", now);
      if (!out.ok()) {
        return out.status().code() == StatusCode::kNotFound ? OkStatus() : out.status();  // gone
      }
      now_replicas = out->service.replicas;
      return OkStatus();
    });
    FASTGPU_RETURN_IF_ERROR(st);
    if (now_replicas == o.load.current) continue;
    ++stats.scaled;
    spdlog::info("service {} ({}): autoscaler: {} -> {} replicas: {}", o.name, o.id,
                 o.load.current, now_replicas, d.reason);
  }
  scaling_.Retain(keys);
  std::lock_guard lock(mu_);
  notes_ = std::move(notes);
  return stats;
}

std::optional<AutoscaleNote> AutoscalePass::Last(const std::string& service_id) const {
  std::lock_guard lock(mu_);
  auto it = notes_.find(service_id);
  if (it == notes_.end()) return std::nullopt;
  return it->second;
}

}  // namespace fastgpu::server

// The service proxy's route (docs/services.md): ANY /v1/services/{id}/proxy/{path...}
// forwards a tenant's request to one of its service's ready replicas (service_proxy.h),
// counts it for the autoscaler (request_rate.h) and, while the service has no ready
// replica, holds it and asks for one (scale from zero).
#include <spdlog/spdlog.h>

#include <string>
#include <vector>

#include "common/text.h"
#include "server/api.h"
#include "server/service_proxy.h"
#include "server/service_scaling.h"

namespace fastgpu::server {

namespace {

// What the proxy asks of the control plane about one service, for one request.
class StoreBackends : public ServiceBackends {
 public:
  StoreBackends(store::Store& store, const ReplicaStatus& status, RequestRate& rate,
                std::string service_id, std::string key, std::function<void()> wake)
      : store_(store),
        status_(status),
        rate_(rate),
        service_id_(std::move(service_id)),
        key_(std::move(key)),
        wake_(std::move(wake)) {}

  Result<std::vector<std::string>> ReadyEndpoints() override {
    std::vector<std::string> out;
    Status st = store_.Read([&](store::ReadTx& tx) -> Status {
      auto svc = tx.GetService(service_id_);
      if (!svc.ok()) {
        if (svc.status().code() == StatusCode::kNotFound) {
          return NotFound("the service was deleted while the request waited");
        }
        return svc.status();
      }
      for (const std::string& job_id : svc->replica_jobs) {
        auto job = tx.GetJob(job_id);
        if (!job.ok()) {
          if (job.status().code() == StatusCode::kNotFound) continue;
          return job.status();
        }
        if (!ReplicaJobReady(*job, &status_)) continue;
        for (const ReplicaEndpoint& e : status_.EndpointsOfJob(job_id)) {
          if (e.ready && !e.endpoint.empty()) out.push_back(e.endpoint);
        }
      }
      return OkStatus();
    });
    if (!st.ok()) return st;
    return out;
  }

  void HoldBegins() override {
    rate_.BeginWait(key_);
    if (wake_) wake_();  // the autoscaler sees the waiting request at its next pass
  }
  void HoldEnds() override { rate_.EndWait(key_); }

 private:
  store::Store& store_;
  const ReplicaStatus& status_;
  RequestRate& rate_;
  const std::string service_id_, key_;
  const std::function<void()> wake_;
};

}  // namespace

Result<Reply> Api::ProxyService(const Call& c) {
  if (options_.service_proxy == nullptr || options_.request_rate == nullptr ||
      options_.replica_status == nullptr) {
    return Unavailable("this server does not run the service proxy");
  }
  // The autoscaler runs on the leader and counts the requests its own proxy took, so the
  // proxy is served there (as sessions are: docs/ha.md).
  if (options_.leader != nullptr && !options_.leader->leading()) {
    const std::string leader = options_.leader->leader();
    return Unavailable("this control-plane replica (" + options_.leader->replica_id() +
                       ") does not lead; the service proxy is served by the leader" +
                       (leader.empty() ? std::string() : " (" + leader + ")"));
  }
  model::Service svc;
  FASTGPU_RETURN_IF_ERROR(store_.Read([&](store::ReadTx& tx) -> Status {
    FASTGPU_ASSIGN_OR_RETURN(svc, FindService(tx, c.who, c.Param("id")));
    return OkStatus();
  }));
  if (!svc.spec.port) {
    return FailedPrecondition("service '" + svc.spec.name +
                              "' has no port: its replicas serve nothing to forward to "
                              "(create it with --port)");
  }
  const std::string key = ServiceKey(svc.tenant_id, svc.spec.name);
  options_.request_rate->Record(key, clock_.Now());

  ProxyRequest req;
  req.method = c.req.method;
  req.path = c.Param("path");
  req.query = c.req.raw_query;
  for (const auto& [name, value] : c.req.headers) req.headers.emplace_back(name, value);
  req.body = c.req.body;
  StoreBackends backends(store_, *options_.replica_status, *options_.request_rate, svc.id, key,
                         on_change_);
  FASTGPU_ASSIGN_OR_RETURN(ProxyResponse resp,
                           options_.service_proxy->Forward(key, req, backends));

  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  for (auto& [name, value] : resp.headers) {
    if (AsciiLower(name) == "content-type") {
      content_type = std::move(value);
    } else {
      headers.emplace_back(std::move(name), std::move(value));
    }
  }
  if (resp.held.count() > 0) {
    // A cold start: how long the request waited for a ready replica.
    headers.emplace_back("Fastgpu-Cold-Start-Ms", std::to_string(resp.held.count()));
    spdlog::info("service {} ({}): a request waited {:.1f} s for a ready replica (cold start)",
                 svc.spec.name, svc.id, static_cast<double>(resp.held.count()) / 1000.0);
    metrics_.ObserveServiceColdStart(static_cast<double>(resp.held.count()) / 1000.0);
  }
  return Reply::Forwarded(resp.status, std::move(content_type), std::move(resp.body),
                          std::move(headers));
}

}  // namespace fastgpu::server

// The API's one route table: every endpoint the control plane serves (docs/api.md).
// Adding an endpoint is a handler (Result<Reply> Api::X(const Call&)) and one line here.
// Api::Handle routes by it, Api::Routes() lists it; for one template, methods are given
// in the order the Allow header of a 405 names them.
#include "server/api.h"

namespace fastgpu::server {

const std::vector<Api::Route>& Api::Table() {
  using A = AuthLevel;
  static const std::vector<Route> kTable = {
      // The service itself.
      {{"GET", "/", A::kNone, "the dashboard (HTML) for browsers; a short text otherwise"},
       &Api::Index},
      {{"GET", "/assets/{file}", A::kNone, "the dashboard's script and stylesheet"},
       &Api::DashboardFile},
      {{"GET", "/healthz", A::kNone,
        "health: {\"status\":\"ok\", \"store\": kind}; 503 when the store is unreachable"},
       &Api::Health},
      {{"GET", "/metrics", A::kNone, "Prometheus metrics"}, &Api::MetricsText},
      {{"GET", "/openapi.json", A::kNone, "the OpenAPI 3.1 description of this API"},
       &Api::OpenApiJson},
      {{"GET", "/v1/routes", A::kTenant, "this table: method, path, auth level, summary"},
       &Api::ListRoutes},
      // The agent protocol (docs/agent-protocol.md).
      {{"POST", "/v1/nodes/register", A::kJoin, "register a node agent"}, &Api::RegisterNode},
      {{"POST", "/v1/nodes/{id}/heartbeat", A::kNode,
        "renew the node's lease, report GPUs and replicas"},
       &Api::Heartbeat},
      {{"POST", "/v1/nodes/{id}/logs", A::kNode, "append a replica's output"}, &Api::AppendLogs},
      {{"GET", "/v1/nodes/{id}/sessions/{alloc}", A::kNode,
        "the agent's WebSocket for a session's replica (docs/sessions.md)"},
       &Api::AgentSession},
      {{"GET", "/v1/nodes/{id}/execs", A::kNode,
        "the node's pending job execs, from the leader (docs/sessions.md)"},
       &Api::AgentExecs},
      // Jobs and allocations.
      {{"GET", "/v1/jobs", A::kTenant, "list the caller's jobs"}, &Api::ListJobs},
      {{"POST", "/v1/jobs", A::kTenant, "submit a job"}, &Api::SubmitJob},
      {{"GET", "/v1/jobs/{id}", A::kTenant, "one job with its events and allocations"},
       &Api::GetJob},
      {{"POST", "/v1/jobs/{id}/cancel", A::kTenant, "cancel a job"}, &Api::CancelJob},
      {{"GET", "/v1/jobs/{id}/logs", A::kTenant, "a replica's log; ?follow=true streams it"},
       &Api::JobLogs},
      {{"GET", "/v1/jobs/{id}/attach", A::kTenant,
        "a WebSocket to an interactive session's terminal (docs/sessions.md)"},
       &Api::AttachSession},
      {{"POST", "/v1/jobs/{id}/exec", A::kTenant,
        "run a command inside a running replica; attach with ?exec= (docs/sessions.md)"},
       &Api::ExecInJob},
      {{"GET", "/v1/allocations", A::kTenant, "allocations of a job (admin: of a node, or live)"},
       &Api::ListAllocations},
      {{"GET", "/v1/allocations/{id}", A::kTenant, "one allocation"}, &Api::GetAllocation},
      // Services (docs/services.md).
      {{"GET", "/v1/services", A::kTenant, "list the caller's services"}, &Api::ListServices},
      {{"POST", "/v1/services", A::kTenant, "create a service"}, &Api::CreateService},
      {{"GET", "/v1/services/{id}", A::kTenant, "one service with its replicas"},
       &Api::GetService},
      {{"PATCH", "/v1/services/{id}", A::kTenant,
        "change a service's spec (a change of what replicas run rolls them)"},
       &Api::UpdateService},
      {{"DELETE", "/v1/services/{id}", A::kTenant, "delete a service and cancel its replicas"},
       &Api::DeleteService},
      {{"POST", "/v1/services/{id}/scale", A::kTenant,
        "set the desired replica count (clamped to min..max)"},
       &Api::ScaleService},
      // The service proxy: each method the proxy forwards.
      {{"GET", "/v1/services/{id}/proxy/{path...}", A::kTenant,
        "forward a request to one of the service's ready replicas"},
       &Api::ProxyService},
      {{"POST", "/v1/services/{id}/proxy/{path...}", A::kTenant,
        "forward a request to one of the service's ready replicas"},
       &Api::ProxyService},
      {{"PUT", "/v1/services/{id}/proxy/{path...}", A::kTenant,
        "forward a request to one of the service's ready replicas"},
       &Api::ProxyService},
      {{"PATCH", "/v1/services/{id}/proxy/{path...}", A::kTenant,
        "forward a request to one of the service's ready replicas"},
       &Api::ProxyService},
      {{"DELETE", "/v1/services/{id}/proxy/{path...}", A::kTenant,
        "forward a request to one of the service's ready replicas"},
       &Api::ProxyService},
      // Nodes (admin).
      {{"GET", "/v1/nodes", A::kAdmin, "every node with its GPUs"}, &Api::ListNodes},
      {{"GET", "/v1/nodes/{id}", A::kAdmin, "one node with its GPUs"}, &Api::GetNode},
      {{"POST", "/v1/nodes/{id}/drain", A::kAdmin, "no new work for the node"}, &Api::DrainNode},
      {{"POST", "/v1/nodes/{id}/undrain", A::kAdmin, "new work for the node again"},
       &Api::UndrainNode},
      {{"POST", "/v1/nodes/{id}/revoke", A::kAdmin, "clear the node's token and secret"},
       &Api::RevokeNode},
      {{"GET", "/v1/pool/history", A::kTenant, "the pool's gauges over time; ?since= ms"},
       &Api::GetPoolHistory},
      {{"GET", "/v1/pool", A::kAdmin, "the node pool: groups, their nodes, pending work"},
       &Api::GetNodePool},
      // Metering (docs/metering.md).
      {{"GET", "/v1/prices", A::kTenant, "the price table"}, &Api::GetPrices},
      {{"PUT", "/v1/prices", A::kAdmin, "replace the price table"}, &Api::SetPrices},
      {{"GET", "/v1/usage", A::kTenant, "metered usage and cost"}, &Api::GetUsage},
      // Tenants and tokens.
      {{"GET", "/v1/tenants", A::kAdmin, "every tenant"}, &Api::ListTenants},
      {{"POST", "/v1/tenants", A::kAdmin, "create a tenant"}, &Api::CreateTenant},
      {{"GET", "/v1/tenants/{id}", A::kTenant, "one tenant with its usage (its own, or admin)"},
       &Api::GetTenant},
      {{"GET", "/v1/tenants/{id}/tokens", A::kAdmin, "the tenant's tokens, without secrets"},
       &Api::ListTokens},
      {{"POST", "/v1/tenants/{id}/tokens", A::kAdmin, "create a token (its secret shown once)"},
       &Api::CreateToken},
      {{"PUT", "/v1/tenants/{id}/quota", A::kAdmin, "set the tenant's GPU quota and budget"},
       &Api::SetQuota},
      {{"PUT", "/v1/tenants/{id}/settings", A::kAdmin, "set whether the tenant may run as root"},
       &Api::SetTenantSettings},
      {{"POST", "/v1/tokens/{id}/revoke", A::kAdmin, "revoke a token"}, &Api::RevokeToken},
  };
  return kTable;
}

}  // namespace fastgpu::server

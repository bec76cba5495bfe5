// Api: the REST/JSON API under /v1, plus /healthz, /metrics and /.
//
// Every endpoint is one line of one route table (api_routes.cpp: method, path template,
// auth level, summary, handler; Routes() lists it). Handle() finds the route, authorizes
// the caller at its level, runs the resource's handler (api_jobs.cpp, api_nodes.cpp,
// api_admin.cpp, api_usage.cpp, api_services.cpp), answers its Reply or maps its error Status to
// {"code","message"} with the code's HTTP status, and records request metrics. Mutations
// are idempotent under an Idempotency-Key header. Every acknowledged change is durable
// (Store::Write returns after the commit). See docs/api.md for the endpoints.
//
// Borrows everything it is given (all must outlive it). Thread-safe: Handle runs on
// several server threads at once.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "server/admission.h"
#include "server/api_route.h"
#include "server/auth.h"
#include "server/http_server.h"
#include "server/json_codec.h"
#include "server/leader.h"
#include "server/log_waiters.h"
#include "server/metrics.h"
#include "server/node_leases.h"
#include "server/pool.h"
#include "server/pool_history.h"
#include "server/autoscale_pass.h"
#include "server/replica_status.h"
#include "server/request_rate.h"
#include "server/service_proxy.h"
#include "server/session_execs.h"
#include "server/session_relay.h"
#include "store/store.h"

namespace fastgpu::server {

struct ApiOptions {
  int64_t heartbeat_interval_ms = 2000;      // told to agents at registration
  int64_t lease_ms = 15000;                  // a node silent this long is lost
  int64_t max_log_chunk_bytes = 256 * 1024;  // most bytes one log read returns
  // The per-replica log limit: the store's cap (ServerOptions::max_log_bytes), named in
  // the dropped-bytes marker. Default kDefaultMaxLogBytes (8 MiB).
  int64_t max_log_bytes = store::kDefaultMaxLogBytes;
  // Borrowed, may be null (default): heartbeats renew the node's lease here once its
  // token is authenticated, before the store write (see node_leases.h).
  NodeLeases* leases = nullptr;
  // Default false: a job no registered node could ever hold is refused with 422
  // (admission.h); true: it is accepted and waits, saying why.
  bool allow_unplaceable = false;
  // Followed logs (GET .../logs?follow=true): at most this many stream at once (each
  // holds an HTTP worker; beyond it the plain JSON answer is given). Default 16: half the
  // default 32 workers. A stream ends after `log_stream_max_ms` (default 5 minutes)
  // even when the log goes on; the client asks again from its offset.
  int max_log_streams = 16;
  int64_t log_stream_max_ms = 300000;
  // Borrowed, may be null (default): who leads among the control-plane replicas, told by
  // /healthz and /metrics.
  const LeaderElector* leader = nullptr;
  // Borrowed, may be null (default): the pool's gauges over time, answered by GET
  // /v1/pool/history (503 when null), sampled every `pool_history_interval_ms`.
  const PoolHistory* pool_history = nullptr;
  int64_t pool_history_interval_ms = 0;
  // Borrowed, may be null (default): the node pool GET /v1/pool shows (404 when null) and
  // /metrics counts.
  const NodePool* pool = nullptr;
  // Borrowed, may be null (default): joins the WebSockets of interactive sessions
  // (session_relay.h); without it the session routes answer 503.
  SessionRelay* sessions = nullptr;
  // Borrowed, may be null (default): the pending `job exec` commands (session_execs.h);
  // without it POST /v1/jobs/{id}/exec answers 503.
  ExecTable* execs = nullptr;
  // A session's idle timeout when it asks for none, and the most it may ask for (the
  // server's --session-idle-timeout). Default 1 hour.
  int64_t session_idle_timeout_s = 3600;
  // Borrowed, may be null (default): heartbeats record each replica's endpoint and
  // readiness and each GPU's utilisation here (replica_status.h); job and node answers and
  // /metrics show them. Null: they are neither kept nor shown.
  ReplicaStatus* replica_status = nullptr;
  // Borrowed, may be null (default): the service proxy (service_proxy.h) and the request
  // counts it keeps for the autoscaler (request_rate.h); without both (or replica_status)
  // /v1/services/{id}/proxy/... answers 503.
  ServiceProxy* service_proxy = nullptr;
  RequestRate* request_rate = nullptr;
  // Borrowed, may be null (default): the autoscaler, whose last decision `service get`
  // shows (autoscale_pass.h).
  const AutoscalePass* autoscale = nullptr;
};

// The node an admin names by id or by name (already percent-decoded); a name must match
// exactly one node (several are FailedPrecondition, 409, listing their ids).
Result<store::NodeRecord> FindNode(store::ReadTx& tx, const std::string& id_or_name);

class Api {
 public:
  // `on_change` is called (outside any transaction) after a change the reconciler
  // should act on soon: a job submitted or cancelled, a node registered, a replica's
  // state or a GPU's health reported. May be empty.
  Api(store::Store& store, Clock& clock, IdGenerator& ids, Metrics& metrics, Authenticator& auth,
      ApiOptions options, std::function<void()> on_change);

  // Looks the route up (404 for an unknown path; 405 with an Allow header for a method its
  // template does not take), authorizes the caller at the route's level (401, 403), runs
  // the handler and writes its reply or error; records the request's metrics. A handler
  // that throws is answered 500. Thread-safe.
  HttpResponse Handle(const HttpRequest& req);

  // Every route the API serves, in the table's order: method, path template, auth level,
  // summary. The same table Handle routes by.
  static std::vector<RouteInfo> Routes();

  // Ends the interactive sessions that expired (SessionRelay::Expired: idle, or no client
  // within the grace period): each job is cancelled with the reason, and its client told.
  // Called about once a second by the server. Thread-safe.
  void SweepSessions();

 private:
  using Handler = Result<Reply> (Api::*)(const Call&);
  struct Route {
    RouteInfo info;
    Handler handler;
  };
  // The one route table (api_routes.cpp). A method and template appear at most once.
  static const std::vector<Route>& Table();

  // Where a request's path and method lead.
  struct Lookup {
    const Route* route = nullptr;  // the route of the method; null when none
    std::string_view pattern;      // the template the path fits; "" when none does
    std::string allow;             // the methods that template takes: "GET, POST"
    std::map<std::string, std::string, std::less<>> params;
  };
  static Lookup Find(const HttpRequest& req);
  // The caller when it may use the route: a tenant for kTenant and kAdmin, an empty
  // Principal for the others (kNode checks the node token against the store).
  Result<Principal> Authorize(const RouteInfo& route, const HttpRequest& req,
                              const std::string& node_id);
  // Authorizes and runs the route's handler.
  Result<Reply> Invoke(const Route& route, const HttpRequest& req, Lookup& found);

  // api_jobs.cpp
  Result<Reply> SubmitJob(const Call& c);
  Result<Reply> ListJobs(const Call& c);
  Result<Reply> GetJob(const Call& c);
  Result<Reply> CancelJob(const Call& c);
  // api_services.cpp: services (docs/services.md).
  Result<Reply> CreateService(const Call& c);
  Result<Reply> ListServices(const Call& c);
  Result<Reply> GetService(const Call& c);
  Result<Reply> ScaleService(const Call& c);
  Result<Reply> UpdateService(const Call& c);
  Result<Reply> DeleteService(const Call& c);
  // api_service_proxy.cpp: ANY /v1/services/{id}/proxy/{path...} (service_proxy.h).
  Result<Reply> ProxyService(const Call& c);
  // api_sessions.cpp: the client's and the agent's WebSockets of a session.
  Result<Reply> AttachSession(const Call& c);
  Result<Reply> AgentSession(const Call& c);
  Result<Reply> ExecInJob(const Call& c);
  Result<Reply> AgentExecs(const Call& c);
  // A session's spec: one replica; its idle timeout defaulted and clamped to the server's.
  Status CheckSessionSpec(model::JobSpec& spec) const;
  // OK when this replica serves sessions (it has a relay and leads); Unavailable (503)
  // naming the leader otherwise.
  Status ServesSessions() const;
  Result<Reply> JobLogs(const Call& c);
  // One read of a replica's log as the plain logs answer gives it (see JobLogs).
  struct LogRead {
    std::string job_state;
    std::string alloc_id;  // "" while the replica has no allocation
    std::string data;
    int64_t next_offset = 0;
    int64_t dropped = 0;
    bool done = false;
  };
  Result<LogRead> ReadReplicaLog(const Principal& p, const std::string& id, int64_t replica,
                                 int64_t offset);
  // On an HTTP worker: sends `first` and then the log's bytes as they are stored, until
  // the log is done, the stream's lifetime passes, or `write` fails.
  void StreamLog(const Principal& p, const std::string& id, int64_t replica, LogRead first,
                 const StreamWriter& write);
  Result<Reply> GetAllocation(const Call& c);
  Result<Reply> ListAllocations(const Call& c);
  // Adds "endpoint" ("host:port", "" when none is known) and "ready" to an allocation's
  // JSON from the replica status its agent last reported (only for a live allocation).
  void AddReplicaStatus(const store::AllocationRecord& rec, json::object& out) const;
  // api_nodes.cpp
  Result<Reply> RegisterNode(const Call& c);
  Result<Reply> Heartbeat(const Call& c);
  Result<Reply> AppendLogs(const Call& c);
  Result<Reply> ListNodes(const Call& c);
  Result<Reply> GetNode(const Call& c);
  Result<Reply> DrainNode(const Call& c) { return SetDrain(c, true); }
  Result<Reply> UndrainNode(const Call& c) { return SetDrain(c, false); }
  Result<Reply> SetDrain(const Call& c, bool drain);
  // Admin: clears the node's token and secret (docs/api.md).
  Result<Reply> RevokeNode(const Call& c);
  // dashboard_api.cpp: "/" (the dashboard's page, or a short text) and its files.
  Result<Reply> Index(const Call& c);
  Result<Reply> DashboardFile(const Call& c);
  // pool_history_api.cpp: GET /v1/pool/history.
  Result<Reply> GetPoolHistory(const Call& c);
  // pool_api.cpp: GET /v1/pool (the node pool, pool.h).
  Result<Reply> GetNodePool(const Call& c);
  // api_admin.cpp
  Result<Reply> Health(const Call& c);
  Result<Reply> ListRoutes(const Call& c);
  Result<Reply> MetricsText(const Call& c);
  // openapi.cpp: GET /openapi.json, the OpenAPI document of this table (openapi.h).
  Result<Reply> OpenApiJson(const Call& c);
  Result<Reply> CreateTenant(const Call& c);
  // PUT /v1/tenants/{id}/settings (admin): {"allow_root": bool}.
  Result<Reply> SetTenantSettings(const Call& c);
  Result<Reply> ListTenants(const Call& c);
  Result<Reply> GetTenant(const Call& c);
  Result<Reply> CreateToken(const Call& c);
  Result<Reply> ListTokens(const Call& c);
  Result<Reply> RevokeToken(const Call& c);
  // api_usage.cpp: prices, usage reports, tenant quotas (docs/metering.md).
  Result<Reply> GetPrices(const Call& c);
  Result<Reply> SetPrices(const Call& c);
  Result<Reply> GetUsage(const Call& c);
  Result<Reply> SetQuota(const Call& c);

  // Runs `fn` in one write transaction. With an Idempotency-Key header, a key seen
  // before (same tenant, method, path and body) replays the stored reply without
  // running `fn`; a key reused for another request is 422 (Reply::Unprocessable).
  // `redact` removes secrets from the reply's body before it is kept for replays.
  Result<Reply> Mutate(const Call& c, const std::function<Result<Reply>(store::WriteTx&)>& fn,
                       const std::function<std::string(const Reply&)>& redact = {});
  // Node-token check inside a transaction: NotFound for an unknown node,
  // Unauthenticated for a wrong token.
  Result<store::NodeRecord> AuthNode(store::ReadTx& tx, const HttpRequest& req,
                                     const std::string& node_id);
  // The tenant named by id or by name (an id is tried first; a name may look like one).
  Result<model::Tenant> FindTenant(store::ReadTx& tx, const std::string& id_or_name);
  std::set<std::string> KnownModels();
  void NoteModels(const std::vector<model::Gpu>& gpus);
  void Changed() {
    if (on_change_) on_change_();
  }

  store::Store& store_;
  Clock& clock_;
  IdGenerator& ids_;
  Metrics& metrics_;
  Authenticator& auth_;
  const ApiOptions options_;
  const std::function<void()> on_change_;
  AdmissionPool admission_;  // the pool's totals, for "could it ever fit?"
  std::mutex models_mu_;
  std::set<std::string> pool_models_;  // GPU models seen on registered nodes
  LogWaiters log_waiters_;             // followed logs wait here for new bytes
  std::atomic<int> log_streams_{0};    // followed logs streaming now
};

// Helpers shared by the api_*.cpp files.
// The job the caller names by id or by name; another tenant's job is NotFound.
Result<model::Job> FindJob(store::ReadTx& tx, const Principal& p, const std::string& id_or_name);
// The service the caller names by id or by name (api_services.cpp); another tenant's is
// NotFound. The admin may name any tenant's (a name several tenants use is
// FailedPrecondition, 409, listing the ids).
Result<model::Service> FindService(store::ReadTx& tx, const Principal& p,
                                   const std::string& id_or_name);
// The service as the API shows it: the model's JSON form plus "replica_status", one
// {"job_id","state","generation","ready","reason","endpoint"} per live replica job ("ready":
// ReplicaJobReady; "endpoint" once its agent reported one).
// With `autoscale`, "autoscaler": its last decision for the service, once there is one.
Result<json::object> ServiceToJson(store::ReadTx& tx, const model::Service& svc,
                                   const ReplicaStatus* status,
                                   const AutoscalePass* autoscale = nullptr);
// Allocation as the API shows it: placement plus state, exit code, times, message.
json::object AllocationRecordToJson(const store::AllocationRecord& rec);

}  // namespace fastgpu::server

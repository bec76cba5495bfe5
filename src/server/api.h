// Api: the REST/JSON API under /v1, plus /healthz, /metrics and /.
//
// Handle() authenticates the caller, routes the request to the resource's handler
// (api_jobs.cpp, api_nodes.cpp, api_admin.cpp), maps every error Status to
// {"code","message"} with its HTTP status, and records request metrics. Mutations are
// idempotent under an Idempotency-Key header. Every acknowledged change is durable
// (Store::Write returns after the commit). See docs/api.md for the endpoints.
//
// Borrows everything it is given (all must outlive it). Thread-safe: Handle runs on
// several server threads at once.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "server/auth.h"
#include "server/http_server.h"
#include "server/json_codec.h"
#include "server/log_waiters.h"
#include "server/metrics.h"
#include "server/node_leases.h"
#include "store/store.h"

namespace fastgpu::server {

struct ApiOptions {
  int64_t heartbeat_interval_ms = 2000;      // told to agents at registration
  int64_t lease_ms = 15000;                  // a node silent this long is lost
  int64_t max_log_chunk_bytes = 256 * 1024;  // most bytes one log read returns
  // The per-replica log limit: the store's cap (ServerOptions::max_log_bytes), named in
  // the dropped-bytes marker. Default kDefaultMaxLogBytes (8 MiB).
  int64_t max_log_bytes = kDefaultMaxLogBytes;
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
};

// The node an admin names by id or by name (already percent-decoded); a name must match
// exactly one node (several are FailedPrecondition, 409, listing their ids).
Result<NodeRecord> FindNode(ReadTx& tx, const std::string& id_or_name);

class Api {
 public:
  // `on_change` is called (outside any transaction) after a change the reconciler
  // should act on soon: a job submitted or cancelled, a node registered, a replica's
  // state or a GPU's health reported. May be empty.
  Api(Store& store, Clock& clock, IdGenerator& ids, Metrics& metrics, Authenticator& auth,
      ApiOptions options, std::function<void()> on_change);

  HttpResponse Handle(const HttpRequest& req);

 private:
  struct Route;
  // The route's pattern for metrics ("/v1/jobs/{id}") and its response.
  HttpResponse Dispatch(const HttpRequest& req, std::string& route);

  // api_jobs.cpp
  HttpResponse SubmitJob(const HttpRequest& req, const Principal& p);
  HttpResponse ListJobs(const HttpRequest& req, const Principal& p);
  HttpResponse GetJob(const Principal& p, const std::string& id);
  HttpResponse CancelJob(const HttpRequest& req, const Principal& p, const std::string& id);
  HttpResponse JobLogs(const HttpRequest& req, const Principal& p, const std::string& id);
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
  HttpResponse GetAllocation(const Principal& p, const std::string& id);
  HttpResponse ListAllocations(const HttpRequest& req, const Principal& p);
  // api_nodes.cpp
  HttpResponse RegisterNode(const HttpRequest& req);
  HttpResponse Heartbeat(const HttpRequest& req, const std::string& node_id);
  HttpResponse AppendLogs(const HttpRequest& req, const std::string& node_id);
  HttpResponse ListNodes();
  HttpResponse SetDrain(const HttpRequest& req, const Principal& p, const std::string& node_id,
                        bool drain);
  // Admin: clears the node's token and secret (docs/api.md).
  HttpResponse RevokeNode(const HttpRequest& req, const Principal& p, const std::string& node_id);
  // api_admin.cpp
  HttpResponse CreateTenant(const HttpRequest& req, const Principal& p);
  // PUT /v1/tenants/{id}/settings (admin): {"allow_root": bool}.
  HttpResponse SetTenantSettings(const HttpRequest& req, const Principal& p, const std::string& id);
  HttpResponse ListTenants();
  HttpResponse GetTenant(const Principal& p, const std::string& id);
  HttpResponse CreateToken(const HttpRequest& req, const Principal& p, const std::string& tenant);
  HttpResponse ListTokens(const std::string& tenant);
  HttpResponse RevokeToken(const HttpRequest& req, const Principal& p, const std::string& id);
  HttpResponse MetricsText();
  // api_usage.cpp: /v1/prices, /v1/usage, /v1/tenants/{id}/quota; nullopt for other paths.
  std::optional<HttpResponse> DispatchUsage(const HttpRequest& req, const Principal& who,
                                            const std::vector<std::string>& path_parts,
                                            std::string& route);

  // Runs `fn` in one write transaction. With an Idempotency-Key header, a key seen
  // before (same tenant, method, path and body) answers the stored response without
  // running `fn`; a key reused for another request is 422. `redact` removes secrets
  // from the body before it is kept for replays.
  HttpResponse Mutate(const HttpRequest& req, const Principal& p,
                      const std::function<Result<HttpResponse>(WriteTx&)>& fn,
                      const std::function<std::string(const HttpResponse&)>& redact = {});
  // Node-token check inside a transaction: NotFound for an unknown node,
  // Unauthenticated for a wrong token.
  Result<NodeRecord> AuthNode(ReadTx& tx, const HttpRequest& req, const std::string& node_id);
  // The tenant named by id or by name (an id is tried first; a name may look like one).
  Result<Tenant> FindTenant(ReadTx& tx, const std::string& id_or_name);
  std::set<std::string> KnownModels();
  void NoteModels(const std::vector<Gpu>& gpus);
  void Changed() {
    if (on_change_) on_change_();
  }

  Store& store_;
  Clock& clock_;
  IdGenerator& ids_;
  Metrics& metrics_;
  Authenticator& auth_;
  const ApiOptions options_;
  const std::function<void()> on_change_;
  std::mutex models_mu_;
  std::set<std::string> pool_models_;  // GPU models seen on registered nodes
  LogWaiters log_waiters_;             // followed logs wait here for new bytes
  std::atomic<int> log_streams_{0};    // followed logs streaming now
};

// Helpers shared by the api_*.cpp files.
HttpResponse JsonResponse(int status, const json::value& body);
HttpResponse ErrorResponse(const Status& status);
// Allocation as the API shows it: placement plus state, exit code, times, message.
json::object AllocationRecordToJson(const AllocationRecord& rec);

}  // namespace fastgpu::server

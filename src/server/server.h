// Server: the whole control plane in one object: HTTP API, reconciler, metrics.
//
// Create() bootstraps the store: the admin tenant and an admin token at first start,
// and the join token agents register with. With a data_dir, the admin token is written
// to <data_dir>/admin.token and the join token to <data_dir>/join.token (mode 0600),
// and both are reused at the next start while they stay valid. With `tls_ca_sha256`
// the join token (the file and join_token()) carries that CA pin after its secret; the
// secret stays the same when the pin changes (the file is rewritten). Start() listens and
// starts the reconciler thread; Stop() stops both (idempotent; the destructor calls it).
//
// Borrows the store, clock and id generator (they must outlive the Server).
// Thread-safe: Start/Stop from one thread; accessors from any.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/ids.h"
#include "server/api.h"
#include "server/auth.h"
#include "server/http_server.h"
#include "server/leader.h"
#include "server/metrics.h"
#include "server/pool.h"
#include "server/pool_history.h"
#include "server/reconciler.h"
#include "server/autoscale_pass.h"
#include "server/replica_status.h"
#include "server/request_rate.h"
#include "server/service_proxy.h"
#include "store/store.h"

namespace fastgpu::server {

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free one
  std::string data_dir;                   // default empty: token files are not written
  std::string policy = std::string(sched::kDefaultPolicy);  // placement policy or batch placer
  int batch_size = 64;                  // batch placers: pending jobs per window; default 64
  double batch_time_limit_seconds = 1;  // batch placers: solver time per window; default 1 s
  std::chrono::milliseconds node_timeout{15000};       // default 15 s: lease of a node
  std::chrono::milliseconds heartbeat_interval{2000};  // default 2 s: told to agents
  std::chrono::milliseconds reconcile_interval{500};   // default 0.5 s between passes
  int max_pending_per_pass = 2000;  // default 2,000: oldest pending jobs retried per pass
  int io_threads = 2;               // default 2: Asio threads
  int worker_threads = 32;          // default 32: handler threads (store waits)
  size_t max_body_bytes = 1 << 20;  // default 1 MiB: larger bodies get 413
  bool run_reconciler = true;       // default true; tests call RunOnce themselves
  std::chrono::milliseconds budget_grace{std::chrono::minutes(10)};  // default 10 min
  int max_connections = 0;  // default 0: HTTP connection limit from RLIMIT_NOFILE
  std::chrono::milliseconds idle_timeout{60000};     // default 60 s: idle connection closed
  std::chrono::milliseconds request_timeout{30000};  // default 30 s: to receive a request
  // Default false: a job no registered node could ever hold gets 422 (admission.h).
  bool allow_unplaceable = false;
  // Default 8 MiB: log bytes kept per replica (allocation); the rest is dropped and
  // counted (`dropped_bytes` of GET /v1/jobs/{id}/logs). The store must be opened with
  // the same cap (ControlPlane::Open does).
  int64_t max_log_bytes = store::kDefaultMaxLogBytes;
  // HTTPS when both are set (default empty: plain HTTP): the PEM certificate chain and
  // key the server presents (tls_certs.h makes them for `--tls auto`).
  std::string tls_cert_file;
  std::string tls_key_file;
  // Default empty. The SHA-256 of the CA certificate (tls_certs.h), carried in the join
  // token (common/join_token.h) so that agents can pin it.
  std::string tls_ca_sha256;
  // Default false: Create() refuses plain HTTP on an address other machines can reach
  // (anything but 127.0.0.0/8, ::1, localhost), where tokens would cross the network
  // in clear. True serves it anyway (a network the operator trusts, or TLS ended by a
  // proxy in front).
  bool insecure_http = false;
  // This replica's id among the control-plane replicas on one store (default empty: a
  // random "replica-<hex>"), and its leader lease (leader.h): with a store several replicas
  // share (PostgreSQL), only the leader runs the reconciler, and another takes over within
  // about leader_lease after it stops renewing.
  std::string replica_id;
  std::chrono::milliseconds leader_lease{4000};  // default 4 s
  // The pool's gauges sampled into memory for GET /v1/pool/history (pool_history.h):
  // every 10 s by default, the latest 8,640 samples (24 hours) kept.
  std::chrono::milliseconds pool_history_interval{10000};
  size_t pool_history_samples = 8640;
  // Default null: no node pool. Node groups that grow and shrink with the pending work
  // (pool.h, docs/pool.md): the reconciler steps it after each pass, GET /v1/pool shows
  // it, /metrics counts its nodes. With a pool, admission accepts work no registered node
  // could hold (a group may boot one for it).
  std::shared_ptr<NodePool> pool;
  // Interactive sessions (docs/sessions.md): the idle timeout of a session that asks for
  // none, and the most one may ask for (default 1 hour); how long a session whose client
  // is gone keeps running for `fastgpu attach` (default 5 minutes); the output kept for it
  // meanwhile (default 1 MiB).
  std::chrono::seconds session_idle_timeout{3600};
  std::chrono::milliseconds session_grace{std::chrono::minutes(5)};
  size_t session_buffer_bytes = size_t{1} << 20;
  // Services (docs/services.md): how long the proxy holds a request while a replica of an
  // idle service starts (scale from zero) before answering 503. Default 120 s.
  std::chrono::milliseconds service_cold_start_timeout{std::chrono::seconds(120)};
};

// OK unless `options` would serve plain HTTP on a non-loopback address without
// `insecure_http`: then FailedPrecondition saying how to serve HTTPS or opt out.
Status CheckPlainHttpAllowed(const ServerOptions& options);

// "127.0.0.1:8080" -> host, port. InvalidArgument when malformed.
Result<std::pair<std::string, uint16_t>> ParseListen(const std::string& listen);

class Server {
 public:
  static Result<std::unique_ptr<Server>> Create(ServerOptions options, store::Store& store,
                                                Clock& clock, IdGenerator& ids);
  ~Server();

  // Listens and starts the reconciler; returns the bound port.
  Result<uint16_t> Start();
  void Stop();

  // The admin token (plaintext, as written to admin.token) and the join token (as
  // written to join.token: with the CA pin when there is one).
  const std::string& admin_token() const { return admin_token_; }
  const std::string& join_token() const { return join_token_; }
  Reconciler& reconciler() { return *reconciler_; }
  // Who leads among the replicas (null before Start or when the reconciler does not run).
  const LeaderElector* leader() const { return elector_.get(); }
  Metrics& metrics() { return metrics_; }
  // The replicas' endpoints and readiness and the GPUs' utilisation as the agents last
  // reported them (replica_status.h); filled by the heartbeat handler.
  ReplicaStatus& replica_status() { return *replica_status_; }
  // The pool's gauges over time (GET /v1/pool/history).
  const PoolHistory& pool_history() const { return *pool_history_; }
  // The request handler behind the HTTP server (to drive the API in process: the fuzzer).
  Api& api() { return *api_; }
  uint16_t port() const { return port_; }

 private:
  Server() = default;
  Status Bootstrap(store::Store& store, Clock& clock, IdGenerator& ids);

  ServerOptions options_;
  std::string admin_token_;
  std::string join_token_;   // as in the file: the secret, then the CA pin if any
  std::string join_secret_;  // what agents send; its SHA-256 is in the store
  std::string join_hash_;    // that SHA-256 (also when another replica holds the secret)
  Metrics metrics_;
  std::unique_ptr<Authenticator> auth_;
  // The reconciler writes through the fence: only while this replica leads.
  std::unique_ptr<FencedStore> fenced_;
  std::unique_ptr<Reconciler> reconciler_;
  std::unique_ptr<LeaderElector> elector_;
  std::unique_ptr<PoolHistory> pool_history_;
  std::unique_ptr<PoolSampler> pool_sampler_;
  std::unique_ptr<SessionRelay> sessions_;
  std::unique_ptr<ExecTable> execs_;
  std::unique_ptr<ReplicaStatus> replica_status_;
  // Services: the proxy's request counts, the proxy and the autoscaler (leader only).
  std::unique_ptr<RequestRate> request_rate_;
  std::unique_ptr<ServiceProxy> service_proxy_;
  std::unique_ptr<AutoscalePass> autoscale_;
  // Ends expired sessions once a second (Api::SweepSessions) until Stop().
  std::thread session_sweeper_;
  std::mutex sweep_mu_;
  std::condition_variable sweep_cv_;
  bool sweep_stop_ = false;
  std::unique_ptr<Api> api_;
  std::unique_ptr<HttpServer> http_;
  store::Store* store_ = nullptr;
  // Pokes the reconciler when another replica commits (a job submitted to a follower is
  // placed at once, not at the next timed pass); null for a store of one process.
  std::unique_ptr<store::CommitWatch> commit_watch_;
  uint16_t port_ = 0;
};

}  // namespace fastgpu::server

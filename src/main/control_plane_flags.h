// The control plane's flags and startup, shared by `fastgpu server` and `fastgpu up`:
// one set of options (every server flag works with `up` too) and one function that
// opens the store, starts serving and reports the address.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "main/pool_flags.h"
#include "server/control_plane.h"
#include "store/store.h"

namespace fastgpu::main {

struct ControlPlaneFlags {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = ".fastgpu";
  // Where the state lives: "" (the default) or a file path: SQLite (default
  // data_dir/fastgpu.db); postgresql://...: PostgreSQL, shared by several replicas.
  std::string store;
  std::string policy;   // an online policy or a batch placer; default: the scheduler's default
  int batch_size = 64;  // batch placers: pending jobs per window
  double batch_time_limit_s = 1;  // batch placers: solver seconds per window
  double node_timeout_s = 15;
  double heartbeat_interval_s = 2;
  int io_threads = 2;
  int workers = 32;
  size_t max_body_bytes = 1 << 20;
  double budget_grace_s = 600;     // over budget this long, a tenant's work is stopped
  int max_connections = 0;         // 0: from RLIMIT_NOFILE (server::DefaultMaxConnections)
  double idle_timeout_s = 60;      // a keep-alive connection idle this long is closed
  double request_timeout_s = 30;   // a request must arrive whole within this
  bool allow_unplaceable = false;  // accept jobs no node could ever hold (they wait)
  std::string log_limit = "8MiB";  // log bytes kept per replica; the rest is dropped
  // "auto": HTTPS with a CA and certificate made in data_dir when listening on an address
  // other machines reach (unless insecure_http), plain HTTP on loopback; "on": HTTPS
  // always; "off": plain HTTP. tls_cert / tls_key (an operator's own files) mean HTTPS.
  std::string tls = "auto";
  std::string tls_cert;                  // PEM chain, server certificate first; default none
  std::string tls_key;                   // its PEM private key; default none
  std::vector<std::string> tls_sans;     // extra names for the made certificate
  bool insecure_http = false;            // allow plain HTTP on a non-loopback address
  std::string replica_id;                // default: random; names this replica among several
  double leader_lease_s = 4;             // a lapsed leader is replaced after this long
  double pool_history_interval_s = 10;   // between samples of GET /v1/pool/history
  double session_idle_timeout_s = 3600;  // sessions: default and most idle time
  double service_cold_start_timeout_s = 120;  // services: the proxy's hold on a cold start
  double session_grace_s = 300;          // sessions: a dropped client's grace period
  int pool_history_samples = 8640;       // samples kept (24 h at 10 s)
  std::string pool_file;                 // default "": no node pool; else its groups (docs/pool.md)
};

// Adds --listen, --data-dir, --store, --placer (--policy), --batch-size, --batch-time-limit,
// --node-timeout, --heartbeat-interval,
// --io-threads, --workers, --max-body-bytes, --budget-grace, --max-connections,
// --idle-timeout, --request-timeout, --allow-unplaceable, --log-limit, --tls, --tls-cert,
// --tls-key, --tls-san, --insecure-http and --pool to `cmd`.
void AddControlPlaneFlags(CLI::App* cmd, const std::shared_ptr<ControlPlaneFlags>& flags);

// Opens the store `flags.store` names (see ControlPlaneFlags::store) with the log cap.
Result<std::unique_ptr<store::Store>> OpenStoreFromFlags(const ControlPlaneFlags& flags,
                                                         int64_t max_log_bytes);

// A short description of where the state lives, for the start banner (no password).
std::string StoreBanner(const ControlPlaneFlags& flags);

struct RunningControlPlane {
  // With --pool: what its simulated nodes' agents use (they start after Start returns).
  // First, so that it outlives the control plane that owns the pool.
  std::unique_ptr<PoolAgentSettings> pool_agents;
  std::unique_ptr<server::ControlPlane> control_plane;
  std::string host;         // as given in --listen
  uint16_t port = 0;        // the port bound (the chosen one for port 0)
  bool tls = false;         // serving HTTPS
  std::string ca_file;      // HTTPS: the CA clients verify against ("" when unknown)
  std::string ca_sha256;    // HTTPS: its fingerprint, pinned by the join token ("" when unknown)
  bool created_ca = false;  // the CA was made at this start
  std::string Url() const {
    return std::string(tls ? "https" : "http") + "://" + UrlHost() + ":" + std::to_string(port);
  }
  // Lines for the start banner about TLS (empty for plain HTTP), each ending in "\n".
  std::string TlsBanner() const;
  // An address a local client can reach (127.0.0.1 for a wildcard listen address).
  std::string LocalUrl() const;

 private:
  std::string UrlHost() const {
    return host.find(':') != std::string::npos ? "[" + host + "]" : host;
  }
};

// The start banner's line about placement, ending in "\n": "placer: fastgpu (online)" or
// "placer: ilp-batch (batch: windows of 64 pending jobs, 1 s each)".
std::string PlacerBanner(const ControlPlaneFlags& flags);

// Creates data_dir (mode 0700), opens the store (--store; default SQLite in data_dir), and
// starts a ControlPlane on it with the system clock. The error names what failed.
Result<RunningControlPlane> StartControlPlane(const ControlPlaneFlags& flags);

}  // namespace fastgpu::main

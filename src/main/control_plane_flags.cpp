#include "main/control_plane_flags.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>

#include "common/clock.h"
#include "model/units.h"
#include "placer/batch_placers.h"
#include "scheduler/policy.h"
#include "server/server.h"
#include "server/tls_certs.h"
#include "store/store.h"

namespace fastgpu::main {
namespace {

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

}  // namespace

Result<std::unique_ptr<store::Store>> OpenStoreFromFlags(const ControlPlaneFlags& f,
                                                         int64_t max_log_bytes) {
  if (store::IsPostgresUrl(f.store)) {
    store::PostgresOptions po;
    po.url = f.store;
    po.max_log_bytes = max_log_bytes;
    auto opened = store::OpenPostgresStore(po);
    if (!opened.ok()) return opened.status().WithContext("store");
    return opened;
  }
  if (f.store.find("://") != std::string::npos) {
    return InvalidArgument("--store: '" + f.store +
                           "' is neither a file path nor a postgresql:// URL");
  }
  store::SqliteOptions so;
  so.path = f.store.empty() ? f.data_dir + "/fastgpu.db" : f.store;
  so.max_log_bytes = max_log_bytes;
  return store::OpenSqliteStore(so);
}

std::string StoreBanner(const ControlPlaneFlags& f) {
  if (store::IsPostgresUrl(f.store)) return "store: PostgreSQL " + store::RedactStoreUrl(f.store);
  return "store: SQLite " + (f.store.empty() ? f.data_dir + "/fastgpu.db" : f.store);
}

void AddControlPlaneFlags(CLI::App* cmd, const std::shared_ptr<ControlPlaneFlags>& f) {
  if (f->policy.empty()) f->policy = std::string(sched::kDefaultPolicy);
  cmd->add_option("--listen", f->listen, "host:port to listen on (port 0: any free port)")
      ->capture_default_str();
  cmd->add_option("--data-dir", f->data_dir,
                  "Folder of the SQLite database, the admin.token / join.token files and, "
                  "for `up`, the local agent's state")
      ->capture_default_str();
  cmd->add_option("--store", f->store,
                  "Where the control plane keeps its state: a SQLite file (default: "
                  "DATA_DIR/fastgpu.db) or a PostgreSQL database, "
                  "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE, which several "
                  "`fastgpu server` replicas may share (docs/ha.md)");
  cmd->add_option("--replica-id", f->replica_id,
                  "This replica's name among the `fastgpu server` replicas on one PostgreSQL "
                  "store (letters, digits, '.', '_', '-'; default: random)")
      ->check(CLI::Validator(
          [](std::string& id) -> std::string {
            if (id.empty() || id.size() > 64) return "1 to 64 characters";
            for (char c : id) {
              if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' &&
                  c != '-') {
                return "only letters, digits, '.', '_' and '-'";
              }
            }
            return "";
          },
          "ID"));
  cmd->add_option("--leader-lease", f->leader_lease_s,
                  "Seconds the leading replica's lease lasts without renewal; another replica "
                  "takes over after it (renewed every quarter of it)")
      ->capture_default_str()
      ->check(CLI::Range(0.2, 600.0));
  cmd->add_option("--placer,--policy", f->policy,
                  "How the control plane's engine places pending jobs: an online policy, one "
                  "job at a time, or a batch placer, a window of --batch-size jobs at once, as "
                  "`fastgpu sim --policies` (" +
                      placer::KnownPlacersText() + ")")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& name) -> std::string {
            for (const std::string& p : sched::PolicyNames()) {
              if (p == name) return "";
            }
            if (placer::IsBatchPlacer(name)) return "";
            return "unknown placer '" + name + "' (" + placer::KnownPlacersText() + ")";
          },
          "PLACER"));
  cmd->add_option("--batch-size", f->batch_size,
                  "With a batch placer: pending jobs placed together in one call, oldest first")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--batch-time-limit", f->batch_time_limit_s,
                  "With a batch placer: seconds its solver may spend on one window")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 3600.0));
  cmd->add_option("--node-timeout", f->node_timeout_s,
                  "Seconds without heartbeat before a node is marked lost")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  cmd->add_option("--heartbeat-interval", f->heartbeat_interval_s,
                  "Seconds between agent heartbeats (told to agents)")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 3600.0));
  cmd->add_option("--io-threads", f->io_threads, "Threads doing socket I/O")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--workers", f->workers, "Threads running API handlers")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--max-body-bytes", f->max_body_bytes, "Largest request body accepted")
      ->capture_default_str();
  cmd->add_option("--budget-grace", f->budget_grace_s,
                  "Seconds a tenant may run over its budget before its work is stopped, lowest "
                  "priority first (docs/metering.md)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 31.0 * 86400));
  cmd->add_option("--max-connections", f->max_connections,
                  "Most client connections open at once; beyond it the oldest idle one is "
                  "closed (0: the descriptor limit RLIMIT_NOFILE less a reserve of 64)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--idle-timeout", f->idle_timeout_s,
                  "Seconds a keep-alive connection may stay idle before it is closed")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  cmd->add_option("--request-timeout", f->request_timeout_s,
                  "Seconds a request's header and body may take to arrive once it has begun")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--pool", f->pool_file,
                  "Node groups that grow and shrink with the pending work (JSON, docs/pool.md)");
  cmd->add_flag("--allow-unplaceable", f->allow_unplaceable,
                "Accept jobs that no registered node could ever hold (they wait, saying why) "
                "instead of refusing them with 422; for a pool about to grow");
  cmd->add_option("--session-idle-timeout", f->session_idle_timeout_s,
                  "Seconds without input or output after which an interactive session is "
                  "ended: the default of `fastgpu run --idle-timeout` and its maximum")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 30.0 * 24 * 3600));
  cmd->add_option("--service-cold-start-timeout", f->service_cold_start_timeout_s,
                  "Seconds the service proxy holds a request while a replica of a service at "
                  "zero replicas starts; then it answers 503")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 3600.0));
  cmd->add_option("--session-grace", f->session_grace_s,
                  "Seconds an interactive session whose client is gone keeps running, for "
                  "`fastgpu attach` (its output is kept meanwhile, up to 1 MiB)")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 7.0 * 24 * 3600));
  cmd->add_option("--pool-history-interval", f->pool_history_interval_s,
                  "Seconds between two samples of the pool's gauges kept in memory for the "
                  "dashboard's charts (GET /v1/pool/history)")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 3600.0));
  cmd->add_option("--pool-history-samples", f->pool_history_samples,
                  "Samples of the pool's gauges kept (the oldest is dropped beyond it)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--log-limit", f->log_limit,
                  "Output kept per replica (e.g. 8MiB, 1GiB); bytes beyond it are dropped and "
                  "counted, and the log ends with a line saying how many")
      ->capture_default_str();
  cmd->add_option("--tls", f->tls,
                  "auto: HTTPS with a CA and server certificate made in --data-dir (ca.crt, "
                  "server.crt, keys 0600; reused at restart) when listening on a non-loopback "
                  "address, plain HTTP on loopback; on (or a bare --tls): HTTPS always; off: "
                  "plain HTTP (default: auto)")
      ->expected(0, 1)
      ->default_str("on")
      ->check(CLI::IsMember({"auto", "on", "off"}));
  cmd->add_option("--tls-cert", f->tls_cert,
                  "Serve HTTPS with this PEM certificate chain (server certificate first; end "
                  "it with the CA's certificate so that join tokens can pin it)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--tls-key", f->tls_key, "The PEM private key of --tls-cert")
      ->check(CLI::ExistingFile);
  cmd->add_option("--tls-san", f->tls_sans,
                  "Extra DNS name or IP address for the made server certificate (repeatable), "
                  "e.g. the name agents use behind NAT");
  cmd->add_flag("--insecure-http", f->insecure_http,
                "Serve plain HTTP even on a non-loopback --listen address (tokens then cross the "
                "network unencrypted; for a trusted network or a TLS proxy in front)");
}

std::string RunningControlPlane::LocalUrl() const {
  if (host == "0.0.0.0" || host == "::") {
    return std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port);
  }
  return Url();
}

std::string RunningControlPlane::TlsBanner() const {
  if (!tls) return "";
  std::string out;
  if (!ca_file.empty()) {
    out += "TLS CA: " + ca_file + (created_ca ? " (made now)" : "") + "\n";
  }
  if (!ca_sha256.empty()) {
    out += "TLS CA fingerprint: SHA256:" + server::ColonFingerprint(ca_sha256) + "\n";
  } else {
    out += "TLS: the certificate chain ends in no CA certificate; agents need --ca-cert\n";
  }
  return out;
}

namespace {

// The control plane's files are its own: others may pass through the data dir (to a
// replica's work dir when `fastgpu up` keeps its agent there) but neither list it nor
// read the store (SQLite makes its files 0644) or the tokens (written 0600).
void ProtectDataDir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::permissions(dir, fs::perms(0711), ec);
  for (const char* name :
       {"fastgpu.db", "fastgpu.db-wal", "fastgpu.db-shm", "admin.token", "join.token"}) {
    if (fs::exists(dir + "/" + name, ec)) fs::permissions(dir + "/" + name, fs::perms(0600), ec);
  }
}

}  // namespace

std::string PlacerBanner(const ControlPlaneFlags& f) {
  if (!placer::IsBatchPlacer(f.policy)) return "placer: " + f.policy + " (online)\n";
  std::ostringstream limit;
  limit << f.batch_time_limit_s;
  return "placer: " + f.policy + " (batch: windows of " + std::to_string(f.batch_size) +
         " pending jobs, " + limit.str() + " s each)\n";
}

Result<RunningControlPlane> StartControlPlane(const ControlPlaneFlags& f) {
  server::ServerOptions o;
  o.listen = f.listen;
  o.data_dir = f.data_dir;
  o.policy = f.policy;
  o.batch_size = f.batch_size;
  o.batch_time_limit_seconds = f.batch_time_limit_s;
  o.node_timeout = Millis(f.node_timeout_s);
  o.heartbeat_interval = Millis(f.heartbeat_interval_s);
  o.io_threads = f.io_threads;
  o.worker_threads = f.workers;
  o.max_body_bytes = f.max_body_bytes;
  o.budget_grace = Millis(f.budget_grace_s);
  o.max_connections = f.max_connections;
  o.idle_timeout = Millis(f.idle_timeout_s);
  o.request_timeout = Millis(f.request_timeout_s);
  o.allow_unplaceable = f.allow_unplaceable;
  o.pool_history_interval = Millis(f.pool_history_interval_s);
  o.service_cold_start_timeout = std::chrono::milliseconds(
      static_cast<int64_t>(std::max(1.0, f.service_cold_start_timeout_s) * 1000));
  o.session_idle_timeout =
      std::chrono::seconds(static_cast<int64_t>(std::max(1.0, f.session_idle_timeout_s)));
  o.session_grace = Millis(f.session_grace_s);
  o.pool_history_samples = static_cast<size_t>(f.pool_history_samples);
  auto log_limit_mib = model::ParseMemoryMib(f.log_limit);
  if (!log_limit_mib.ok() || *log_limit_mib <= 0) {
    return InvalidArgument("--log-limit: want a size such as 8MiB, got \"" + f.log_limit + "\"");
  }
  o.max_log_bytes = *log_limit_mib * 1024 * 1024;
  auto listen = server::ParseListen(f.listen);
  if (!listen.ok()) return listen.status();
  RunningControlPlane running;
  running.host = listen->first;
  o.insecure_http = f.insecure_http;
  o.replica_id = f.replica_id;
  o.leader_lease = Millis(f.leader_lease_s);
  const bool own_files = !f.tls_cert.empty() || !f.tls_key.empty();
  if (own_files) {
    if (f.tls_cert.empty() || f.tls_key.empty()) {
      return InvalidArgument("--tls-cert and --tls-key go together");
    }
    if (f.tls == "off") return InvalidArgument("--tls off contradicts --tls-cert / --tls-key");
    FASTGPU_ASSIGN_OR_RETURN(server::TlsFiles files,
                             server::InspectTlsFiles(f.tls_cert, f.tls_key));
    running.tls = true;
    running.ca_file = files.ca_file;
    running.ca_sha256 = files.ca_sha256;
    o.tls_cert_file = files.cert_file;
    o.tls_key_file = files.key_file;
  } else if (f.tls == "on" ||
             (f.tls == "auto" && !f.insecure_http && !server::IsLoopbackHost(running.host))) {
    auto files =
        server::EnsureAutoTls(f.data_dir, server::ServerCertificateNames(running.host, f.tls_sans));
    if (!files.ok()) return files.status().WithContext("TLS certificates");
    running.tls = true;
    running.ca_file = files->ca_file;
    running.ca_sha256 = files->ca_sha256;
    running.created_ca = files->created_ca;
    o.tls_cert_file = files->cert_file;
    o.tls_key_file = files->key_file;
  }
  o.tls_ca_sha256 = running.ca_sha256;
  // Before the data dir and database are made: a refused start leaves nothing behind.
  FASTGPU_RETURN_IF_ERROR(server::CheckPlainHttpAllowed(o));
  if (!f.pool_file.empty()) {
    running.pool_agents = std::make_unique<PoolAgentSettings>();
    running.pool_agents->data_dir = f.data_dir;
    running.pool_agents->ca_file = running.ca_sha256.empty() ? running.ca_file : "";
    FASTGPU_ASSIGN_OR_RETURN(o.pool, OpenPool(f.pool_file, *running.pool_agents));
  }
  // The binary's choices: the SQLite store in the data dir (mode 0700) and the real clock.
  if (f.data_dir.empty()) return InvalidArgument("data dir: required");
  std::error_code ec;
  std::filesystem::create_directories(f.data_dir, ec);
  if (ec) return Internal("cannot create " + f.data_dir + ": " + ec.message());
  ::chmod(f.data_dir.c_str(), 0700);
  FASTGPU_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store,
                           OpenStoreFromFlags(f, o.max_log_bytes));
  FASTGPU_ASSIGN_OR_RETURN(running.control_plane,
                           server::ControlPlane::Open(o, std::move(store), SystemClock::Default()));
  FASTGPU_ASSIGN_OR_RETURN(running.port, running.control_plane->Start());
  if (o.pool != nullptr) {
    // Remote machines reach the control plane at its own address; a wildcard listen
    // address is no address, so local (simulated) agents use the loopback one.
    const bool wildcard = running.host == "0.0.0.0" || running.host == "::";
    o.pool->SetControlPlane(wildcard ? running.LocalUrl() : running.Url(),
                            running.control_plane->server().join_token());
  }
  if (!f.data_dir.empty()) ProtectDataDir(f.data_dir);
  return running;
}

}  // namespace fastgpu::main

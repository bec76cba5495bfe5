#include "main/control_plane_flags.h"

#include <chrono>
#include <filesystem>
#include <string>

#include "model/units.h"
#include "scheduler/policy.h"
#include "server/server.h"

namespace fastgpu {
namespace {

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

}  // namespace

void AddControlPlaneFlags(CLI::App* cmd, const std::shared_ptr<ControlPlaneFlags>& f) {
  if (f->policy.empty()) f->policy = std::string(sched::kDefaultPolicy);
  cmd->add_option("--listen", f->listen, "host:port to listen on (port 0: any free port)")
      ->capture_default_str();
  cmd->add_option("--data-dir", f->data_dir,
                  "Folder of the SQLite database, the admin.token / join.token files and, "
                  "for `up`, the local agent's state")
      ->capture_default_str();
  cmd->add_option("--policy", f->policy, "Placement policy")
      ->capture_default_str()
      ->check(CLI::IsMember(sched::PolicyNames()));
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
  cmd->add_flag("--allow-unplaceable", f->allow_unplaceable,
                "Accept jobs that no registered node could ever hold (they wait, saying why) "
                "instead of refusing them with 422; for a pool about to grow");
  cmd->add_option("--log-limit", f->log_limit,
                  "Output kept per replica (e.g. 8MiB, 1GiB); bytes beyond it are dropped and "
                  "counted, and the log ends with a line saying how many")
      ->capture_default_str();
}

std::string RunningControlPlane::LocalUrl() const {
  if (host == "0.0.0.0" || host == "::") return "http://127.0.0.1:" + std::to_string(port);
  return Url();
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

Result<RunningControlPlane> StartControlPlane(const ControlPlaneFlags& f) {
  server::ServerOptions o;
  o.listen = f.listen;
  o.data_dir = f.data_dir;
  o.policy = f.policy;
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
  auto log_limit_mib = ParseMemoryMib(f.log_limit);
  if (!log_limit_mib.ok() || *log_limit_mib <= 0) {
    return InvalidArgument("--log-limit: want a size such as 8MiB, got \"" + f.log_limit + "\"");
  }
  o.max_log_bytes = *log_limit_mib * 1024 * 1024;
  auto listen = server::ParseListen(f.listen);
  if (!listen.ok()) return listen.status();
  RunningControlPlane running;
  running.host = listen->first;
  FASTGPU_ASSIGN_OR_RETURN(running.control_plane, server::ControlPlane::Open(o));
  FASTGPU_ASSIGN_OR_RETURN(running.port, running.control_plane->Start());
  if (!f.data_dir.empty()) ProtectDataDir(f.data_dir);
  return running;
}

}  // namespace fastgpu

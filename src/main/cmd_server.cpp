// `fastgpu server`: the control plane with its SQLite store, until SIGINT / SIGTERM.
#include <chrono>
#include <iostream>
#include <memory>

#include "common/log.h"
#include "main/commands.h"
#include "scheduler/policy.h"
#include "server/control_plane.h"
#include "server/signals.h"

namespace fastgpu {

namespace {

struct ServerFlags {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = ".fastgpu";
  std::string policy = std::string(sched::kDefaultPolicy);
  double node_timeout_s = 15;
  double heartbeat_interval_s = 2;
  int io_threads = 2;
  int workers = 32;
  size_t max_body_bytes = 1 << 20;
  double budget_grace_s = 600;  // over budget this long, a tenant's work is stopped
};

int RunServer(const ServerFlags& f) {
  server::BlockTerminationSignals();  // before any thread starts
  server::ServerOptions o;
  o.listen = f.listen;
  o.data_dir = f.data_dir;
  o.policy = f.policy;
  o.node_timeout = std::chrono::milliseconds(static_cast<int64_t>(f.node_timeout_s * 1000));
  o.heartbeat_interval =
      std::chrono::milliseconds(static_cast<int64_t>(f.heartbeat_interval_s * 1000));
  o.io_threads = f.io_threads;
  o.worker_threads = f.workers;
  o.max_body_bytes = f.max_body_bytes;
  o.budget_grace = std::chrono::milliseconds(static_cast<int64_t>(f.budget_grace_s * 1000));
  auto cp = server::ControlPlane::Open(o);
  if (!cp.ok()) {
    std::cerr << "fastgpu server: " << cp.status() << "\n";
    return 1;
  }
  auto port = (*cp)->Start();
  if (!port.ok()) {
    std::cerr << "fastgpu server: " << port.status() << "\n";
    return 1;
  }
  auto host = server::ParseListen(f.listen)->first;
  std::cout << "listening on http://" << host << ":" << *port << "\n"
            << "admin token: " << f.data_dir << "/admin.token\n"
            << "join token: " << f.data_dir << "/join.token\n"
            << std::flush;
  int sig = server::WaitForTerminationSignal();
  spdlog::info("fastgpu server: signal {}, stopping", sig);
  (*cp)->Stop();
  return 0;
}

}  // namespace

void RegisterServerCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<ServerFlags>();
  auto* cmd = app.add_subcommand("server", "Run the control plane (REST API, reconciler)");
  cmd->add_option("--listen", flags->listen, "host:port to listen on (port 0: any free port)")
      ->capture_default_str();
  cmd->add_option("--data-dir", flags->data_dir,
                  "Folder of the SQLite database and the admin.token / join.token files")
      ->capture_default_str();
  cmd->add_option("--policy", flags->policy, "Placement policy")
      ->capture_default_str()
      ->check(CLI::IsMember(sched::PolicyNames()));
  cmd->add_option("--node-timeout", flags->node_timeout_s,
                  "Seconds without heartbeat before a node is marked lost")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  cmd->add_option("--heartbeat-interval", flags->heartbeat_interval_s,
                  "Seconds between agent heartbeats (told to agents)")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 3600.0));
  cmd->add_option("--io-threads", flags->io_threads, "Threads doing socket I/O")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--workers", flags->workers, "Threads running API handlers")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--max-body-bytes", flags->max_body_bytes, "Largest request body accepted")
      ->capture_default_str();
  cmd->add_option("--budget-grace", flags->budget_grace_s,
                  "Seconds a tenant may run over its budget before its work is stopped, lowest "
                  "priority first (docs/metering.md)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 31.0 * 86400));
  cmd->callback([flags, exit_code] { *exit_code = RunServer(*flags); });
}

}  // namespace fastgpu

// `fastgpu server`: the control plane on its store (SQLite or PostgreSQL), until SIGINT /
// SIGTERM.
#include <filesystem>
#include <iostream>
#include <memory>

#include "common/log.h"
#include "main/commands.h"
#include "main/control_plane_flags.h"
#include "server/signals.h"

namespace fastgpu::main {

namespace {

int RunServer(const ControlPlaneFlags& f) {
  server::BlockTerminationSignals();  // before any thread starts
  auto running = StartControlPlane(f);
  if (!running.ok()) {
    std::cerr << "fastgpu server: " << running.status() << "\n";
    return 1;
  }
  std::cout << "listening on " << running->Url() << "\n"
            << running->TlsBanner() << "admin token: " << f.data_dir << "/admin.token\n"
            << "join token: "
            << (std::filesystem::exists(f.data_dir + "/join.token")
                    ? f.data_dir + "/join.token"
                    : std::string("made by another replica (copy its join.token into ") +
                          f.data_dir + ")")
            << (running->ca_sha256.empty() ? "" : " (pins the TLS CA)") << "\n"
            << PlacerBanner(f) << StoreBanner(f) << "\n"
            << std::flush;
  int sig = server::WaitForTerminationSignal();
  spdlog::info("fastgpu server: signal {}, stopping", sig);
  running->control_plane->Stop();
  return 0;
}

}  // namespace

void RegisterServerCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<ControlPlaneFlags>();
  auto* cmd = app.add_subcommand("server", "Run the control plane (REST API, reconciler)");
  AddControlPlaneFlags(cmd, flags);
  cmd->callback([flags, exit_code] { *exit_code = RunServer(*flags); });
}

}  // namespace fastgpu::main

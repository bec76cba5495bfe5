// `fastgpu up`: the control plane with embedded SQLite and a local agent in one process
// (real GPUs where NVML finds them, else simulated ones, marked as such).
#include <chrono>
#include <iostream>
#include <memory>

#include "agent/agent.h"
#include "agent/gpu_inventory.h"
#include "common/log.h"
#include "main/commands.h"
#include "main/control_plane_flags.h"
#include "server/signals.h"

namespace fastgpu {

namespace {

struct UpFlags : ControlPlaneFlags {
  std::string simulate_gpus;
  std::string fallback_gpus = "4xH100-80GB";
};

int RunUp(const UpFlags& f) {
  server::BlockTerminationSignals();  // before any thread starts
  auto running = StartControlPlane(f);
  if (!running.ok()) {
    std::cerr << "fastgpu up: " << running.status() << "\n";
    return 1;
  }
  auto& cp = running->control_plane;
  std::string url = running->Url();
  std::string local = running->LocalUrl();

  InventoryChoice choice;
  choice.simulate = f.simulate_gpus;
  choice.fallback_simulate = f.fallback_gpus;
  choice.uuid_seed = "fastgpu-up";
  std::string note;
  auto inventory = OpenGpuInventory(choice, &note);
  if (!inventory.ok()) {
    std::cerr << "fastgpu up: GPUs: " << inventory.status() << "\n";
    return 1;
  }
  bool simulated = (*inventory)->simulated();
  std::string describe = (*inventory)->Describe();
  AgentOptions ao;
  ao.server_url = local;
  ao.join_token = cp->server().join_token();
  ao.data_dir = f.data_dir + "/agent";
  ao.inventory = std::move(inventory).value();
  Agent agent(std::move(ao));
  if (Status st = agent.Start(); !st.ok()) {
    std::cerr << "fastgpu up: agent: " << st << "\n";
    return 1;
  }
  std::cout << "listening on " << url << "\n"
            << "dashboard and API: " << url << "/ (REST under /v1, see docs/api.md)\n"
            << "admin token: " << f.data_dir << "/admin.token\n"
            << "join token: " << f.data_dir << "/join.token\n"
            << "local agent GPUs: " << describe << (simulated ? " (SIMULATED)" : "") << "\n";
  if (!note.empty()) std::cout << "  " << note << "\n";
  std::cout << "try: export FASTGPU_SERVER=" << local << " FASTGPU_TOKEN=$(cat " << f.data_dir
            << "/admin.token); fastgpu job submit --gpu 0.5 -- echo hello\n"
            << std::flush;
  int sig = server::WaitForTerminationSignal();
  spdlog::info("fastgpu up: signal {}, stopping", sig);
  agent.Stop();
  cp->Stop();
  return 0;
}

}  // namespace

void RegisterUpCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<UpFlags>();
  auto* cmd = app.add_subcommand(
      "up", "Start a control plane with embedded SQLite and a local agent in one process");
  AddControlPlaneFlags(cmd, f);
  cmd->add_option("--simulate-gpus", f->simulate_gpus,
                  "Simulate these GPUs instead of using NVML, e.g. 4xH100-80GB");
  cmd->add_option("--fallback-gpus", f->fallback_gpus, "GPUs to simulate when NVML finds none")
      ->capture_default_str();
  cmd->callback([f, exit_code] { *exit_code = RunUp(*f); });
}

}  // namespace fastgpu

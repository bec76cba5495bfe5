// `fastgpu up`: the control plane with embedded SQLite and a local agent in one process
// (real GPUs where NVML finds them, else simulated ones, marked as such).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "agent/agent.h"
#include "agent/gpu_inventory.h"
#include "agent/launcher.h"
#include "common/clock.h"
#include "common/log.h"
#include "main/commands.h"
#include "main/container_flags.h"
#include "main/control_plane_flags.h"
#include "main/sandbox_flags.h"
#include "main/vm_flags.h"
#include "model/units.h"
#include "server/signals.h"

namespace fastgpu::main {

namespace {

// How a user reaches this binary from a shell: `fastgpu` when that name on PATH is this very
// file, else this file's absolute path, so the printed next steps work when pasted.
std::string CliName() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "fastgpu";
  std::string self(buf, static_cast<size_t>(n));
  struct stat self_st {};
  if (stat(self.c_str(), &self_st) != 0) return self;
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    struct stat st {};
    if (!dir.empty() && stat((dir + "/fastgpu").c_str(), &st) == 0) {
      // The first `fastgpu` on PATH is the one a shell runs.
      return st.st_dev == self_st.st_dev && st.st_ino == self_st.st_ino ? "fastgpu" : self;
    }
    start = end + 1;
  }
  return self;
}

constexpr int64_t kSimulatedCpuMilli = 32000;
constexpr int64_t kSimulatedMemoryMib = 256 * 1024;

// The data dir as an absolute path, for lines meant to be pasted into another shell.
std::string AbsolutePath(const std::string& dir) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(dir, ec);
  return ec ? dir : abs.lexically_normal().string();
}

struct UpFlags : ControlPlaneFlags {
  std::string simulate_gpus;
  std::string cpu, memory;  // what the local node offers; empty: see RegisterUpCommand
  std::string fallback_gpus = "4xH100-80GB";
  ContainerFlags containers;  // for the local agent
  agent::VmOptions vm;        // for the local agent
  std::string gpu_dev_dir = "/dev";
  std::string port_range;  // "": the kernel picks each replica's port
};

int RunUp(const UpFlags& f, const SandboxFlags& sf) {
  auto sandbox = SandboxOptionsFromFlags(sf);
  if (!sandbox.ok()) {
    std::cerr << "fastgpu up: " << sandbox.status().message() << "\n";
    return 2;
  }
  auto containers = ContainerOptionsFromFlags(f.containers);
  if (!containers.ok()) {
    std::cerr << "fastgpu up: " << containers.status() << "\n";
    return 2;
  }
  if (Status st = CheckVmOptions(f.vm); !st.ok()) {
    std::cerr << "fastgpu up: " << st.message() << "\n";
    return 2;
  }
  auto ports = agent::ParsePortRange(f.port_range);
  if (!ports.ok()) {
    std::cerr << "fastgpu up: --port-range: " << ports.status() << "\n";
    return 2;
  }
  server::BlockTerminationSignals();  // before any thread starts
  auto running = StartControlPlane(f);
  if (!running.ok()) {
    std::cerr << "fastgpu up: " << running.status() << "\n";
    return 1;
  }
  auto& cp = running->control_plane;
  std::string url = running->Url();
  std::string local = running->LocalUrl();

  agent::InventoryChoice choice;
  choice.simulate = f.simulate_gpus;
  choice.fallback_simulate = f.fallback_gpus;
  choice.uuid_seed = "fastgpu-up";
  std::string note;
  auto inventory = agent::OpenGpuInventory(choice, &note);
  if (!inventory.ok()) {
    std::cerr << "fastgpu up: GPUs: " << inventory.status() << "\n";
    return 1;
  }
  bool simulated = (*inventory)->simulated();
  std::string describe = (*inventory)->Describe();
  agent::AgentOptions ao;
  // A simulated node is not this machine: by default it offers at least what a GPU server
  // of its size would (32 CPUs, 256 GiB), so examples fit on a small host.
  const int64_t host_cpu_milli = int64_t{1000} * std::max(1u, std::thread::hardware_concurrency());
  const int64_t host_memory_mib =
      static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE) / (1024 * 1024);
  if (!f.cpu.empty()) {
    auto cpu = model::ParseCpuMilli(f.cpu);
    if (!cpu.ok() || *cpu <= 0) {
      std::cerr << "fastgpu up: --cpu: " << (cpu.ok() ? "must be positive" : cpu.status().message())
                << "\n";
      return 2;
    }
    ao.cpu_milli = *cpu;
  } else if (simulated) {
    ao.cpu_milli = std::max<int64_t>(host_cpu_milli, kSimulatedCpuMilli);
  }
  if (!f.memory.empty()) {
    auto mem = model::ParseMemoryMib(f.memory);
    if (!mem.ok() || *mem <= 0) {
      std::cerr << "fastgpu up: --memory: "
                << (mem.ok() ? "must be positive" : mem.status().message()) << "\n";
      return 2;
    }
    ao.memory_mib = *mem;
  } else if (simulated) {
    ao.memory_mib = std::max<int64_t>(host_memory_mib, kSimulatedMemoryMib);
  }
  ao.server_url = local;
  ao.join_token = cp->server().join_token();  // pins the CA when it is known
  if (running->ca_sha256.empty()) ao.ca_file = running->ca_file;
  ao.data_dir = f.data_dir + "/agent";
  ao.sandbox = *sandbox;
  ao.sandbox.hide_paths.push_back(AbsolutePath(f.data_dir));  // tokens and the store
  ao.inventory = std::move(inventory).value();
  ao.launcher = agent::MakeShimLauncher();
  ao.clock = &SystemClock::Default();
  ao.containers = *containers;
  ao.vm = f.vm;
  ao.gpu_dev_dir = f.gpu_dev_dir;
  ao.ports = *ports;
  const int64_t ao_cpu_milli = ao.cpu_milli, ao_memory_mib = ao.memory_mib;
  agent::Agent agent(std::move(ao));
  if (Status st = agent.Start(); !st.ok()) {
    std::cerr << "fastgpu up: agent: " << st << "\n";
    return 1;
  }
  const std::string cli = CliName();
  std::cout << "listening on " << url << "\n"
            << "API: " << url << "/v1 (REST, see docs/api.md); health: " << url << "/healthz\n"
            << "dashboard: " << url << "/ (sign in with an API token, e.g. the admin token)\n"
            << running->TlsBanner() << "admin token: " << f.data_dir << "/admin.token\n"
            << "join token: " << f.data_dir << "/join.token"
            << (running->ca_sha256.empty() ? "" : " (pins the TLS CA)") << "\n"
            << "local agent GPUs: " << describe << (simulated ? " (SIMULATED)" : "") << "\n"
            << "local agent " << agent.Snapshot().sandbox_note << "\n";
  if (ao_cpu_milli > 0 || ao_memory_mib > 0) {
    std::cout << "local node offers: "
              << (ao_cpu_milli > 0 ? model::FormatCpuMilli(ao_cpu_milli) + " CPU" : "all CPUs")
              << ", " << (ao_memory_mib > 0 ? model::FormatMemoryMib(ao_memory_mib) : "all memory")
              << " (--cpu, --memory)\n";
  }
  if (!note.empty()) std::cout << "  " << note << "\n";
  std::cout << "try, in another shell:\n"
            << "  export FASTGPU_SERVER=" << local
            << (running->ca_file.empty() ? ""
                                         : " FASTGPU_CA_CERT=" + AbsolutePath(running->ca_file))
            << " FASTGPU_TOKEN=$(cat " << AbsolutePath(f.data_dir) << "/admin.token)\n"
            << "  " << cli << " job submit --gpu 0.5 -- echo hello\n"
            << "  " << cli << " job list\n"
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
  auto sandbox = std::make_shared<SandboxFlags>();
  auto* cmd = app.add_subcommand(
      "up", "Start a control plane with embedded SQLite and a local agent in one process");
  AddControlPlaneFlags(cmd, f);
  cmd->add_option("--simulate-gpus", f->simulate_gpus,
                  "Simulate these GPUs instead of using NVML, e.g. 4xH100-80GB");
  cmd->add_option("--fallback-gpus", f->fallback_gpus, "GPUs to simulate when NVML finds none")
      ->capture_default_str();
  cmd->add_option("--cpu", f->cpu,
                  "CPU the local node offers, e.g. 16 (default: all CPUs; simulated GPUs: at "
                  "least 32)");
  cmd->add_option("--memory", f->memory,
                  "Memory the local node offers, e.g. 128GiB (default: MemTotal; simulated "
                  "GPUs: at least 256GiB)");
  AddContainerFlags(cmd, &f->containers);
  AddVmFlags(cmd, &f->vm);
  cmd->add_option("--gpu-dev-dir", f->gpu_dev_dir,
                  "Folder of the local GPUs' device nodes (nvidia<N>, nvidiactl, nvidia-uvm)")
      ->capture_default_str();
  cmd->add_option("--port-range", f->port_range,
                  "Ports the local agent gives replicas that ask for one, e.g. 30000-32767 "
                  "(default: a free port the kernel picks)");
  AddSandboxFlags(cmd, sandbox);
  cmd->callback([f, sandbox, exit_code] { *exit_code = RunUp(*f, *sandbox); });
}

}  // namespace fastgpu::main

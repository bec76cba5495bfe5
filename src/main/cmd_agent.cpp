// `fastgpu agent`: the node agent on a GPU machine (see src/agent/agent.h, docs/agent.md).
#include <signal.h>

#include <iostream>

#include "agent/agent.h"
#include "agent/gpu_inventory.h"
#include "agent/launcher.h"
#include "common/clock.h"
#include "common/log.h"
#include "main/commands.h"
#include "main/container_flags.h"
#include "main/sandbox_flags.h"
#include "main/vm_flags.h"
#include "model/units.h"

namespace fastgpu::main {
namespace {

struct AgentFlags {
  std::string server;
  std::string join_token;
  std::string ca_cert;
  std::string data_dir = "/var/lib/fastgpu/agent";
  std::string simulate_gpus;
  std::string name;
  std::string fault_file;
  std::string cgroup_root = "/sys/fs/cgroup";
  std::string gpu_dev_dir = "/dev";
  std::string mps_control = "nvidia-cuda-mps-control";
  std::string cpu;
  std::string memory;
  std::string log_cap = "64MiB";
  int64_t heartbeat_interval_ms = 0;
  int64_t stop_grace_s = 10;
  int max_temperature_c = 95;
  int64_t max_uncorrected_ecc = 0;
  bool kill_on_exit = false;
  std::string advertise_host;  // "": the local address toward the control plane
  std::string port_range;      // "": the kernel picks each replica's port
  ContainerFlags containers;
  agent::VmOptions vm;
};

int RunAgent(const AgentFlags& f, const SandboxFlags& sf) {
  agent::AgentOptions o;
  auto sandbox = SandboxOptionsFromFlags(sf);
  if (!sandbox.ok()) return std::cerr << "fastgpu agent: " << sandbox.status().message() << "\n", 2;
  o.sandbox = *sandbox;
  o.server_url = f.server;
  o.join_token = f.join_token;
  o.ca_file = f.ca_cert;
  o.data_dir = f.data_dir;
  o.name = f.name;
  o.cgroup_root = f.cgroup_root;
  o.gpu_dev_dir = f.gpu_dev_dir;
  o.mps_control = f.mps_control;
  o.heartbeat_interval = std::chrono::milliseconds(f.heartbeat_interval_ms);
  o.stop_grace = std::chrono::seconds(f.stop_grace_s);
  o.health.max_temperature_c = f.max_temperature_c;
  o.health.max_uncorrected_ecc = f.max_uncorrected_ecc;
  o.kill_workloads_on_stop = f.kill_on_exit;
  o.advertise_host = f.advertise_host;
  auto ports = agent::ParsePortRange(f.port_range);
  if (!ports.ok()) return std::cerr << "fastgpu agent: --port-range: " << ports.status() << "\n", 2;
  o.ports = *ports;
  auto containers = ContainerOptionsFromFlags(f.containers);
  if (!containers.ok()) return std::cerr << "fastgpu agent: " << containers.status() << "\n", 2;
  o.containers = *containers;
  if (Status st = CheckVmOptions(f.vm); !st.ok()) {
    return std::cerr << "fastgpu agent: " << st.message() << "\n", 2;
  }
  o.vm = f.vm;
  if (!f.cpu.empty()) {
    auto cpu = model::ParseCpuMilli(f.cpu);
    if (!cpu.ok()) return std::cerr << "fastgpu agent: --cpu: " << cpu.status() << "\n", 2;
    o.cpu_milli = *cpu;
  }
  if (!f.memory.empty()) {
    auto mem = model::ParseMemoryMib(f.memory);
    if (!mem.ok()) return std::cerr << "fastgpu agent: --memory: " << mem.status() << "\n", 2;
    o.memory_mib = *mem;
  }
  auto cap = model::ParseMemoryMib(f.log_cap);
  if (!cap.ok()) return std::cerr << "fastgpu agent: --log-cap: " << cap.status() << "\n", 2;
  o.log_cap_bytes = *cap * 1024 * 1024;

  agent::InventoryChoice choice;
  choice.simulate = f.simulate_gpus;
  choice.fault_file = f.fault_file;
  choice.uuid_seed = f.name.empty() ? f.data_dir : f.name;
  std::string note;
  auto inventory = agent::OpenGpuInventory(choice, &note);
  if (!inventory.ok()) {
    std::cerr << "fastgpu agent: " << inventory.status().message()
              << "\n(use --simulate-gpus 4xH100-80GB on a machine without GPUs)\n";
    return 1;
  }
  spdlog::info("fastgpu agent: {}", note);
  o.inventory = std::move(inventory).value();
  // The real side effects: detached shims for workloads, the system clock.
  o.launcher = agent::MakeShimLauncher();
  o.clock = &SystemClock::Default();

  // Signals are taken by sigwait below; every thread inherits the blocked mask (the
  // launcher gives workloads a clean one).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  agent::Agent agent(std::move(o));
  Status st = agent.Start();
  if (!st.ok()) {
    std::cerr << "fastgpu agent: " << st << "\n";
    return st.code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("fastgpu agent: signal {}; stopping ({})", sig,
               f.kill_on_exit ? "stopping workloads" : "workloads keep running");
  agent.Stop();
  return 0;
}

}  // namespace

void RegisterAgentCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("agent", "Run the node agent on a GPU machine");
  auto flags = std::make_shared<AgentFlags>();
  auto sandbox = std::make_shared<SandboxFlags>();
  cmd->add_option("--server", flags->server,
                  "Control plane URL, e.g. http://10.0.0.1:8080; several replicas comma-separated "
                  "or as repeated flags (the agent moves to the next when one stops answering)")
      ->delimiter(',')
      ->multi_option_policy(CLI::MultiOptionPolicy::Join)
      ->required()
      ->envname("FASTGPU_SERVER");
  cmd->add_option("--join-token", flags->join_token,
                  "Join token made by the control plane (<data-dir>/join.token); with TLS it "
                  "pins the control plane's CA")
      ->required()
      ->envname("FASTGPU_JOIN_TOKEN");
  cmd->add_option("--ca-cert", flags->ca_cert,
                  "https: PEM file of the CA that signed the control plane's certificate, for a "
                  "join token without a CA pin (default: the system CA store)")
      ->envname("FASTGPU_CA_CERT")
      ->check(CLI::ExistingFile);
  cmd->add_option("--data-dir", flags->data_dir, "State file, replica folders, logs, MPS folders")
      ->capture_default_str();
  cmd->add_option(
      "--simulate-gpus", flags->simulate_gpus,
      "Simulate GPUs instead of NVML, e.g. 4xH100-80GB, or 4xA100-80GB:mig for MIG mode");
  cmd->add_option("--name", flags->name, "Node name (default: the host name)");
  cmd->add_option("--fault-file", flags->fault_file,
                  "Simulated GPUs only: file of injected faults ('xid 0 79', 'ecc 1 2', 'lost 2')");
  cmd->add_option("--cgroup-root", flags->cgroup_root,
                  "Where cgroup v2 (or the v1 hierarchies) is mounted ('' disables)")
      ->capture_default_str();
  cmd->add_option("--gpu-dev-dir", flags->gpu_dev_dir,
                  "Folder of the GPU device nodes (nvidia<N>, nvidiactl, nvidia-uvm)")
      ->capture_default_str();
  cmd->add_option("--mps-control", flags->mps_control, "The MPS control program")
      ->capture_default_str();
  cmd->add_option("--cpu", flags->cpu, "Allocatable CPU, e.g. 32 (default: all online CPUs)");
  cmd->add_option("--memory", flags->memory, "Allocatable memory, e.g. 256GiB (default: MemTotal)");
  cmd->add_option("--log-cap", flags->log_cap, "Output kept per replica")->capture_default_str();
  cmd->add_option("--heartbeat-interval-ms", flags->heartbeat_interval_ms,
                  "Heartbeat period (default 0: what the control plane says)");
  cmd->add_option("--stop-grace", flags->stop_grace_s, "Seconds between SIGTERM and SIGKILL")
      ->capture_default_str();
  cmd->add_option("--max-gpu-temperature", flags->max_temperature_c,
                  "A GPU hotter than this (C) is unhealthy; 0 disables")
      ->capture_default_str();
  cmd->add_option("--max-uncorrected-ecc", flags->max_uncorrected_ecc,
                  "A GPU with more uncorrectable ECC errors is unhealthy")
      ->capture_default_str();
  cmd->add_flag("--kill-workloads-on-exit", flags->kill_on_exit,
                "Stop every workload when the agent exits (default: they keep running and the "
                "next agent re-adopts them)");
  cmd->add_option("--advertise-host", flags->advertise_host,
                  "IP address in the endpoints of replicas with a port, where clients reach "
                  "them (default: this machine's address toward the control plane)");
  cmd->add_option("--port-range", flags->port_range,
                  "Ports given to replicas that ask for one, e.g. 30000-32767 (default: a free "
                  "port the kernel picks)");
  AddContainerFlags(cmd, &flags->containers);
  AddVmFlags(cmd, &flags->vm);
  AddSandboxFlags(cmd, sandbox);
  cmd->callback([flags, sandbox, exit_code] { *exit_code = RunAgent(*flags, *sandbox); });
}

}  // namespace fastgpu::main

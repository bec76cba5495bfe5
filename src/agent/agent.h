// Agent: the node agent. It registers its machine's GPUs with the control plane,
// sends heartbeats (GPU health and replica states), turns each allocation it is given
// into an isolated virtual GPU and a supervised process tree, ships logs, and after its
// own restart re-adopts the workloads still running (docs/agent-protocol.md,
// docs/agent.md).
//
// `fastgpu agent` runs one on a GPU machine; `fastgpu up` runs one in-process beside
// the control plane. The Agent owns its inventory and launcher and one background
// thread; it borrows its clock. Every wait of that thread (the heartbeat interval, the
// retry interval, the 250 ms log shipping steps, a stop's grace period) is a wait on the
// clock, so with a ManualClock a test drives the loop by advancing time. Workloads are
// not children of that thread: they survive Stop() and the death of the process (unless
// `kill_workloads_on_stop`).
//
// Thread safety: Start() and Stop() are called from one owning thread; the accessors
// (node_id, registered, Snapshot) are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/container.h"
#include "agent/endpoints.h"
#include "agent/file_env.h"
#include "agent/gpu_inventory.h"
#include "agent/health.h"
#include "agent/launcher.h"
#include "agent/state_writer.h"
#include "agent/vm_options.h"
#include "common/clock.h"
#include "common/status.h"

namespace fastgpu::agent {

struct AgentOptions {
  // Control plane base URL, e.g. "http://127.0.0.1:8080". Required.
  std::string server_url;
  // Join token made by the control plane. Required. When it pins the control plane's CA
  // (common/join_token.h) the server URL must be https and the server is accepted only
  // when its certificate chain holds that CA; the pin is never sent.
  std::string join_token;
  // https only: a PEM file of the CAs that may sign the control plane's certificate
  // (instead of the system store). Default empty. A pin in the join token wins over it.
  std::string ca_file;
  // Where the state file, replica folders (logs, working directories) and MPS folders
  // live; created when missing. Required.
  std::string data_dir;
  // Node name. Default "": the host name.
  std::string name;
  // The GPUs. Required (the binary picks NVML or simulated GPUs: OpenGpuInventory).
  std::unique_ptr<GpuInventory> inventory;
  // Starts and watches the workloads. Required: MakeShimLauncher() (the real one: setsid +
  // per-replica shim, picked by the binary) or a fake (testing/fake_launcher.h).
  std::unique_ptr<ProcessLauncher> launcher;
  // Where time comes from (intervals, grace periods, timestamps). Borrowed: must outlive
  // the agent. Default nullptr: SystemClock::Default().
  Clock* clock = nullptr;
  // The agent's own files: the state file, replica folders, logs (file_env.h). Borrowed:
  // must outlive the agent. Default nullptr: PosixFileEnv(). With an in-memory one the
  // launcher must be a fake too (the real shim writes logs to the real file system).
  FileEnv* env = nullptr;
  // Where the state is made durable. Default nullptr: the state file
  // <data_dir>/agent-state.json. An allocation is started only once it is recorded here.
  std::unique_ptr<StateWriter> state_writer;
  // Time between heartbeats. Default 0: what the control plane's register answer says
  // (heartbeat_interval_ms), 2 s before that.
  std::chrono::milliseconds heartbeat_interval{0};
  // Wait before retrying a failed registration or heartbeat. Default 1 s.
  std::chrono::milliseconds retry_interval{1000};
  // Between SIGTERM and SIGKILL when stopping a replica. Default 10 s.
  std::chrono::milliseconds stop_grace{10000};
  // Allocatable CPU and memory reported at registration. Default 0: detected
  // (online CPUs x 1000, MemTotal).
  int64_t cpu_milli = 0;
  int64_t memory_mib = 0;
  // When a GPU counts as unhealthy (fatal XIDs, ECC, temperature).
  HealthThresholds health;
  // Where cgroups are mounted: a cgroup v2 hierarchy, or the v1 per-controller mounts
  // under it (found in /proc/self/mountinfo); replicas get groups named after their
  // allocation ids under fastgpu/ (cgroup.h). Default "/sys/fs/cgroup"; "" disables
  // cgroups.
  std::string cgroup_root = "/sys/fs/cgroup";
  // Folder of the GPU device nodes (nvidia<N>, nvidiactl, nvidia-uvm, nvidia-caps/): a
  // replica's device cgroup allows those of its GPUs. Default "/dev".
  std::string gpu_dev_dir = "/dev";
  // Combined stdout/stderr kept on disk per replica; more is dropped. Default 64 MiB.
  int64_t log_cap_bytes = int64_t{64} << 20;
  // Most log bytes sent in one POST /logs. Default 256 KiB.
  int64_t log_chunk_bytes = int64_t{256} << 10;
  // The MPS control program (started with -d per GPU for mps slices). Default
  // "nvidia-cuda-mps-control" (looked up in PATH).
  std::string mps_control = "nvidia-cuda-mps-control";
  // Stop() also stops every workload (SIGTERM, grace, SIGKILL). Default false: they
  // keep running and the next agent on this data dir re-adopts them.
  bool kill_workloads_on_stop = false;
  // Confinement of workloads (own uid, namespaces, hidden paths, private /dev; see
  // SandboxOptions in launcher.h and docs/security.md). Default off. Where the
  // host cannot do all of it (not root, no namespaces) the agent warns, runs workloads
  // with what it can, and says so in every replica's note and in Snapshot().
  SandboxOptions sandbox;
  // Jobs with an image: the container runtime, allowed registries and extra runtime
  // options (see container.h for each default: podman, {"localhost"}, none).
  ContainerOptions containers;
  // vm replicas: libvirt, the guest to boot (vm_options.h; docs/vm-isolation.md).
  VmOptions vm;
  // The host part of the endpoints of replicas with a port ("<host>:<port>", what clients
  // of the replicas connect to) and where readiness probes connect; an IP address. Default
  // "": the local address of the route toward the control plane (127.0.0.1 for one on
  // the loopback), looked up at Start() (and again each round until found).
  std::string advertise_host;
  // The ports replicas get (endpoints.h). Default empty: the kernel picks a free one.
  PortRange ports;
  // How often a running replica with a port and a readiness probe is probed, and how
  // long one probe may take. Default 1 s each.
  std::chrono::milliseconds readiness_interval{1000};
  std::chrono::milliseconds readiness_timeout{1000};
};

// What the agent holds right now, for `fastgpu up`, logs and tests.
struct AgentSnapshot {
  std::string node_id;  // "" until registered
  bool registered = false;
  bool cgroups_enabled = false;
  std::string cgroup_note;       // why cgroups are off, when they are
  std::string sandbox_note;      // what confinement workloads get on this host
  std::vector<model::Gpu> gpus;  // with health as last reported
  struct Replica {
    std::string allocation_id;
    std::string state;  // starting, running, exited, failed
    int pid = 0;
    int exit_code = 0;
    int signal = 0;
    std::string message;
    std::string endpoint;  // "host:port" of a replica with a port; "" otherwise
    bool ready = false;    // as last reported
  };
  std::vector<Replica> replicas;
  std::string advertise_host;   // "" while unknown
  int64_t heartbeats_sent = 0;  // answered with 200
};

class Agent {
 public:
  explicit Agent(AgentOptions options);
  ~Agent();  // Stop()
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Checks the options, creates the data dir, loads the state file (re-adopting the
  // replicas it lists, and the workloads it launched that the file misses: they are
  // found by allocation id, see FindLaunchedWorkloads), probes cgroups, and starts the background
  // thread, which registers and then heartbeats until Stop(). Registration failures are retried in
  // the background, so Start() succeeds while the control plane is down.
  // InvalidArgument for missing options (server URL, join token, data dir, inventory,
  // launcher) and an advertise host that is not an IP address; DataLoss for an unreadable state file;
  // FailedPrecondition when called twice.
  Status Start();

  // Stops the background thread (an HTTP call in flight may take up to its timeout)
  // and saves the state. Workloads keep running unless kill_workloads_on_stop.
  // Safe to call more than once, and without Start().
  void Stop();

  AgentSnapshot Snapshot() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fastgpu::agent

// ReplicaSet: the replicas an agent holds and their lifecycle.
//
// Apply() takes the control plane's desired set (level-triggered): it starts what is
// new (virtual GPU plan, MPS daemon, cgroup with CPU, memory, process-count and device
// limits, working folder, launch), stops what is
// cancelled or no longer listed (SIGTERM, then SIGKILL and cgroup.kill after the grace
// period), and never starts an allocation twice: before it launches anything it records
// the replica ("starting") through the StateWriter, and when that fails it launches
// nothing, reports the replica as "starting" with the reason, and tries again on the
// next Apply. Adopt() (after the agent's restart) finds the workloads it launched by
// their allocation id, so a replica recorded but not yet given its pids is re-adopted
// and a workload missing from the state is adopted or stopped. Poll() follows the processes (exit
// code and signal from the shim's status file; a replica whose cgroup saw the OOM killer
// ends with reason "OOMKilled"). Forget() drops ended, unlisted
// replicas whose logs are shipped. The records live in the AgentState so that they are
// saved with it.
//
// Thread safety: not thread-safe; the agent loop owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/cgroup.h"
#include "agent/container.h"
#include "agent/endpoints.h"
#include "agent/file_env.h"
#include "agent/gpu_inventory.h"
#include "agent/isolation.h"
#include "agent/launcher.h"
#include "agent/mps.h"
#include "agent/state.h"
#include "agent/state_writer.h"
#include "agent/vgpu.h"
#include "common/clock.h"
#include "protocol/agent_protocol.h"

namespace fastgpu::agent {

class SessionHost;

struct ReplicaSetOptions {
  std::string data_dir;                       // replicas live in <data_dir>/replicas/<id>
  std::string mps_root;                       // <data_dir>/mps
  int64_t log_cap_bytes = int64_t{64} << 20;  // per replica
  std::chrono::milliseconds stop_grace{10000};
  // Most replicas started by one Apply (each launch forks; hundreds at once would delay
  // the heartbeat past the node lease). The others start on the next Apply.
  int max_starts_per_round = 64;
  // Confinement of workloads, and what this host supports of it (ProbeSandbox).
  SandboxOptions sandbox;
  SandboxSupport support;
  // Where the GPUs' device nodes live: <gpu_dev_dir>/nvidia<N>, nvidiactl, nvidia-uvm,
  // nvidia-uvm-tools, nvidia-caps/. A replica's device cgroup allows those of its GPUs
  // (and the standard harmless devices) only. Tests point it at fake nodes.
  std::string gpu_dev_dir = "/dev";
  // Most processes and threads per replica (pids.max), against fork bombs; 0 = no limit.
  int64_t pids_max = 16384;
  // How replicas of jobs with an image run (container.h): runtime, allowed registries.
  ContainerOptions containers;
  // The agent's files: replica folders, logs, exit statuses (file_env.h). Borrowed.
  // Default nullptr: PosixFileEnv().
  FileEnv* env = nullptr;
  // How vm replicas boot their guests (vm_options.h).
  VmOptions vm;
  // Relays interactive sessions (session_host.h). Borrowed. Default nullptr: a session
  // replica fails to start ("this agent runs no sessions").
  SessionHost* sessions = nullptr;
  // Replicas that ask for a port (DesiredReplica::port) get one from this range (default
  // empty: the kernel picks, endpoints.h), checked free on the advertise host.
  PortRange ports;
  // The GPUs are simulated: each replica on GPUs gets FASTGPU_SIMULATED_GPU_UTIL_FILE, a
  // file in its work dir where it may write its load (SimulatedGpuUtilization). Default
  // false.
  bool simulated_gpus = false;
};

class ReplicaSet {
 public:
  // Borrows everything; all must outlive the set.
  ReplicaSet(ReplicaSetOptions options, AgentState& state, StateWriter& writer,
             ProcessLauncher& launcher, const Cgroups& cgroups, MpsDaemons& mps,
             const Clock& clock);

  // Once, after the state was loaded: records left "starting" (recorded, then the agent
  // stopped before it saved the pids) get the workload `running` finds for their
  // allocation id, or are marked running when their exit status is already on disk, or
  // are dropped when nothing was launched (Apply starts them if still wanted). Workloads
  // in `running` that no record names are adopted as unlisted replicas: the next Apply
  // keeps the ones still desired and stops the others. `running`: FindLaunchedWorkloads.
  void Adopt(const std::map<std::string, ProcessHandle>& running);

  // Acts on the desired set, the cancel list and the execs (`fastgpu job exec`, started
  // once each: replica_exec.cpp); `gpus` are the node's GPUs with health.
  void Apply(const protocol::HeartbeatResponse& desired, const std::vector<GpuSample>& gpus);
  // Starts the `execs` not started yet (the leader's list of pending execs, when the
  // heartbeats go to another control-plane replica; docs/sessions.md).
  void ApplyExecs(const std::vector<protocol::ExecRequest>& execs,
                  const std::vector<GpuSample>& gpus) {
    StartExecs(execs, gpus);
  }
  // Updates running replicas, escalates stops past their grace period, and keeps the
  // MPS daemons of running mps replicas alive (restarting one that died).
  void Poll();
  // Drops ended replicas that are no longer listed and whose logs are all shipped.
  void Forget();
  // Stops every live replica now: SIGTERM, up to the grace period (waited on the clock),
  // then SIGKILL.
  void StopAll();

  std::vector<protocol::ReplicaReport> Reports() const;

  // The host replicas' ports are picked on and their endpoints name ("" until known:
  // ports are then checked on every address). Set by the agent.
  void set_advertise_host(std::string host) { advertise_host_ = std::move(host); }
  // Simulated GPUs only: per GPU index, the sum of the numbers (0..100) the running
  // replicas on it wrote to their FASTGPU_SIMULATED_GPU_UTIL_FILE, clamped to 100; GPUs
  // with no running replica or nothing written are absent. A file that holds no number
  // counts as 0.
  std::map<int, int> SimulatedGpuUtilization() const;

 private:
  // Checks and plans `want`; on success appends its "starting" record and returns the
  // plan, else appends a "failed" record and returns nothing.
  std::optional<VgpuPlan> Prepare(const protocol::DesiredReplica& want,
                                  const std::vector<GpuSample>& gpus);
  // Launches a replica Prepare recorded (and the caller saved): folders, MPS, cgroup,
  // process; the record becomes "running" or "failed".
  void Launch(const protocol::DesiredReplica& want, const VgpuPlan& plan,
              const std::vector<GpuSample>& gpus);
  void BeginStop(ReplicaRecord& rec, const std::string& why);
  void Finish(ReplicaRecord& rec);
  // Kills and removes the container of an image replica (nothing for a plain one).
  void RemoveContainerOf(const ReplicaRecord& rec);
  std::map<std::string, std::string> BaseEnv(const std::string& work_dir) const;
  // The lowest sandbox uid no held replica uses; -1 when the range is used up.
  int64_t FreeUid() const;
  // For a mode whose replicas on one GPU share a uid (IsolationMode::OneUserPerGpu: MPS
  // serves one user at a time), the uid of a live replica of that mode on one of `want`'s
  // GPUs; -1: none, or the mode has no such rule.
  int64_t SharedGpuUid(const protocol::DesiredReplica& want) const;
  // What the isolation modes act through (isolation.h).
  IsolationServices Services() const;
  // The SandboxSpec of a replica and a note on what it gives.
  SandboxSpec SandboxFor(const ReplicaRecord& rec, const std::vector<GpuSample>& gpus,
                         std::string* note) const;
  // The devices `want` may use: the standard ones plus its GPUs' nodes (missing nodes of
  // real GPUs are logged).
  std::vector<DeviceRule> DevicesFor(const protocol::DesiredReplica& want,
                                     const std::vector<GpuSample>& gpus) const;
  // Starts the execs not started yet in their running replicas (replica_exec.cpp).
  void StartExecs(const std::vector<protocol::ExecRequest>& execs,
                  const std::vector<GpuSample>& gpus);
  // Replaces the record with the same id, or appends `rec`.
  void Put(ReplicaRecord rec);

  ReplicaSetOptions options_;
  std::string advertise_host_;
  AgentState& state_;
  StateWriter& writer_;
  ProcessLauncher& launcher_;
  const Cgroups& cgroups_;
  MpsDaemons& mps_;
  const Clock& clock_;
  FileEnv& env_;
  std::set<std::string> started_execs_;  // exec ids started (or refused) already
  // Desired allocations not started because they could not be recorded: id -> why.
  std::map<std::string, std::string> unrecorded_;
};

}  // namespace fastgpu::agent

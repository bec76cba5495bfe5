#include "agent/replicas.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "agent/files.h"
#include "agent/isolation.h"
#include "agent/session_host.h"
#include "common/ids.h"
#include "common/log.h"

namespace fastgpu::agent {
namespace fs = std::filesystem;
namespace {

constexpr const char* kOomKilled = "OOMKilled";
// The variable naming the file where a replica on simulated GPUs writes its load.
constexpr const char* kSimulatedUtilEnv = "FASTGPU_SIMULATED_GPU_UTIL_FILE";

// That file: in the replica's work dir (its own, writable, visible in the sandbox and in a
// container at the same path), as an absolute path since the workload runs elsewhere.
std::string SimulatedUtilPath(const ReplicaRecord& rec) {
  std::error_code ec;
  fs::path abs = fs::absolute(rec.dir + "/work/gpu-util", ec);
  return ec ? rec.dir + "/work/gpu-util" : abs.lexically_normal().string();
}
// How often StopAll looks whether the stopped workloads have ended (on the clock).
constexpr std::chrono::milliseconds kStopPollInterval{50};

}  // namespace

namespace {

// The real uid of a live process (its "Uid:" line), -1 when unknown or 0 (root is no
// sandbox uid).
int64_t RunningUid(int pid) {
  auto status = ReadWholeFile("/proc/" + std::to_string(pid) + "/status", 16384);
  if (!status.ok()) return -1;
  size_t at = status->find("\nUid:");
  if (at == std::string::npos) return -1;
  long long uid = -1;
  if (std::sscanf(status->c_str() + at, "\nUid: %lld", &uid) != 1 || uid <= 0) return -1;
  return uid;
}

}  // namespace

ReplicaSet::ReplicaSet(ReplicaSetOptions options, AgentState& state, StateWriter& writer,
                       ProcessLauncher& launcher, const Cgroups& cgroups, MpsDaemons& mps,
                       const Clock& clock)
    : options_(std::move(options)),
      state_(state),
      writer_(writer),
      launcher_(launcher),
      cgroups_(cgroups),
      mps_(mps),
      clock_(clock),
      env_(options_.env != nullptr ? *options_.env : PosixFileEnv()) {}

std::vector<DeviceRule> ReplicaSet::DevicesFor(const protocol::DesiredReplica& want,
                                               const std::vector<GpuSample>& gpus) const {
  std::vector<DeviceRule> rules = StandardDeviceRules();
  const std::string& dev = options_.gpu_dev_dir;
  std::vector<std::string> paths;
  bool real = false;
  for (const model::VgpuSlice& slice : want.allocation.slices) {
    for (const GpuSample& g : gpus) {
      if (g.gpu.index != slice.gpu_index) continue;
      paths.push_back(GpuDevicePath(g, dev));
      real = real || !g.gpu.simulated;
    }
  }
  if (!paths.empty()) {
    for (const char* node : {"nvidiactl", "nvidia-uvm", "nvidia-uvm-tools"}) {
      paths.push_back(dev + "/" + node);
    }
  }
  if (const IsolationMode* mode = IsolationModeOf(want.allocation)) {
    // The mode's own nodes: a folder stands for the nodes in it; missing ones are left out.
    for (const std::string& node : mode->DeviceNodes(Services())) {
      std::error_code ec;
      if (!fs::is_directory(node, ec)) {
        if (fs::exists(node, ec)) paths.push_back(node);
        continue;
      }
      for (const auto& entry : fs::directory_iterator(node, ec)) {
        paths.push_back(entry.path().string());
      }
    }
  }
  std::vector<std::string> skipped;
  std::vector<DeviceRule> found = DeviceRulesForPaths(paths, &skipped);
  rules.insert(rules.end(), found.begin(), found.end());
  if (real && !skipped.empty()) {
    std::string list;
    for (const std::string& s : skipped) list += (list.empty() ? "" : "; ") + s;
    spdlog::warn("replica {}: GPU device nodes not allowed because they are missing: {}",
                 want.allocation.id, list);
  }
  return rules;
}

std::map<std::string, std::string> ReplicaSet::BaseEnv(const std::string& work_dir) const {
  std::map<std::string, std::string> env;
  const char* path = std::getenv("PATH");
  env["PATH"] =
      path != nullptr ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const char* key : {"LANG", "LC_ALL", "TZ", "USER", "LOGNAME"}) {
    if (const char* v = std::getenv(key)) env[key] = v;
  }
  env["HOME"] = work_dir;
  env["FASTGPU_WORK_DIR"] = work_dir;
  return env;
}

int64_t ReplicaSet::FreeUid() const {
  std::set<int64_t> used;
  for (const ReplicaRecord& r : state_.replicas) used.insert(r.uid);
  for (int64_t uid = options_.sandbox.first_uid; uid <= options_.sandbox.last_uid; ++uid) {
    if (!used.count(uid)) return uid;
  }
  return -1;
}

IsolationServices ReplicaSet::Services() const {
  return IsolationServices{mps_, options_.mps_root, options_.gpu_dev_dir, env_, &options_.vm};
}

int64_t ReplicaSet::SharedGpuUid(const protocol::DesiredReplica& want) const {
  const IsolationMode* mode = IsolationModeOf(want.allocation);
  if (mode == nullptr || !mode->OneUserPerGpu()) return -1;
  std::set<int> mine;
  for (const model::VgpuSlice& s : want.allocation.slices) mine.insert(s.gpu_index);
  for (const ReplicaRecord& r : state_.replicas) {
    if (r.ended() || r.uid < 0 || r.desired.run_as_root) continue;
    for (const model::VgpuSlice& s : r.desired.allocation.slices) {
      if (s.isolation == mode->Kind() && mine.count(s.gpu_index)) return r.uid;
    }
  }
  return -1;
}

SandboxSpec ReplicaSet::SandboxFor(const ReplicaRecord& rec, const std::vector<GpuSample>& gpus,
                                   std::string* note) const {
  SandboxSpec s;
  const SandboxOptions& o = options_.sandbox;
  if (!o.enabled) return s;
  s.uid = rec.uid;
  s.gid = rec.uid;
  *note = rec.uid >= 0              ? "sandbox: uid " + std::to_string(rec.uid)
          : rec.desired.run_as_root ? "sandbox: root (the tenant allows root)"
                                    : "sandbox: runs as the agent's user";
  if (!options_.support.namespaces) {
    *note += "; no namespaces: " + options_.support.note;
    return s;
  }
  *note += ", own PID/mount/IPC/UTS namespaces";
  s.namespaces = true;
  s.hostname = rec.id();
  auto absolute = [](const std::string& path) {
    std::error_code ec;
    fs::path abs = fs::absolute(path, ec);
    return ec ? path : abs.lexically_normal().string();
  };
  s.hide_paths.push_back(absolute(options_.data_dir));
  s.hide_paths.insert(s.hide_paths.end(), o.hide_paths.begin(), o.hide_paths.end());
  s.bind_back.push_back(absolute(rec.dir + "/work"));
  const IsolationMode* mode = IsolationModeOf(rec.desired.allocation);
  if (mode != nullptr) {
    for (const std::string& path : mode->HostFolders(rec, Services())) {
      s.bind_back.push_back(absolute(path));
    }
  }
  for (const char* dev : {"null", "zero", "full", "random", "urandom", "tty"}) {
    s.devices.push_back(std::string("/dev/") + dev);
  }
  // The allocation's GPUs only, then the driver's shared nodes (skipped where absent).
  std::set<int> indices;
  for (const model::VgpuSlice& slice : rec.desired.allocation.slices)
    indices.insert(slice.gpu_index);
  for (const GpuSample& g : gpus) {
    if (!indices.count(g.gpu.index)) continue;
    s.devices.push_back(GpuDevicePath(g, options_.gpu_dev_dir));
  }
  for (const char* dev : {"nvidiactl", "nvidia-uvm", "nvidia-uvm-tools"}) {
    s.devices.push_back(options_.gpu_dev_dir + "/" + dev);
  }
  // The mode's own nodes (mig: the capability folder, bound whole).
  if (mode != nullptr) {
    for (const std::string& node : mode->DeviceNodes(Services())) s.devices.push_back(node);
  }
  return s;
}

void ReplicaSet::Apply(const protocol::HeartbeatResponse& desired,
                       const std::vector<GpuSample>& gpus) {
  std::set<std::string> cancel(desired.cancel.begin(), desired.cancel.end());
  std::set<std::string> listed;
  for (const protocol::DesiredReplica& d : desired.allocations) listed.insert(d.allocation.id);
  for (auto it = unrecorded_.begin(); it != unrecorded_.end();) {
    it =
        listed.count(it->first) && !cancel.count(it->first) ? std::next(it) : unrecorded_.erase(it);
  }
  for (ReplicaRecord& rec : state_.replicas) {
    if (listed.count(rec.id()) && rec.desired.command.empty()) {
      // Adopted without a record (Adopt): take what the control plane says it is.
      for (const protocol::DesiredReplica& d : desired.allocations) {
        if (d.allocation.id == rec.id()) rec.desired = d;
      }
    }
    if (cancel.count(rec.id())) {
      rec.unlisted = !listed.count(rec.id());
      BeginStop(rec, "cancelled");
    } else if (!listed.count(rec.id())) {
      rec.unlisted = true;
      BeginStop(rec, "no longer desired by the control plane");
    } else {
      rec.unlisted = false;
    }
  }
  StartExecs(desired.execs, gpus);
  std::set<std::string> known;
  for (const ReplicaRecord& rec : state_.replicas) known.insert(rec.id());
  known.insert(state_.finished.begin(), state_.finished.end());
  // New replicas: plan each and record it "starting"; make all the records durable in one
  // save; launch only when that save succeeded (a restart must know of every launch).
  std::vector<std::pair<const protocol::DesiredReplica*, VgpuPlan>> batch;
  for (const protocol::DesiredReplica& d : desired.allocations) {
    if (known.count(d.allocation.id) || cancel.count(d.allocation.id)) continue;
    // The rest waits for the next round, so that heartbeats keep their pace.
    if (static_cast<int>(batch.size()) >= options_.max_starts_per_round) break;
    known.insert(d.allocation.id);
    if (auto plan = Prepare(d, gpus)) batch.emplace_back(&d, std::move(*plan));
  }
  if (batch.empty()) return;
  if (Status st = writer_.Save(state_); !st.ok()) {
    std::set<std::string> unsaved;
    for (const auto& [d, plan] : batch) unsaved.insert(d->allocation.id);
    std::erase_if(state_.replicas, [&](const ReplicaRecord& r) {
      return r.state == "starting" && unsaved.count(r.id());
    });
    std::string why = "not started: the agent cannot record it in " + writer_.Describe() + " (" +
                      st.message() + "); it retries on every heartbeat";
    for (const std::string& id : unsaved) {
      auto [it, inserted] = unrecorded_.try_emplace(id, why);
      if (inserted || it->second != why) {
        spdlog::error("replica {}: {}", id, why);
        it->second = why;
      }
    }
    return;
  }
  for (const auto& [d, plan] : batch) {
    unrecorded_.erase(d->allocation.id);
    Launch(*d, plan, gpus);
  }
  // Best effort: should this fail, a restart finds the workloads by allocation id.
  if (Status st = writer_.Save(state_); !st.ok()) {
    spdlog::warn("replicas started, but their pids are not saved yet: {}", st.message());
  }
}

void ReplicaSet::Put(ReplicaRecord rec) {
  for (ReplicaRecord& r : state_.replicas) {
    if (r.id() == rec.id()) {
      r = std::move(rec);
      return;
    }
  }
  state_.replicas.push_back(std::move(rec));
}

std::optional<VgpuPlan> ReplicaSet::Prepare(const protocol::DesiredReplica& want,
                                            const std::vector<GpuSample>& gpus) {
  ReplicaRecord rec;
  rec.desired = want;
  rec.dir = options_.data_dir + "/replicas/" + want.allocation.id;
  auto fail = [&](const std::string& why) {
    rec.state = "failed";
    rec.message = why;
    rec.ended_at_ms = clock_.NowUnixMillis();
    spdlog::warn("replica {} failed to start: {}", rec.id(), why);
    Put(std::move(rec));
    return std::nullopt;
  };
  const std::string& id = want.allocation.id;
  if (id.empty() || id.size() > 128 ||
      id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
          std::string::npos) {
    rec.dir.clear();
    return fail("allocation id '" + id + "' is not a safe folder name");
  }
  if (want.command.empty() || want.command[0].empty()) return fail("empty command");
  if (!want.image.empty()) {
    if (auto ref = CheckImage(options_.containers, want.image); !ref.ok()) {
      return fail(ref.status().message());
    }
    const char* path = std::getenv("PATH");
    if (auto rt = FindRuntime(options_.containers, path != nullptr ? path : ""); !rt.ok()) {
      return fail(rt.status().message());
    }
  }
  std::vector<model::Allocation> placed;
  std::vector<std::string> placed_mig;
  for (const ReplicaRecord& r : state_.replicas) {
    if (r.ended()) continue;
    placed.push_back(r.desired.allocation);
    placed_mig.insert(placed_mig.end(), r.mig_instances.begin(), r.mig_instances.end());
  }
  Result<VgpuPlan> plan = PlanVgpu(want, gpus, placed, placed_mig, options_.mps_root);
  if (!plan.ok()) return fail(plan.status().message());
  // Every replica gets a uid of its own: a plain one runs as it in the sandbox, a job with
  // an image as the container's user (its runtime confines it otherwise).
  if (options_.sandbox.enabled && options_.support.root && !want.run_as_root) {
    rec.uid = SharedGpuUid(want);
    if (rec.uid < 0) rec.uid = FreeUid();
    if (rec.uid < 0) {
      return fail("no free sandbox uid: all of " + std::to_string(options_.sandbox.first_uid) +
                  "-" + std::to_string(options_.sandbox.last_uid) +
                  " are held by replicas of this node");
    }
  }
  if (want.port) {
    std::set<int> held;
    for (const ReplicaRecord& r : state_.replicas) {
      if (!r.ended() && r.port > 0) held.insert(r.port);
    }
    Result<int> port = PickPort(advertise_host_, options_.ports, held);
    if (!port.ok()) return fail("port: " + port.status().message());
    rec.port = *port;
  }
  rec.state = "starting";
  rec.message = "starting";
  rec.mig_instances = plan->mig_instances;
  state_.replicas.push_back(std::move(rec));
  return std::move(plan).value();
}

void ReplicaSet::Launch(const protocol::DesiredReplica& want, const VgpuPlan& plan,
                        const std::vector<GpuSample>& gpus) {
  auto found = std::find_if(state_.replicas.begin(), state_.replicas.end(),
                            [&](const ReplicaRecord& r) { return r.id() == want.allocation.id; });
  if (found == state_.replicas.end()) return;
  ReplicaRecord rec = *found;
  auto fail = [&](const std::string& why) {
    rec.state = "failed";
    rec.message = why;
    rec.ended_at_ms = clock_.NowUnixMillis();
    spdlog::warn("replica {} failed to start: {}", rec.id(), why);
    Put(std::move(rec));
  };
  std::string work_dir = rec.dir + "/work";
  if (Status st = env_.CreateDirs(work_dir); !st.ok()) return fail("cannot " + st.message());
  // Only the replica's user may enter its work dir; the replica folder (log, exit status)
  // is the agent's, passable so that a sandbox without namespaces reaches the work dir.
  if (rec.uid >= 0 &&
      ::chown(work_dir.c_str(), static_cast<uid_t>(rec.uid), static_cast<gid_t>(rec.uid)) != 0) {
    return fail("cannot give " + work_dir + " to uid " + std::to_string(rec.uid) + ": " +
                std::strerror(errno));
  }
  env_.Chmod(work_dir, 0700).IgnoreError();
  env_.Chmod(rec.dir, 0711).IgnoreError();
  const IsolationMode* mode = IsolationModeOf(want.allocation);
  if (mode != nullptr) {
    IsolationServices services = Services();
    if (Status st = mode->Start(plan, gpus, services, &rec); !st.ok()) return fail(st.message());
  }
  std::vector<std::string> notes;
  if (!plan.note.empty()) notes.push_back(plan.note);
  if (cgroups_.enabled()) {
    CgroupLimits limits;
    limits.cpu_milli = want.allocation.cpu_milli;
    limits.memory_mib = want.allocation.memory_mib;
    limits.pids_max = options_.pids_max;
    limits.devices = DevicesFor(want, gpus);
    auto name = cgroups_.Create(want.allocation.id, limits);
    if (!name.ok()) return fail("cgroup: " + name.status().message());
    rec.cgroup = *name;
    if (!cgroups_.restricts_devices()) notes.push_back("device access not restricted");
  } else {
    notes.push_back("no CPU/memory limits: " + cgroups_.note());
  }
  LaunchSpec spec;
  spec.argv = want.command;
  spec.env = BaseEnv(work_dir);
  for (const auto& [k, v] : want.env) spec.env[k] = v;
  for (const auto& [k, v] : plan.env) spec.env[k] = v;  // the isolation always wins
  if (rec.port > 0) spec.env["PORT"] = std::to_string(rec.port);
  if (options_.simulated_gpus && !want.allocation.slices.empty()) {
    spec.env[kSimulatedUtilEnv] = SimulatedUtilPath(rec);
  }
  spec.work_dir = work_dir;
  spec.log_path = rec.log_path();
  spec.log_cap_bytes = options_.log_cap_bytes;
  spec.status_path = rec.status_path();
  spec.cgroup_procs = cgroups_.ProcsFiles(rec.cgroup);
  if (!want.image.empty()) {
    ContainerOptions containers = options_.containers;
    if (want.run_as_root) {
      containers.user = "0:0";
    } else if (rec.uid >= 0) {
      containers.user = std::to_string(rec.uid) + ":" + std::to_string(rec.uid);
    }
    std::vector<std::string> folders;
    if (mode != nullptr) folders = mode->HostFolders(rec, Services());
    if (Status st = MakeContainerLaunch(containers, want, folders, &spec); !st.ok()) {
      if (!rec.cgroup.empty()) cgroups_.Remove(rec.cgroup);
      return fail("container: " + st.message());
    }
  }
  if (mode != nullptr) {
    IsolationServices services = Services();
    if (Status st = mode->PrepareLaunch(want, rec, gpus, services, &spec); !st.ok()) {
      if (!rec.cgroup.empty()) cgroups_.Remove(rec.cgroup);
      return fail(st.message());
    }
  }
  if (want.image.empty() && (mode == nullptr || !mode->OwnGuest())) {
    // A container is confined by its runtime (podman), a vm replica by its guest: the
    // sandbox is for plain processes.
    std::string sandbox_note;
    spec.sandbox = SandboxFor(rec, gpus, &sandbox_note);
    if (!sandbox_note.empty()) notes.push_back(sandbox_note);
  }
  // An interactive session: its stdio goes to the session's relay (session_host.h).
  std::optional<SessionIo> session_io;
  if (want.session) {
    if (options_.sessions == nullptr || !want.image.empty()) {
      if (!rec.cgroup.empty()) cgroups_.Remove(rec.cgroup);
      return fail(options_.sessions == nullptr
                      ? "this agent runs no interactive sessions"
                      : "interactive sessions of jobs with an image are not supported yet");
    }
    auto io = OpenSessionIo(want.tty);
    if (!io.ok()) {
      if (!rec.cgroup.empty()) cgroups_.Remove(rec.cgroup);
      return fail("session: " + io.status().message());
    }
    session_io = std::move(io).value();
    spec.stdin_fd = session_io->workload_in.get();
    spec.stdout_fd = session_io->workload_out.get();
    spec.stderr_fd = session_io->workload_err.get();
    spec.tty = want.tty;
  }
  Result<ProcessHandle> handle = launcher_.Launch(spec);
  if (!handle.ok()) {
    if (!rec.cgroup.empty()) cgroups_.Remove(rec.cgroup);
    return fail(handle.status().message());
  }
  if (session_io) {
    session_io->workload_in.Reset();  // the workload holds them: its end ends the output
    session_io->workload_out.Reset();
    session_io->workload_err.Reset();
    options_.sessions->Start(rec.id(), std::move(*session_io), *handle, rec.status_path(), "",
                             rec.log_path());
  }
  rec.handle = *handle;
  rec.state = "running";
  rec.started_at_ms = clock_.NowUnixMillis();
  for (const std::string& n : notes) rec.note += (rec.note.empty() ? "" : "; ") + n;
  rec.message = rec.note;
  spdlog::info("replica {} of job {} started: pid {}", rec.id(), want.allocation.job_id,
               rec.handle.pid);
  Put(std::move(rec));
}

void ReplicaSet::Adopt(const std::map<std::string, ProcessHandle>& running) {
  std::set<std::string> named;
  auto& reps = state_.replicas;
  for (auto it = reps.begin(); it != reps.end();) {
    named.insert(it->id());
    if (it->state != "starting") {
      ++it;
      continue;
    }
    if (auto found = running.find(it->id()); found != running.end()) {
      it->handle = found->second;
      it->state = "running";
      it->started_at_ms = clock_.NowUnixMillis();
      it->message = "re-adopted after an agent restart";
      spdlog::info("replica {}: re-adopted its workload, pid {}", it->id(), it->handle.pid);
    } else if (env_.Exists(it->status_path())) {
      it->state = "running";  // Poll() reads its exit status
      spdlog::info("replica {}: ended while the agent was down", it->id());
    } else {
      spdlog::info("replica {}: recorded but never launched; starting it when still desired",
                   it->id());
      if (!it->cgroup.empty()) cgroups_.Remove(it->cgroup);
      it = reps.erase(it);
      continue;
    }
    ++it;
  }
  for (const auto& [id, handle] : running) {
    if (named.count(id)) continue;
    ReplicaRecord rec;
    rec.desired.allocation.id = id;
    rec.handle = handle;
    rec.uid = RunningUid(handle.pid);
    rec.state = "running";
    rec.dir = options_.data_dir + "/replicas/" + id;
    rec.started_at_ms = clock_.NowUnixMillis();
    rec.message = "re-adopted after an agent restart (it was missing from the state file)";
    rec.unlisted = true;
    spdlog::warn("replica {}: found its workload (pid {}) without a record; adopted it", id,
                 handle.pid);
    reps.push_back(std::move(rec));
  }
}

void ReplicaSet::BeginStop(ReplicaRecord& rec, const std::string& why) {
  if (rec.ended() || rec.stop_sent_at_ms != 0) return;
  spdlog::info("stopping replica {}: {}", rec.id(), why);
  Status st = launcher_.Signal(rec.handle, SIGTERM);
  if (!st.ok()) spdlog::warn("replica {}: {}", rec.id(), st.message());
  rec.stop_sent_at_ms = clock_.NowUnixMillis();
  rec.message = "stopping: " + why;
}

void ReplicaSet::Finish(ReplicaRecord& rec) {
  // A `job exec` does not outlive its replica (docs/sessions.md).
  if (options_.sessions != nullptr) {
    options_.sessions->StopExecs(rec.id(),
                                 "its replica " + rec.id() + " ended (" + rec.message + ")");
  }
  if (!rec.cgroup.empty()) {
    cgroups_.Kill(rec.cgroup);
    cgroups_.Remove(rec.cgroup);
  }
  RemoveContainerOf(rec);
  if (const IsolationMode* mode = IsolationModeOf(rec.desired.allocation)) {
    IsolationServices services = Services();
    mode->Release(rec, services);
  }
}

void ReplicaSet::RemoveContainerOf(const ReplicaRecord& rec) {
  // podman run --rm removes the container when it ends normally; this covers a podman
  // killed before its container (SIGKILL past the grace period, a crash, a reboot).
  if (rec.desired.image.empty()) return;
  if (Status st = RemoveContainer(options_.containers, rec.id()); !st.ok()) {
    spdlog::warn("replica {}: {}", rec.id(), st.message());
  }
}

void ReplicaSet::Poll() {
  const int64_t now = clock_.NowUnixMillis();
  std::vector<const ReplicaRecord*> live;
  for (ReplicaRecord& rec : state_.replicas) {
    if (rec.state != "running") continue;
    ProcessState ps = launcher_.Poll(rec.handle, rec.status_path());
    if (ps.kind == ProcessState::Kind::kRunning) {
      if (rec.stop_sent_at_ms != 0 && !rec.kill_sent &&
          now - rec.stop_sent_at_ms >= options_.stop_grace.count()) {
        spdlog::info("replica {} still running after the grace period: SIGKILL", rec.id());
        launcher_.Signal(rec.handle, SIGKILL).IgnoreError();
        if (!rec.cgroup.empty()) cgroups_.Kill(rec.cgroup);
        RemoveContainerOf(rec);  // the container lives outside podman's process group
        rec.kill_sent = true;
      }
      live.push_back(&rec);
      continue;
    }
    std::string why = rec.stop_sent_at_ms != 0 ? " (" + rec.message + ")" : "";
    if (!rec.note.empty()) why += "; " + rec.note;
    if (ps.kind == ProcessState::Kind::kExited) {
      rec.state = "exited";
      rec.exit_code = ps.exit_code;
      rec.signal = ps.signal;
      rec.ended_at_ms = ps.ended_at_ms;
      rec.message = ps.message + why;
      // Read before Finish removes the group: a failure the OOM killer caused (the
      // workload itself, or a child whose death made it fail) is reported as such.
      if ((ps.exit_code != 0 || ps.signal != 0) && cgroups_.OomKills(rec.cgroup) > 0) {
        rec.reason = kOomKilled;
        rec.message = std::string(kOomKilled) + ": exceeded its memory limit of " +
                      std::to_string(rec.desired.allocation.memory_mib) + " MiB (" + ps.message +
                      ")" + why;
      }
    } else {
      rec.state = "failed";
      rec.ended_at_ms = now;
      rec.message = ps.message + why;
    }
    spdlog::info("replica {} ended: {}", rec.id(), rec.message);
    Finish(rec);
  }
  IsolationServices services = Services();
  for (const IsolationMode* mode : IsolationModes()) mode->Supervise(live, services);
}

void ReplicaSet::Forget() {
  auto& reps = state_.replicas;
  for (auto it = reps.begin(); it != reps.end();) {
    auto size = it->dir.empty() ? Result<int64_t>(0) : env_.FileSize(it->log_path());
    bool shipped = !size.ok() || *size <= it->log_file_offset;
    if (it->unlisted && it->ended() && shipped && it->log_final_sent) {
      spdlog::info("forgetting replica {}", it->id());
      state_.finished.push_back(it->id());
      if (!it->dir.empty()) {
        if (Status st = env_.RemoveAll(it->dir); !st.ok()) spdlog::warn("{}", st.message());
      }
      it = reps.erase(it);
    } else {
      ++it;
    }
  }
  if (state_.finished.size() > AgentState::kMaxFinished) {
    state_.finished.erase(state_.finished.begin(),
                          state_.finished.end() - AgentState::kMaxFinished);
  }
}

void ReplicaSet::StopAll() {
  for (ReplicaRecord& rec : state_.replicas) BeginStop(rec, "the agent is shutting down");
  const MonoTime deadline = clock_.MonotonicNow() + options_.stop_grace;
  for (;;) {
    bool live = false;
    for (ReplicaRecord& rec : state_.replicas) {
      if (rec.state != "running") continue;
      if (launcher_.Poll(rec.handle, rec.status_path()).kind == ProcessState::Kind::kRunning) {
        live = true;
      }
    }
    if (!live || clock_.MonotonicNow() >= deadline) break;
    clock_.SleepUntil(std::min(deadline, clock_.MonotonicNow() + kStopPollInterval));
  }
  for (ReplicaRecord& rec : state_.replicas) {
    if (rec.state != "running") continue;
    launcher_.Signal(rec.handle, SIGKILL).IgnoreError();
    if (!rec.cgroup.empty()) cgroups_.Kill(rec.cgroup);
    RemoveContainerOf(rec);
  }
  Poll();
}

std::map<int, int> ReplicaSet::SimulatedGpuUtilization() const {
  std::map<int, int> out;
  if (!options_.simulated_gpus) return out;
  for (const ReplicaRecord& rec : state_.replicas) {
    if (rec.state != "running" || rec.dir.empty()) continue;
    auto text = env_.ReadFileRange(SimulatedUtilPath(rec), 0, 64);
    if (!text.ok()) continue;  // nothing written (yet)
    double load = 0;
    if (std::sscanf(text->c_str(), "%lf", &load) != 1 || !(load > 0)) load = 0;
    load = std::min(load, 100.0);
    std::set<int> gpus;
    for (const model::VgpuSlice& s : rec.desired.allocation.slices) gpus.insert(s.gpu_index);
    for (int index : gpus) {
      int& sum = out[index];
      sum = std::min(100, sum + static_cast<int>(load + 0.5));
    }
  }
  return out;
}

std::vector<protocol::ReplicaReport> ReplicaSet::Reports() const {
  std::vector<protocol::ReplicaReport> out;
  for (const auto& [id, why] : unrecorded_) {
    protocol::ReplicaReport r;
    r.allocation_id = id;
    r.state = "starting";
    r.message = why;
    out.push_back(std::move(r));
  }
  for (const ReplicaRecord& rec : state_.replicas) {
    protocol::ReplicaReport r;
    r.allocation_id = rec.id();
    r.state = rec.state;
    r.pid = rec.state == "running" ? rec.handle.pid : 0;
    r.exit_code = rec.exit_code;
    r.signal = rec.signal;
    r.started_at_ms = rec.started_at_ms;
    r.ended_at_ms = rec.ended_at_ms;
    r.message = rec.message;
    r.reason = rec.reason;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace fastgpu::agent

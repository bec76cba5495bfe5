#include "agent/agent.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "agent/cgroup.h"
#include "agent/files.h"
#include "agent/launcher.h"
#include "agent/log_shipper.h"
#include "agent/mps.h"
#include "agent/readiness.h"
#include "agent/replicas.h"
#include "agent/session_host.h"
#include "agent/state.h"
#include "agent/vm_leftovers.h"
#include "agent/vm_offers.h"
#include "common/ids.h"
#include "common/join_token.h"
#include "common/log.h"
#include "net/http_client.h"
#include "protocol/agent_protocol.h"

namespace fastgpu::agent {
namespace {

// How often new replica output is shipped between heartbeats.
constexpr std::chrono::milliseconds kShipInterval{250};
// Empty replica cgroups at least this old that no record names are removed at start.
constexpr std::chrono::seconds kStaleCgroupAge{600};

int64_t DetectMemoryMib() {
  auto text = ReadWholeFile("/proc/meminfo");
  if (!text.ok()) return 0;
  size_t at = text->find("MemTotal:");
  if (at == std::string::npos) return 0;
  long long kib = 0;
  if (std::sscanf(text->c_str() + at, "MemTotal: %lld", &kib) != 1) return 0;
  return static_cast<int64_t>(kib) / 1024;
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

}  // namespace

class Agent::Impl {
 public:
  explicit Impl(AgentOptions options)
      : options_(std::move(options)),
        clock_(options_.clock != nullptr ? *options_.clock : SystemClock::Default()),
        env_(options_.env != nullptr ? *options_.env : PosixFileEnv()) {}

  Status Start();
  void Stop();
  AgentSnapshot Snapshot() const {
    std::lock_guard lock(snapshot_mu_);
    return snapshot_;
  }

 private:
  void Loop();
  // One round: read GPUs, follow replicas, register if needed, heartbeat, act on the
  // answer, ship logs, save state. Returns false when the control plane was not reached.
  bool Tick();
  // Ships the output of replicas that have some unsent (between heartbeats).
  void ShipPendingLogs();
  bool Register();
  bool Heartbeat();
  // Looks the advertise host up when it is not known yet (AgentOptions::advertise_host).
  void ResolveAdvertiseHost();
  // Hands the prober the running replicas with a port and a probe.
  void UpdateProbeTargets();
  // The replica's endpoint ("" without a port or an advertise host) and readiness.
  std::string EndpointOf(const ReplicaRecord& rec) const;
  bool ReadyNow(const ReplicaRecord& rec) const;
  // Simulated GPUs: their utilisation from the replicas' files (ReplicaSet).
  void SimulateUtilization();
  // With several control-plane addresses: starts the node's pending execs the leader lists.
  void FetchLeaderExecs();
  // An ended session replica whose relay still runs: its last output may still go to its
  // log, so its logs wait (the final shipment must come after every byte).
  bool HoldLogs(const ReplicaRecord& rec) const {
    return rec.ended() && sessions_ != nullptr && sessions_->Relaying(rec.id());
  }
  void SaveState();
  void PublishSnapshot();

  AgentOptions options_;
  Clock& clock_;
  FileEnv& env_;
  std::string state_path_;
  AgentState state_;
  Cgroups cgroups_;
  std::unique_ptr<MpsDaemons> mps_;
  std::unique_ptr<SessionHost> sessions_;  // before replicas_, which borrows it
  std::unique_ptr<ReplicaSet> replicas_;
  std::unique_ptr<ReadinessProber> prober_;
  std::string advertise_host_;  // "" until known
  std::string sandbox_note_;
  std::string last_save_error_;  // the last SaveState failure, logged once
  std::unique_ptr<net::HttpClient> client_;
  // With several control-plane addresses: a client that follows the leader (followers
  // answer 503), for the node's pending execs, which only the leader knows. Else null.
  std::unique_ptr<net::HttpClient> leader_client_;
  std::string join_secret_;  // the join token without its CA pin: the register bearer
  HealthTracker health_{HealthThresholds{}};
  std::vector<GpuSample> gpus_;
  std::chrono::milliseconds interval_{2000};
  int64_t heartbeats_ = 0;

  std::thread thread_;
  std::mutex mu_;
  // Notified by Stop(); waited on through clock_.
  std::condition_variable_any cv_;
  bool stopping_ = false;  // guarded by mu_
  bool started_ = false;

  mutable std::mutex snapshot_mu_;
  AgentSnapshot snapshot_;  // guarded by snapshot_mu_
};

Status Agent::Impl::Start() {
  if (started_) return FailedPrecondition("agent already started");
  if (options_.server_url.empty()) return InvalidArgument("agent: server URL is required");
  if (options_.join_token.empty()) return InvalidArgument("agent: join token is required");
  auto join = ParseJoinToken(options_.join_token);
  if (!join.ok()) return InvalidArgument("agent: " + join.status().message());
  if (!join->ca_sha256.empty() && options_.server_url.rfind("https://", 0) != 0) {
    return InvalidArgument(
        "agent: the join token pins the control plane's CA, so the server URL must be "
        "https://, not " +
        options_.server_url);
  }
  if (options_.data_dir.empty()) return InvalidArgument("agent: data dir is required");
  if (!options_.advertise_host.empty() && !IsIpAddress(options_.advertise_host)) {
    return InvalidArgument("agent: advertise host '" + options_.advertise_host +
                           "' is not an IP address");
  }
  if (options_.inventory == nullptr) return InvalidArgument("agent: a GPU inventory is required");
  if (options_.launcher == nullptr) {
    return InvalidArgument("agent: a process launcher is required");
  }
  if (Status st = env_.CreateDirs(options_.data_dir + "/replicas"); !st.ok()) {
    return Internal("agent: cannot " + st.message());
  }
  state_path_ = options_.data_dir + "/agent-state.json";
  auto loaded = LoadAgentState(state_path_, env_);
  if (loaded.ok()) {
    state_ = std::move(loaded).value();
    spdlog::info("agent state loaded from {}: node {}, {} replicas to re-adopt", state_path_,
                 state_.node_id.empty() ? "(unregistered)" : state_.node_id,
                 state_.replicas.size());
  } else if (loaded.status().code() != StatusCode::kNotFound) {
    return loaded.status();
  }
  if (state_.agent_id.empty()) state_.agent_id = RandomIdGenerator().Next("agent");
  if (state_.node_secret.empty()) {
    // Made before the first registration and saved below, so that no crash loses it. A
    // state file from before node secrets has the node token the control plane took as
    // the node's secret when it upgraded its database.
    state_.node_secret = state_.node_token.empty() ? RandomHex(32) : state_.node_token;
  }
  if (options_.name.empty()) options_.name = HostName();
  if (options_.cpu_milli <= 0) {
    options_.cpu_milli =
        static_cast<int64_t>(std::max(1u, std::thread::hardware_concurrency())) * 1000;
  }
  if (options_.memory_mib <= 0) options_.memory_mib = DetectMemoryMib();
  if (options_.heartbeat_interval.count() > 0) interval_ = options_.heartbeat_interval;
  health_ = HealthTracker(options_.health);
  cgroups_ = Cgroups::Probe(env_, options_.cgroup_root);
  if (cgroups_.enabled()) {
    spdlog::info("agent: {}", cgroups_.note());
  } else {
    spdlog::warn("agent: {}", cgroups_.note());
  }
  SandboxSupport support;
  if (options_.sandbox.enabled) {
    if (options_.sandbox.first_uid <= 0 || options_.sandbox.last_uid < options_.sandbox.first_uid) {
      return InvalidArgument(
          "agent: sandbox uid range " + std::to_string(options_.sandbox.first_uid) + "-" +
          std::to_string(options_.sandbox.last_uid) + " is empty or includes root");
    }
    support = ProbeSandbox();
    std::string range = std::to_string(options_.sandbox.first_uid) + "-" +
                        std::to_string(options_.sandbox.last_uid);
    if (support.root && support.namespaces) {
      sandbox_note_ = "sandbox: each replica runs as its own uid (" + range +
                      ") without capabilities, in its own PID, mount, IPC and UTS namespaces";
      spdlog::info("agent: {}", sandbox_note_);
    } else if (support.root) {
      sandbox_note_ = "sandbox DEGRADED: each replica runs as its own uid (" + range +
                      ") without capabilities, but " + support.note;
      spdlog::warn("agent: {}", sandbox_note_);
    } else {
      sandbox_note_ = "sandbox OFF: " + support.note;
      spdlog::warn("agent: {}", sandbox_note_);
    }
    // Others may pass through to their own work dir (0700, theirs), never list or read.
    env_.Chmod(options_.data_dir, 0711).IgnoreError();
    env_.Chmod(options_.data_dir + "/replicas", 0711).IgnoreError();
  } else {
    sandbox_note_ = "sandbox off: workloads run as the agent's user in the host's namespaces";
    spdlog::warn("agent: {}", sandbox_note_);
  }
  mps_ = std::make_unique<MpsDaemons>(options_.data_dir + "/mps", options_.mps_control,
                                      std::chrono::seconds(10), env_);
  ReplicaSetOptions ro;
  ro.data_dir = options_.data_dir;
  ro.mps_root = options_.data_dir + "/mps";
  ro.log_cap_bytes = options_.log_cap_bytes;
  ro.stop_grace = options_.stop_grace;
  ro.sandbox = options_.sandbox;
  ro.support = support;
  ro.gpu_dev_dir = options_.gpu_dev_dir;
  ro.containers = options_.containers;
  ro.vm = options_.vm;
  ro.env = &env_;
  {
    SessionHostOptions so;
    so.server_url = options_.server_url;
    so.tls.ca_file = options_.ca_file;  // verified as the heartbeats' client verifies
    so.tls.ca_sha256 = join->ca_sha256;
    so.tls.connect_timeout = std::chrono::seconds(5);
    so.log_cap_bytes = options_.log_cap_bytes;
    sessions_ = std::make_unique<SessionHost>(so, *options_.launcher);
  }
  ro.sessions = sessions_.get();
  {
    const char* path = std::getenv("PATH");
    auto runtime = FindRuntime(ro.containers, path != nullptr ? path : "");
    if (runtime.ok()) {
      std::string registries;
      for (const std::string& r : ro.containers.allowed_registries) {
        registries += (registries.empty() ? "" : ", ") + r;
      }
      spdlog::info("agent: image jobs run with {}; allowed registries: {}", *runtime,
                   registries.empty() ? "none" : registries);
    } else {
      spdlog::warn("agent: image jobs will fail: {}", runtime.status().message());
    }
  }
  if (options_.state_writer == nullptr) {
    options_.state_writer = MakeFileStateWriter(state_path_, env_);
  }
  ro.ports = options_.ports;
  ro.simulated_gpus = options_.inventory->simulated();
  replicas_ = std::make_unique<ReplicaSet>(ro, state_, *options_.state_writer, *options_.launcher,
                                           cgroups_, *mps_, clock_);
  ResolveAdvertiseHost();
  replicas_->Adopt(FindLaunchedWorkloads(options_.data_dir + "/replicas"));
  std::set<std::string> own;
  for (const ReplicaRecord& rec : state_.replicas) {
    own.insert(rec.cgroup);
    own.insert(rec.id());
  }
  for (const std::string& name : cgroups_.RemoveStale(own, kStaleCgroupAge, clock_.Now())) {
    spdlog::info("agent: removed the empty cgroup {} that no replica of this agent names", name);
  }
  if (VmConfigured(options_.vm)) {
    // Guests of replicas this agent no longer runs go; those it re-adopts stay.
    for (const std::string& name :
         DestroyLeftoverDomains(options_.vm, options_.data_dir + "/replicas", own)) {
      spdlog::info("agent: destroyed the guest {} that no replica of this agent runs", name);
    }
    // What the GPUs offer to vm work may have changed (libvirt, IOMMU, vGPU driver): the
    // agent registers again (with its node secret: the same node) to report it.
    state_.node_id.clear();
  }
  net::HttpClientOptions http;
  http.connect_timeout = std::chrono::seconds(3);
  http.read_timeout = std::chrono::seconds(10);
  http.ca_file = options_.ca_file;
  http.ca_sha256 = join->ca_sha256;
  join_secret_ = join->secret;
  auto client = net::HttpClient::Create(options_.server_url, http);
  if (!client.ok()) return client.status();
  client_ = std::move(client).value();
  if (client_->addresses() > 1) {
    auto leader = net::HttpClient::Create(options_.server_url, http);
    if (!leader.ok()) return leader.status();
    leader_client_ = std::move(leader).value();
  }
  spdlog::info("agent {} ({}) for {}{}: {}", options_.name, state_.agent_id, options_.server_url,
               join->ca_sha256.empty()
                   ? ""
                   : " (CA pinned by the join token: sha256:" + join->ca_sha256 + ")",
               options_.inventory->Describe());
  SaveState();
  PublishSnapshot();
  prober_ =
      std::make_unique<ReadinessProber>(options_.readiness_interval, options_.readiness_timeout);
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
  return OkStatus();
}

void Agent::Impl::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || !started_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (prober_) prober_->Stop();
  if (options_.kill_workloads_on_stop) replicas_->StopAll();
  sessions_->Stop();
  SaveState();
  PublishSnapshot();
}

void Agent::Impl::Loop() {
  int64_t escaped = 0;
  std::optional<MonoTime> last_report;
  for (;;) {
    bool ok = false;
    // Errors are values in the agent; an exception that still escapes a round (from a
    // library) is logged, at most once every 10 s, and the next round goes on: no
    // workload or file may end the agent (or `fastgpu up`'s control plane with it).
    try {
      ok = Tick();
    } catch (const std::exception& e) {
      ++escaped;
      const MonoTime now = clock_.MonotonicNow();
      if (!last_report || now - *last_report >= std::chrono::seconds(10)) {
        last_report = now;
        spdlog::error("agent: a round failed with an exception ({} so far): {}", escaped, e.what());
      }
    } catch (...) {
      ++escaped;
      spdlog::error("agent: a round failed with an unknown exception ({} so far)", escaped);
    }
    // Until the next round, new output goes out every 250 ms (docs/agent.md).
    auto wait = ok ? interval_ : std::min(interval_, options_.retry_interval);
    const MonoTime next_round = clock_.MonotonicNow() + wait;
    for (;;) {
      const MonoTime now = clock_.MonotonicNow();
      if (now >= next_round) break;
      const MonoTime step_end = std::min(next_round, now + kShipInterval);
      {
        std::unique_lock lock(mu_);
        if (clock_.WaitUntil(lock, cv_, step_end, [this] { return stopping_; })) return;
      }
      if (ok && clock_.MonotonicNow() < next_round) ShipPendingLogs();
    }
  }
}

void Agent::Impl::ShipPendingLogs() {
  if (state_.node_id.empty()) return;
  try {
    for (ReplicaRecord& rec : state_.replicas) {
      if (!HasUnshippedLogs(env_, rec) || HoldLogs(rec)) continue;
      Status st = ShipLogs(env_, *client_, state_.node_id, rec, options_.log_chunk_bytes);
      if (!st.ok()) spdlog::warn("agent: logs of {}: {}", rec.id(), st.message());
    }
  } catch (const std::exception& e) {
    spdlog::error("agent: shipping logs failed with an exception: {}", e.what());
  }
}

bool Agent::Impl::Tick() {
  auto samples = options_.inventory->Sample();
  if (samples.ok()) {
    gpus_ = std::move(samples).value();
  } else {
    spdlog::warn("agent: cannot read GPUs: {}", samples.status().message());
  }
  health_.Observe(options_.inventory->DrainEvents());
  std::vector<model::Gpu> judged = health_.Evaluate(gpus_);
  for (size_t i = 0; i < gpus_.size(); ++i) {
    if (gpus_[i].gpu.healthy && !judged[i].healthy) {
      spdlog::error("GPU {} ({}) is unhealthy: {}", judged[i].index, judged[i].uuid,
                    judged[i].health_reason);
    }
    gpus_[i].gpu = judged[i];
  }
  replicas_->Poll();
  SimulateUtilization();
  ResolveAdvertiseHost();
  UpdateProbeTargets();
  bool ok = (!state_.node_id.empty() || Register()) && Heartbeat();
  replicas_->Forget();
  SaveState();
  PublishSnapshot();
  return ok;
}

bool Agent::Impl::Register() {
  protocol::RegisterRequest req;
  req.name = options_.name;
  req.agent_id = state_.agent_id;
  req.node_secret = state_.node_secret;
  req.cpu_milli = options_.cpu_milli;
  req.memory_mib = options_.memory_mib;
  req.simulated = options_.inventory->simulated();
  for (const GpuSample& s : gpus_) req.gpus.push_back(s.gpu);
  // What each GPU offers to vm work (vm_offers.h), with the reasons it offers less.
  const std::vector<model::VmOffer> offers =
      VmOffers(options_.vm, gpus_, LibvirtReason(options_.vm));
  for (size_t i = 0; i < offers.size() && i < req.gpus.size(); ++i) {
    req.gpus[i].vm = offers[i];
    if (!offers[i].reason.empty()) {
      spdlog::warn("agent: GPU {}: vm isolation: {}", req.gpus[i].index, offers[i].reason);
    }
  }
  client_->set_bearer_token(join_secret_);
  auto res = client_->Post("/v1/nodes/register", protocol::EncodeRegister(req));
  if (!res.ok()) {
    spdlog::warn("agent: register: {}", res.status().message());
    return false;
  }
  if (Status st = net::ApiStatus(*res); !st.ok()) {
    spdlog::error("agent: register refused: {}", st.ToString());
    return false;
  }
  auto answer = protocol::DecodeRegisterResponse(res->body);
  if (!answer.ok()) {
    spdlog::error("agent: register answer: {}", answer.status().message());
    return false;
  }
  state_.node_id = answer->node_id;
  state_.node_token = answer->node_token;
  if (!answer->node_secret.empty()) state_.node_secret = answer->node_secret;
  if (options_.heartbeat_interval.count() == 0 && answer->heartbeat_interval_ms > 0) {
    interval_ = std::chrono::milliseconds(answer->heartbeat_interval_ms);
  }
  spdlog::info("agent: registered as node {} ({} GPUs)", state_.node_id, gpus_.size());
  SaveState();
  return true;
}

void Agent::Impl::FetchLeaderExecs() {
  leader_client_->set_bearer_token(state_.node_token);
  auto res = leader_client_->Get("/v1/nodes/" + state_.node_id + "/execs");
  if (!res.ok() || !res->ok()) {
    spdlog::debug("agent: pending execs: {}",
                  res.ok() ? net::ApiStatus(*res).ToString() : res.status().ToString());
    return;
  }
  auto pending = protocol::DecodePendingExecs(res->body);
  if (!pending.ok()) {
    spdlog::warn("agent: pending execs: {}", pending.status().message());
    return;
  }
  replicas_->ApplyExecs(pending->execs, gpus_);
}

bool Agent::Impl::Heartbeat() {
  protocol::HeartbeatRequest req;
  for (const GpuSample& s : gpus_) {
    req.gpus.push_back({s.gpu.index, s.gpu.healthy, s.gpu.health_reason});
    if (s.present && s.utilization_percent >= 0) {
      req.gpus.back().utilization_pct = std::min(100, s.utilization_percent);
    }
  }
  req.replicas = replicas_->Reports();
  for (protocol::ReplicaReport& r : req.replicas) {
    for (const ReplicaRecord& rec : state_.replicas) {
      if (rec.id() != r.allocation_id) continue;
      r.endpoint = EndpointOf(rec);
      r.ready = ReadyNow(rec);
    }
  }
  sessions_->SetCredentials(state_.node_id, state_.node_token);
  client_->set_bearer_token(state_.node_token);
  auto res =
      client_->Post("/v1/nodes/" + state_.node_id + "/heartbeat", protocol::EncodeHeartbeat(req));
  if (!res.ok()) {
    spdlog::warn("agent: heartbeat: {}", res.status().message());
    return false;
  }
  if (res->status == 404 || res->status == 401) {
    spdlog::warn("agent: control plane answered {} to the heartbeat of node {}; registering again",
                 res->status, state_.node_id);
    state_.node_id.clear();
    state_.node_token.clear();
    return false;
  }
  if (Status st = net::ApiStatus(*res); !st.ok()) {
    spdlog::warn("agent: heartbeat refused: {}", st.ToString());
    return false;
  }
  auto answer = protocol::DecodeHeartbeatResponse(res->body);
  if (!answer.ok()) {
    spdlog::error("agent: heartbeat answer: {}", answer.status().message());
    return false;
  }
  ++heartbeats_;
  replicas_->Apply(*answer, gpus_);
  if (leader_client_) FetchLeaderExecs();
  for (ReplicaRecord& rec : state_.replicas) {
    if (HoldLogs(rec)) continue;
    Status st = ShipLogs(env_, *client_, state_.node_id, rec, options_.log_chunk_bytes);
    if (!st.ok()) spdlog::warn("agent: logs of {}: {}", rec.id(), st.message());
  }
  return true;
}

void Agent::Impl::ResolveAdvertiseHost() {
  if (!advertise_host_.empty()) return;
  if (!options_.advertise_host.empty()) {
    advertise_host_ = options_.advertise_host;
  } else {
    auto local = LocalAddressToward(options_.server_url);
    if (!local.ok()) {
      spdlog::warn("agent: no advertise host yet (replicas with a port report no endpoint): {}",
                   local.status().message());
      return;
    }
    advertise_host_ = *local;
  }
  spdlog::info("agent: replica endpoints are on {}", advertise_host_);
  replicas_->set_advertise_host(advertise_host_);
}

std::string Agent::Impl::EndpointOf(const ReplicaRecord& rec) const {
  if (rec.port <= 0 || advertise_host_.empty()) return "";
  return JoinHostPort(advertise_host_, rec.port);
}

bool Agent::Impl::ReadyNow(const ReplicaRecord& rec) const {
  if (rec.state != "running" || rec.stop_sent_at_ms != 0) return false;
  if (rec.port <= 0) return !rec.desired.port;  // asked for a port it does not have: not ready
  if (advertise_host_.empty()) return false;
  if (rec.desired.readiness.kind == model::ReadinessProbe::Kind::kNone) return true;
  return prober_ != nullptr && prober_->Ready(rec.id());
}

void Agent::Impl::UpdateProbeTargets() {
  if (prober_ == nullptr) return;
  std::vector<ProbeTarget> targets;
  if (!advertise_host_.empty()) {
    for (const ReplicaRecord& rec : state_.replicas) {
      if (rec.state != "running" || rec.port <= 0 || rec.stop_sent_at_ms != 0 ||
          rec.desired.readiness.kind == model::ReadinessProbe::Kind::kNone) {
        continue;
      }
      targets.push_back({rec.id(), advertise_host_, rec.port, rec.desired.readiness});
    }
  }
  prober_->SetTargets(std::move(targets));
}

void Agent::Impl::SimulateUtilization() {
  if (!options_.inventory->simulated()) return;
  std::map<int, int> load = replicas_->SimulatedGpuUtilization();
  for (GpuSample& g : gpus_) {
    auto it = load.find(g.gpu.index);
    g.utilization_percent = it == load.end() ? 0 : it->second;
  }
}

void Agent::Impl::SaveState() {
  Status st = options_.state_writer->Save(state_);
  if (st.ok()) {
    if (!last_save_error_.empty()) spdlog::info("agent: state saved again");
    last_save_error_.clear();
  } else if (st.message() != last_save_error_) {
    spdlog::error("agent: cannot save state (no new replica starts until it can): {}",
                  st.message());
    last_save_error_ = st.message();
  }
}

void Agent::Impl::PublishSnapshot() {
  AgentSnapshot snap;
  snap.node_id = state_.node_id;
  snap.registered = !state_.node_id.empty();
  snap.cgroups_enabled = cgroups_.enabled();
  snap.cgroup_note = cgroups_.note();
  snap.sandbox_note = sandbox_note_;
  for (const GpuSample& s : gpus_) snap.gpus.push_back(s.gpu);
  for (const ReplicaRecord& rec : state_.replicas) {
    snap.replicas.push_back({rec.id(), rec.state, rec.handle.pid, rec.exit_code, rec.signal,
                             rec.message, EndpointOf(rec), ReadyNow(rec)});
  }
  snap.advertise_host = advertise_host_;
  snap.heartbeats_sent = heartbeats_;
  std::lock_guard lock(snapshot_mu_);
  snapshot_ = std::move(snap);
}

Agent::Agent(AgentOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Agent::~Agent() { Stop(); }
Status Agent::Start() { return impl_->Start(); }
void Agent::Stop() { impl_->Stop(); }
AgentSnapshot Agent::Snapshot() const { return impl_->Snapshot(); }

}  // namespace fastgpu::agent

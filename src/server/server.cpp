#include "server/server.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/join_token.h"
#include "server/tls_certs.h"

namespace fastgpu::server {

namespace {

constexpr char kAdminTenant[] = "admin";

// Writes `text` to `path` with mode 0600, durably.
Status WriteSecretFile(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot write " + path + ": " + std::strerror(errno));
  ::fchmod(fd, 0600);
  std::string data = text + "\n";
  bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) return Internal("cannot write " + path);
  return OkStatus();
}

// The file's first line, or "" when it cannot be read.
std::string ReadSecretFile(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

Status CheckPlainHttpAllowed(const ServerOptions& options) {
  auto listen = ParseListen(options.listen);
  if (!listen.ok()) return listen.status();
  const bool tls = !options.tls_cert_file.empty() || !options.tls_key_file.empty();
  if (tls || options.insecure_http || IsLoopbackHost(listen->first)) return OkStatus();
  return FailedPrecondition(
      "refusing plain HTTP on " + options.listen +
      ": API and join tokens would cross the network unencrypted. Serve HTTPS (--tls auto or "
      "--tls on makes a CA and certificate in the data dir; or --tls-cert FILE --tls-key "
      "FILE), or pass --insecure-http to serve plain HTTP on a network you trust");
}

Result<std::pair<std::string, uint16_t>> ParseListen(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return InvalidArgument("listen: expected host:port, got '" + listen + "'");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string port_text = listen.substr(colon + 1);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535) {
    return InvalidArgument("listen: bad port '" + port_text + "'");
  }
  return std::make_pair(host, static_cast<uint16_t>(port));
}

Status Server::Bootstrap(store::Store& store, Clock& clock, IdGenerator& ids) {
  const std::string dir = options_.data_dir;
  const std::string admin_path = dir.empty() ? "" : dir + "/admin.token";
  const std::string join_path = dir.empty() ? "" : dir + "/join.token";
  std::string admin_from_file = dir.empty() ? "" : ReadSecretFile(admin_path);
  std::string join_from_file = dir.empty() ? "" : ReadSecretFile(join_path);
  // The file holds the secret, then the CA pin when there is one.
  auto join_parsed = ParseJoinToken(join_from_file);
  const std::string join_secret_from_file = join_parsed.ok() ? join_parsed->secret : "";
  bool new_admin = false, new_join = false, foreign_join = false;
  // A store other replicas share (PostgreSQL) keeps the join token they made.
  const bool shared = store.Kind() == "postgres";
  FASTGPU_RETURN_IF_ERROR(store.Write([&](store::WriteTx& tx) -> Status {
    auto admin = tx.GetTenantByName(kAdminTenant);
    if (!admin.ok()) {
      if (admin.status().code() != StatusCode::kNotFound) return admin.status();
      model::Tenant t;
      t.id = ids.Next("tenant");
      t.name = kAdminTenant;
      t.admin = true;
      t.created_at = clock.Now();
      FASTGPU_RETURN_IF_ERROR(tx.CreateTenant(t));
      admin = t;
    }
    admin_token_.clear();
    if (!admin_from_file.empty()) {
      auto tok = tx.FindTokenByHash(Sha256Hex(admin_from_file));
      if (tok.ok() && !tok->revoked && tok->tenant_id == admin->id) admin_token_ = admin_from_file;
    }
    if (admin_token_.empty()) {
      admin_token_ = RandomHex(32);
      store::ApiToken tok{ids.Next("tok"),         admin->id,   "admin (bootstrap)",
                          Sha256Hex(admin_token_), clock.Now(), false};
      FASTGPU_RETURN_IF_ERROR(tx.CreateToken(tok));
      new_admin = true;
    }
    auto join_hash = tx.GetJoinTokenHash();
    foreign_join = false;
    if (!join_secret_from_file.empty() && join_hash.ok() &&
        *join_hash == Sha256Hex(join_secret_from_file)) {
      join_secret_ = join_secret_from_file;
    } else if (shared && join_hash.ok()) {
      // Another replica on the shared store made the join token: keep it (its agents
      // register here too); this replica has no copy of the secret to show.
      join_secret_.clear();
      join_hash_ = *join_hash;
      join_token_.clear();
      foreign_join = true;
      return OkStatus();
    } else {
      join_secret_ = RandomHex(32);
      FASTGPU_RETURN_IF_ERROR(tx.SetJoinTokenHash(Sha256Hex(join_secret_)));
      new_join = true;
    }
    join_hash_ = Sha256Hex(join_secret_);
    join_token_ = FormatJoinToken({join_secret_, options_.tls_ca_sha256});
    if (join_token_ != join_from_file) new_join = true;  // the pin came, went or changed
    return OkStatus();
  }));
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (new_admin) FASTGPU_RETURN_IF_ERROR(WriteSecretFile(admin_path, admin_token_));
    if (new_join) FASTGPU_RETURN_IF_ERROR(WriteSecretFile(join_path, join_token_));
  }
  if (foreign_join) {
    spdlog::warn(
        "the shared store's join token was made by another replica and {} does not hold it; "
        "agents join with that replica's join.token (copy it here to show it)",
        join_path.empty() ? std::string("this replica's data dir") : join_path);
  }
  return OkStatus();
}

Result<std::unique_ptr<Server>> Server::Create(ServerOptions options, store::Store& store,
                                               Clock& clock, IdGenerator& ids) {
  auto listen = ParseListen(options.listen);
  if (!listen.ok()) return listen.status();
  FASTGPU_RETURN_IF_ERROR(CheckPlainHttpAllowed(options));
  std::unique_ptr<Server> s(new Server());
  s->options_ = std::move(options);
  s->store_ = &store;
  FASTGPU_RETURN_IF_ERROR(s->Bootstrap(store, clock, ids));
  s->auth_ = std::make_unique<Authenticator>(store, s->join_hash_);
  ReconcilerOptions ro;
  ro.policy = s->options_.policy;
  ro.batch_size = s->options_.batch_size;
  ro.batch_time_limit_seconds = s->options_.batch_time_limit_seconds;
  ro.node_timeout = s->options_.node_timeout;
  ro.interval = s->options_.reconcile_interval;
  ro.budget_grace = s->options_.budget_grace;
  ro.max_pending_per_pass = s->options_.max_pending_per_pass;
  ro.pool = s->options_.pool.get();
  s->replica_status_ = std::make_unique<ReplicaStatus>(clock, s->options_.node_timeout);
  ReplicaStatus* status = s->replica_status_.get();
  ro.services.is_ready = [status](const model::Job& job) { return ReplicaJobReady(job, status); };
  if (s->options_.replica_id.empty()) s->options_.replica_id = "replica-" + RandomHex(6);
  s->fenced_ = std::make_unique<FencedStore>(store, s->options_.replica_id);
  s->request_rate_ = std::make_unique<RequestRate>(clock.Now());
  ServiceProxyOptions po;
  po.cold_start_timeout = s->options_.service_cold_start_timeout;
  po.max_held = std::max(1, s->options_.worker_threads / 2);
  s->service_proxy_ = std::make_unique<ServiceProxy>(clock, po);
  s->autoscale_ =
      std::make_unique<AutoscalePass>(*s->fenced_, clock, *s->request_rate_, *status);
  ro.autoscale = s->autoscale_.get();
  FASTGPU_ASSIGN_OR_RETURN(s->reconciler_,
                           Reconciler::Create(*s->fenced_, clock, ids, s->metrics_, ro));
  if (s->options_.run_reconciler) {
    LeaderOptions lo;
    lo.replica_id = s->options_.replica_id;
    lo.lease_ttl = s->options_.leader_lease;
    lo.renew_every = std::max<std::chrono::milliseconds>(std::chrono::milliseconds(50),
                                                         s->options_.leader_lease / 4);
    lo.shared_store = store.Kind() == "postgres";
    Server* raw = s.get();
    s->elector_ = std::make_unique<LeaderElector>(
        store, clock, lo,
        [raw, &clock](int64_t generation) {
          raw->fenced_->Arm(generation);
          // A new leader judges no service idle on silence it did not watch.
          raw->request_rate_->Restart(clock.Now());
          raw->reconciler_->Resync();
          raw->reconciler_->Start();
        },
        [raw] {
          raw->fenced_->Disarm();
          raw->reconciler_->Stop();
          // Sessions meet on the leader: their agents and clients reconnect to the next one.
          if (raw->sessions_) raw->sessions_->CloseAll();
        });
  }
  ApiOptions ao;
  ao.heartbeat_interval_ms = s->options_.heartbeat_interval.count();
  ao.lease_ms = s->options_.node_timeout.count();
  ao.max_log_bytes = s->options_.max_log_bytes;
  ao.leases = &s->reconciler_->leases();
  ao.allow_unplaceable = s->options_.allow_unplaceable || s->options_.pool != nullptr;
  ao.pool = s->options_.pool.get();
  ao.leader = s->elector_.get();
  ao.max_log_streams = std::max(1, s->options_.worker_threads / 2);
  s->pool_history_ = std::make_unique<PoolHistory>(s->options_.pool_history_samples);
  s->pool_sampler_ = std::make_unique<PoolSampler>(s->metrics_, clock, *s->pool_history_,
                                                   s->options_.pool_history_interval);
  ao.pool_history = s->pool_history_.get();
  ao.pool_history_interval_ms = s->options_.pool_history_interval.count();
  SessionRelayOptions so;
  so.grace = s->options_.session_grace;
  so.max_buffered_bytes = s->options_.session_buffer_bytes;
  s->sessions_ = std::make_unique<SessionRelay>(clock, so);
  ao.sessions = s->sessions_.get();
  s->execs_ = std::make_unique<ExecTable>(clock);
  ao.execs = s->execs_.get();
  ao.replica_status = s->replica_status_.get();
  ao.service_proxy = s->service_proxy_.get();
  ao.request_rate = s->request_rate_.get();
  ao.autoscale = s->autoscale_.get();
  ao.session_idle_timeout_s = s->options_.session_idle_timeout.count();
  Reconciler* rec = s->reconciler_.get();
  s->api_ =
      std::make_unique<Api>(store, clock, ids, s->metrics_, *s->auth_, ao, [rec] { rec->Poke(); });
  HttpServerOptions ho;
  ho.host = listen->first;
  ho.port = listen->second;
  ho.io_threads = s->options_.io_threads;
  ho.worker_threads = s->options_.worker_threads;
  ho.max_body_bytes = s->options_.max_body_bytes;
  ho.max_connections = s->options_.max_connections;
  ho.idle_timeout_ms = static_cast<int>(s->options_.idle_timeout.count());
  ho.request_timeout_ms = static_cast<int>(s->options_.request_timeout.count());
  ho.tls_cert_file = s->options_.tls_cert_file;
  ho.tls_key_file = s->options_.tls_key_file;
  Api* api = s->api_.get();
  s->http_ =
      std::make_unique<HttpServer>(ho, [api](const HttpRequest& r) { return api->Handle(r); });
  return s;
}

Server::~Server() { Stop(); }

Result<uint16_t> Server::Start() {
  FASTGPU_ASSIGN_OR_RETURN(port_, http_->Start());
  pool_sampler_->Start();
  session_sweeper_ = std::thread([this] {
    std::unique_lock lock(sweep_mu_);
    while (!sweep_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return sweep_stop_; })) {
      lock.unlock();
      api_->SweepSessions();
      lock.lock();
    }
  });
  if (elector_) {
    Reconciler* rec = reconciler_.get();
    commit_watch_ = store_->WatchCommits([rec] { rec->Poke(); });
    fenced_->Disarm();  // until elected
    // The first round at once: a lone replica leads before Start returns.
    auto first = elector_->RunOnce();
    if (!first.ok()) spdlog::warn("leader: first round failed: {}", first.status().ToString());
    elector_->Start();
  }
  return port_;
}

void Server::Stop() {
  {
    std::lock_guard lock(sweep_mu_);
    sweep_stop_ = true;
  }
  sweep_cv_.notify_all();
  if (session_sweeper_.joinable()) session_sweeper_.join();
  if (sessions_) sessions_->CloseAll();
  if (http_) http_->Stop();
  if (pool_sampler_) pool_sampler_->Stop();
  commit_watch_.reset();
  if (elector_) elector_->Stop();  // stops the reconciler when leading, hands the lease back
  if (reconciler_) reconciler_->Stop();
}

}  // namespace fastgpu::server

#include "server/reconciler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <map>
#include <optional>
#include <set>

#include "placer/batch_placers.h"
#include "scheduler/feasibility.h"
#include "server/allocation_end.h"
#include "server/node_usage.h"
#include "server/placement_pass.h"
#include "server/usage_budget.h"

namespace fastgpu::server {

namespace {

constexpr auto kIdempotencyTtl = std::chrono::hours(24);
// The pause after a pass that was poked while it ran, before the next: as long as the pass
// took (so passes take at most about half of a core under a stream of submissions, which
// they batch), at least kMinGap and at most kMaxGap.
constexpr auto kMinGap = std::chrono::milliseconds(1);
constexpr auto kMaxGap = std::chrono::milliseconds(50);
// At most one log line per this long about passes that threw.
constexpr auto kExceptionLogEvery = std::chrono::seconds(10);
// Most change-feed entries one pass reads; more make it a full pass.
constexpr int kMaxChangesPerPass = 20000;

// Releases every unreleased allocation of the job and sends it back to pending, or
// fails it when its retries are used up. Terminal jobs only get their allocations freed.
Status RequeueJob(store::WriteTx& tx, const std::string& job_id, const std::string& why,
                  TimePoint now, PassStats& stats) {
  FASTGPU_ASSIGN_OR_RETURN(model::Job job, tx.GetJob(job_id));
  FASTGPU_ASSIGN_OR_RETURN(auto allocs, tx.ListAllocationsByJob(job_id));
  for (const auto& a : allocs) {
    if (a.state != store::AllocationState::kReleased) {
      FASTGPU_RETURN_IF_ERROR(tx.UpdateAllocation(a.alloc.id, ReleaseUpdate(a, now, why)).status());
    }
  }
  if (model::IsTerminal(job.state) || job.state == model::JobState::kPending) return OkStatus();
  int retries_used = std::max(0, job.attempts - 1);
  if (retries_used < job.spec.max_retries) {
    FASTGPU_RETURN_IF_ERROR(model::TransitionJob(job, model::JobState::kPending,
                                                 why + "; requeued (retry " +
                                                     std::to_string(retries_used + 1) + " of " +
                                                     std::to_string(job.spec.max_retries) + ")",
                                                 now));
    ++stats.requeued;
  } else {
    FASTGPU_RETURN_IF_ERROR(model::TransitionJob(
        job, model::JobState::kFailed,
        why + "; no retry left (max_retries " + std::to_string(job.spec.max_retries) + ")", now));
    ++stats.failed;
  }
  return tx.UpdateJob(job);
}

struct Decision {
  model::JobState to;
  std::string reason;
};

// What the agents' reports say should happen to a scheduled or running job.
std::optional<Decision> Decide(const model::Job& job,
                               const std::vector<store::AllocationRecord>& allocs) {
  std::vector<const store::AllocationRecord*> current;
  for (const auto& a : allocs) {
    if (a.state != store::AllocationState::kReleased) current.push_back(&a);
  }
  if (current.empty()) return Decision{model::JobState::kPending, "its allocations were released"};
  int running = 0, exited_ok = 0;
  for (const store::AllocationRecord* a : current) {
    std::string who = "replica " + std::to_string(a->alloc.replica);
    if (a->state == store::AllocationState::kFailed) {
      return Decision{model::JobState::kFailed,
                      who + " failed to start" + (a->message.empty() ? "" : ": " + a->message)};
    }
    if (a->state == store::AllocationState::kExited) {
      if (!EndReason(*a).empty())
        return Decision{model::JobState::kFailed, who + " was " + a->message};
      if (a->signal != 0) {
        return Decision{model::JobState::kFailed,
                        who + " was killed by signal " + std::to_string(a->signal)};
      }
      if (a->exit_code != 0) {
        return Decision{model::JobState::kFailed,
                        who + " exited with code " + std::to_string(a->exit_code)};
      }
      ++exited_ok;
    }
    if (a->state == store::AllocationState::kRunning) ++running;
  }
  int n = job.spec.replicas;
  if (exited_ok == n && static_cast<int>(current.size()) == n) {
    return Decision{model::JobState::kSucceeded,
                    "all " + std::to_string(n) + " replica(s) exited 0"};
  }
  if (job.state == model::JobState::kScheduled && running + exited_ok == n &&
      static_cast<int>(current.size()) == n) {
    return Decision{model::JobState::kRunning, "all " + std::to_string(n) + " replica(s) running"};
  }
  return std::nullopt;
}

// Moves a scheduled or running job as `d` says (Decide's answer); a terminal move frees
// its allocations (their recorded exits are kept).
Status ApplyDecision(store::WriteTx& tx, model::Job& job,
                     const std::vector<store::AllocationRecord>& allocs, const Decision& d,
                     TimePoint now, PassStats& stats) {
  if (d.to == model::JobState::kPending) return RequeueJob(tx, job.id, d.reason, now, stats);
  if (model::IsTerminal(d.to)) {
    for (const auto& a : allocs) {
      if (a.state != store::AllocationState::kReleased) {
        FASTGPU_RETURN_IF_ERROR(
            tx.UpdateAllocation(
                  a.alloc.id,
                  ReleaseUpdate(a, now,
                                "job " + std::string(model::JobStateName(d.to)) + ": " + d.reason))
                .status());
      }
    }
  }
  if (job.state == model::JobState::kScheduled && d.to == model::JobState::kSucceeded) {
    // Every replica ran and ended between two passes: it did run.
    FASTGPU_RETURN_IF_ERROR(
        model::TransitionJob(job, model::JobState::kRunning, "replicas ran", now));
  }
  FASTGPU_RETURN_IF_ERROR(model::TransitionJob(job, d.to, d.reason, now));
  FASTGPU_RETURN_IF_ERROR(tx.UpdateJob(job));
  if (d.to == model::JobState::kRunning) ++stats.running;
  if (d.to == model::JobState::kSucceeded) ++stats.succeeded;
  if (d.to == model::JobState::kFailed) ++stats.failed;
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<Reconciler>> Reconciler::Create(store::Store& store, Clock& clock,
                                                       IdGenerator& ids, Metrics& metrics,
                                                       ReconcilerOptions options) {
  sched::EngineOptions eopts;
  std::unique_ptr<sched::BatchPlacer> batch_placer;
  if (placer::IsBatchPlacer(options.policy)) {
    if (options.batch_size < 1) return InvalidArgument("batch size must be at least 1");
    if (!(options.batch_time_limit_seconds > 0)) {
      return InvalidArgument("batch time limit must be above 0 s");
    }
    placer::BatchOptions bopts;
    bopts.batch_size = options.batch_size;
    bopts.time_limit_seconds = options.batch_time_limit_seconds;
    FASTGPU_ASSIGN_OR_RETURN(batch_placer, placer::MakeBatchPlacer(options.policy, bopts));
    // The engine's own policy places nothing then; it keeps the default.
    eopts.policy = std::string(sched::kDefaultPolicy);
  } else {
    eopts.policy = options.policy;
  }
  // A pool that gives emptied nodes back: pack work onto nodes that hold work already, as
  // the simulator's elastic pool does (docs/elastic.md).
  eopts.elastic_pool = options.pool != nullptr && options.pool->CanShrink();
  Result<std::unique_ptr<sched::Engine>> engine = sched::Engine::Create(eopts);
  if (!engine.ok() && engine.status().code() == StatusCode::kNotFound) {
    return NotFound("no placer named '" + options.policy + "' (" + placer::KnownPlacersText() +
                    ")");
  }
  FASTGPU_RETURN_IF_ERROR(engine.status());
  return std::unique_ptr<Reconciler>(new Reconciler(store, clock, ids, metrics, std::move(options),
                                                    std::move(*engine), std::move(batch_placer)));
}

Reconciler::Reconciler(store::Store& store, Clock& clock, IdGenerator& ids, Metrics& metrics,
                       ReconcilerOptions options, std::unique_ptr<sched::Engine> engine,
                       std::unique_ptr<sched::BatchPlacer> batch_placer)
    : store_(store),
      clock_(clock),
      ids_(ids),
      metrics_(metrics),
      options_(std::move(options)),
      engine_(std::move(engine)),
      batch_placer_(std::move(batch_placer)),
      pool_observer_(metrics),
      services_(store, clock, ids, options_.services),
      leases_(clock.Now()) {}

Reconciler::~Reconciler() { Stop(); }

Result<PassStats> Reconciler::RunOnce() {
  std::lock_guard lock(pass_mu_);
  passes_.fetch_add(1);
  PassTimer timer(metrics_);  // fastgpu_reconciler_pass_seconds, however the pass ends
  PassStats stats;
  Changes changes;
  Status st = ReadChanges(feed_seq_, /*allow_full=*/true, changes);
  if (st.ok()) {
    stats.full = changes.full;
    stats.changes = changes.entries;
    st = ExpireLeases(stats);
  }
  if (st.ok()) st = RequeueUnhealthy(stats, changes.full ? nullptr : &changes.nodes);
  if (st.ok()) st = AdvanceJobs(stats, changes.full ? nullptr : &changes.jobs);
  if (st.ok() && options_.autoscale != nullptr) {
    Result<AutoscaleStats> scaled = options_.autoscale->Run();
    if (scaled.ok()) {
      stats.autoscale = *scaled;
    } else {
      st = scaled.status();
    }
  }
  if (st.ok()) {
    Result<ServicePassStats> services = services_.Run();
    if (services.ok()) {
      stats.services = *services;
    } else {
      st = services.status();
    }
  }
  if (st.ok()) {
    st =
        EnforceBudgets(store_, clock_, {.grace = options_.budget_grace}, &budget_checked_).status();
  }
  if (st.ok()) st = PlacePending(stats, changes);
  if (st.ok()) st = CollectGarbage(changes.full);
  if (st.ok() && options_.pool != nullptr) {
    if (Status ps = StepPool(); !ps.ok()) spdlog::warn("pool: step failed: {}", ps.ToString());
  }
  if (!st.ok()) {
    synced_ = false;   // what this pass read may be lost: the next pass reads everything
    refused_.clear();  // and retries every pending job
    listed_valid_ = false;
    return st;
  }
  if (changes.full) {
    synced_ = true;
    last_full_ = changes.started;
  }
  feed_seq_ = changes.seq_after;
  // Replicas submitted or stopped by the service pass are placed by the next pass, soon.
  if (stats.services.submitted > 0 || stats.services.cancelled > 0) Poke();
  return stats;
}

// Reads the change feed after `since` (or, with `allow_full` when a full pass is due or the
// feed has too much, everything) and brings the engine and the node cache up to date with
// it.
Status Reconciler::ReadChanges(int64_t since, bool allow_full, Changes& ch) {
  const MonoTime started = clock_.MonotonicNow();
  const bool due = allow_full && (!synced_ || started - last_full_ >= options_.full_pass_interval);
  std::vector<store::NodeRecord> all_nodes;
  std::vector<store::AllocationRecord> live;
  Changes out;
  out.started = started;
  FASTGPU_RETURN_IF_ERROR(store_.Read([&](store::ReadTx& tx) -> Status {
    out = Changes();
    out.started = started;
    bool full = due;
    if (!full) {
      FASTGPU_ASSIGN_OR_RETURN(std::vector<store::Change> feed,
                               tx.ListChangesSince(since, kMaxChangesPerPass));
      out.entries = static_cast<int>(feed.size());
      out.seq_after = feed.empty() ? since : feed.back().seq;
      full = allow_full && static_cast<int>(feed.size()) >= kMaxChangesPerPass;
      if (!full) {
        std::set<std::string> allocs;
        // Nodes in feed order: a node registered first gets the engine's lower index, as
        // a full read (registration order) gives it, so ties break the same either way.
        std::vector<std::string> node_order;
        for (const store::Change& c : feed) {
          if (c.kind == store::ChangeKind::kJob) out.jobs.insert(c.id);
          if (c.kind == store::ChangeKind::kNode && out.nodes.insert(c.id).second) {
            node_order.push_back(c.id);
          }
          if (c.kind == store::ChangeKind::kAllocation) allocs.insert(c.id);
        }
        for (const std::string& id : allocs) {
          Result<store::AllocationRecord> a = tx.GetAllocation(id);
          if (!a.ok() && a.status().code() == StatusCode::kNotFound) continue;
          FASTGPU_RETURN_IF_ERROR(a.status());
          out.jobs.insert(a->alloc.job_id);
          // An over-committed node is sized to hold its allocations: seen again when
          // they change, it may fit in what it reports once more.
          if (overcommitted_.contains(a->alloc.node_id) &&
              out.nodes.insert(a->alloc.node_id).second) {
            node_order.push_back(a->alloc.node_id);
          }
          out.allocs.push_back(std::move(*a));
        }
        for (const std::string& id : node_order) {
          Result<store::NodeRecord> n = tx.GetNode(id);
          if (!n.ok() && n.status().code() == StatusCode::kNotFound) continue;
          FASTGPU_RETURN_IF_ERROR(n.status());
          ChangedNode changed{std::move(*n), {}};
          FASTGPU_ASSIGN_OR_RETURN(changed.live, tx.ListAllocationsByNode(id));
          out.changed_nodes.push_back(std::move(changed));
        }
        return OkStatus();
      }
    }
    out.full = true;
    // The jobs written since the previous pass, for the pending window (LoadPending); when
    // the feed cannot say (the first pass, or too many entries), every pending job is read.
    out.all_pending = true;
    if (since > 0) {
      FASTGPU_ASSIGN_OR_RETURN(std::vector<store::Change> feed,
                               tx.ListChangesSince(since, kMaxChangesPerPass));
      if (static_cast<int>(feed.size()) < kMaxChangesPerPass) {
        out.all_pending = false;
        for (const store::Change& c : feed) {
          if (c.kind == store::ChangeKind::kJob) out.jobs.insert(c.id);
        }
      }
    }
    FASTGPU_ASSIGN_OR_RETURN(out.seq_after, tx.LatestChangeSeq());
    FASTGPU_ASSIGN_OR_RETURN(all_nodes, tx.ListNodes());
    FASTGPU_ASSIGN_OR_RETURN(live, tx.ListLiveAllocations());
    return OkStatus();
  }));
  if (out.full) {
    overcommitted_ = SyncEngine(*engine_, all_nodes, live);
    nodes_ = std::move(all_nodes);
    node_pos_.clear();
    for (size_t i = 0; i < nodes_.size(); ++i) node_pos_[nodes_[i].node.id] = i;
  } else {
    SyncChanges(*engine_, out.allocs, out.changed_nodes, overcommitted_);
    for (const ChangedNode& n : out.changed_nodes) {
      auto [it, fresh] = node_pos_.try_emplace(n.record.node.id, nodes_.size());
      if (fresh) {
        nodes_.push_back(n.record);
      } else {
        nodes_[it->second] = n.record;
      }
    }
  }
  ch = std::move(out);
  return OkStatus();
}

Status Reconciler::ExpireLeases(PassStats& stats) {
  const TimePoint now = clock_.Now();
  std::vector<std::string> stale;
  // The nodes as of this pass's read (their states follow the change feed; the leases,
  // renewed by heartbeats in memory, say who is silent).
  for (const store::NodeRecord& n : nodes_) {
    if (n.state != store::NodeState::kLost &&
        now - leases_.LastSeen(n.node.id, n.last_heartbeat) > options_.node_timeout) {
      stale.push_back(n.node.id);
    }
  }
  for (const std::string& id : stale) {
    PassStats local;
    bool lost = false;
    TimePoint stored_heartbeat{};
    FASTGPU_RETURN_IF_ERROR(store_.Write([&](store::WriteTx& tx) -> Status {
      local = PassStats();
      FASTGPU_ASSIGN_OR_RETURN(store::NodeRecord n, tx.GetNode(id));
      stored_heartbeat = n.last_heartbeat;
      const TimePoint last_seen = leases_.LastSeen(id, n.last_heartbeat);
      lost = n.state != store::NodeState::kLost && now - last_seen > options_.node_timeout;
      if (!lost) return OkStatus();  // it heartbeat meanwhile (perhaps to another replica)
      if (n.state == store::NodeState::kDraining) {
        FASTGPU_RETURN_IF_ERROR(tx.SetNodeDrained(id, true));
      }
      FASTGPU_RETURN_IF_ERROR(tx.SetNodeState(id, store::NodeState::kLost));
      FASTGPU_ASSIGN_OR_RETURN(auto allocs, tx.ListAllocationsByNode(id));
      std::set<std::string> jobs;
      for (const auto& a : allocs) {
        if (store::IsLive(a.state)) jobs.insert(a.alloc.job_id);
      }
      auto silent = std::chrono::duration_cast<std::chrono::seconds>(now - last_seen);
      for (const std::string& job : jobs) {
        // What its replicas reported before the loss wins over the loss: a replica that
        // exited non-zero fails the job with its own code, not with "node lost".
        FASTGPU_ASSIGN_OR_RETURN(model::Job j, tx.GetJob(job));
        if (j.state == model::JobState::kScheduled || j.state == model::JobState::kRunning) {
          FASTGPU_ASSIGN_OR_RETURN(auto job_allocs, tx.ListAllocationsByJob(job));
          std::optional<Decision> d = Decide(j, job_allocs);
          if (d && model::IsTerminal(d->to)) {
            FASTGPU_RETURN_IF_ERROR(ApplyDecision(tx, j, job_allocs, *d, now, local));
            continue;
          }
        }
        FASTGPU_RETURN_IF_ERROR(RequeueJob(
            tx, job,
            "node " + id + " lost (no heartbeat for " + std::to_string(silent.count()) + " s)", now,
            local));
      }
      return OkStatus();
    }));
    if (!lost) {
      // Heartbeats stored by another replica do not pass through the change feed: keep the
      // stored time, so that the node is not a candidate again at every pass.
      if (auto pos = node_pos_.find(id); pos != node_pos_.end()) {
        nodes_[pos->second].last_heartbeat = stored_heartbeat;
      }
    }
    if (lost) {
      spdlog::warn("reconciler: node {} lost; {} job(s) requeued, {} failed", id, local.requeued,
                   local.failed);
      ++stats.nodes_lost;
      stats.requeued += local.requeued;
      stats.failed += local.failed;
    }
  }
  return OkStatus();
}

Status Reconciler::RequeueUnhealthy(PassStats& stats, const std::set<std::string>* only_nodes) {
  if (only_nodes != nullptr && only_nodes->empty()) return OkStatus();
  std::map<std::string, std::string> jobs;  // job id -> why
  FASTGPU_RETURN_IF_ERROR(store_.Read([&](store::ReadTx& tx) -> Status {
    std::vector<store::NodeRecord> nodes;
    std::vector<store::AllocationRecord> live;
    if (only_nodes == nullptr) {
      FASTGPU_ASSIGN_OR_RETURN(nodes, tx.ListNodes());
      FASTGPU_ASSIGN_OR_RETURN(live, tx.ListLiveAllocations());
    } else {
      for (const std::string& id : *only_nodes) {
        Result<store::NodeRecord> n = tx.GetNode(id);
        if (!n.ok() && n.status().code() == StatusCode::kNotFound) continue;
        FASTGPU_RETURN_IF_ERROR(n.status());
        nodes.push_back(std::move(*n));
        FASTGPU_ASSIGN_OR_RETURN(auto on_node, tx.ListAllocationsByNode(id));
        for (auto& a : on_node) {
          if (store::IsLive(a.state)) live.push_back(std::move(a));
        }
      }
    }
    std::map<std::string, const store::NodeRecord*> by_id;
    for (const auto& n : nodes) by_id[n.node.id] = &n;
    for (const auto& a : live) {
      auto it = by_id.find(a.alloc.node_id);
      if (it == by_id.end()) continue;
      for (const model::VgpuSlice& s : a.alloc.slices) {
        bool present = false;
        for (const model::Gpu& g : it->second->node.gpus) {
          if (g.index != s.gpu_index) continue;
          present = true;
          if (!g.healthy) {
            jobs[a.alloc.job_id] = "GPU " + std::to_string(g.index) + " of node " +
                                   a.alloc.node_id + " is unhealthy" +
                                   (g.health_reason.empty() ? "" : " (" + g.health_reason + ")");
          }
        }
        if (!present) {
          jobs[a.alloc.job_id] = "GPU " + std::to_string(s.gpu_index) + " of node " +
                                 a.alloc.node_id + " is gone (the node now reports " +
                                 std::to_string(it->second->node.gpus.size()) + " GPU(s))";
        }
      }
    }
    return OkStatus();
  }));
  if (jobs.empty()) return OkStatus();
  const TimePoint now = clock_.Now();
  PassStats local;
  FASTGPU_RETURN_IF_ERROR(store_.Write([&](store::WriteTx& tx) -> Status {
    local = PassStats();
    for (const auto& [job, why] : jobs)
      FASTGPU_RETURN_IF_ERROR(RequeueJob(tx, job, why, now, local));
    return OkStatus();
  }));
  stats.requeued += local.requeued;
  stats.failed += local.failed;
  return OkStatus();
}

Status Reconciler::AdvanceJobs(PassStats& stats, const std::set<std::string>* only_jobs) {
  if (only_jobs != nullptr && only_jobs->empty()) return OkStatus();
  std::vector<std::string> candidates;
  FASTGPU_RETURN_IF_ERROR(store_.Read([&](store::ReadTx& tx) -> Status {
    if (only_jobs != nullptr) {
      for (const std::string& id : *only_jobs) {
        Result<model::Job> j = tx.GetJob(id);
        if (!j.ok() && j.status().code() == StatusCode::kNotFound) continue;
        FASTGPU_RETURN_IF_ERROR(j.status());
        if (j->state != model::JobState::kScheduled && j->state != model::JobState::kRunning)
          continue;
        FASTGPU_ASSIGN_OR_RETURN(auto allocs, tx.ListAllocationsByJob(id));
        if (Decide(*j, allocs).has_value()) candidates.push_back(id);
      }
      return OkStatus();
    }
    store::JobFilter f;
    f.states = {model::JobState::kScheduled, model::JobState::kRunning};
    f.limit = 1000;
    do {
      FASTGPU_ASSIGN_OR_RETURN(store::JobPage page, tx.ListJobs(f));
      for (const model::Job& j : page.jobs) {
        FASTGPU_ASSIGN_OR_RETURN(auto allocs, tx.ListAllocationsByJob(j.id));
        if (Decide(j, allocs).has_value()) candidates.push_back(j.id);
      }
      f.cursor = page.next_cursor;
    } while (!f.cursor.empty());
    return OkStatus();
  }));
  if (candidates.empty()) return OkStatus();
  const TimePoint now = clock_.Now();
  PassStats local;
  FASTGPU_RETURN_IF_ERROR(store_.Write([&](store::WriteTx& tx) -> Status {
    local = PassStats();
    for (const std::string& id : candidates) {
      FASTGPU_ASSIGN_OR_RETURN(model::Job job, tx.GetJob(id));
      if (job.state != model::JobState::kScheduled && job.state != model::JobState::kRunning)
        continue;
      FASTGPU_ASSIGN_OR_RETURN(auto allocs, tx.ListAllocationsByJob(id));
      std::optional<Decision> d = Decide(job, allocs);
      if (!d) continue;
      FASTGPU_RETURN_IF_ERROR(ApplyDecision(tx, job, allocs, *d, now, local));
    }
    return OkStatus();
  }));
  stats.requeued += local.requeued;
  stats.running += local.running;
  stats.succeeded += local.succeeded;
  stats.failed += local.failed;
  return OkStatus();
}

Status Reconciler::CollectGarbage(bool full) {
  if (full && feed_seq_ > 0) {
    // The feed up to what a pass has fully handled is not needed any more.
    FASTGPU_RETURN_IF_ERROR(store_.Write(
        [&](store::WriteTx& tx) -> Status { return tx.DeleteChangesBefore(feed_seq_).status(); }));
  }
  const TimePoint now = clock_.Now();
  if (now - last_gc_ < std::chrono::minutes(10)) return OkStatus();
  last_gc_ = now;
  return store_.Write([&](store::WriteTx& tx) -> Status {
    return tx.DeleteIdempotencyBefore(now - kIdempotencyTtl).status();
  });
}

void Reconciler::Resync() {
  {
    std::lock_guard lock(pass_mu_);
    synced_ = false;
    refused_.clear();  // others may have written anything meanwhile: every job is retried
    listed_valid_ = false;
  }
  leases_.Restart(clock_.Now());
  // Nodes another leader asked of the pool's providers are adopted at the next step.
  if (options_.pool != nullptr) options_.pool->Resync();
}

void Reconciler::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      poked_ = false;
      lock.unlock();
      const MonoTime began = clock_.MonotonicNow();
      RunPassLogged();
      lock.lock();
      // Poked while the pass ran (a stream of submissions): pause before the next, so that
      // passes and pauses alternate and a pass places what arrived meanwhile. A poke after
      // a quiet pass (one job at a time) starts the next pass at once.
      const MonoTime passed = clock_.MonotonicNow();
      if (poked_) {
        const auto gap = std::clamp<MonoTime::duration>(passed - began, kMinGap, kMaxGap);
        clock_.WaitUntil(lock, cv_, passed + gap, [this] { return stopping_; });
      }
      clock_.WaitUntil(lock, cv_, passed + options_.interval,
                       [this] { return stopping_ || poked_; });
    }
  });
}

void Reconciler::RunPassLogged() {
  try {
    auto r = RunOnce();
    if (!r.ok()) spdlog::warn("reconciler: pass failed: {}", r.status().ToString());
  } catch (const std::exception& e) {
    // A bug or a library's exception: the loop must go on (the next pass starts over).
    const TimePoint now = clock_.Now();
    if (now - last_exception_log_ < kExceptionLogEvery) {
      ++exceptions_unlogged_;
      return;
    }
    spdlog::error("reconciler: pass threw: {} ({} more since the last report)", e.what(),
                  exceptions_unlogged_);
    last_exception_log_ = now;
    exceptions_unlogged_ = 0;
  }
}

void Reconciler::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Reconciler::Poke() {
  {
    std::lock_guard lock(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

Status Reconciler::StepPool() {
  std::vector<model::Job> pending;
  store::JobFilter filter;
  filter.states = {model::JobState::kPending};
  filter.limit = 1000;
  while (static_cast<int>(pending.size()) < options_.max_pending_per_pass) {
    store::JobPage page;
    FASTGPU_RETURN_IF_ERROR(store_.Read([&](store::ReadTx& tx) -> Status {
      FASTGPU_ASSIGN_OR_RETURN(page, tx.ListJobs(filter));
      return OkStatus();
    }));
    for (auto& job : page.jobs) pending.push_back(std::move(job));
    if (page.next_cursor.empty()) break;
    filter.cursor = page.next_cursor;
  }
  return options_.pool->Step(store_, pending).status();
}

}  // namespace fastgpu::server

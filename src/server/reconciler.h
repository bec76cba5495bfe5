// Reconciler: the control plane's level-triggered control loop.
//
// Each pass compares what the store wants (jobs) with what is (nodes, allocations,
// agent reports) and acts on the difference, in this order:
//   1. node leases: a ready or draining node silent for longer than node_timeout is
//      marked lost; the jobs of its live allocations are requeued (or failed when no
//      retry is left), except a job whose replicas already reported how it ended: it
//      ends as reported (a node's loss never hides a reported exit). Silence is judged
//      on the heartbeats the server received (NodeLeases, in memory), not on those it
//      could store, and every node has a full lease from the reconciler's creation on
//      (the control plane's own downtime is not the node's silence);
//   2. GPU health: a live allocation on a GPU now unhealthy, or on a GPU its node no
//      longer reports, is requeued the same way;
//   3. job progress from agent reports: every replica running -> running; every
//      replica exited 0 -> succeeded; any replica failed or exited non-zero -> failed
//      (its other replicas are released, so their agents stop them);
//   4. placement: pending jobs, oldest first, are placed as gangs by one long-lived
//      sched::Engine (cluster view, policy and the workload learned from every submitted
//      shape, the stored jobs' shapes learned at the first pass), brought up to date with
//      the ready nodes and live allocations each pass (nothing rebuilt); the allocations
//      and the job's move to scheduled are written in one transaction. With a batch
//      placer (ReconcilerOptions::policy "ilp-batch") the pending jobs are taken in
//      windows of batch_size, each placed by the engine's batch entry in one call
//      (Engine::PlaceBatch); what is placed is booked and written the same way.
//      A live allocation always holds its resources in that view, even on a node that
//      now reports less (node_usage.h): such a node is over-committed and gets no new
//      work until it has room; the pending jobs' reasons name it. A job left waiting gets
//      a reason from the scheduler's feasibility diagnostics (feasibility.h): never fits in
//      this pool, waiting for unavailable capacity (naming drained, lost or over-committed
//      nodes and unhealthy GPUs), or waiting for capacity (saying what holds it).
//      With an online policy a job the engine refused is not asked of it again, nor given a
//      new reason, until sched::Engine::freed_epoch() moves or the job is placed and sent
//      back; a pass after which nothing was freed reads only the jobs the feed names.
//   5. services, after job progress and before placement: the autoscaler sets each
//      service's count from its load (autoscale_pass.h, when given), then (service_pass.h)
//      replicas
//      that ended are replaced (with a back-off when they crash), extras cancelled,
//      updates rolled one replica at a time.
//   Allocations released while live are marked "stopped by the control plane (<why>)"
//   (allocation_end.h).
// Start() runs passes on a thread of its own; nothing a pass throws ends that thread (it
// is logged, at most once per 10 s, and the next pass starts over).
// Time comes only from the Clock, so tests drive it with a ManualClock and RunOnce().
// Start() runs passes every `interval`, sooner after Poke(): at once, or, when the poke
// came while a pass ran, after a pause as long as that pass took (1 to 50 ms);
// those waits are waits on the Clock, so on a ManualClock the thread runs its next pass
// only when the test advances the clock.
//
// Borrows the store, clock, ids and metrics (they must outlive it). Thread-safe:
// RunOnce, Poke, Start and Stop may be called from any thread (passes never overlap).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "scheduler/batch_placer.h"
#include "scheduler/engine.h"
#include "scheduler/policy.h"
#include "server/metrics.h"
#include "server/node_leases.h"
#include "server/placement_pass.h"
#include "server/pool.h"
#include "server/pool_metrics.h"
#include "server/autoscale_pass.h"
#include "server/service_pass.h"
#include "store/store.h"

namespace fastgpu::server {

struct ReconcilerOptions {
  // Placement policy (sched::PolicyNames) or batch placer (placer::BatchPlacerNames) name.
  std::string policy = std::string(sched::kDefaultPolicy);
  int batch_size = 64;                  // batch placers: pending jobs per window; default 64
  double batch_time_limit_seconds = 1;  // batch placers: solver time per window; default 1 s
  std::chrono::milliseconds node_timeout{15000};  // default 15 s without heartbeat: lost
  std::chrono::milliseconds interval{500};        // default: a pass every 0.5 s (thread)
  int max_pending_per_pass = 2000;                // pending jobs considered per pass
  // Over budget this long, a tenant's work is stopped (see usage_budget.h); default 10 min.
  std::chrono::milliseconds budget_grace{std::chrono::minutes(10)};
  // A pass reads only what the store's change feed says changed since the previous pass;
  // every this long (and at the first pass) it reads everything instead. Default 30 s.
  std::chrono::milliseconds full_pass_interval{std::chrono::seconds(30)};
  // Borrowed, default null: the node pool stepped after each pass's placement with the
  // jobs still pending (pool.h); its errors are logged and do not fail the pass.
  NodePool* pool = nullptr;
  // The service pass (service_pass.h): crash window, back-off, readiness. Defaults there.
  ServicePassOptions services;
  // Borrowed, default null (no autoscaling): sizes the services from their load just
  // before the service pass (autoscale_pass.h); its errors fail the pass like the service
  // pass's.
  AutoscalePass* autoscale = nullptr;
};

// What one pass did.
struct PassStats {
  int nodes_lost = 0;
  int requeued = 0;  // jobs sent back to pending
  int failed = 0;    // jobs failed (replica failure, or no retry left)
  int succeeded = 0;
  int running = 0;      // jobs that became running
  int placed = 0;       // jobs placed
  int unplaceable = 0;  // pending jobs that fit nowhere now (retried or not)
  // Of those, pending jobs not asked of the engine again: refused before, and nothing that
  // could make them fit happened since (sched::Engine::freed_epoch did not move).
  int not_retried = 0;
  bool full = false;  // the pass read everything (not only what changed)
  int changes = 0;    // change-feed entries the pass read
  ServicePassStats services;  // what the service pass did
  AutoscaleStats autoscale;   // what the autoscaler did
};

class Reconciler {
 public:
  // NotFound (listing every online policy and batch placer) when the policy name is
  // unknown; InvalidArgument for a batch size below 1 or a time limit not above 0.
  static Result<std::unique_ptr<Reconciler>> Create(store::Store& store, Clock& clock,
                                                    IdGenerator& ids, Metrics& metrics,
                                                    ReconcilerOptions options);
  ~Reconciler();

  // One pass (see the file comment). Errors of the store end the pass early and are
  // returned; the next pass starts over (every step is level-triggered).
  Result<PassStats> RunOnce();

  // Runs passes on a background thread until Stop(). Idempotent.
  void Start();
  void Stop();
  // Asks the background thread for a pass soon (after a submission or a report).
  void Poke();
  // Makes the next pass read everything again and gives every node a full lease from now
  // (a replica that has just become the leader: others changed the store meanwhile).
  void Resync();

  // Passes begun so far (RunOnce calls, the background thread's and others').
  int64_t passes() const { return passes_.load(); }

  // The in-memory leases the passes judge nodes on; the heartbeat handler renews them.
  NodeLeases& leases() { return leases_; }

 private:
  Reconciler(store::Store& store, Clock& clock, IdGenerator& ids, Metrics& metrics,
             ReconcilerOptions options, std::unique_ptr<sched::Engine> engine,
             std::unique_ptr<sched::BatchPlacer> batch_placer);
  // What the change feed says changed since the previous pass, read in one transaction.
  struct Changes {
    MonoTime started{};           // when it was read
    int64_t seq_after = 0;        // the feed's seq this read reached
    bool full = false;            // read everything instead
    bool all_pending = false;     // full, and the feed did not say which jobs were written
    int entries = 0;              // feed entries read
    std::set<std::string> jobs;   // jobs written, and jobs whose allocations were
    std::set<std::string> nodes;  // nodes written
    std::vector<store::AllocationRecord> allocs;  // allocations written, as they are now
    std::vector<ChangedNode> changed_nodes;       // nodes written, with their allocations
  };
  Status ReadChanges(int64_t since, bool allow_full, Changes& changes);
  Status ExpireLeases(PassStats& stats);
  Status RequeueUnhealthy(PassStats& stats, const std::set<std::string>* only_nodes);
  Status AdvanceJobs(PassStats& stats, const std::set<std::string>* only_jobs);
  Status PlacePending(PassStats& stats, const Changes& changes);
  // Fills listed_ (the window, then the late jobs) and window_end_ / window_full_.
  Status LoadPending(const std::set<std::string>& changed, bool all);
  // Brings listed_ up to date with the jobs written since the previous pass (`changed`, read
  // by id) instead of listing every pending job again: false when only LoadPending gives
  // what it would (see the definition).
  Result<bool> UpdatePending(const std::set<std::string>& changed);
  // Places pending[begin, begin + batch_size) with batch_placer_ (one engine call); one
  // entry per job of the window.
  std::vector<Result<std::vector<sched::NodePlacement>>> PlaceWindow(
      const std::vector<model::Job>& pending, size_t begin);
  Status LoadWorkloadHistory();
  Result<int> WritePlans(const std::vector<PlacementPlan>& plans, TimePoint now,
                         std::vector<const PlacementPlan*>& skipped);
  Status WriteReasons(const std::map<std::string, std::string>& waiting);
  Status CollectGarbage(bool full);
  // Steps options_.pool with the oldest pending jobs (at most max_pending_per_pass).
  Status StepPool();
  // The background thread's loop body: one pass, its failure or exception logged.
  void RunPassLogged();

  store::Store& store_;
  Clock& clock_;
  IdGenerator& ids_;
  Metrics& metrics_;
  const ReconcilerOptions options_;
  std::mutex pass_mu_;  // one pass at a time
  // Guarded by pass_mu_: the placement engine (cluster view, policy, learned workload),
  // kept from pass to pass and brought up to date by each placing pass.
  std::unique_ptr<sched::Engine> engine_;
  // Guarded by pass_mu_: the batch placer the engine places windows with; null with an
  // online policy.
  std::unique_ptr<sched::BatchPlacer> batch_placer_;
  int64_t placer_target_version_ = 0;         // the engine's target_version() it last got
  bool history_loaded_ = false;               // the engine learned the stored jobs' shapes
  std::unordered_set<std::string> observed_;  // pending jobs whose shape the engine learned
  // Pending jobs the engine refused (online policy only), each with the engine's
  // freed_epoch() and the job's attempts then: not retried, and their reasons kept, until
  // the epoch moves or the job was placed meanwhile. At most the jobs of the latest placing
  // pass; emptied by Resync, a failed pass and a pass that cannot tell which jobs were
  // written.
  struct Refusal {
    uint64_t epoch = 0;
    int attempts = 0;
  };
  std::unordered_map<std::string, Refusal> refused_;
  // Guarded by pass_mu_: the pending jobs of the latest placing pass, kept for the next
  // (online policy only): listed_[0, window_end_) are the oldest pending jobs in the store's
  // order (all of them unless window_full_), then later ones by creation. A pass whose
  // feed is complete and after which nothing was freed (freed_epoch() still listed_epoch_)
  // reads only the jobs written since; others list them again (LoadPending).
  std::vector<model::Job> listed_;
  size_t window_end_ = 0;
  bool window_full_ = false;  // more pending jobs than the window holds
  bool listed_valid_ = false;
  uint64_t listed_epoch_ = 0;
  // Guarded by pass_mu_: the change feed read up to here; the nodes as of then
  // (registration order) and where each is in `nodes_`; the over-committed ones.
  int64_t feed_seq_ = 0;
  bool synced_ = false;  // a full pass has run
  MonoTime last_full_{};
  std::vector<store::NodeRecord> nodes_;
  std::unordered_map<std::string, size_t> node_pos_;
  Overcommitted overcommitted_;
  PoolObserver pool_observer_;  // guarded by pass_mu_: the pool gauges of /metrics
  ServicePass services_;        // guarded by pass_mu_: keeps the services' replicas
  TimePoint last_gc_{};
  TimePoint budget_checked_{};  // last budget enforcement (usage_budget.h)
  NodeLeases leases_;
  TimePoint last_exception_log_{};  // RunPassLogged's rate limit (background thread only)
  int exceptions_unlogged_ = 0;

  std::atomic<int64_t> passes_{0};

  std::mutex mu_;
  std::condition_variable_any cv_;  // waited on through clock_
  bool poked_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace fastgpu::server

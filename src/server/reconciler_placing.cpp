// The reconciler's placing step: which pending jobs a pass looks at, what the engine
// learns of their shapes, their placement (online or in batch windows), and the writes of
// placements and waiting reasons. See reconciler.h.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "scheduler/feasibility.h"
#include "server/placement_pass.h"
#include "server/reconciler.h"

namespace fastgpu::server {

namespace {

// Most jobs placed (or given a new waiting reason) per write transaction.
constexpr size_t kWriteChunk = 128;

// What a waiting job's reason depends on besides the pool: its shape and replicas.
std::string WaitKey(const sched::Request& r) {
  const model::Shape& s = r.shape;
  std::string key = std::to_string(r.replicas) + "/" + std::to_string(s.gpu_count) + "/" +
                    std::to_string(s.gpu_milli) + "/" + std::to_string(s.gpu_memory_mib) + "/" +
                    std::to_string(s.cpu_milli) + "/" + std::to_string(s.memory_mib) + "/" +
                    std::string(model::IsolationName(s.isolation));
  for (const std::string& m : s.gpu_models) key += "/" + m;
  return key;
}

// What the first GPU that reports a vm reason says, as "; node-1 GPU 0: the host has no
// IOMMU ..." ("" when none does): why a vm job waits, in the node's words.
std::string VmReasonNote(const std::vector<store::NodeRecord>& nodes) {
  for (const store::NodeRecord& n : nodes) {
    for (const model::Gpu& g : n.node.gpus) {
      if (!g.vm.reason.empty()) {
        return "; " + n.node.id + " GPU " + std::to_string(g.index) + ": " + g.vm.reason;
      }
    }
  }
  return "";
}

}  // namespace

// The pending jobs of this pass: at most max_pending_per_pass, oldest first, then the
// pending jobs beyond that window that `changed` names (submitted or sent back since the
// previous pass), oldest first: every new job is looked at by the pass after it arrives,
// however long the queue. With `all` (the feed cannot name them), every pending job.
Status Reconciler::LoadPending(const std::set<std::string>& changed, bool all) {
  std::vector<model::Job>& pending = listed_;
  return store_.Read([&](store::ReadTx& tx) -> Status {
    pending.clear();
    window_end_ = 0;
    window_full_ = false;
    store::JobFilter f;
    f.states = {model::JobState::kPending};
    f.limit = std::min(1000, options_.max_pending_per_pass);
    bool more = false;
    do {
      FASTGPU_ASSIGN_OR_RETURN(store::JobPage page, tx.ListJobs(f));
      for (model::Job& j : page.jobs) pending.push_back(std::move(j));
      f.cursor = page.next_cursor;
      more = !f.cursor.empty();
    } while (more && (all || static_cast<int>(pending.size()) < options_.max_pending_per_pass));
    window_end_ = pending.size();
    window_full_ = more;
    if (!more) return OkStatus();
    // The changed jobs not in the window (a few), found without copying the window's ids.
    std::unordered_set<std::string_view> outside(changed.begin(), changed.end());
    for (const model::Job& j : pending) {
      if (outside.empty()) break;
      outside.erase(j.id);
    }
    std::vector<model::Job> late;
    for (const std::string& id : changed) {
      if (!outside.contains(id)) continue;
      Result<model::Job> job = tx.GetJob(id);
      if (!job.ok() && job.status().code() == StatusCode::kNotFound) continue;
      FASTGPU_RETURN_IF_ERROR(job.status());
      if (job->state == model::JobState::kPending) late.push_back(std::move(*job));
    }
    std::stable_sort(late.begin(), late.end(), [](const model::Job& a, const model::Job& b) {
      return a.created_at < b.created_at;
    });
    for (model::Job& j : late) pending.push_back(std::move(j));
    return OkStatus();
  });
}

// The list LoadPending would give, from the previous one and the jobs written since: a job
// written is read again (in its place, or gone when no longer pending); a new one goes last
// (the window's end when the window holds every pending job, else among the late jobs by
// creation, as LoadPending orders them). Jobs listed beyond the window that were not
// written since stay listed (LoadPending would leave them out): each was refused since
// nothing was freed, so the pass does not retry them either. False, for LoadPending
// instead, when that cannot be known: a job of a full window left pending (the window
// moves on to jobs not listed), a job sent back to pending (its place is among the old
// ones), several new jobs while the window holds every pending job (their order is the
// store's), or a list grown past the window by more than max_pending_per_pass late jobs.
Result<bool> Reconciler::UpdatePending(const std::set<std::string>& changed) {
  std::vector<std::pair<const std::string*, std::optional<model::Job>>> now;  // pending, or not
  FASTGPU_RETURN_IF_ERROR(store_.Read([&](store::ReadTx& tx) -> Status {
    now.clear();
    for (const std::string& id : changed) {
      Result<model::Job> job = tx.GetJob(id);
      if (!job.ok() && job.status().code() == StatusCode::kNotFound) {
        now.emplace_back(&id, std::nullopt);
        continue;
      }
      FASTGPU_RETURN_IF_ERROR(job.status());
      if (job->state == model::JobState::kPending) {
        now.emplace_back(&id, std::move(*job));
      } else {
        now.emplace_back(&id, std::nullopt);
      }
    }
    return OkStatus();
  }));
  // Where the written jobs are listed (keys view `changed`, which outlives this).
  std::unordered_map<std::string_view, size_t> at;
  {
    std::unordered_set<std::string_view> wanted(changed.begin(), changed.end());
    for (size_t i = 0; i < listed_.size() && at.size() < wanted.size(); ++i) {
      auto it = wanted.find(listed_[i].id);
      if (it != wanted.end()) at.emplace(*it, i);
    }
  }
  std::vector<size_t> gone;
  std::vector<model::Job*> fresh;
  for (auto& [id, job] : now) {
    auto it = at.find(*id);
    if (it == at.end()) {
      if (!job) continue;
      if (job->attempts > 0) return false;  // sent back: among the old ones
      fresh.push_back(&*job);
      continue;
    }
    if (job) continue;  // replaced below, once every check passed
    if (window_full_ && it->second < window_end_) return false;
    gone.push_back(it->second);
  }
  const size_t max = static_cast<size_t>(options_.max_pending_per_pass);
  if (!window_full_ && (fresh.size() > 1 || listed_.size() + fresh.size() >= max)) return false;
  if (window_full_ && listed_.size() - window_end_ + fresh.size() > max) return false;
  for (auto& [id, job] : now) {
    auto it = at.find(*id);
    if (it != at.end() && job) listed_[it->second] = std::move(*job);
  }
  std::sort(gone.begin(), gone.end(), std::greater<>());
  for (size_t pos : gone) {
    if (pos < window_end_) --window_end_;
    listed_.erase(listed_.begin() + static_cast<std::ptrdiff_t>(pos));
  }
  for (model::Job* job : fresh) listed_.push_back(std::move(*job));
  if (!window_full_) {
    window_end_ = listed_.size();  // the window holds every pending job
  } else if (!fresh.empty()) {
    // By creation, ties by id: how LoadPending orders the late jobs it reads by id.
    std::stable_sort(listed_.begin() + static_cast<std::ptrdiff_t>(window_end_), listed_.end(),
                     [](const model::Job& a, const model::Job& b) {
                       return a.created_at != b.created_at ? a.created_at < b.created_at
                                                           : a.id < b.id;
                     });
  }
  return true;
}

// The engine learns the shapes of the stored jobs, oldest first (the last of them stay in
// its window), so a restarted control plane places against the workload it had learned.
// Pending jobs never scheduled are learned here and not again when a pass meets them.
Status Reconciler::LoadWorkloadHistory() {
  if (history_loaded_) return OkStatus();
  std::vector<std::pair<std::string, model::Shape>> shapes;  // (pending job id or "", shape)
  FASTGPU_RETURN_IF_ERROR(store_.Read([&](store::ReadTx& tx) -> Status {
    shapes.clear();
    store::JobFilter f;
    f.limit = 1000;
    do {
      FASTGPU_ASSIGN_OR_RETURN(store::JobPage page, tx.ListJobs(f));
      for (const model::Job& j : page.jobs) {
        const bool fresh = j.state == model::JobState::kPending && j.attempts == 0;
        shapes.emplace_back(fresh ? j.id : "", j.spec.shape);
      }
      f.cursor = page.next_cursor;
    } while (!f.cursor.empty());
    return OkStatus();
  }));
  const size_t window = static_cast<size_t>(engine_->workload().capacity());
  for (size_t i = shapes.size() > window ? shapes.size() - window : 0; i < shapes.size(); ++i) {
    engine_->Observe(shapes[i].second);
  }
  for (const auto& [id, shape] : shapes) {
    if (!id.empty()) observed_.insert(id);
  }
  history_loaded_ = true;
  if (!shapes.empty()) {
    spdlog::info("reconciler: learned the workload from {} stored job(s)",
                 std::min(shapes.size(), window));
  }
  return OkStatus();
}

Status Reconciler::PlacePending(PassStats& stats, const Changes& changes) {
  // What this pass's own steps (and the API meanwhile) wrote: the engine sees capacity
  // they freed. The next pass reads these entries again (harmless: syncing is idempotent).
  Changes since;
  FASTGPU_RETURN_IF_ERROR(ReadChanges(changes.seq_after, /*allow_full=*/false, since));
  // Nothing changed since the previous pass: the pending jobs would meet the same pool.
  if (!changes.full && changes.entries == 0 && since.entries == 0) {
    pool_observer_.ObserveIdle(*engine_, nodes_, clock_.Now());
    return OkStatus();
  }
  std::set<std::string> changed_jobs = changes.jobs;
  changed_jobs.insert(since.jobs.begin(), since.jobs.end());
  if (changes.all_pending) refused_.clear();  // the feed cannot say which jobs were written
  // The previous pass's list brought up to date, where nothing was freed since (a pass
  // after a release lists the pending jobs again: it retries them anyway).
  bool updated = false;
  if (!batch_placer_ && listed_valid_ && !changes.full && engine_->freed_epoch() == listed_epoch_) {
    listed_valid_ = false;  // until it is up to date
    FASTGPU_ASSIGN_OR_RETURN(updated, UpdatePending(changed_jobs));
  }
  listed_valid_ = false;
  if (!updated) FASTGPU_RETURN_IF_ERROR(LoadPending(changed_jobs, changes.all_pending));
  listed_valid_ = !batch_placer_;
  const std::vector<model::Job>& pending = listed_;
  FASTGPU_RETURN_IF_ERROR(LoadWorkloadHistory());  // also what the pool metrics measure against
  FASTGPU_RETURN_IF_ERROR(pool_observer_.ObservePending(store_, pending, clock_.Now()));
  if (pending.empty()) {
    pool_observer_.ObserveIdle(*engine_, nodes_, clock_.Now());
    listed_epoch_ = engine_->freed_epoch();
    return OkStatus();
  }
  if (static_cast<int>(pending.size()) < options_.max_pending_per_pass) {
    // Every pending job is in this pass: forget the learned ids of jobs that left pending.
    std::unordered_set<std::string> still;
    for (const model::Job& job : pending) {
      if (observed_.contains(job.id)) still.insert(job.id);
    }
    observed_ = std::move(still);
  }

  const std::vector<store::NodeRecord>& nodes = nodes_;
  const std::vector<const store::NodeRecord*> record_of = RecordsByIndex(*engine_, nodes);
  const std::string overcommit_note = OvercommitNote(nodes, overcommitted_);
  // The pool as feasibility diagnostics see it, for the reason of each job left waiting
  // (built when the first job waits); its free amounts follow this pass's placements.
  std::vector<sched::PoolNode> pool;
  bool pool_built = false;
  int placed_this_pass = 0, pool_fresh_at = -1;  // pool's free amounts as of this count

  std::vector<PlacementPlan> plans;
  std::map<std::string, std::string> waiting;  // job id -> why it is not placed
  // Reasons by WaitKey, with the placement count they were found at.
  std::unordered_map<std::string, std::pair<int, std::string>> reasons;
  const TimePoint now = clock_.Now();
  // With a batch placer: the placements of the window pending[window_begin..] (one call).
  std::vector<Result<std::vector<sched::NodePlacement>>> window;
  size_t window_begin = 0;
  for (size_t j = 0; j < pending.size(); ++j) {
    const model::Job& job = pending[j];
    if (batch_placer_ && j % static_cast<size_t>(options_.batch_size) == 0) {
      window = PlaceWindow(pending, j);
      window_begin = j;
      pool_fresh_at = -1;  // the window's placements are applied: reasons see them
      reasons.clear();
    }
    if (job.attempts == 0 && observed_.insert(job.id).second) engine_->Observe(job.spec.shape);
    if (!batch_placer_) {
      // Refused before, at this attempt (its shape never changes; a placement counts one
      // more), and nothing freed since: the engine would refuse it again with the same
      // answer, and its reason stands (writing it does not make the job new).
      auto known = refused_.find(job.id);
      if (known != refused_.end() && known->second.epoch == engine_->freed_epoch() &&
          known->second.attempts == job.attempts) {
        ++stats.unplaceable;
        ++stats.not_retried;
        continue;
      }
    }
    const sched::Request req{job.id, job.spec.shape, job.spec.replicas};
    const model::Isolation iso = job.spec.shape.EffectiveIsolation();
    Result<std::vector<sched::NodePlacement>> placed =
        batch_placer_ ? std::move(window[j - window_begin]) : engine_->Place(req);
    if (!placed.ok()) {
      if (!batch_placer_) refused_[job.id] = {engine_->freed_epoch(), job.attempts};
      if (!pool_built) {
        // Free amounts come from the engine below; the records give totals and states.
        pool = DiagnosisPool(nodes, {}, overcommitted_);
        pool_built = true;
      }
      if (pool_fresh_at != placed_this_pass) {
        for (size_t i = 0; i < pool.size(); ++i) {
          const int index = engine_->NodeIndex(nodes[i].node.id);
          if (index >= 0) sched::SetFreeFrom(engine_->cluster().node(index), pool[i]);
        }
        pool_fresh_at = placed_this_pass;
      }
      // Jobs of one shape meet the same pool until something is placed: one diagnosis.
      const std::string key = WaitKey(req);
      auto known = reasons.find(key);
      if (known == reasons.end() || known->second.first != placed_this_pass) {
        // vm work needs GPUs that offer it (passthrough, a vGPU type that holds the share).
        std::string vm_refusal = engine_->VmRefusal(req.shape);
        if (!vm_refusal.empty()) vm_refusal += VmReasonNote(nodes);
        const sched::Diagnosis d =
            vm_refusal.empty() ? sched::Diagnose(pool, req, placed.status().message())
                               : sched::Diagnosis{sched::Verdict::kNever, vm_refusal};
        std::string text = d.Text();
        if (d.verdict == sched::Verdict::kBusy) text += overcommit_note;
        known =
            reasons.insert_or_assign(key, std::make_pair(placed_this_pass, std::move(text))).first;
      }
      std::string why = known->second.second;
      if (job.reason != why) waiting[job.id] = std::move(why);  // written once, not per pass
      ++stats.unplaceable;
      continue;
    }
    ++placed_this_pass;
    refused_.erase(job.id);
    PlacementPlan plan = PlanAllocations(job, *placed, record_of, iso, now, ids_);
    for (size_t r = 0; r < plan.allocs.size(); ++r) {
      // Booked now; a plan the store skips is released after the write, and a failed write
      // makes the next pass a full one, which releases what the store does not hold.
      engine_->AddAllocation(plan.allocs[r].alloc.id, (*placed)[r], /*already_applied=*/true)
          .IgnoreError();  // fresh ids
    }
    plans.push_back(std::move(plan));
  }
  if (refused_.size() > pending.size()) {
    // Some left pending otherwise (cancelled, or beyond this pass's window): keep only the
    // jobs of this pass, so that the map stays as small as one pass.
    std::unordered_map<std::string, Refusal> kept;
    for (const model::Job& job : pending) {
      if (auto it = refused_.find(job.id); it != refused_.end()) kept.insert(*it);
    }
    refused_ = std::move(kept);
  }
  pool_observer_.ObservePool(*engine_, nodes, pending, now);
  listed_epoch_ = engine_->freed_epoch();
  if (plans.empty() && waiting.empty()) return OkStatus();
  std::vector<const PlacementPlan*> skipped;
  FASTGPU_ASSIGN_OR_RETURN(int placed_count, WritePlans(plans, now, skipped));
  // A job cancelled between its placement and the write holds nothing: its booking goes
  // now, not at the next full pass.
  for (const PlacementPlan* plan : skipped) {
    for (const auto& a : plan->allocs) engine_->ReleaseAllocation(a.alloc.id).IgnoreError();
  }
  listed_epoch_ = engine_->freed_epoch();
  FASTGPU_RETURN_IF_ERROR(WriteReasons(waiting));
  stats.placed += placed_count;
  return OkStatus();
}

// Places pending[begin, begin + batch_size) with the batch placer in one engine call,
// after the engine learned the window's new shapes (the placer measures against the
// workload so learned).
std::vector<Result<std::vector<sched::NodePlacement>>> Reconciler::PlaceWindow(
    const std::vector<model::Job>& pending, size_t begin) {
  const size_t end = std::min(pending.size(), begin + static_cast<size_t>(options_.batch_size));
  std::vector<sched::Request> requests;
  for (size_t j = begin; j < end; ++j) {
    const model::Job& job = pending[j];
    if (job.attempts == 0 && observed_.insert(job.id).second) engine_->Observe(job.spec.shape);
    requests.push_back({job.id, job.spec.shape, job.spec.replicas});
  }
  if (engine_->learning() && engine_->target_version() != placer_target_version_) {
    batch_placer_->SetTargetWorkload(engine_->workload().Target());
    placer_target_version_ = engine_->target_version();
  }
  return engine_->PlaceBatch(requests, *batch_placer_);
}

// Stores the placed jobs' allocations and moves the jobs to scheduled; a job no longer
// pending (cancelled meanwhile) is skipped and its plan added to `skipped`. Returns how
// many were placed.
Result<int> Reconciler::WritePlans(const std::vector<PlacementPlan>& plans, TimePoint now,
                                   std::vector<const PlacementPlan*>& skipped) {
  // Written in chunks: each chunk is consistent on its own (placements were computed
  // against one cluster), and API writes interleave instead of waiting for one big
  // transaction.
  std::vector<double> latencies;
  int placed_count = 0;
  for (size_t begin = 0; begin < plans.size(); begin += kWriteChunk) {
    size_t end = std::min(plans.size(), begin + kWriteChunk);
    std::vector<double> chunk_latencies;
    std::vector<const PlacementPlan*> chunk_skipped;
    FASTGPU_RETURN_IF_ERROR(store_.Write([&](store::WriteTx& tx) -> Status {
      chunk_latencies.clear();
      chunk_skipped.clear();
      for (size_t i = begin; i < end; ++i) {
        const PlacementPlan& plan = plans[i];
        FASTGPU_ASSIGN_OR_RETURN(model::Job job, tx.GetJob(plan.job_id));
        if (job.state != model::JobState::kPending) {  // cancelled meanwhile
          chunk_skipped.push_back(&plan);
          continue;
        }
        FASTGPU_RETURN_IF_ERROR(tx.CreateAllocations(plan.allocs));
        chunk_latencies.push_back(std::chrono::duration<double>(now - PendingSince(job)).count());
        FASTGPU_RETURN_IF_ERROR(
            model::TransitionJob(job, model::JobState::kScheduled, "placed on " + plan.where, now));
        FASTGPU_RETURN_IF_ERROR(tx.UpdateJob(job));
      }
      return OkStatus();
    }));
    placed_count += static_cast<int>(chunk_latencies.size());
    skipped.insert(skipped.end(), chunk_skipped.begin(), chunk_skipped.end());
    latencies.insert(latencies.end(), chunk_latencies.begin(), chunk_latencies.end());
  }
  for (double s : latencies) metrics_.ObserveScheduling(s);
  return placed_count;
}

// Stores why each job left waiting waits (visible in `job get`), where it changed.
Status Reconciler::WriteReasons(const std::map<std::string, std::string>& waiting) {
  const std::vector<std::pair<std::string, std::string>> reasons(waiting.begin(), waiting.end());
  for (size_t begin = 0; begin < reasons.size(); begin += kWriteChunk) {
    size_t end = std::min(reasons.size(), begin + kWriteChunk);
    FASTGPU_RETURN_IF_ERROR(store_.Write([&](store::WriteTx& tx) -> Status {
      for (size_t i = begin; i < end; ++i) {
        // Visible in `job get`; not a transition. A job no longer pending keeps its reason.
        FASTGPU_RETURN_IF_ERROR(tx.SetPendingReason(reasons[i].first, reasons[i].second).status());
      }
      return OkStatus();
    }));
  }
  return OkStatus();
}

}  // namespace fastgpu::server

#include "server/service_pass.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

#include "server/allocation_end.h"
#include "server/usage_service.h"

namespace fastgpu::server {

namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

// "2s", "1m30s" for people.
std::string Seconds(milliseconds d) {
  const int64_t s = std::max<int64_t>(0, (d.count() + 999) / 1000);
  if (s < 60) return std::to_string(s) + "s";
  return std::to_string(s / 60) + "m" + (s % 60 ? std::to_string(s % 60) + "s" : "");
}

// When the job last entered running; nullopt when it never ran.
std::optional<TimePoint> RunningSince(const model::Job& job) {
  for (auto it = job.events.rbegin(); it != job.events.rend(); ++it) {
    if (it->to == model::JobState::kRunning) return it->at;
  }
  return std::nullopt;
}

// How an ended replica job ended, when it counts as a crash (it ended, not by a person's
// cancel, within `window` of starting, or before it ever ran): "replica exited 1 within 2s".
// "" when it is no crash.
std::string CrashText(const model::Job& job, const std::vector<store::AllocationRecord>& allocs,
                      milliseconds window) {
  if (job.state == model::JobState::kCancelled) return "";
  const store::AllocationRecord* last = allocs.empty() ? nullptr : &allocs.back();
  if (last == nullptr || last->started_at_ms == 0) {
    return "replica failed before it ran (" + job.reason + ")";
  }
  const int64_t end_ms = last->ended_at_ms > 0 ? last->ended_at_ms : ToUnixMillis(job.updated_at);
  const milliseconds ran(std::max<int64_t>(0, end_ms - last->started_at_ms));
  if (ran >= window) return "";
  std::string how;
  if (last->signal != 0) {
    how = "was killed by signal " + std::to_string(last->signal);
  } else if (last->state == store::AllocationState::kExited ||
             last->state == store::AllocationState::kFailed ||
             (last->state == store::AllocationState::kReleased && last->exit_code != 0)) {
    how = "exited " + std::to_string(last->exit_code);
  } else {
    how = "ended (" + job.reason + ")";
  }
  return "replica " + how + " within " + Seconds(ran);
}

}  // namespace

Status CancelReplicaJob(store::WriteTx& tx, model::Job& job, const std::string& reason,
                        TimePoint now) {
  if (model::IsTerminal(job.state)) return OkStatus();
  FASTGPU_RETURN_IF_ERROR(model::TransitionJob(job, model::JobState::kCancelled, reason, now));
  FASTGPU_RETURN_IF_ERROR(tx.UpdateJob(job));
  FASTGPU_ASSIGN_OR_RETURN(auto allocs, tx.ListAllocationsByJob(job.id));
  for (const auto& a : allocs) {
    if (a.state != store::AllocationState::kReleased) {
      FASTGPU_RETURN_IF_ERROR(tx.UpdateAllocation(a.alloc.id, ReleaseUpdate(a, now, reason)).status());
    }
  }
  return OkStatus();
}

Result<ScaleOutcome> SetServiceReplicas(store::WriteTx& tx, const std::string& service_id,
                                        int replicas, const std::string& reason, TimePoint now) {
  if (replicas < 0) return InvalidArgument("replicas: must not be negative");
  FASTGPU_ASSIGN_OR_RETURN(model::Service svc, tx.GetService(service_id));
  ScaleOutcome out;
  out.requested = replicas;
  const int clamped = model::ClampReplicas(svc.spec, replicas);
  out.clamped = clamped != replicas;
  if (out.clamped) {
    out.note = clamped > replicas ? "clamped to min_replicas " + std::to_string(clamped)
                                  : "clamped to max_replicas " + std::to_string(clamped);
  }
  if (clamped != svc.replicas) {
    svc.replicas = clamped;
    svc.reason = reason + ": " + std::to_string(clamped) + " replica" + (clamped == 1 ? "" : "s") +
                 " wanted" + (out.clamped ? " (" + out.note + ")" : "");
    svc.updated_at = now;
    FASTGPU_RETURN_IF_ERROR(tx.UpdateService(svc));
  }
  out.service = std::move(svc);
  return out;
}

struct ServicePass::Plan {
  model::Service service;    // as it is to be stored
  bool write = false;        // something is to be written
  Backoff backoff;           // the back-off after this plan
  ServicePassStats stats;    // what it did (submitted, cancelled, ended, crashes)
};

ServicePass::ServicePass(store::Store& store, Clock& clock, IdGenerator& ids,
                         ServicePassOptions options)
    : store_(store), clock_(clock), ids_(ids), options_(std::move(options)) {}

bool ServicePass::Ready(const model::Job& job) const {
  if (options_.is_ready) return options_.is_ready(job);
  return job.state == model::JobState::kRunning;
}

Status ServicePass::PlanService(store::ReadTx& tx, store::WriteTx* write,
                                const std::string& service_id, Plan& plan) {
  plan = Plan{};
  FASTGPU_ASSIGN_OR_RETURN(model::Service svc, tx.GetService(service_id));
  const model::Service before = svc;
  const TimePoint now = clock_.Now();
  Backoff b;
  if (auto it = backoff_.find(service_id); it != backoff_.end()) b = it->second;
  if (b.generation != svc.generation) b = Backoff{svc.generation};

  // 1. Replicas that ended leave the list; a quick end is a crash and moves the back-off.
  std::vector<model::Job> kept;
  for (const std::string& job_id : svc.replica_jobs) {
    Result<model::Job> job = tx.GetJob(job_id);
    if (!job.ok() && job.status().code() != StatusCode::kNotFound) return job.status();
    if (job.ok() && !model::IsTerminal(job->state)) {
      kept.push_back(std::move(*job));
      continue;
    }
    ++plan.stats.ended;
    if (!job.ok()) continue;
    FASTGPU_ASSIGN_OR_RETURN(auto allocs, tx.ListAllocationsByJob(job_id));
    const std::string crash = CrashText(*job, allocs, options_.crash_window);
    if (crash.empty()) {
      if (job->state != model::JobState::kCancelled) b.crashes = 0;  // it ran a good while
      continue;
    }
    ++plan.stats.crashes;
    ++b.crashes;
    milliseconds delay = options_.backoff_initial;
    for (int i = 1; i < b.crashes && delay < options_.backoff_max; ++i) delay *= 2;
    delay = std::min(delay, options_.backoff_max);
    b.not_before = now + delay;
    b.reason = "crash loop: " + crash + "; next start in " + Seconds(delay);
  }
  const bool backing_off = now < b.not_before;

  // 2. What to start and what to stop.
  const int wanted = svc.replicas;
  const auto is_old = [&](const model::Job& j) {
    return j.spec.service_generation < svc.generation;
  };
  std::vector<std::pair<size_t, std::string>> cancel;  // index into kept, why
  std::vector<bool> cancelled(kept.size(), false);
  const auto cancel_one = [&](bool old_ones, bool newest_first, const std::string& why) {
    for (size_t n = 0; n < kept.size(); ++n) {
      const size_t i = newest_first ? kept.size() - 1 - n : n;
      if (cancelled[i] || is_old(kept[i]) != old_ones) continue;
      cancelled[i] = true;
      cancel.emplace_back(i, why);
      return true;
    }
    return false;
  };
  const auto live = [&] {
    return static_cast<int>(std::count(cancelled.begin(), cancelled.end(), false));
  };
  const auto count_if = [&](auto pred) {
    int n = 0;
    for (size_t i = 0; i < kept.size(); ++i) n += !cancelled[i] && pred(kept[i]);
    return n;
  };
  const std::string prefix = "service " + svc.spec.name + ": ";
  int submit = 0;
  const int old_count = count_if(is_old);
  if (old_count == 0) {
    while (live() > wanted) cancel_one(false, true, prefix + "scaled down");
    if (live() < wanted && !backing_off) submit = wanted - live();
  } else {
    // Rolling: at most one replica above `wanted` (the new one starting), the old ones
    // stopped one at a time once every new one is ready.
    while (live() > wanted + 1) {
      if (!cancel_one(true, false, prefix + "scaled down during an update") &&
          !cancel_one(false, true, prefix + "scaled down during an update")) {
        break;
      }
    }
    const bool new_ready =
        count_if([&](const model::Job& j) { return !is_old(j) && !Ready(j); }) == 0;
    if (live() < wanted) {
      if (!backing_off) submit = wanted - live();
    } else if (new_ready && count_if(is_old) > 0) {
      if (live() > wanted) {
        cancel_one(true, false,
                   prefix + "replaced by generation " + std::to_string(svc.generation));
      } else if (!backing_off) {
        submit = 1;
      }
    }
  }

  // 3. Quotas and root: checked per replica before it is submitted.
  std::string refused;
  if (submit > 0 && svc.spec.run_as_root) {
    FASTGPU_ASSIGN_OR_RETURN(model::Tenant tenant, tx.GetTenant(svc.tenant_id));
    if (!tenant.allow_root) {
      refused = "run_as_root: tenant '" + tenant.name + "' may not run as root on the nodes";
      submit = 0;
    }
  }

  // 4. Apply (in a write transaction) or only tell whether anything would change.
  std::vector<std::string> jobs;
  for (size_t i = 0; i < kept.size(); ++i) {
    if (!cancelled[i]) jobs.push_back(kept[i].id);
  }
  for (auto& [i, why] : cancel) {
    if (write != nullptr) FASTGPU_RETURN_IF_ERROR(CancelReplicaJob(*write, kept[i], why, now));
    ++plan.stats.cancelled;
  }
  for (int n = 0; n < submit; ++n) {
    model::Job job;
    job.id = write != nullptr ? ids_.Next("job") : "job-planned-" + std::to_string(n);
    job.tenant_id = svc.tenant_id;
    job.spec = model::ReplicaJobSpec(svc);
    job.state = model::JobState::kPending;
    job.reason = "submitted by service " + svc.spec.name;
    job.created_at = job.updated_at = now;
    if (Status q = CheckSubmissionQuota(tx, job, ToUnixMillis(now)); !q.ok()) {
      if (q.code() != StatusCode::kResourceExhausted) return q;
      refused = std::string(q.message());
      break;
    }
    if (write != nullptr) FASTGPU_RETURN_IF_ERROR(write->CreateJob(job).status());
    jobs.push_back(job.id);
    ++plan.stats.submitted;
  }
  svc.replica_jobs = std::move(jobs);

  // 5. The service's state and reason.
  int ready = 0, running_long = 0, updated = 0;
  std::string waiting;
  for (size_t i = 0; i < kept.size(); ++i) {
    if (cancelled[i]) continue;
    const model::Job& j = kept[i];
    ready += Ready(j);
    updated += !is_old(j);
    if (auto since = RunningSince(j); since && j.state == model::JobState::kRunning &&
                                      now - *since >= options_.crash_window && !is_old(j)) {
      ++running_long;
    }
    // A replica that waits says why (the placement's reason); a fresh one has none yet.
    if (waiting.empty() && j.state == model::JobState::kPending &&
        j.reason.rfind("submitted", 0) != 0) {
      waiting = j.reason;
    }
  }
  if (wanted > 0 && running_long >= wanted) b = Backoff{svc.generation};  // stable again
  const std::string counts =
      std::to_string(ready) + " of " + std::to_string(wanted) + " replicas ready";
  if (wanted == 0 && svc.replica_jobs.empty()) {
    svc.state = model::ServiceState::kIdle;
    svc.reason = "no replicas wanted";
  } else if (!refused.empty()) {
    svc.state = model::ServiceState::kPending;
    svc.reason = counts + "; cannot start more: " + refused;
  } else if (backing_off && live() < wanted) {
    svc.state = model::ServiceState::kBackoff;
    svc.reason = b.reason;
  } else if (count_if(is_old) > 0) {
    svc.state = model::ServiceState::kUpdating;
    svc.reason = "rolling update to generation " + std::to_string(svc.generation) + ": " +
                 std::to_string(std::min(updated, wanted)) + " of " + std::to_string(wanted) +
                 " replicas updated";
  } else if (ready >= wanted && static_cast<int>(svc.replica_jobs.size()) == wanted) {
    svc.state = model::ServiceState::kRunning;
    svc.reason = counts;
  } else {
    svc.state = model::ServiceState::kPending;
    svc.reason = counts + (waiting.empty() ? "" : "; " + waiting);
  }
  plan.write = svc.replica_jobs != before.replica_jobs || svc.state != before.state ||
               svc.reason != before.reason || plan.stats.submitted > 0 ||
               plan.stats.cancelled > 0;
  if (plan.write) {
    svc.updated_at = now;
    if (write != nullptr) FASTGPU_RETURN_IF_ERROR(write->UpdateService(svc));
  }
  plan.service = std::move(svc);
  plan.backoff = std::move(b);
  return OkStatus();
}

Result<ServicePassStats> ServicePass::Run() {
  ServicePassStats stats;
  std::vector<std::string> ids;
  std::vector<std::string> to_write;
  Status st = store_.Read([&](store::ReadTx& tx) -> Status {
    FASTGPU_ASSIGN_OR_RETURN(std::vector<model::Service> all, tx.ListServices(""));
    for (const model::Service& s : all) {
      ids.push_back(s.id);
      Plan plan;
      FASTGPU_RETURN_IF_ERROR(PlanService(tx, nullptr, s.id, plan));
      if (plan.write) {
        to_write.push_back(s.id);
      } else {
        backoff_[s.id] = plan.backoff;  // a quiet pass may still end a back-off
      }
    }
    return OkStatus();
  });
  FASTGPU_RETURN_IF_ERROR(st);
  stats.services = static_cast<int>(ids.size());
  // Services deleted since: their back-off goes.
  for (auto it = backoff_.begin(); it != backoff_.end();) {
    it = std::find(ids.begin(), ids.end(), it->first) == ids.end() ? backoff_.erase(it)
                                                                   : std::next(it);
  }
  for (const std::string& id : to_write) {
    Plan plan;
    bool gone = false;
    Status w = store_.Write([&](store::WriteTx& tx) -> Status {
      gone = false;
      Status s = PlanService(tx, &tx, id, plan);
      if (s.code() == StatusCode::kNotFound && !tx.GetService(id).ok()) {
        gone = true;  // deleted meanwhile
        return OkStatus();
      }
      return s;
    });
    FASTGPU_RETURN_IF_ERROR(w);
    if (gone) {
      backoff_.erase(id);
      continue;
    }
    backoff_[id] = plan.backoff;
    ++stats.written;
    stats.submitted += plan.stats.submitted;
    stats.cancelled += plan.stats.cancelled;
    stats.ended += plan.stats.ended;
    stats.crashes += plan.stats.crashes;
    if (plan.stats.crashes > 0) {
      spdlog::info("service {}: {}", plan.service.spec.name, plan.backoff.reason);
    }
  }
  return stats;
}

}  // namespace fastgpu::server

#include "server/usage_budget.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <vector>

#include "metering/period.h"
#include "metering/pricing.h"
#include "server/allocation_end.h"
#include "server/usage_service.h"

namespace fastgpu::server {

namespace {

struct Over {
  model::Tenant tenant;
  TenantStanding standing;
};

// Unfinished jobs of the tenant, the first to stop first: lowest priority, then newest.
Result<std::vector<model::Job>> StopOrder(store::ReadTx& tx, const std::string& tenant_id) {
  std::vector<model::Job> jobs;
  store::JobFilter f;
  f.tenant_id = tenant_id;
  f.states = {model::JobState::kPending, model::JobState::kScheduled, model::JobState::kRunning};
  f.limit = 1000;
  f.include_events = true;  // the jobs are updated: UpdateJob needs their stored events
  do {
    FASTGPU_ASSIGN_OR_RETURN(store::JobPage page, tx.ListJobs(f));
    for (model::Job& j : page.jobs) jobs.push_back(std::move(j));
    f.cursor = page.next_cursor;
  } while (!f.cursor.empty());
  std::stable_sort(jobs.begin(), jobs.end(), [](const model::Job& a, const model::Job& b) {
    if (a.spec.priority != b.spec.priority) return a.spec.priority < b.spec.priority;
    if (a.created_at != b.created_at) return a.created_at > b.created_at;
    return a.id > b.id;
  });
  return jobs;
}

std::string Minutes(std::chrono::milliseconds d) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  return s % 60 == 0 ? std::to_string(s / 60) + " min" : std::to_string(s) + " s";
}

}  // namespace

Result<BudgetPassStats> EnforceBudgets(store::Store& store, Clock& clock,
                                       const BudgetOptions& options, TimePoint* last_run) {
  const int64_t now_ms = clock.NowUnixMillis();
  if (last_run != nullptr) {
    if (*last_run != TimePoint{} && FromUnixMillis(now_ms) - *last_run < options.check_every) {
      return BudgetPassStats();
    }
    *last_run = FromUnixMillis(now_ms);
  }
  const int64_t period = metering::MonthStartMs(now_ms);
  std::vector<Over> over;
  std::vector<std::string> clear;  // tenants marked over that are not any more
  FASTGPU_RETURN_IF_ERROR(store.Read([&](store::ReadTx& tx) -> Status {
    FASTGPU_ASSIGN_OR_RETURN(auto tenants, tx.ListTenants());
    for (const model::Tenant& t : tenants) {
      if (t.quota.budget_cents <= 0) {
        if (tx.GetBudgetOverMark(t.id, period).ok()) clear.push_back(t.id);
        continue;
      }
      FASTGPU_ASSIGN_OR_RETURN(TenantStanding s, StandingOf(tx, t, now_ms));
      if (s.over_budget) {
        over.push_back({t, s});
      } else if (s.over_since_ms > 0) {
        clear.push_back(t.id);
      }
    }
    return OkStatus();
  }));
  BudgetPassStats stats;
  stats.tenants_over = static_cast<int>(over.size());
  if (!clear.empty()) {
    FASTGPU_RETURN_IF_ERROR(store.Write([&](store::WriteTx& tx) -> Status {
      for (const std::string& id : clear) {
        FASTGPU_RETURN_IF_ERROR(tx.DeleteBudgetOverMark(id, period));
      }
      return OkStatus();
    }));
  }
  const TimePoint now = FromUnixMillis(now_ms);
  for (const Over& o : over) {
    const model::Tenant& t = o.tenant;
    const std::string spent = metering::FormatCents(o.standing.spent_cents) + " of its " +
                              metering::FormatCents(t.quota.budget_cents) + " budget for " +
                              metering::MonthKey(now_ms);
    if (o.standing.over_since_ms == 0) {
      const std::string warning = "warning: tenant '" + t.name + "' is over budget (" + spent +
                                  "); its work is stopped after " + Minutes(options.grace) +
                                  " unless the budget is raised";
      FASTGPU_RETURN_IF_ERROR(store.Write([&](store::WriteTx& tx) -> Status {
        FASTGPU_RETURN_IF_ERROR(tx.PutBudgetOverMark(store::BudgetOverMark{t.id, period, now_ms}));
        FASTGPU_ASSIGN_OR_RETURN(auto jobs, StopOrder(tx, t.id));
        for (model::Job& j : jobs) {
          j.reason = warning;  // a note, not a transition
          j.updated_at = now;
          FASTGPU_RETURN_IF_ERROR(tx.UpdateJob(j));
        }
        return OkStatus();
      }));
      spdlog::warn("budget: tenant {} ({}) is over budget: spent {}; work stops in {}", t.name,
                   t.id, spent, Minutes(options.grace));
      ++stats.warned;
      continue;
    }
    if (now_ms - o.standing.over_since_ms < options.grace.count()) continue;
    std::vector<std::string> stopped;
    FASTGPU_RETURN_IF_ERROR(store.Write([&](store::WriteTx& tx) -> Status {
      stopped.clear();
      FASTGPU_ASSIGN_OR_RETURN(auto jobs, StopOrder(tx, t.id));
      for (model::Job& j : jobs) {
        if (static_cast<int>(stopped.size()) >= options.max_stops_per_pass) break;
        FASTGPU_RETURN_IF_ERROR(model::TransitionJob(
            j, model::JobState::kCancelled,
            "stopped: tenant '" + t.name + "' over budget (" + spent + ") for longer than " +
                Minutes(options.grace) + "; lowest priority first (priority " +
                std::to_string(j.spec.priority) + ")",
            now));
        FASTGPU_RETURN_IF_ERROR(tx.UpdateJob(j));
        FASTGPU_ASSIGN_OR_RETURN(auto allocs, tx.ListAllocationsByJob(j.id));
        for (const auto& a : allocs) {
          if (a.state != store::AllocationState::kReleased) {
            FASTGPU_RETURN_IF_ERROR(
                tx.UpdateAllocation(a.alloc.id, ReleaseUpdate(a, now, "tenant over budget"))
                    .status());
          }
        }
        stopped.push_back(j.id);
      }
      return OkStatus();
    }));
    for (const std::string& id : stopped) {
      spdlog::warn("budget: stopped job {} of tenant {}: over budget ({})", id, t.name, spent);
    }
    stats.stopped += static_cast<int>(stopped.size());
  }
  return stats;
}

}  // namespace fastgpu::server

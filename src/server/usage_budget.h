// Budget enforcement: what happens to a tenant whose spend this period (UTC calendar
// month) reaches its budget.
//
//   1. On the first pass that sees the crossing, the moment is stored (the store's
//      BudgetOverMark of the tenant and period), a warning is logged, and every
//      unfinished job of the tenant gets the warning as its reason (GET /v1/jobs/{id});
//      GET /v1/tenants/{id} shows it too.
//   2. Once `grace` has passed since that moment, the tenant's unfinished jobs are
//      cancelled, lowest `priority` first and, among equals, newest first (at most
//      `max_stops_per_pass` per pass), with the reason recorded in each job.
//   3. If the budget is raised (or removed) so that the spend is below it again, the
//      mark is deleted and nothing more is stopped.
// New submissions of a tenant over budget are refused (CheckSubmissionQuota).
//
// Run from the reconciler's pass; time comes only from the Clock. Thread-safe as far as
// the store is (it only uses transactions); passes must not overlap (the reconciler
// runs one at a time).
#pragma once

#include <chrono>

#include "common/clock.h"
#include "common/result.h"
#include "store/store.h"

namespace fastgpu::server {

struct BudgetOptions {
  std::chrono::milliseconds grace{std::chrono::minutes(10)};  // default 10 min
  int max_stops_per_pass = 16;                                // default 16 jobs per pass
  // With a `last_run`, a pass sooner than this after the previous one does nothing (the
  // reconciler may run many passes a second); default 5 s.
  std::chrono::milliseconds check_every{std::chrono::seconds(5)};
};

struct BudgetPassStats {
  int tenants_over = 0;  // tenants over budget now
  int warned = 0;        // tenants whose crossing was recorded in this pass
  int stopped = 0;       // jobs cancelled in this pass
};

// One enforcement pass over every tenant with a budget. With `last_run` (the time of the
// previous pass, updated here), passes closer than options.check_every are skipped.
// Store errors are returned (the next pass starts over).
Result<BudgetPassStats> EnforceBudgets(store::Store& store, Clock& clock,
                                       const BudgetOptions& options, TimePoint* last_run = nullptr);

}  // namespace fastgpu::server

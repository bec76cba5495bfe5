// Metering on the control plane: usage records read from the store's allocation rows,
// the admin's price table (the store's, ReadTx::GetPriceTable), quota checks at submission,
// and the
// tenant's spend against its budget.
//
// Usage record: one per allocation that ran (started_at_ms set by the agent's report,
// or the control plane's clock when the agent gave no time). It ends at ended_at_ms
// (the agent's report, or the control plane's clock when the allocation was released:
// cancel, job end, node loss); a live allocation is metered up to `now_ms`. The rows
// are written by the same transaction as the state change that causes them, so a
// report can neither miss nor double-count a second: re-reports of an allocation's state
// change nothing, and a restart reads the same rows.
//
// The bill of a tenant for a window is metering::BuildReport(by job).total_cents:
// the sum over its jobs of each job's charge rounded to the cent.
//
// Every function runs inside a store transaction given by the caller and is as
// thread-safe as that transaction (one thread per transaction).
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "metering/pricing.h"
#include "metering/report.h"
#include "model/job.h"
#include "model/tenant.h"
#include "store/store.h"

namespace fastgpu::server {

// The stored price table; an empty table (everything free) when none was set.
Result<metering::PriceTable> LoadPrices(store::ReadTx& tx);
// Validates and stores the table (replacing the previous one).
Status SavePrices(store::WriteTx& tx, const metering::PriceTable& prices);

// Usage records of the tenant's allocations (every tenant when `tenant_id` is empty)
// that overlap [from_ms, to_ms); live ones end at `now_ms` (or to_ms when earlier).
Result<std::vector<metering::UsageRecord>> UsageRecords(store::ReadTx& tx,
                                                        const std::string& tenant_id,
                                                        int64_t from_ms, int64_t to_ms,
                                                        int64_t now_ms);

// The priced report over [from_ms, to_ms) (see metering/report.h).
Result<metering::UsageReport> UsageReportFor(store::ReadTx& tx, const std::string& tenant_id,
                                             metering::GroupBy by, int64_t from_ms, int64_t to_ms,
                                             int64_t now_ms);

// What the tenant holds and has spent now.
struct TenantStanding {
  int64_t gpu_milli_held = 0;   // live allocations + demand of jobs not yet placed
  int64_t period_start_ms = 0;  // start of the budget period (UTC calendar month)
  int64_t spent_cents = 0;      // the bill from period start to now
  bool over_budget = false;     // budget set and spent_cents >= budget
  int64_t over_since_ms = 0;    // when the crossing was first seen (0: not recorded)
};
Result<TenantStanding> StandingOf(store::ReadTx& tx, const model::Tenant& tenant, int64_t now_ms,
                                  const std::string& skip_job_id = "");

// The quota check of a submission, run in the transaction that stores `job` (already
// created there, so an idempotent replay of the same submission is not refused).
// ResourceExhausted (HTTP 429) with a message naming the limit when the tenant's GPUs
// held plus the job's demand exceed max_gpu_milli, or its spend this period has reached
// its budget. NotFound for an unknown tenant.
Status CheckSubmissionQuota(store::ReadTx& tx, const model::Job& job, int64_t now_ms);

// {"period","period_start","spent_cents","spent","budget_cents","budget",
//  "gpu_milli_held","max_gpu_milli","over_budget","warning"} for GET /v1/tenants/{id}.
Result<boost::json::object> TenantUsageJson(store::ReadTx& tx, const model::Tenant& tenant,
                                            int64_t now_ms);

}  // namespace fastgpu::server

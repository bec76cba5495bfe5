#include "server/usage_service.h"

#include <map>

#include "metering/period.h"
#include "model/units.h"

namespace fastgpu::server {

namespace json = boost::json;

namespace {

// A terminal job last touched this long before a window cannot have run inside it
// (its allocations end no later than its last transition); the margin absorbs agents'
// clock skew on reported end times.
constexpr int64_t kTerminalMarginMs = 3'600'000;

// Every job of the tenant (every tenant when empty), oldest first.
Result<std::vector<model::Job>> JobsOf(store::ReadTx& tx, const std::string& tenant_id) {
  std::vector<model::Job> jobs;
  store::JobFilter f;
  f.tenant_id = tenant_id;
  f.limit = 1000;
  do {
    FASTGPU_ASSIGN_OR_RETURN(store::JobPage page, tx.ListJobs(f));
    for (model::Job& j : page.jobs) jobs.push_back(std::move(j));
    f.cursor = page.next_cursor;
  } while (!f.cursor.empty());
  return jobs;
}

int64_t GpuMilliOf(const store::AllocationRecord& a) {
  int64_t m = 0;
  for (const model::VgpuSlice& s : a.alloc.slices) m += s.milli;
  return m;
}

std::string Rfc3339(int64_t ms) { return FormatRfc3339(FromUnixMillis(ms)); }

}  // namespace

Result<metering::PriceTable> LoadPrices(store::ReadTx& tx) {
  auto prices = tx.GetPriceTable();
  if (prices.status().code() == StatusCode::kNotFound) return metering::PriceTable();
  return prices;
}

Status SavePrices(store::WriteTx& tx, const metering::PriceTable& prices) {
  return tx.PutPriceTable(prices);  // validates
}

Result<std::vector<metering::UsageRecord>> UsageRecords(store::ReadTx& tx,
                                                        const std::string& tenant_id,
                                                        int64_t from_ms, int64_t to_ms,
                                                        int64_t now_ms) {
  FASTGPU_ASSIGN_OR_RETURN(std::vector<model::Job> jobs, JobsOf(tx, tenant_id));
  std::map<std::string, model::Node> nodes;  // node id -> node, for the GPUs' memory
  std::vector<metering::UsageRecord> out;
  for (const model::Job& job : jobs) {
    if (ToUnixMillis(job.created_at) >= to_ms) continue;
    if (model::IsTerminal(job.state) &&
        ToUnixMillis(job.updated_at) + kTerminalMarginMs < from_ms) {
      continue;
    }
    FASTGPU_ASSIGN_OR_RETURN(auto allocs, tx.ListAllocationsByJob(job.id));
    for (const store::AllocationRecord& a : allocs) {
      if (a.started_at_ms <= 0) continue;  // never ran: nothing to bill
      metering::UsageRecord r;
      r.allocation_id = a.alloc.id;
      r.job_id = job.id;
      r.tenant_id = job.tenant_id;
      if (!job.spec.service.empty()) r.service = job.spec.name;  // replicas carry its name
      r.start_ms = a.started_at_ms;
      r.end_ms = a.ended_at_ms > 0 ? a.ended_at_ms : std::min(now_ms, to_ms);
      if (r.end_ms < r.start_ms) r.end_ms = r.start_ms;  // an agent's clock ahead of ours
      if (r.start_ms >= to_ms || r.end_ms <= from_ms) continue;
      r.cpu_milli = a.alloc.cpu_milli;
      r.memory_mib = a.alloc.memory_mib;
      if (!a.alloc.slices.empty()) {
        r.gpu_model = a.alloc.gpu_model;
        r.gpu_count = static_cast<int>(a.alloc.slices.size());
        r.gpu_milli = a.alloc.slices[0].milli;
        r.gpu_memory_mib = a.alloc.slices[0].memory_mib;
        auto it = nodes.find(a.alloc.node_id);
        if (it == nodes.end()) {
          FASTGPU_ASSIGN_OR_RETURN(store::NodeRecord n, tx.GetNode(a.alloc.node_id));
          it = nodes.emplace(a.alloc.node_id, std::move(n.node)).first;
        }
        for (const model::Gpu& g : it->second.gpus) {
          if (g.index == a.alloc.slices[0].gpu_index) r.gpu_total_memory_mib = g.memory_mib;
        }
      }
      out.push_back(std::move(r));
    }
  }
  return out;
}

Result<metering::UsageReport> UsageReportFor(store::ReadTx& tx, const std::string& tenant_id,
                                             metering::GroupBy by, int64_t from_ms, int64_t to_ms,
                                             int64_t now_ms) {
  FASTGPU_ASSIGN_OR_RETURN(metering::PriceTable prices, LoadPrices(tx));
  FASTGPU_ASSIGN_OR_RETURN(auto records, UsageRecords(tx, tenant_id, from_ms, to_ms, now_ms));
  return metering::BuildReport(records, prices, by, from_ms, to_ms);
}

Result<TenantStanding> StandingOf(store::ReadTx& tx, const model::Tenant& tenant, int64_t now_ms,
                                  const std::string& skip_job_id) {
  TenantStanding s;
  s.period_start_ms = metering::MonthStartMs(now_ms);
  store::JobFilter f;
  f.tenant_id = tenant.id;
  f.states = {model::JobState::kPending, model::JobState::kScheduled, model::JobState::kRunning};
  f.limit = 1000;
  do {
    FASTGPU_ASSIGN_OR_RETURN(store::JobPage page, tx.ListJobs(f));
    for (const model::Job& j : page.jobs) {
      if (j.id == skip_job_id) continue;
      FASTGPU_ASSIGN_OR_RETURN(auto allocs, tx.ListAllocationsByJob(j.id));
      int64_t live = 0;
      bool any_live = false;
      for (const auto& a : allocs) {
        if (!store::IsLive(a.state)) continue;
        any_live = true;
        live += GpuMilliOf(a);
      }
      s.gpu_milli_held += any_live ? live : j.spec.replicas * j.spec.shape.TotalGpuMilli();
    }
    f.cursor = page.next_cursor;
  } while (!f.cursor.empty());
  FASTGPU_ASSIGN_OR_RETURN(
      metering::UsageReport bill,
      UsageReportFor(tx, tenant.id, metering::GroupBy::kJob, s.period_start_ms, now_ms, now_ms));
  s.spent_cents = bill.total_cents;
  s.over_budget = tenant.quota.budget_cents > 0 && s.spent_cents >= tenant.quota.budget_cents;
  auto since = tx.GetBudgetOverMark(tenant.id, s.period_start_ms);
  if (since.ok()) {
    s.over_since_ms = since->over_since_ms;
  } else if (since.status().code() != StatusCode::kNotFound) {
    return since.status();
  }
  return s;
}

Status CheckSubmissionQuota(store::ReadTx& tx, const model::Job& job, int64_t now_ms) {
  FASTGPU_ASSIGN_OR_RETURN(model::Tenant t, tx.GetTenant(job.tenant_id));
  const model::Quota& q = t.quota;
  if (q.max_gpu_milli <= 0 && q.budget_cents <= 0) return OkStatus();
  FASTGPU_ASSIGN_OR_RETURN(TenantStanding s, StandingOf(tx, t, now_ms, job.id));
  const int64_t demand = job.spec.replicas * job.spec.shape.TotalGpuMilli();
  if (q.max_gpu_milli > 0 && demand > 0 && s.gpu_milli_held + demand > q.max_gpu_milli) {
    return ResourceExhausted(
        "quota: tenant '" + t.name + "' may hold " + model::FormatGpuMilli(q.max_gpu_milli) +
        " at once; it holds or waits for " + model::FormatGpuMilli(s.gpu_milli_held) +
        " and this job asks for " + model::FormatGpuMilli(demand));
  }
  if (q.budget_cents > 0 && s.spent_cents >= q.budget_cents) {
    return ResourceExhausted(
        "budget: tenant '" + t.name + "' has spent " + metering::FormatCents(s.spent_cents) +
        " of its " + metering::FormatCents(q.budget_cents) + " budget for " +
        metering::MonthKey(now_ms) + "; new work is refused until the budget is raised or " +
        Rfc3339(metering::NextMonthStartMs(now_ms)));
  }
  return OkStatus();
}

Result<json::object> TenantUsageJson(store::ReadTx& tx, const model::Tenant& tenant,
                                     int64_t now_ms) {
  FASTGPU_ASSIGN_OR_RETURN(TenantStanding s, StandingOf(tx, tenant, now_ms));
  std::string warning;
  if (s.over_budget) {
    warning = "over budget: spent " + metering::FormatCents(s.spent_cents) + " of " +
              metering::FormatCents(tenant.quota.budget_cents) + " for " +
              metering::MonthKey(now_ms) +
              (s.over_since_ms > 0 ? " since " + Rfc3339(s.over_since_ms) : "") +
              "; new work is refused and running work is stopped, lowest priority first, "
              "after the grace period";
  }
  return json::object{{"period", metering::MonthKey(now_ms)},
                      {"period_start", s.period_start_ms},
                      {"spent_cents", s.spent_cents},
                      {"spent", metering::FormatCents(s.spent_cents)},
                      {"budget_cents", tenant.quota.budget_cents},
                      {"budget", metering::FormatCents(tenant.quota.budget_cents)},
                      {"gpu_milli_held", s.gpu_milli_held},
                      {"max_gpu_milli", tenant.quota.max_gpu_milli},
                      {"over_budget", s.over_budget},
                      {"over_budget_since", s.over_since_ms},
                      {"warning", warning}};
}

}  // namespace fastgpu::server

// Metering endpoints (their routes are lines of api_routes.cpp): the price table, usage
// reports, tenant quotas.
//   GET  /v1/prices                 any tenant; the table (docs/metering.md)
//   PUT  /v1/prices                 admin; replaces the table
//   GET  /v1/usage?tenant=&from=&to=&by=job|service|model|day&format=json|csv
//                                   a tenant sees only its own; the admin any (all
//                                   tenants when `tenant` is left out)
//   PUT  /v1/tenants/{id}/quota     admin; {"max_gpu_milli","budget_cents"}, each optional
#include "metering/period.h"
#include "metering/price_json.h"
#include "server/api.h"
#include "server/usage_service.h"

namespace fastgpu::server {

namespace {

Result<int64_t> QueryInstant(const HttpRequest& req, const std::string& key, int64_t fallback) {
  auto it = req.query.find(key);
  if (it == req.query.end() || it->second.empty()) return fallback;
  auto v = metering::ParseInstantMs(it->second);
  if (!v.ok()) return v.status().WithContext(key);
  return v;
}

}  // namespace

Result<Reply> Api::GetPrices(const Call&) {
  metering::PriceTable prices;
  FASTGPU_RETURN_IF_ERROR(store_.Read([&](store::ReadTx& tx) -> Status {
    FASTGPU_ASSIGN_OR_RETURN(prices, LoadPrices(tx));
    return OkStatus();
  }));
  return Reply::Json(metering::PriceTableToJson(prices));
}

Result<Reply> Api::SetPrices(const Call& c) {
  FASTGPU_ASSIGN_OR_RETURN(metering::PriceTable prices, metering::ParsePriceTable(c.req.body));
  return Mutate(c, [&](store::WriteTx& tx) -> Result<Reply> {
    FASTGPU_RETURN_IF_ERROR(SavePrices(tx, prices));
    return Reply::Json(metering::PriceTableToJson(prices));
  });
}

Result<Reply> Api::GetUsage(const Call& c) {
  const HttpRequest& req = c.req;
  const Principal& who = c.who;
  const int64_t now_ms = clock_.NowUnixMillis();
  FASTGPU_ASSIGN_OR_RETURN(int64_t from, QueryInstant(req, "from", metering::MonthStartMs(now_ms)));
  FASTGPU_ASSIGN_OR_RETURN(int64_t to, QueryInstant(req, "to", now_ms));
  if (to <= from) return InvalidArgument("to: must be after from");
  auto by_it = req.query.find("by");
  auto by = metering::ParseGroupBy(by_it == req.query.end() ? "job" : by_it->second);
  if (!by.ok()) return by.status().WithContext("by");
  auto fmt_it = req.query.find("format");
  const std::string format = fmt_it == req.query.end() ? "json" : fmt_it->second;
  if (format != "json" && format != "csv") return InvalidArgument("format: must be json or csv");
  auto tenant_it = req.query.find("tenant");
  const std::string asked = tenant_it == req.query.end() ? "" : tenant_it->second;
  std::string tenant_id = who.admin ? "" : who.tenant_id;
  std::string tenant_name;
  metering::UsageReport report;
  FASTGPU_RETURN_IF_ERROR(store_.Read([&](store::ReadTx& tx) -> Status {
    if (!asked.empty()) {
      FASTGPU_ASSIGN_OR_RETURN(model::Tenant t, FindTenant(tx, asked));
      if (!who.admin && t.id != who.tenant_id) return NotFound("no tenant '" + asked + "'");
      tenant_id = t.id;
      tenant_name = t.name;
    } else if (!tenant_id.empty()) {
      FASTGPU_ASSIGN_OR_RETURN(model::Tenant t, tx.GetTenant(tenant_id));
      tenant_name = t.name;
    }
    FASTGPU_ASSIGN_OR_RETURN(report, UsageReportFor(tx, tenant_id, *by, from, to, now_ms));
    return OkStatus();
  }));
  if (format == "csv") return Reply::Text("text/csv", metering::ReportToCsv(report));
  json::value body = json::parse(metering::ReportToJson(report));
  body.as_object()["tenant"] = tenant_id.empty() ? "*" : tenant_name;
  body.as_object()["tenant_id"] = tenant_id;
  return Reply::Json(body);
}

Result<Reply> Api::SetQuota(const Call& c) {
  FASTGPU_ASSIGN_OR_RETURN(json::object body, ParseObject(c.req.body));
  Result<Reply> reply = Mutate(c, [&](store::WriteTx& tx) -> Result<Reply> {
    FASTGPU_ASSIGN_OR_RETURN(model::Tenant t, FindTenant(tx, c.Param("id")));
    FieldReader r(body);
    FASTGPU_RETURN_IF_ERROR(r.Int("max_gpu_milli", t.quota.max_gpu_milli, 0, int64_t{1} << 40));
    FASTGPU_RETURN_IF_ERROR(r.Int("budget_cents", t.quota.budget_cents, 0, int64_t{1} << 50));
    FASTGPU_RETURN_IF_ERROR(r.Finish());
    FASTGPU_RETURN_IF_ERROR(model::ValidateQuota(t.quota));
    FASTGPU_RETURN_IF_ERROR(tx.UpdateTenantQuota(t.id, t.quota));
    json::object out = TenantToJson(t);
    FASTGPU_ASSIGN_OR_RETURN(out["usage"], TenantUsageJson(tx, t, clock_.NowUnixMillis()));
    return Reply::Json(out);
  });
  if (reply.ok() && reply->succeeded()) Changed();
  return reply;
}

}  // namespace fastgpu::server

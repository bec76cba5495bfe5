// Metering endpoints: the price table, usage reports, tenant quotas.
//   GET  /v1/prices                 any tenant; the table (docs/metering.md)
//   PUT  /v1/prices                 admin; replaces the table
//   GET  /v1/usage?tenant=&from=&to=&by=job|model|day&format=json|csv
//                                   a tenant sees only its own; the admin any (all
//                                   tenants when `tenant` is left out)
//   PUT  /v1/tenants/{id}/quota     admin; {"max_gpu_milli","budget_cents"}, each optional
#include "metering/period.h"
#include "metering/price_json.h"
#include "server/api.h"
#include "server/usage_service.h"

namespace fastgpu::server {

namespace {

HttpResponse MethodNotAllowedHere() {
  return {405, "application/json",
          ErrorJson(Status(StatusCode::kInvalidArgument, "method not allowed"))};
}

Result<int64_t> QueryInstant(const HttpRequest& req, const std::string& key, int64_t fallback) {
  auto it = req.query.find(key);
  if (it == req.query.end() || it->second.empty()) return fallback;
  auto v = metering::ParseInstantMs(it->second);
  if (!v.ok()) return v.status().WithContext(key);
  return v;
}

}  // namespace

std::optional<HttpResponse> Api::DispatchUsage(const HttpRequest& req, const Principal& who,
                                               const std::vector<std::string>& p,
                                               std::string& route) {
  const size_t n = p.size();
  const std::string& m = req.method;
  if (n == 2 && p[1] == "prices") {
    route = "/v1/prices";
    if (m == "GET") {
      metering::PriceTable prices;
      Status st = store_.Read([&](ReadTx& tx) -> Status {
        FASTGPU_ASSIGN_OR_RETURN(prices, LoadPrices(tx));
        return OkStatus();
      });
      if (!st.ok()) return ErrorResponse(st);
      return JsonResponse(200, metering::PriceTableToJson(prices));
    }
    if (m != "PUT") return MethodNotAllowedHere();
    if (!who.admin) return ErrorResponse(PermissionDenied("only the admin sets prices"));
    auto prices = metering::ParsePriceTable(req.body);
    if (!prices.ok()) return ErrorResponse(prices.status());
    return Mutate(req, who, [&](WriteTx& tx) -> Result<HttpResponse> {
      FASTGPU_RETURN_IF_ERROR(SavePrices(tx, *prices));
      return JsonResponse(200, metering::PriceTableToJson(*prices));
    });
  }
  if (n == 2 && p[1] == "usage") {
    route = "/v1/usage";
    if (m != "GET") return MethodNotAllowedHere();
    const int64_t now_ms = clock_.NowUnixMillis();
    auto from = QueryInstant(req, "from", metering::MonthStartMs(now_ms));
    if (!from.ok()) return ErrorResponse(from.status());
    auto to = QueryInstant(req, "to", now_ms);
    if (!to.ok()) return ErrorResponse(to.status());
    if (*to <= *from) return ErrorResponse(InvalidArgument("to: must be after from"));
    auto by_it = req.query.find("by");
    auto by = metering::ParseGroupBy(by_it == req.query.end() ? "job" : by_it->second);
    if (!by.ok()) return ErrorResponse(by.status().WithContext("by"));
    auto fmt_it = req.query.find("format");
    const std::string format = fmt_it == req.query.end() ? "json" : fmt_it->second;
    if (format != "json" && format != "csv") {
      return ErrorResponse(InvalidArgument("format: must be json or csv"));
    }
    auto tenant_it = req.query.find("tenant");
    const std::string asked = tenant_it == req.query.end() ? "" : tenant_it->second;
    std::string tenant_id = who.admin ? "" : who.tenant_id;
    std::string tenant_name;
    metering::UsageReport report;
    Status st = store_.Read([&](ReadTx& tx) -> Status {
      if (!asked.empty()) {
        FASTGPU_ASSIGN_OR_RETURN(Tenant t, FindTenant(tx, asked));
        if (!who.admin && t.id != who.tenant_id) return NotFound("no tenant '" + asked + "'");
        tenant_id = t.id;
        tenant_name = t.name;
      } else if (!tenant_id.empty()) {
        FASTGPU_ASSIGN_OR_RETURN(Tenant t, tx.GetTenant(tenant_id));
        tenant_name = t.name;
      }
      FASTGPU_ASSIGN_OR_RETURN(report, UsageReportFor(tx, tenant_id, *by, *from, *to, now_ms));
      return OkStatus();
    });
    if (!st.ok()) return ErrorResponse(st);
    if (format == "csv") return HttpResponse{200, "text/csv", metering::ReportToCsv(report)};
    json::value body = json::parse(metering::ReportToJson(report));
    body.as_object()["tenant"] = tenant_id.empty() ? "*" : tenant_name;
    body.as_object()["tenant_id"] = tenant_id;
    return JsonResponse(200, body);
  }
  if (n == 4 && p[1] == "tenants" && p[3] == "quota") {
    route = "/v1/tenants/{id}/quota";
    if (m != "PUT") return MethodNotAllowedHere();
    if (!who.admin) return ErrorResponse(PermissionDenied("only the admin sets quotas"));
    auto body = ParseObject(req.body);
    if (!body.ok()) return ErrorResponse(body.status());
    HttpResponse resp = Mutate(req, who, [&](WriteTx& tx) -> Result<HttpResponse> {
      FASTGPU_ASSIGN_OR_RETURN(Tenant t, FindTenant(tx, p[2]));
      FieldReader r(*body);
      FASTGPU_RETURN_IF_ERROR(r.Int("max_gpu_milli", t.quota.max_gpu_milli, 0, int64_t{1} << 40));
      FASTGPU_RETURN_IF_ERROR(r.Int("budget_cents", t.quota.budget_cents, 0, int64_t{1} << 50));
      FASTGPU_RETURN_IF_ERROR(r.Finish());
      FASTGPU_RETURN_IF_ERROR(ValidateQuota(t.quota));
      FASTGPU_RETURN_IF_ERROR(tx.UpdateTenantQuota(t.id, t.quota));
      json::object out = TenantToJson(t);
      FASTGPU_ASSIGN_OR_RETURN(out["usage"], TenantUsageJson(tx, t, clock_.NowUnixMillis()));
      return JsonResponse(200, out);
    });
    if (resp.status == 200) Changed();
    return resp;
  }
  return std::nullopt;
}

}  // namespace fastgpu::server

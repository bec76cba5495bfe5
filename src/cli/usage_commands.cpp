#include "cli/usage_commands.h"

#include <boost/json.hpp>
#include <cctype>
#include <cstdio>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <memory>

#include "cli/api_client.h"
#include "cli/command_runner.h"
#include "cli/config.h"
#include "cli/output.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/url_text.h"
#include "metering/json_text.h"
#include "metering/price_json.h"
#include "metering/pricing.h"
#include "model/json.h"
#include "model/units.h"

namespace fastgpu::cli {

namespace json = boost::json;

namespace {

using Flags = ClientFlags;

void AddFlags(CLI::App* cmd, const std::shared_ptr<Flags>& f,
              std::vector<std::string> outputs = {"table", "json"}) {
  AddClientFlags(cmd, f, std::move(outputs));
}

int Run(const Flags& f, const ClientBody& body) { return RunClientCommand(f, body); }

std::string Str(const json::value& v, std::string_view key) {
  const json::value* f = v.is_object() ? v.as_object().if_contains(key) : nullptr;
  if (f == nullptr) return "";
  if (f->is_string()) return std::string(f->as_string());
  return metering::JsonText(*f);
}

// One row of a usage report: its key and cost as shown, its GPU-hours as a number.
struct ReportRow {
  std::string key, billed_seconds, cost;
  double gpu_hours = 0;
};

// The rows of a usage report answer, checked (the model's JsonObjectReader).
Result<std::vector<ReportRow>> ReportRows(const json::value& r) {
  model::JsonObjectReader reader(r);
  const json::value* rows = reader.Raw("rows");
  if (Status st = reader.Finish(); !st.ok()) return UnexpectedAnswer(st);
  if (rows == nullptr || !rows->is_array()) {
    return UnexpectedAnswer(InvalidArgument("rows: must be an array"));
  }
  std::vector<ReportRow> out;
  for (size_t i = 0; i < rows->as_array().size(); ++i) {
    const json::value& row = rows->as_array()[i];
    ReportRow rr;
    model::JsonObjectReader rd(row, "rows[" + std::to_string(i) + "]");
    rd.Double("gpu_hours", rr.gpu_hours, model::Need::kRequired);
    if (Status st = rd.Finish(); !st.ok()) return UnexpectedAnswer(st);
    rr.key = Str(row, "key");
    rr.billed_seconds = Str(row, "billed_seconds");
    rr.cost = Str(row, "cost");
    out.push_back(std::move(rr));
  }
  return out;
}

Result<std::string> RenderReport(const json::value& r) {
  FASTGPU_ASSIGN_OR_RETURN(std::vector<ReportRow> rows, ReportRows(r));
  int64_t from = 0, to = 0;
  model::JsonObjectReader reader(r);
  reader.Int("from", from, 0, std::numeric_limits<int64_t>::max(), model::Need::kRequired)
      .Int("to", to, 0, std::numeric_limits<int64_t>::max(), model::Need::kRequired);
  if (Status st = reader.Finish(); !st.ok()) return UnexpectedAnswer(st);
  const std::string by = Str(r, "by");
  Table t({by == "job"       ? "JOB"
           : by == "model"   ? "GPU MODEL"
           : by == "service" ? "SERVICE"
                             : "DAY (UTC)",
           "BILLED SECONDS", "GPU-HOURS", "COST"});
  for (const ReportRow& row : rows) {
    char hours[32];
    std::snprintf(hours, sizeof hours, "%.3f", row.gpu_hours);
    t.Add({row.key, row.billed_seconds, hours, row.cost});
  }
  t.Add({"TOTAL", "", "", Str(r, "total")});
  std::string head = "tenant " + Str(r, "tenant") + ", " + FormatRfc3339(FromUnixMillis(from)) +
                     " to " + FormatRfc3339(FromUnixMillis(to)) + "\n";
  return head + t.Render();
}

Result<std::string> RenderPrices(const json::value& p) {
  std::map<std::string, std::string> gpu_hour;
  model::JsonObjectReader reader(p);
  reader.StrMap("gpu_hour", gpu_hour, model::Need::kRequired);
  if (Status st = reader.Finish(); !st.ok()) return UnexpectedAnswer(st);
  Table t({"ITEM", "PRICE"});
  for (const auto& [model, price] : gpu_hour) t.Add({"GPU-hour " + model, "$" + price});
  t.Add({"GPU-hour (other models)", "$" + Str(p, "default_gpu_hour")});
  t.Add({"CPU core-hour", "$" + Str(p, "cpu_hour")});
  t.Add({"GiB-hour of memory", "$" + Str(p, "gib_hour")});
  t.Add({"minimum charge", Str(p, "minimum_seconds") + " s"});
  return t.Render() + "Per-second billing; a fraction of a GPU pays max(compute, memory share).\n";
}

void AddUsage(CLI::App& app, int* exit_code) {
  for (CLI::App* old : app.get_subcommands([](CLI::App* s) { return s->get_name() == "usage"; })) {
    app.remove_subcommand(old);  // a placeholder registered before
  }
  auto f = std::make_shared<Flags>();
  auto q = std::make_shared<std::map<std::string, std::string>>();
  auto* cmd =
      app.add_subcommand("usage",
                         "Report metered GPU usage and cost (by job, service, GPU model or UTC day).\n"
                         "The rows add up to the total, the tenant's bill, to the cent.");
  cmd->add_option("--tenant", (*q)["tenant"], "Tenant name or id (the admin: any; default all)");
  cmd->add_option("--from", (*q)["from"],
                  "Start: 2026-11-01, 2026-11-01T00:00:00Z or Unix ms (default: this month)");
  cmd->add_option("--to", (*q)["to"], "End, exclusive (default: now)");
  (*q)["by"] = "job";
  cmd->add_option("--by", (*q)["by"], "Group rows by")
      ->capture_default_str()
      ->check(CLI::IsMember({"job", "service", "model", "day"}));
  AddFlags(cmd, f, {"table", "json", "csv"});
  cmd->callback([f, q, exit_code] {
    *exit_code = Run(*f, [q](ApiClient& api, const std::string& output) -> Result<std::string> {
      std::string query;
      for (const auto& [k, v] : *q) {
        if (!v.empty()) query += (query.empty() ? "?" : "&") + k + "=" + EncodeQueryValue(v);
      }
      FASTGPU_ASSIGN_OR_RETURN(json::value r, api.Call("GET", "/v1/usage" + query));
      if (output == "json") return metering::JsonText(r) + "\n";
      if (output == "table") return RenderReport(r);
      // CSV from the same answer (the API's own CSV carries the same columns).
      std::string csv = Str(r, "by") + ",billed_seconds,gpu_hours,cost\n";
      FASTGPU_ASSIGN_OR_RETURN(std::vector<ReportRow> rows, ReportRows(r));
      for (const ReportRow& row : rows) {
        char hours[32];
        std::snprintf(hours, sizeof hours, "%.6f", row.gpu_hours);
        const std::string& cost = row.cost;
        csv += row.key + "," + row.billed_seconds + "," + hours + "," +
               (cost.empty() ? "" : cost.substr(cost.find('$') + 1)) + "\n";
      }
      const std::string total = Str(r, "total");
      return csv + "total,,," + total.substr(total.find('$') + 1) + "\n";
    });
  });
}

void AddPrice(CLI::App& app, int* exit_code) {
  auto* price = app.add_subcommand(
      "price",
      "The price table: `price list` shows it (any tenant), `price set` changes it (admin)");
  price->require_subcommand(1);
  auto sf = std::make_shared<Flags>();
  struct SetArgs {
    std::string model, gpu_hour, cpu_hour, gib_hour;
    int64_t minimum_seconds = -1;
  };
  auto a = std::make_shared<SetArgs>();
  auto* set = price->add_subcommand(
      "set",
      "Change prices (admin): a GPU model's GPU-hour, the GPU-hour of unlisted models, the CPU "
      "core-hour, the GiB-hour, the minimum billed seconds; what is not given keeps its price");
  set->add_option("--model", a->model,
                  "GPU model the --gpu-hour price is for (e.g. H100-80GB); needs --gpu-hour");
  set->add_option("--gpu-hour", a->gpu_hour,
                  "Dollars per GPU-hour (up to 5 decimals) of --model, or without --model of "
                  "every model the table does not list");
  set->add_option("--cpu-hour", a->cpu_hour, "Dollars per CPU core-hour (up to 5 decimals)");
  set->add_option("--gib-hour", a->gib_hour,
                  "Dollars per GiB-hour of main memory (up to 5 decimals)");
  set->add_option("--minimum-seconds", a->minimum_seconds,
                  "Bill every usage record at least this many seconds (0: no minimum)")
      ->check(CLI::Range(0, 2678400));
  AddFlags(set, sf);
  set->callback([sf, a, exit_code] {
    *exit_code = Run(*sf, [a](ApiClient& api, const std::string& output) -> Result<std::string> {
      if (!a->model.empty() && a->gpu_hour.empty()) {
        return InvalidArgument("usage: --model needs --gpu-hour");
      }
      if (a->gpu_hour.empty() && a->cpu_hour.empty() && a->gib_hour.empty() &&
          a->minimum_seconds < 0) {
        return InvalidArgument(
            "usage: price set needs at least one of --gpu-hour, --cpu-hour, --gib-hour, "
            "--minimum-seconds (`fastgpu price list` shows the table)");
      }
      // Read, change, write back: the API replaces the whole table.
      FASTGPU_ASSIGN_OR_RETURN(json::value cur, api.Call("GET", "/v1/prices"));
      if (!cur.is_object()) return UnexpectedAnswer(InvalidArgument("value: must be an object"));
      json::object t = cur.as_object();
      auto dollars = [](const std::string& flag, const std::string& v) -> Result<std::string> {
        auto mc = metering::ParseDollarsToMillicents(v);
        if (!mc.ok()) return InvalidArgument("usage: " + flag + ": " + mc.status().message());
        return metering::FormatMillicentsAsDollars(*mc);
      };
      if (!a->gpu_hour.empty()) {
        FASTGPU_ASSIGN_OR_RETURN(std::string v, dollars("--gpu-hour", a->gpu_hour));
        if (a->model.empty()) {
          t["default_gpu_hour"] = v;
        } else {
          json::value& per_model = t["gpu_hour"];
          if (!per_model.is_object()) per_model = json::object();
          per_model.as_object()[a->model] = v;
        }
      }
      if (!a->cpu_hour.empty()) {
        FASTGPU_ASSIGN_OR_RETURN(std::string v, dollars("--cpu-hour", a->cpu_hour));
        t["cpu_hour"] = v;
      }
      if (!a->gib_hour.empty()) {
        FASTGPU_ASSIGN_OR_RETURN(std::string v, dollars("--gib-hour", a->gib_hour));
        t["gib_hour"] = v;
      }
      if (a->minimum_seconds >= 0) t["minimum_seconds"] = a->minimum_seconds;
      FASTGPU_ASSIGN_OR_RETURN(json::value r,
                               api.Call("PUT", "/v1/prices", json::serialize(t), RandomHex(16)));
      if (output == "json") return metering::JsonText(r) + "\n";
      return RenderPrices(r);
    });
  });
  auto lf = std::make_shared<Flags>();
  auto* list = price->add_subcommand(
      "list",
      "Show the price table (any tenant): GPU-hour per model and for other models, CPU "
      "core-hour, GiB-hour, minimum billed seconds");
  AddFlags(list, lf);
  list->callback([lf, exit_code] {
    *exit_code = Run(*lf, [](ApiClient& api, const std::string& output) -> Result<std::string> {
      FASTGPU_ASSIGN_OR_RETURN(json::value r, api.Call("GET", "/v1/prices"));
      if (output == "json") return metering::JsonText(r) + "\n";
      return RenderPrices(r);
    });
  });
}

void AddQuota(CLI::App& app, int* exit_code) {
  auto tenants = app.get_subcommands([](CLI::App* s) { return s->get_name() == "tenant"; });
  CLI::App* tenant =
      tenants.empty() ? app.add_subcommand("tenant", "Manage tenants (admin)") : tenants[0];
  auto f = std::make_shared<Flags>();
  struct QuotaArgs {
    std::string tenant, max_gpu, budget;
  };
  auto a = std::make_shared<QuotaArgs>();
  auto* quota = tenant->add_subcommand(
      "quota",
      "Show a tenant's quota, or set it (admin): GPUs held at once, budget per UTC month; 0 = "
      "none");
  quota->add_option("TENANT", a->tenant, "Tenant name or id")->required();
  quota->add_option("--max-gpu", a->max_gpu, "GPUs held at once: 4, 0.5 or 1500m");
  quota->add_option("--budget", a->budget, "Dollars per calendar month (UTC), e.g. 100.00");
  AddFlags(quota, f);
  quota->callback([f, a, exit_code] {
    *exit_code = Run(*f, [a](ApiClient& api, const std::string& output) -> Result<std::string> {
      json::object body;
      if (!a->max_gpu.empty()) {
        auto m = ParseGpuMilliLimit(a->max_gpu);
        if (!m.ok()) return InvalidArgument("usage: --max-gpu: " + m.status().message());
        body["max_gpu_milli"] = *m;
      }
      if (!a->budget.empty()) {
        auto c = ParseDollarsToCents(a->budget);
        if (!c.ok()) return InvalidArgument("usage: --budget: " + c.status().message());
        body["budget_cents"] = *c;
      }
      // Without flags: show the quota (the tenant's record carries it with its usage).
      FASTGPU_ASSIGN_OR_RETURN(
          json::value r,
          body.empty() ? api.Call("GET", "/v1/tenants/" + EncodePathSegment(a->tenant))
                       : api.Call("PUT", "/v1/tenants/" + EncodePathSegment(a->tenant) + "/quota",
                                  json::serialize(body), RandomHex(16)));
      if (output == "json") return metering::JsonText(r) + "\n";
      int64_t max = 0, budget_cents = 0;
      model::JsonObjectReader reader(r);
      reader
          .Int("max_gpu_milli", max, 0, std::numeric_limits<int64_t>::max(), model::Need::kRequired)
          .Int("budget_cents", budget_cents, 0, std::numeric_limits<int64_t>::max(),
               model::Need::kRequired);
      const json::value* usage = reader.Raw("usage");
      if (Status st = reader.Finish(); !st.ok()) return UnexpectedAnswer(st);
      if (usage == nullptr) return UnexpectedAnswer(InvalidArgument("usage: is required"));
      const json::value& u = *usage;
      std::string out = "tenant " + Str(r, "name") + ": max " +
                        (max ? model::FormatGpuMilli(max) : std::string("unlimited")) +
                        " held at once, budget " + (budget_cents ? Str(u, "budget") : "unlimited") +
                        " per month; spent " + Str(u, "spent") + " in " + Str(u, "period") + "\n";
      if (!Str(u, "warning").empty() && Str(u, "warning") != "\"\"") {
        out += "warning: " + Str(u, "warning") + "\n";
      }
      return out;
    });
  });
}

}  // namespace

Result<int64_t> ParseGpuMilliLimit(std::string_view text) {
  std::string t(text);
  if (!t.empty() && t.back() == 'm') {
    t.pop_back();
    if (t.empty() || t.size() > 12) return InvalidArgument("'" + std::string(text) + "'");
    for (char c : t) {
      if (!std::isdigit(static_cast<unsigned char>(c))) {
        return InvalidArgument("'" + std::string(text) + "' is not a GPU amount");
      }
    }
    return std::stoll(t);
  }
  // A decimal with at most 3 decimals: reuse the exact dollar parser (5 decimals).
  auto v = metering::ParseDollarsToMillicents(t);
  if (!v.ok() || t.find('$') != std::string::npos || *v % 100 != 0) {
    return InvalidArgument("'" + std::string(text) + "' is not a GPU amount (4, 0.5, 1500m)");
  }
  return *v / 100;
}

Result<int64_t> ParseDollarsToCents(std::string_view text) {
  auto mc = metering::ParseDollarsToMillicents(text);
  if (!mc.ok()) return mc.status();
  if (*mc % 1000 != 0) return InvalidArgument("'" + std::string(text) + "': whole cents only");
  return *mc / 1000;
}

void RegisterUsageCommands(CLI::App& app, int* exit_code) {
  AddUsage(app, exit_code);
  AddPrice(app, exit_code);
  AddQuota(app, exit_code);
}

}  // namespace fastgpu::cli

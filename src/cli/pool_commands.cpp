#include "cli/pool_commands.h"

#include <memory>

#include "cli/api_client.h"
#include "cli/command_runner.h"
#include "cli/output.h"
#include "metering/json_text.h"
#include "model/units.h"

namespace fastgpu::cli {

namespace json = boost::json;

namespace {

const json::value* Field(const json::value& v, std::string_view key) {
  return v.is_object() ? v.as_object().if_contains(key) : nullptr;
}

std::string Str(const json::value& v, std::string_view key) {
  const json::value* f = Field(v, key);
  if (f == nullptr) return "";
  if (f->is_string()) return std::string(f->as_string());
  return metering::JsonText(*f);
}

int64_t Int(const json::value& v, std::string_view key) {
  const json::value* f = Field(v, key);
  return f != nullptr && f->is_int64() ? f->as_int64() : 0;
}

}  // namespace

Result<std::string> RenderPoolStatus(const json::value& pool) {
  const json::value* groups = Field(pool, "groups");
  const json::value* pending = Field(pool, "pending");
  if (groups == nullptr || !groups->is_array()) {
    return UnexpectedAnswer(InvalidArgument("groups: must be an array"));
  }
  if (pending == nullptr || !pending->is_array()) {
    return UnexpectedAnswer(InvalidArgument("pending: must be an array"));
  }
  const json::value* enabled = Field(pool, "enabled");
  if (enabled != nullptr && enabled->is_bool() && !enabled->as_bool()) {
    return std::string("no node pool (start the control plane with --pool FILE; docs/pool.md)\n");
  }
  Table t({"GROUP", "PROVIDER", "SHAPE", "$/HOUR", "MIN", "MAX", "BOOTING", "READY", "DRAINING"});
  std::string nodes_out, reasons;
  Table nodes({"NODE", "GROUP", "STATE", "NODE ID", "AGE"});
  bool any_node = false;
  for (const json::value& g : groups->as_array()) {
    int booting = 0, ready = 0, draining = 0;
    const json::value* ns = Field(g, "nodes");
    if (ns != nullptr && ns->is_array()) {
      for (const json::value& n : ns->as_array()) {
        const std::string state = Str(n, "state");
        booting += state == "booting" ? 1 : 0;
        ready += state == "ready" ? 1 : 0;
        draining += state == "draining" ? 1 : 0;
        nodes.Add({Str(n, "name"), Str(g, "name"), state,
                   Str(n, "node_id").empty() ? "-" : Str(n, "node_id"),
                   std::to_string(Int(n, "age_s")) + "s"});
        any_node = true;
      }
    }
    std::string shape;
    if (const json::value* s = Field(g, "shape")) {
      if (Int(*s, "gpus") > 0)
        shape = std::to_string(Int(*s, "gpus")) + "x" + Str(*s, "gpu_model") + " ";
      shape += model::FormatCpuMilli(Int(*s, "cpu_milli")) + " CPU " +
               model::FormatMemoryMib(Int(*s, "memory_mib"));
    }
    t.Add({Str(g, "name"), Str(g, "provider"), shape, Str(g, "price_per_hour"), Str(g, "min_nodes"),
           Str(g, "max_nodes"), std::to_string(booting), std::to_string(ready),
           std::to_string(draining)});
    if (!Str(g, "reason").empty())
      reasons += "  " + Str(g, "name") + ": " + Str(g, "reason") + "\n";
  }
  std::string out = t.Render();
  if (!reasons.empty()) out += "\nReasons:\n" + reasons;
  if (any_node) out += "\n" + nodes.Render();
  if (!pending->as_array().empty()) {
    Table p({"PENDING JOB", "WHY"});
    for (const json::value& j : pending->as_array()) p.Add({Str(j, "job_id"), Str(j, "why")});
    out += "\n" + p.Render();
  }
  return out;
}

void RegisterPoolCommands(CLI::App& app, int* exit_code) {
  auto* pool = app.add_subcommand("pool", "The node pool that grows and shrinks (admin)");
  pool->require_subcommand(1);
  auto f = std::make_shared<ClientFlags>();
  auto* status = pool->add_subcommand(
      "status",
      "Show the node groups, their nodes (booting, ready, draining), each group's latest "
      "failure and what the pending jobs wait for");
  AddClientFlags(status, f, {"table", "json"});
  status->callback([f, exit_code] {
    *exit_code =
        RunClientCommand(*f, [](ApiClient& api, const std::string& output) -> Result<std::string> {
          FASTGPU_ASSIGN_OR_RETURN(json::value r, api.Call("GET", "/v1/pool"));
          if (output == "json") return metering::JsonText(r) + "\n";
          return RenderPoolStatus(r);
        });
  });
}

}  // namespace fastgpu::cli

#include "cli/output.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "common/clock.h"
#include "metering/json_text.h"
#include "model/units.h"

namespace fastgpu::cli {

namespace json = boost::json;

namespace {

std::string Str(const json::value& v, std::string_view key) {
  if (!v.is_object()) return "";
  const json::value* f = v.as_object().if_contains(key);
  if (f == nullptr) return "";
  if (f->is_string()) return std::string(f->as_string());
  if (f->is_bool()) return f->as_bool() ? "true" : "false";
  if (f->is_null()) return "";
  return metering::JsonText(*f);
}

int64_t Int(const json::value& v, std::string_view key) {
  if (!v.is_object()) return 0;
  const json::value* f = v.as_object().if_contains(key);
  return f != nullptr && f->is_int64() ? f->as_int64() : 0;
}

bool Bool(const json::value& v, std::string_view key) {
  if (!v.is_object()) return false;
  const json::value* f = v.as_object().if_contains(key);
  return f != nullptr && f->is_bool() && f->as_bool();
}

const json::array& Arr(const json::value& v, std::string_view key) {
  static const json::array kEmpty;
  if (!v.is_object()) return kEmpty;
  const json::value* f = v.as_object().if_contains(key);
  return f != nullptr && f->is_array() ? f->as_array() : kEmpty;
}

std::string Time(int64_t unix_ms) {
  return unix_ms > 0 ? FormatRfc3339(FromUnixMillis(unix_ms)) : "-";
}

// 1500 milli -> "1.5 GPU".
std::string Gpus(int64_t milli) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", milli / 1000.0);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s + " GPU";
}

std::string Shape(const json::value& job) {
  if (!job.is_object() || !job.as_object().contains("shape")) return "";
  return Str(job.at("shape"), "description");
}

// How an allocation ended: the server's "ended" ("signal 15", "exit 0", ...), or its exit
// code from a server that does not say.
std::string Ended(const json::value& alloc) {
  if (alloc.is_object() && alloc.as_object().contains("ended")) return Str(alloc, "ended");
  return Str(alloc, "exit_code");
}

}  // namespace

std::string Table::Render() const {
  std::vector<size_t> width;
  for (const auto& row : rows_) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string RenderJobList(const json::value& list) {
  Table t({"ID", "NAME", "STATE", "SHAPE", "REPLICAS", "ATTEMPTS", "REASON"});
  for (const auto& j : Arr(list, "jobs")) {
    t.Add({Str(j, "id"), Str(j, "name"), Str(j, "state"), Shape(j), Str(j, "replicas"),
           Str(j, "attempts"), Str(j, "reason")});
  }
  std::string out = t.Render();
  if (!Str(list, "next_cursor").empty()) {
    out += "(more: --cursor " + Str(list, "next_cursor") + ")\n";
  }
  return out;
}

std::string RenderJob(const json::value& j) {
  std::ostringstream o;
  o << "id:        " << Str(j, "id") << "\n"
    << "name:      " << Str(j, "name") << "\n"
    << "tenant:    " << Str(j, "tenant_id") << "\n"
    << "state:     " << Str(j, "state") << (Bool(j, "simulated") ? " (simulated GPUs)" : "") << "\n"
    << "reason:    " << Str(j, "reason") << "\n"
    << "shape:     " << Shape(j) << "\n"
    << "replicas:  " << Str(j, "replicas") << "   max retries: " << Str(j, "max_retries")
    << "   attempts: " << Str(j, "attempts") << "\n";
  std::string cmd;
  for (const auto& a : Arr(j, "command")) {
    cmd += (cmd.empty() ? "" : " ") + (a.is_string() ? std::string(a.as_string()) : "?");
  }
  o << "command:   " << cmd << "\n";
  if (!Str(j, "image").empty()) o << "image:     " << Str(j, "image") << "\n";
  o << "created:   " << Time(Int(j, "created_at")) << "\n";
  o << "\nevents:\n";
  Table ev({"  AT", "FROM", "TO", "REASON"});
  for (const auto& e : Arr(j, "events")) {
    ev.Add({"  " + Time(Int(e, "at")), Str(e, "from"), Str(e, "to"), Str(e, "reason")});
  }
  o << ev.Render();
  if (!Arr(j, "allocations").empty()) {
    o << "\nallocations:\n";
    Table al({"  ID", "REPLICA", "NODE", "STATE", "GPUS", "ENDPOINT", "EXIT", "MESSAGE"});
    for (const auto& a : Arr(j, "allocations")) {
      std::string gpus;
      for (const auto& s : Arr(a, "slices")) {
        gpus += (gpus.empty() ? "" : ",") + Str(s, "gpu_index") + ":" + Str(s, "milli") + "m/" +
                Str(s, "isolation");
        // A vm fraction runs as a vGPU type: its share is the type's.
        if (!Str(s, "vm_type").empty()) gpus += "(" + Str(s, "vm_type") + ")";
      }
      std::string endpoint = Str(a, "endpoint");
      if (endpoint.empty()) {
        endpoint = "-";
      } else if (!Bool(a, "ready")) {
        endpoint += " (not ready)";
      }
      al.Add({"  " + Str(a, "allocation_id"), Str(a, "replica"), Str(a, "node_id"), Str(a, "state"),
              gpus, endpoint, Ended(a), Str(a, "message")});
    }
    o << al.Render();
  }
  return o.str();
}

std::string RenderNodeList(const json::value& list) {
  Table t({"ID", "NAME", "STATE", "GPUS", "ALLOCATED", "UNHEALTHY", "LAST HEARTBEAT"});
  for (const auto& n : Arr(list, "nodes")) {
    const auto& gpus = Arr(n, "gpus");
    std::string desc = std::to_string(gpus.size());
    if (!gpus.empty()) desc += "x " + Str(gpus[0], "model");
    if (Bool(n, "simulated")) desc += " (simulated)";
    int64_t milli = 0;
    std::string unhealthy;
    for (const auto& g : gpus) {
      milli += Int(g, "allocated_milli");
      if (!Bool(g, "healthy")) {
        unhealthy +=
            (unhealthy.empty() ? "" : ", ") + Str(g, "index") + ": " + Str(g, "health_reason");
      }
    }
    t.Add({Str(n, "id"), Str(n, "name"), Str(n, "state"), desc, Gpus(milli),
           unhealthy.empty() ? "-" : unhealthy, Time(Int(n, "last_heartbeat"))});
  }
  return t.Render() + RenderVmOffers(list);
}

std::string RenderVmOffers(const json::value& list) {
  std::string out;
  for (const auto& n : Arr(list, "nodes")) {
    for (const auto& g : Arr(n, "gpus")) {
      const json::object* vm = nullptr;
      if (g.is_object()) {
        const json::value* f = g.as_object().if_contains("vm");
        if (f != nullptr && f->is_object()) vm = &f->as_object();
      }
      if (vm == nullptr) continue;
      const json::value offer(*vm);
      std::string what = Bool(offer, "passthrough") ? "passthrough" : "";
      for (const auto& t : Arr(offer, "types")) {
        what += (what.empty() ? "" : ", ") + Str(t, "name") + " (" + Gpus(Int(t, "milli")) + ")";
      }
      if (what.empty()) what = "nothing";
      if (!Str(offer, "reason").empty()) what += "; " + Str(offer, "reason");
      out += "  " + Str(n, "id") + " GPU " + Str(g, "index") + ": " + what + "\n";
    }
  }
  return out.empty() ? "" : "\nvm isolation offers:\n" + out;
}

std::string RenderNode(const json::value& n) {
  std::ostringstream o;
  o << "id:        " << Str(n, "id") << "\n"
    << "name:      " << Str(n, "name") << "\n"
    << "state:     " << Str(n, "state") << (Bool(n, "simulated") ? " (simulated GPUs)" : "")
    << "\n"
    << "heartbeat: " << Time(Int(n, "last_heartbeat")) << "\n";
  if (!Str(n, "overcommitted").empty()) o << "over-committed: " << Str(n, "overcommitted") << "\n";
  o << "\ngpus:\n";
  Table t({"  INDEX", "MODEL", "ALLOCATED", "UTIL", "HEALTH"});
  for (const auto& g : Arr(n, "gpus")) {
    const json::value* pct = g.is_object() ? g.as_object().if_contains("utilization_pct") : nullptr;
    t.Add({"  " + Str(g, "index"), Str(g, "model"), Gpus(Int(g, "allocated_milli")),
           pct != nullptr && pct->is_int64() ? std::to_string(pct->as_int64()) + "%" : "-",
           Bool(g, "healthy") ? "healthy" : Str(g, "health_reason")});
  }
  o << t.Render();
  return o.str();
}

std::string RenderTenantList(const json::value& list) {
  Table t({"ID", "NAME", "ADMIN", "MAX GPU", "CREATED"});
  for (const auto& x : Arr(list, "tenants")) {
    int64_t max = Int(x, "max_gpu_milli");
    t.Add({Str(x, "id"), Str(x, "name"), Bool(x, "admin") ? "yes" : "no",
           max == 0 ? "unlimited" : std::to_string(max) + "m", Time(Int(x, "created_at"))});
  }
  return t.Render();
}

std::string RenderTokenList(const json::value& list) {
  Table t({"ID", "TENANT", "NAME", "REVOKED", "CREATED"});
  for (const auto& x : Arr(list, "tokens")) {
    t.Add({Str(x, "id"), Str(x, "tenant_id"), Str(x, "name"), Bool(x, "revoked") ? "yes" : "no",
           Time(Int(x, "created_at"))});
  }
  return t.Render();
}

std::string RenderTenant(const json::value& x) {
  const json::value* root = x.is_object() ? x.as_object().if_contains("allow_root") : nullptr;
  bool allow_root = root != nullptr && root->is_bool() && root->as_bool();
  return "tenant " + Str(x, "name") + " (" + Str(x, "id") + ")" +
         (allow_root ? ": its jobs may run as root (job submit --root)" : "") + "\n";
}

std::string RenderToken(const json::value& x) {
  std::string out = "token " + Str(x, "id") + " for " + Str(x, "tenant_id") + "\n";
  if (!Str(x, "token").empty()) {
    out += "secret (shown once, keep it): " + Str(x, "token") + "\n";
  } else {
    out += "the secret was shown only when the token was created\n";
  }
  return out;
}

}  // namespace fastgpu::cli

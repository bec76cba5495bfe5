#include "server/pool_config.h"

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "model/units.h"

namespace fastgpu::server {

namespace json = boost::json;

namespace {

Status Bad(const std::string& field, const std::string& why) {
  return InvalidArgument("pool file: " + field + ": " + why);
}

// Refuses any key of `obj` not in `allowed`.
Status CheckKeys(const json::object& obj, const std::string& where,
                 std::initializer_list<std::string_view> allowed) {
  for (const auto& kv : obj) {
    if (std::find(allowed.begin(), allowed.end(), kv.key()) == allowed.end()) {
      return Bad(where + (where.empty() ? "" : ".") + std::string(kv.key()), "unknown field");
    }
  }
  return OkStatus();
}

Result<const json::object*> Object(const json::value& v, const std::string& field) {
  if (!v.is_object()) return Bad(field, "must be an object");
  return &v.get_object();
}

Result<std::string> String(const json::object& o, std::string_view key, const std::string& field,
                           bool required) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) {
    if (required) return Bad(field, "required");
    return std::string();
  }
  if (!v->is_string()) return Bad(field, "must be a string");
  return std::string(v->get_string());
}

Result<int64_t> Integer(const json::object& o, std::string_view key, const std::string& field,
                        int64_t fallback, int64_t lo, int64_t hi) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return fallback;
  int64_t n = 0;
  if (v->is_int64()) {
    n = v->get_int64();
  } else if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(hi)) {
    n = static_cast<int64_t>(v->get_uint64());
  } else {
    return Bad(field, "must be an integer");
  }
  if (n < lo || n > hi) {
    return Bad(field, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  }
  return n;
}

// "64", 64 or "500m" for CPU; "512GiB" or a number of MiB for memory.
Result<int64_t> Amount(const json::object& o, std::string_view key, const std::string& field,
                       bool cpu) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return Bad(field, "required");
  std::string text;
  if (v->is_string()) {
    text = std::string(v->get_string());
  } else if (v->is_int64()) {
    text = std::to_string(v->get_int64());
  } else {
    return Bad(field, "must be a string such as " + std::string(cpu ? "\"64\"" : "\"512GiB\""));
  }
  auto n = cpu ? model::ParseCpuMilli(text) : model::ParseMemoryMib(text);
  if (!n.ok()) return Bad(field, n.status().message());
  if (*n <= 0) return Bad(field, "must be positive");
  return *n;
}

bool ValidGroupName(const std::string& name) {
  if (name.empty() || name.size() > 40) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

Result<NodeGroupConfig> ParseGroup(const json::value& value, const std::string& at) {
  FASTGPU_ASSIGN_OR_RETURN(const json::object* o, Object(value, at));
  FASTGPU_RETURN_IF_ERROR(
      CheckKeys(*o, at,
                {"name", "provider", "min_nodes", "max_nodes", "shape", "price_per_hour",
                 "boot_timeout_s", "scale_down_after_s", "exec", "simulated"}));
  NodeGroupConfig g;
  FASTGPU_ASSIGN_OR_RETURN(g.name, String(*o, "name", at + ".name", true));
  if (!ValidGroupName(g.name)) {
    return Bad(at + ".name", "must be 1-40 characters of a-z, 0-9 and '-'");
  }
  FASTGPU_ASSIGN_OR_RETURN(g.provider, String(*o, "provider", at + ".provider", true));
  const auto& names = PoolProviderNames();
  if (std::find(names.begin(), names.end(), g.provider) == names.end()) {
    return Bad(at + ".provider",
               "unknown provider \"" + g.provider + "\" (known: exec, simulated)");
  }
  FASTGPU_ASSIGN_OR_RETURN(int64_t min_nodes,
                           Integer(*o, "min_nodes", at + ".min_nodes", 0, 0, 10000));
  FASTGPU_ASSIGN_OR_RETURN(int64_t max_nodes,
                           Integer(*o, "max_nodes", at + ".max_nodes", 1, 1, 10000));
  if (min_nodes > max_nodes) {
    return Bad(at + ".min_nodes", "min_nodes (" + std::to_string(min_nodes) +
                                      ") is above max_nodes (" + std::to_string(max_nodes) + ")");
  }
  g.min_nodes = static_cast<int>(min_nodes);
  g.max_nodes = static_cast<int>(max_nodes);

  const json::value* shape = o->if_contains("shape");
  if (shape == nullptr) return Bad(at + ".shape", "required");
  const std::string sat = at + ".shape";
  FASTGPU_ASSIGN_OR_RETURN(const json::object* s, Object(*shape, sat));
  FASTGPU_RETURN_IF_ERROR(CheckKeys(*s, sat, {"gpu_model", "gpus", "cpu", "memory"}));
  FASTGPU_ASSIGN_OR_RETURN(g.shape.gpu_model, String(*s, "gpu_model", sat + ".gpu_model", false));
  FASTGPU_ASSIGN_OR_RETURN(int64_t gpus, Integer(*s, "gpus", sat + ".gpus", 0, 0, 64));
  g.shape.gpus = static_cast<int>(gpus);
  if (g.shape.gpus > 0 && g.shape.gpu_model.empty()) {
    return Bad(sat + ".gpu_model", "required when gpus is above 0");
  }
  FASTGPU_ASSIGN_OR_RETURN(g.shape.cpu_milli, Amount(*s, "cpu", sat + ".cpu", true));
  FASTGPU_ASSIGN_OR_RETURN(g.shape.memory_mib, Amount(*s, "memory", sat + ".memory", false));

  if (const json::value* p = o->if_contains("price_per_hour")) {
    if (!p->is_number()) return Bad(at + ".price_per_hour", "must be a number");
    g.price_per_hour = p->to_number<double>();
    if (!(g.price_per_hour >= 0)) return Bad(at + ".price_per_hour", "must be 0 or more");
  }
  FASTGPU_ASSIGN_OR_RETURN(int64_t boot,
                           Integer(*o, "boot_timeout_s", at + ".boot_timeout_s", 600, 1, 86400));
  g.boot_timeout = std::chrono::seconds(boot);
  FASTGPU_ASSIGN_OR_RETURN(int64_t down, Integer(*o, "scale_down_after_s",
                                                 at + ".scale_down_after_s", 600, 0, 7 * 86400));
  g.scale_down_after = std::chrono::seconds(down);

  const json::value* exec = o->if_contains("exec");
  const json::value* sim = o->if_contains("simulated");
  if (exec != nullptr && g.provider != "exec") {
    return Bad(at + ".exec", "only for provider \"exec\"");
  }
  if (sim != nullptr && g.provider != "simulated") {
    return Bad(at + ".simulated", "only for provider \"simulated\"");
  }
  if (g.provider == "exec") {
    if (exec == nullptr) return Bad(at + ".exec", "required for provider \"exec\"");
    const std::string eat = at + ".exec";
    FASTGPU_ASSIGN_OR_RETURN(const json::object* e, Object(*exec, eat));
    FASTGPU_RETURN_IF_ERROR(CheckKeys(*e, eat, {"command", "timeout_s"}));
    const json::value* cmd = e->if_contains("command");
    if (cmd == nullptr) return Bad(eat + ".command", "required");
    if (!cmd->is_array() || cmd->get_array().empty()) {
      return Bad(eat + ".command", "must be a non-empty array of strings");
    }
    for (const auto& part : cmd->get_array()) {
      if (!part.is_string() || part.get_string().empty()) {
        return Bad(eat + ".command", "must be a non-empty array of non-empty strings");
      }
      g.exec.command.emplace_back(part.get_string());
    }
    FASTGPU_ASSIGN_OR_RETURN(int64_t t, Integer(*e, "timeout_s", eat + ".timeout_s", 60, 1, 3600));
    g.exec.timeout = std::chrono::seconds(t);
  }
  if (sim != nullptr) {
    const std::string sat2 = at + ".simulated";
    FASTGPU_ASSIGN_OR_RETURN(const json::object* so, Object(*sim, sat2));
    FASTGPU_RETURN_IF_ERROR(CheckKeys(*so, sat2, {"boot_delay_s"}));
    FASTGPU_ASSIGN_OR_RETURN(int64_t d,
                             Integer(*so, "boot_delay_s", sat2 + ".boot_delay_s", 5, 0, 86400));
    g.simulated.boot_delay = std::chrono::seconds(d);
  }
  return g;
}

}  // namespace

const std::vector<std::string>& PoolProviderNames() {
  static const std::vector<std::string> kNames = {"exec", "simulated"};
  return kNames;
}

Result<PoolConfig> ParsePoolConfig(std::string_view json_text) {
  boost::system::error_code ec;
  json::value root = json::parse(json_text, ec);
  if (ec) return InvalidArgument("pool file: not valid JSON: " + ec.message());
  FASTGPU_ASSIGN_OR_RETURN(const json::object* o, Object(root, "(top level)"));
  FASTGPU_RETURN_IF_ERROR(CheckKeys(*o, "", {"groups"}));
  const json::value* groups = o->if_contains("groups");
  if (groups == nullptr) return Bad("groups", "required");
  if (!groups->is_array() || groups->get_array().empty()) {
    return Bad("groups", "must be a non-empty array");
  }
  PoolConfig config;
  std::set<std::string> names;
  for (size_t i = 0; i < groups->get_array().size(); ++i) {
    const std::string at = "groups[" + std::to_string(i) + "]";
    FASTGPU_ASSIGN_OR_RETURN(NodeGroupConfig g, ParseGroup(groups->get_array()[i], at));
    if (!names.insert(g.name).second) {
      return Bad(at + ".name", "group \"" + g.name + "\" is named twice");
    }
    config.groups.push_back(std::move(g));
  }
  return config;
}

Result<PoolConfig> LoadPoolFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("pool file " + path + ": cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  auto config = ParsePoolConfig(ss.str());
  if (!config.ok()) return config.status().WithContext(path);
  return config;
}

bool CanShrink(const PoolConfig& config) {
  for (const NodeGroupConfig& g : config.groups) {
    if (g.min_nodes < g.max_nodes) return true;
  }
  return false;
}

}  // namespace fastgpu::server

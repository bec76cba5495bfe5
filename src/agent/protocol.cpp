#include "agent/protocol.h"

#include <boost/json.hpp>

namespace fastgpu {
namespace {

namespace json = boost::json;

Result<json::object> ParseObject(std::string_view body, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return InvalidArgument(std::string(what) + ": not JSON: " + ec.message());
  if (!v.is_object()) return InvalidArgument(std::string(what) + ": not a JSON object");
  return std::move(v.as_object());
}

Status Missing(std::string_view field) {
  return InvalidArgument("field '" + std::string(field) + "' is missing or has the wrong type");
}

Status ReadString(const json::object& o, std::string_view key, std::string* out, bool required) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return required ? Missing(key) : OkStatus();
  if (!v->is_string()) return Missing(key);
  *out = std::string(v->as_string());
  return OkStatus();
}

template <class Int>
Status ReadInt(const json::object& o, std::string_view key, Int* out, bool required) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return required ? Missing(key) : OkStatus();
  if (v->is_int64()) {
    *out = static_cast<Int>(v->as_int64());
  } else if (v->is_uint64()) {
    *out = static_cast<Int>(v->as_uint64());
  } else if (v->is_double() &&
             v->as_double() == static_cast<double>(static_cast<int64_t>(v->as_double()))) {
    *out = static_cast<Int>(v->as_double());
  } else {
    return Missing(key);
  }
  return OkStatus();
}

json::array GpusToJson(const std::vector<Gpu>& gpus, bool full) {
  json::array out;
  for (const Gpu& g : gpus) {
    json::object o;
    o["index"] = g.index;
    if (full) {
      o["uuid"] = g.uuid;
      o["model"] = g.model;
      o["memory_mib"] = g.memory_mib;
    }
    o["healthy"] = g.healthy;
    o["health_reason"] = g.health_reason;
    if (full) {
      o["mig_enabled"] = g.mig_enabled;
      o["simulated"] = g.simulated;
    }
    out.push_back(std::move(o));
  }
  return out;
}

json::object DesiredToJson(const DesiredReplica& d) {
  const Allocation& a = d.allocation;
  json::object o;
  o["allocation_id"] = a.id;
  o["job_id"] = a.job_id;
  o["replica"] = a.replica;
  o["replicas"] = d.replicas;
  json::array cmd;
  for (const auto& c : d.command) cmd.push_back(json::string(c));
  o["command"] = std::move(cmd);
  json::object env;
  for (const auto& [k, v] : d.env) env[k] = v;
  o["env"] = std::move(env);
  if (!d.image.empty()) o["image"] = d.image;
  o["cpu_milli"] = a.cpu_milli;
  o["memory_mib"] = a.memory_mib;
  o["gpu_model"] = a.gpu_model;
  json::array slices;
  for (const VgpuSlice& s : a.slices) {
    slices.push_back(json::object{{"gpu_index", s.gpu_index},
                                  {"gpu_uuid", s.gpu_uuid},
                                  {"milli", s.milli},
                                  {"memory_mib", s.memory_mib},
                                  {"isolation", std::string(IsolationName(s.isolation))}});
  }
  o["slices"] = std::move(slices);
  return o;
}

Result<DesiredReplica> DesiredFromJson(const json::value& v) {
  if (!v.is_object()) return InvalidArgument("allocation is not an object");
  const json::object& o = v.as_object();
  DesiredReplica d;
  Allocation& a = d.allocation;
  FASTGPU_RETURN_IF_ERROR(ReadString(o, "allocation_id", &a.id, true));
  auto ctx = "allocation " + a.id;
  FASTGPU_RETURN_IF_ERROR(ReadString(o, "job_id", &a.job_id, true).WithContext(ctx));
  FASTGPU_RETURN_IF_ERROR(ReadInt(o, "replica", &a.replica, false).WithContext(ctx));
  FASTGPU_RETURN_IF_ERROR(ReadInt(o, "replicas", &d.replicas, false).WithContext(ctx));
  FASTGPU_RETURN_IF_ERROR(ReadInt(o, "cpu_milli", &a.cpu_milli, false).WithContext(ctx));
  FASTGPU_RETURN_IF_ERROR(ReadInt(o, "memory_mib", &a.memory_mib, false).WithContext(ctx));
  FASTGPU_RETURN_IF_ERROR(ReadString(o, "gpu_model", &a.gpu_model, false).WithContext(ctx));
  FASTGPU_RETURN_IF_ERROR(ReadString(o, "image", &d.image, false).WithContext(ctx));
  const json::value* cmd = o.if_contains("command");
  if (cmd == nullptr || !cmd->is_array()) return Missing("command").WithContext(ctx);
  for (const json::value& c : cmd->as_array()) {
    if (!c.is_string()) return Missing("command").WithContext(ctx);
    d.command.emplace_back(c.as_string());
  }
  if (const json::value* env = o.if_contains("env"); env != nullptr && !env->is_null()) {
    if (!env->is_object()) return Missing("env").WithContext(ctx);
    for (const auto& [k, val] : env->as_object()) {
      if (!val.is_string()) return Missing("env." + std::string(k)).WithContext(ctx);
      d.env[std::string(k)] = std::string(val.as_string());
    }
  }
  if (const json::value* slices = o.if_contains("slices");
      slices != nullptr && !slices->is_null()) {
    if (!slices->is_array()) return Missing("slices").WithContext(ctx);
    for (const json::value& sv : slices->as_array()) {
      if (!sv.is_object()) return Missing("slices[]").WithContext(ctx);
      const json::object& so = sv.as_object();
      VgpuSlice s;
      std::string iso;
      FASTGPU_RETURN_IF_ERROR(ReadInt(so, "gpu_index", &s.gpu_index, true).WithContext(ctx));
      FASTGPU_RETURN_IF_ERROR(ReadString(so, "gpu_uuid", &s.gpu_uuid, false).WithContext(ctx));
      FASTGPU_RETURN_IF_ERROR(ReadInt(so, "milli", &s.milli, true).WithContext(ctx));
      FASTGPU_RETURN_IF_ERROR(ReadInt(so, "memory_mib", &s.memory_mib, false).WithContext(ctx));
      FASTGPU_RETURN_IF_ERROR(ReadString(so, "isolation", &iso, true).WithContext(ctx));
      auto parsed = ParseIsolation(iso);
      if (!parsed.ok()) return parsed.status().WithContext(ctx);
      s.isolation = *parsed;
      a.slices.push_back(std::move(s));
    }
  }
  return d;
}

}  // namespace

std::string EncodeRegister(const RegisterRequest& req) {
  json::object o;
  o["name"] = req.name;
  o["agent_id"] = req.agent_id;
  if (!req.node_secret.empty()) o["node_secret"] = req.node_secret;
  o["cpu_milli"] = req.cpu_milli;
  o["memory_mib"] = req.memory_mib;
  o["simulated"] = req.simulated;
  o["gpus"] = GpusToJson(req.gpus, true);
  return json::serialize(o);
}

Result<RegisterResponse> DecodeRegisterResponse(std::string_view body) {
  FASTGPU_ASSIGN_OR_RETURN(json::object o, ParseObject(body, "register answer"));
  RegisterResponse r;
  FASTGPU_RETURN_IF_ERROR(ReadString(o, "node_id", &r.node_id, true));
  FASTGPU_RETURN_IF_ERROR(ReadString(o, "node_token", &r.node_token, true));
  FASTGPU_RETURN_IF_ERROR(ReadString(o, "node_secret", &r.node_secret, false));
  FASTGPU_RETURN_IF_ERROR(ReadInt(o, "heartbeat_interval_ms", &r.heartbeat_interval_ms, false));
  FASTGPU_RETURN_IF_ERROR(ReadInt(o, "lease_ms", &r.lease_ms, false));
  if (r.node_id.empty() || r.node_token.empty()) {
    return InvalidArgument("register answer: empty node_id or node_token");
  }
  return r;
}

std::string EncodeHeartbeat(const HeartbeatRequest& req) {
  json::object o;
  o["gpus"] = GpusToJson(req.gpus, false);
  json::array replicas;
  for (const ReplicaReport& r : req.replicas) {
    json::object ro;
    ro["allocation_id"] = r.allocation_id;
    ro["state"] = r.state;
    if (r.pid > 0) ro["pid"] = r.pid;
    if (r.started_at_ms > 0) ro["started_at"] = r.started_at_ms;
    if (r.state == "exited") {
      ro["exit_code"] = r.exit_code;
      ro["signal"] = r.signal;
      ro["ended_at"] = r.ended_at_ms;
    } else if (r.ended_at_ms > 0) {
      ro["ended_at"] = r.ended_at_ms;
    }
    if (!r.message.empty()) ro["message"] = r.message;
    if (!r.reason.empty()) ro["reason"] = r.reason;
    replicas.push_back(std::move(ro));
  }
  o["replicas"] = std::move(replicas);
  return json::serialize(o);
}

Result<HeartbeatResponse> DecodeHeartbeatResponse(std::string_view body) {
  FASTGPU_ASSIGN_OR_RETURN(json::object o, ParseObject(body, "heartbeat answer"));
  HeartbeatResponse r;
  FASTGPU_RETURN_IF_ERROR(ReadInt(o, "lease_ms", &r.lease_ms, false));
  if (const json::value* allocs = o.if_contains("allocations");
      allocs != nullptr && !allocs->is_null()) {
    if (!allocs->is_array()) return Missing("allocations");
    for (const json::value& v : allocs->as_array()) {
      FASTGPU_ASSIGN_OR_RETURN(DesiredReplica d, DesiredFromJson(v));
      r.allocations.push_back(std::move(d));
    }
  }
  if (const json::value* cancel = o.if_contains("cancel");
      cancel != nullptr && !cancel->is_null()) {
    if (!cancel->is_array()) return Missing("cancel");
    for (const json::value& v : cancel->as_array()) {
      if (!v.is_string()) return Missing("cancel[]");
      r.cancel.emplace_back(v.as_string());
    }
  }
  return r;
}

std::string EncodeLogShipment(const LogShipment& chunk) {
  json::object o{
      {"allocation_id", chunk.allocation_id}, {"offset", chunk.offset}, {"data", chunk.data}};
  if (chunk.final) o["final"] = true;
  return json::serialize(o);
}

Result<int64_t> DecodeLogResponse(std::string_view body) {
  FASTGPU_ASSIGN_OR_RETURN(json::object o, ParseObject(body, "logs answer"));
  int64_t next = 0;
  FASTGPU_RETURN_IF_ERROR(ReadInt(o, "next_offset", &next, true));
  return next;
}

std::string EncodeDesiredReplica(const DesiredReplica& d) {
  return json::serialize(DesiredToJson(d));
}

Result<DesiredReplica> DecodeDesiredReplica(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return InvalidArgument("allocation: not JSON: " + ec.message());
  return DesiredFromJson(v);
}

std::string SanitizeUtf8(std::string_view bytes, bool hold_incomplete, size_t* consumed) {
  std::string out;
  out.reserve(bytes.size());
  size_t i = 0;
  const size_t n = bytes.size();
  auto cont = [&](size_t k) {
    return k < n && (static_cast<unsigned char>(bytes[k]) & 0xC0) == 0x80;
  };
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 1) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    bool ok = len > 0 && c != 0xC0 && c != 0xC1 && c <= 0xF4;
    size_t k = 1;
    for (; ok && k < len; ++k) {
      if (i + k >= n) break;  // truncated at the end
      if (!cont(i + k)) ok = false;
    }
    if (ok && i + len > n) {
      if (hold_incomplete) break;  // wait for the rest
      ok = false;
    }
    if (ok && len >= 3) {  // overlong, surrogate and too-large forms
      unsigned char c1 = static_cast<unsigned char>(bytes[i + 1]);
      if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) || (c == 0xF0 && c1 < 0x90) ||
          (c == 0xF4 && c1 >= 0x90)) {
        ok = false;
      }
    }
    if (ok) {
      out.append(bytes.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  if (consumed != nullptr) *consumed = i;
  return out;
}

}  // namespace fastgpu

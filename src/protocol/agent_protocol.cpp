#include "protocol/agent_protocol.h"

#include <boost/json.hpp>
#include <limits>

namespace fastgpu::protocol {
namespace {

namespace json = boost::json;

constexpr int64_t kMaxMib = int64_t{1} << 40;
constexpr int64_t kMaxMillis = int64_t{1} << 50;  // Unix ms, and byte offsets of a log

// Parses a message's body and decodes it with `decode`, its errors prefixed by `what`.
template <class T, class Fn>
Result<T> DecodeMessage(std::string_view body, std::string_view what, Fn decode) {
  auto v = model::ParseJson(body);
  if (!v.ok()) return v.status().WithContext(what);
  T out;
  model::JsonObjectReader r(*v);
  decode(r, out);
  Status st = r.Finish();
  if (!st.ok()) return st.WithContext(what);
  return out;
}

// Reads "protocol_version" (absent: 1) and refuses a peer too old for this build.
void ReadVersion(model::JsonObjectReader& r, int& version) {
  version = 1;
  r.Int("protocol_version", version, 1, 1 << 20);
  if (r.ok() && version < kMinAgentProtocolVersion) {
    r.Fail("protocol_version", "version " + std::to_string(version) +
                                   " is older than the oldest this build speaks (" +
                                   std::to_string(kMinAgentProtocolVersion) + ")");
  }
}

std::string Serialize(json::object o) { return json::serialize(o); }

json::array ToArray(const auto& list) {
  json::array a;
  for (const auto& x : list) a.push_back(json::value_from(x));
  return a;
}

}  // namespace

// ---- nested values ----

void tag_invoke(const json::value_from_tag&, json::value& v, const GpuHealthReport& g) {
  json::object o{{"index", g.index}, {"healthy", g.healthy}, {"health_reason", g.health_reason}};
  if (g.utilization_pct >= 0) o["utilization_pct"] = g.utilization_pct;
  v = std::move(o);
}

Status JsonDecode(const json::value& v, const std::string& path, model::UnknownFields unknown,
                  GpuHealthReport& g) {
  model::JsonObjectReader r(v, path, unknown);
  r.Int("index", g.index, 0, 1023, model::Need::kRequired)
      .Bool("healthy", g.healthy)
      .Str("health_reason", g.health_reason)
      .Int("utilization_pct", g.utilization_pct, -1, 100);
  return r.Finish();
}

void tag_invoke(const json::value_from_tag&, json::value& v, const ReplicaReport& r) {
  json::object o;
  o["allocation_id"] = r.allocation_id;
  o["state"] = r.state;
  if (r.pid > 0) o["pid"] = r.pid;
  if (r.started_at_ms > 0) o["started_at"] = r.started_at_ms;
  if (r.state == "exited") {
    o["exit_code"] = r.exit_code;
    o["signal"] = r.signal;
    o["ended_at"] = r.ended_at_ms;
  } else if (r.ended_at_ms > 0) {
    o["ended_at"] = r.ended_at_ms;
  }
  if (!r.message.empty()) o["message"] = r.message;
  if (!r.reason.empty()) o["reason"] = r.reason;
  if (!r.endpoint.empty()) o["endpoint"] = r.endpoint;
  if (r.ready) o["ready"] = true;
  v = std::move(o);
}

Status JsonDecode(const json::value& v, const std::string& path, model::UnknownFields unknown,
                  ReplicaReport& rep) {
  model::JsonObjectReader r(v, path, unknown);
  r.Str("allocation_id", rep.allocation_id, model::Need::kRequired)
      .Str("state", rep.state, model::Need::kRequired)
      .Int("pid", rep.pid, 0, std::numeric_limits<int>::max())
      .Int("exit_code", rep.exit_code, -1000, 1000)
      .Int("signal", rep.signal, 0, 128)
      .Int("started_at", rep.started_at_ms, 0, kMaxMillis)
      .Int("ended_at", rep.ended_at_ms, 0, kMaxMillis)
      .Str("message", rep.message)
      .Str("reason", rep.reason)
      .Str("endpoint", rep.endpoint)
      .Bool("ready", rep.ready);
  if (r.ok() && rep.endpoint.size() > 300) r.Fail("endpoint", "at most 300 characters");
  return r.Finish();
}

void tag_invoke(const json::value_from_tag&, json::value& v, const DesiredReplica& d) {
  const model::Allocation& a = d.allocation;
  json::object o;
  o["allocation_id"] = a.id;
  o["job_id"] = a.job_id;
  o["replica"] = a.replica;
  o["replicas"] = d.replicas;
  json::array cmd;
  for (const auto& c : d.command) cmd.emplace_back(c);
  o["command"] = std::move(cmd);
  json::object env;
  for (const auto& [k, val] : d.env) env[k] = val;
  o["env"] = std::move(env);
  if (d.run_as_root) o["run_as_root"] = true;
  if (!d.image.empty()) o["image"] = d.image;
  if (d.session) o["session"] = true;
  if (d.tty) o["tty"] = true;
  if (d.port) o["port"] = true;
  if (d.readiness.kind != model::ReadinessProbe::Kind::kNone) {
    o["readiness"] = json::value_from(d.readiness);
  }
  o["cpu_milli"] = a.cpu_milli;
  o["memory_mib"] = a.memory_mib;
  o["gpu_model"] = a.gpu_model;
  o["slices"] = ToArray(a.slices);
  v = std::move(o);
}

Status JsonDecode(const json::value& v, const std::string& path, model::UnknownFields unknown,
                  DesiredReplica& d) {
  model::JsonObjectReader r(v, path, unknown);
  model::Allocation& a = d.allocation;
  r.Str("allocation_id", a.id, model::Need::kRequired)
      .Str("job_id", a.job_id, model::Need::kRequired)
      .Int("replica", a.replica, 0, 1023)
      .Int("replicas", d.replicas, 1, 1024)
      .StrList("command", d.command, model::Need::kRequired)
      .StrMap("env", d.env)
      .Bool("run_as_root", d.run_as_root)
      .Str("image", d.image)
      .Bool("session", d.session)
      .Bool("tty", d.tty)
      .Bool("port", d.port)
      .Field("readiness", d.readiness)
      .Int("cpu_milli", a.cpu_milli, 0, kMaxMib)
      .Int("memory_mib", a.memory_mib, 0, kMaxMib)
      .Str("gpu_model", a.gpu_model)
      .List("slices", a.slices);
  return r.Finish();
}

void tag_invoke(const json::value_from_tag&, json::value& v, const ExecRequest& e) {
  json::array cmd;
  for (const auto& c : e.command) cmd.emplace_back(c);
  json::object o{
      {"exec_id", e.exec_id}, {"allocation_id", e.allocation_id}, {"command", std::move(cmd)}};
  if (e.tty) o["tty"] = true;
  v = std::move(o);
}

Status JsonDecode(const json::value& v, const std::string& path, model::UnknownFields unknown,
                  ExecRequest& e) {
  model::JsonObjectReader r(v, path, unknown);
  r.Str("exec_id", e.exec_id, model::Need::kRequired)
      .Str("allocation_id", e.allocation_id, model::Need::kRequired)
      .StrList("command", e.command, model::Need::kRequired)
      .Bool("tty", e.tty);
  return r.Finish();
}

// ---- register ----

std::string EncodeRegister(const RegisterRequest& req) {
  json::object o;
  o["protocol_version"] = req.protocol_version;
  o["name"] = req.name;
  o["agent_id"] = req.agent_id;
  if (!req.node_secret.empty()) o["node_secret"] = req.node_secret;
  o["cpu_milli"] = req.cpu_milli;
  o["memory_mib"] = req.memory_mib;
  o["simulated"] = req.simulated;
  o["gpus"] = ToArray(req.gpus);
  return Serialize(std::move(o));
}

Result<RegisterRequest> DecodeRegister(std::string_view body) {
  return DecodeMessage<RegisterRequest>(
      body, "register", [](model::JsonObjectReader& r, RegisterRequest& req) {
        ReadVersion(r, req.protocol_version);
        r.Str("name", req.name, model::Need::kRequired)
            .Str("agent_id", req.agent_id, model::Need::kRequired)
            .Str("node_secret", req.node_secret)
            .Int("cpu_milli", req.cpu_milli, 0, kMaxMib, model::Need::kRequired)
            .Int("memory_mib", req.memory_mib, 0, kMaxMib, model::Need::kRequired)
            .Bool("simulated", req.simulated)
            .List("gpus", req.gpus);
      });
}

std::string EncodeRegisterResponse(const RegisterResponse& resp) {
  return Serialize({{"protocol_version", resp.protocol_version},
                    {"node_id", resp.node_id},
                    {"node_token", resp.node_token},
                    {"node_secret", resp.node_secret},
                    {"heartbeat_interval_ms", resp.heartbeat_interval_ms},
                    {"lease_ms", resp.lease_ms}});
}

Result<RegisterResponse> DecodeRegisterResponse(std::string_view body) {
  auto r = DecodeMessage<RegisterResponse>(
      body, "register answer", [](model::JsonObjectReader& r, RegisterResponse& resp) {
        ReadVersion(r, resp.protocol_version);
        r.Str("node_id", resp.node_id, model::Need::kRequired)
            .Str("node_token", resp.node_token, model::Need::kRequired)
            .Str("node_secret", resp.node_secret)  // "" from an older control plane
            .Int("heartbeat_interval_ms", resp.heartbeat_interval_ms, 0, kMaxMillis)
            .Int("lease_ms", resp.lease_ms, 0, kMaxMillis);
      });
  if (r.ok() && (r->node_id.empty() || r->node_token.empty())) {
    return InvalidArgument("register answer: empty node_id or node_token");
  }
  return r;
}

// ---- heartbeat ----

std::string EncodeHeartbeat(const HeartbeatRequest& req) {
  return Serialize({{"protocol_version", req.protocol_version},
                    {"gpus", ToArray(req.gpus)},
                    {"replicas", ToArray(req.replicas)}});
}

Result<HeartbeatRequest> DecodeHeartbeat(std::string_view body) {
  return DecodeMessage<HeartbeatRequest>(body, "heartbeat",
                                         [](model::JsonObjectReader& r, HeartbeatRequest& req) {
                                           ReadVersion(r, req.protocol_version);
                                           r.List("gpus", req.gpus).List("replicas", req.replicas);
                                         });
}

std::string EncodeHeartbeatResponse(const HeartbeatResponse& resp) {
  json::array cancel;
  for (const std::string& c : resp.cancel) cancel.emplace_back(c);
  json::object o{{"protocol_version", resp.protocol_version},
                 {"lease_ms", resp.lease_ms},
                 {"allocations", ToArray(resp.allocations)},
                 {"cancel", std::move(cancel)}};
  if (!resp.execs.empty()) o["execs"] = ToArray(resp.execs);
  return Serialize(std::move(o));
}

Result<HeartbeatResponse> DecodeHeartbeatResponse(std::string_view body) {
  return DecodeMessage<HeartbeatResponse>(body, "heartbeat answer",
                                          [](model::JsonObjectReader& r, HeartbeatResponse& resp) {
                                            ReadVersion(r, resp.protocol_version);
                                            r.Int("lease_ms", resp.lease_ms, 0, kMaxMillis)
                                                .List("allocations", resp.allocations)
                                                .StrList("cancel", resp.cancel)
                                                .List("execs", resp.execs);
                                          });
}

// ---- pending execs ----

std::string EncodePendingExecs(const PendingExecs& pending) {
  return Serialize(json::object{{"protocol_version", pending.protocol_version},
                                {"execs", ToArray(pending.execs)}});
}

Result<PendingExecs> DecodePendingExecs(std::string_view body) {
  return DecodeMessage<PendingExecs>(body, "pending execs",
                                     [](model::JsonObjectReader& r, PendingExecs& pending) {
                                       ReadVersion(r, pending.protocol_version);
                                       r.List("execs", pending.execs);
                                     });
}

// ---- logs ----

std::string EncodeLogShipment(const LogShipment& chunk) {
  json::object o{{"protocol_version", chunk.protocol_version},
                 {"allocation_id", chunk.allocation_id},
                 {"offset", chunk.offset},
                 {"data", chunk.data}};
  if (chunk.final) o["final"] = true;
  return Serialize(std::move(o));
}

Result<LogShipment> DecodeLogShipment(std::string_view body) {
  return DecodeMessage<LogShipment>(
      body, "logs", [](model::JsonObjectReader& r, LogShipment& chunk) {
        ReadVersion(r, chunk.protocol_version);
        r.Str("allocation_id", chunk.allocation_id, model::Need::kRequired)
            .Int("offset", chunk.offset, 0, kMaxMillis, model::Need::kRequired)
            .Str("data", chunk.data, model::Need::kRequired)
            .Bool("final", chunk.final);
      });
}

std::string EncodeLogResponse(const LogResponse& resp) {
  return Serialize({{"protocol_version", resp.protocol_version},
                    {"next_offset", resp.next_offset},
                    {"truncated", resp.truncated}});
}

Result<int64_t> DecodeLogResponse(std::string_view body) {
  auto r = DecodeMessage<LogResponse>(
      body, "logs answer", [](model::JsonObjectReader& r, LogResponse& resp) {
        ReadVersion(r, resp.protocol_version);
        r.Int("next_offset", resp.next_offset, 0, kMaxMillis, model::Need::kRequired)
            .Bool("truncated", resp.truncated);
      });
  if (!r.ok()) return r.status();
  return r->next_offset;
}

// ---- the state file's form of a desired replica ----

std::string EncodeDesiredReplica(const DesiredReplica& d) {
  return json::serialize(json::value_from(d));
}

Result<DesiredReplica> DecodeDesiredReplica(std::string_view text) {
  auto v = model::ParseJson(text);
  if (!v.ok()) return v.status().WithContext("allocation");
  Result<DesiredReplica> d = model::FromJson<DesiredReplica>(*v);
  if (!d.ok()) return d.status().WithContext("allocation");
  return d;
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

}  // namespace fastgpu::protocol

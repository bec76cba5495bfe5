#include "agent/state.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstring>
#include <filesystem>

#include "agent/cgroup.h"
#include "agent/files.h"

namespace fastgpu::agent {
namespace {

namespace json = boost::json;

std::string Str(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
}
int64_t Int(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  return 0;
}
bool Bool(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_bool() && v->as_bool();
}

}  // namespace

Result<AgentState> LoadAgentState(const std::string& path, FileEnv& env) {
  auto text = env.ReadFile(path);
  if (!text.ok() && text.status().code() == StatusCode::kNotFound) {
    return NotFound("no state file at " + path);
  }
  if (!text.ok()) return DataLoss("state file: " + text.status().message());
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec || !v.is_object()) return DataLoss("state file " + path + " is not a JSON object");
  const json::object& o = v.as_object();
  AgentState st;
  st.agent_id = Str(o, "agent_id");
  st.node_id = Str(o, "node_id");
  st.node_token = Str(o, "node_token");
  st.node_secret = Str(o, "node_secret");
  if (const json::value* f = o.if_contains("finished"); f != nullptr && f->is_array()) {
    for (const json::value& id : f->as_array()) {
      if (id.is_string()) st.finished.emplace_back(id.as_string());
    }
  }
  if (const json::value* rs = o.if_contains("replicas"); rs != nullptr && rs->is_array()) {
    for (const json::value& rv : rs->as_array()) {
      if (!rv.is_object()) return DataLoss("state file " + path + ": bad replica entry");
      const json::object& r = rv.as_object();
      const json::value* d = r.if_contains("allocation");
      if (d == nullptr) return DataLoss("state file " + path + ": replica without allocation");
      auto desired = protocol::DecodeDesiredReplica(json::serialize(*d));
      if (!desired.ok()) return DataLoss("state file " + path + ": " + desired.status().message());
      ReplicaRecord rec;
      rec.desired = std::move(desired).value();
      rec.state = Str(r, "state");
      rec.handle.shim_pid = static_cast<int>(Int(r, "shim_pid"));
      rec.handle.shim_start = static_cast<uint64_t>(Int(r, "shim_start"));
      rec.handle.pid = static_cast<int>(Int(r, "pid"));
      rec.handle.pid_start = static_cast<uint64_t>(Int(r, "pid_start"));
      rec.dir = Str(r, "dir");
      rec.cgroup = Str(r, "cgroup");
      // Older files kept the v2 folder; its last component is the group's name.
      if (rec.cgroup.empty()) rec.cgroup = Cgroups::NameOf(Str(r, "cgroup_dir"));
      rec.uid = r.contains("uid") ? Int(r, "uid") : -1;
      if (const json::value* m = r.if_contains("mig_instances"); m != nullptr && m->is_array()) {
        for (const json::value& u : m->as_array()) {
          if (u.is_string()) rec.mig_instances.emplace_back(u.as_string());
        }
      }
      if (const json::value* m = r.if_contains("mps_gpus"); m != nullptr && m->is_array()) {
        for (const json::value& u : m->as_array()) {
          if (u.is_string()) rec.mps_gpus.emplace_back(u.as_string());
        }
      }
      rec.exit_code = static_cast<int>(Int(r, "exit_code"));
      rec.signal = static_cast<int>(Int(r, "signal"));
      rec.started_at_ms = Int(r, "started_at");
      rec.ended_at_ms = Int(r, "ended_at");
      rec.message = Str(r, "message");
      rec.note = Str(r, "note");
      rec.reason = Str(r, "reason");
      rec.log_file_offset = Int(r, "log_file_offset");
      rec.log_server_offset = Int(r, "log_server_offset");
      rec.stop_sent_at_ms = Int(r, "stop_sent_at");
      rec.kill_sent = Bool(r, "kill_sent");
      rec.unlisted = Bool(r, "unlisted");
      rec.log_final_sent = Bool(r, "log_final_sent");
      rec.port = static_cast<int>(Int(r, "port"));
      if (rec.port < 0 || rec.port > 65535) rec.port = 0;
      st.replicas.push_back(std::move(rec));
    }
  }
  return st;
}

Status SaveAgentState(const std::string& path, const AgentState& state, FileEnv& env) {
  json::object o;
  o["version"] = 1;
  o["agent_id"] = state.agent_id;
  o["node_id"] = state.node_id;
  o["node_token"] = state.node_token;
  o["node_secret"] = state.node_secret;
  json::array finished;
  for (const std::string& id : state.finished) finished.push_back(json::string(id));
  o["finished"] = std::move(finished);
  json::array replicas;
  for (const ReplicaRecord& rec : state.replicas) {
    json::object r;
    boost::system::error_code ec;
    json::value allocation = json::parse(protocol::EncodeDesiredReplica(rec.desired), ec);
    if (ec) return Internal("state: cannot encode allocation " + rec.id() + ": " + ec.message());
    r["allocation"] = std::move(allocation);
    r["state"] = rec.state;
    r["shim_pid"] = rec.handle.shim_pid;
    r["shim_start"] = rec.handle.shim_start;
    r["pid"] = rec.handle.pid;
    r["pid_start"] = rec.handle.pid_start;
    r["dir"] = rec.dir;
    r["cgroup"] = rec.cgroup;
    r["uid"] = rec.uid;
    json::array mig;
    for (const std::string& u : rec.mig_instances) mig.push_back(json::string(u));
    r["mig_instances"] = std::move(mig);
    json::array mps;
    for (const std::string& u : rec.mps_gpus) mps.push_back(json::string(u));
    r["mps_gpus"] = std::move(mps);
    r["exit_code"] = rec.exit_code;
    r["signal"] = rec.signal;
    r["started_at"] = rec.started_at_ms;
    r["ended_at"] = rec.ended_at_ms;
    r["message"] = rec.message;
    r["note"] = rec.note;
    if (!rec.reason.empty()) r["reason"] = rec.reason;
    r["log_file_offset"] = rec.log_file_offset;
    r["log_server_offset"] = rec.log_server_offset;
    r["stop_sent_at"] = rec.stop_sent_at_ms;
    r["kill_sent"] = rec.kill_sent;
    r["unlisted"] = rec.unlisted;
    r["log_final_sent"] = rec.log_final_sent;
    if (rec.port > 0) r["port"] = rec.port;
    replicas.push_back(std::move(r));
  }
  o["replicas"] = std::move(replicas);
  return WriteFileAtomically(env, path, json::serialize(o));
}

}  // namespace fastgpu::agent

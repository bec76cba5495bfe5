#include "model/service_json.h"

namespace fastgpu::model {

namespace json = boost::json;

namespace {

constexpr int64_t kMaxSeconds = int64_t{30} * 24 * 3600;

}  // namespace

Status JsonDecode(const json::value& v, const std::string& path, UnknownFields unknown,
                  ServiceReadiness& out) {
  JsonObjectReader r(v, path, unknown);
  r.Str("http", out.http_path).Bool("tcp", out.tcp);
  return r.Finish();
}

Status JsonDecode(const json::value& v, const std::string& path, UnknownFields unknown,
                  ServiceSpec& s) {
  JsonObjectReader r(v, path, unknown);
  r.Str("name", s.name, Need::kRequired)
      .StrList("command", s.command, Need::kRequired)
      .StrMap("env", s.env)
      .Field("shape", s.shape)
      .Bool("port", s.port)
      .Field("readiness", s.readiness)
      .Int("min_replicas", s.min_replicas, 0, kMaxServiceReplicas)
      .Int("max_replicas", s.max_replicas, 0, kMaxServiceReplicas)
      .Double("target_rps", s.target_rps)
      .Int("target_gpu_util", s.target_gpu_util, 0, 100)
      .Int("idle_timeout_s", s.idle_timeout_s, 1, kMaxSeconds)
      .Int("scale_down_delay_s", s.scale_down_delay_s, 0, kMaxSeconds)
      .Str("image", s.image)
      .Bool("run_as_root", s.run_as_root);
  return r.Finish();
}

void tag_invoke(const json::value_from_tag&, json::value& v, const ServiceReadiness& p) {
  json::object o;
  if (!p.http_path.empty()) o["http"] = p.http_path;
  if (p.tcp) o["tcp"] = true;
  v = std::move(o);
}

void tag_invoke(const json::value_from_tag&, json::value& v, const ServiceSpec& s) {
  json::array command;
  for (const std::string& arg : s.command) command.emplace_back(arg);
  json::object env;
  for (const auto& [k, val] : s.env) env[k] = val;
  json::object o{{"name", s.name},
                 {"command", std::move(command)},
                 {"env", std::move(env)},
                 {"shape", json::value_from(s.shape)},
                 {"port", s.port},
                 {"min_replicas", s.min_replicas},
                 {"max_replicas", s.max_replicas},
                 {"target_rps", s.target_rps},
                 {"target_gpu_util", s.target_gpu_util},
                 {"idle_timeout_s", s.idle_timeout_s},
                 {"scale_down_delay_s", s.scale_down_delay_s},
                 {"image", s.image}};
  if (!s.readiness.empty()) o["readiness"] = json::value_from(s.readiness);
  if (s.run_as_root) o["run_as_root"] = true;
  v = std::move(o);
}

void tag_invoke(const json::value_from_tag&, json::value& v, const Service& s) {
  json::array jobs;
  for (const std::string& id : s.replica_jobs) jobs.emplace_back(id);
  v = json::object{{"id", s.id},
                   {"tenant_id", s.tenant_id},
                   {"name", s.spec.name},
                   {"spec", json::value_from(s.spec)},
                   {"replicas", s.replicas},
                   {"generation", s.generation},
                   {"state", ServiceStateName(s.state)},
                   {"reason", s.reason},
                   {"replica_jobs", std::move(jobs)},
                   {"created_at", ToUnixMillis(s.created_at)},
                   {"updated_at", ToUnixMillis(s.updated_at)}};
}

}  // namespace fastgpu::model

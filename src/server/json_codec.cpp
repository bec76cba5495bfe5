#include "server/json_codec.h"

#include "common/clock.h"

namespace fastgpu::server {

Result<json::object> ParseObject(std::string_view body) {
  boost::system::error_code ec;
  json::parse_options opts;
  opts.max_depth = 32;
  json::value v = json::parse(body, ec, {}, opts);
  if (ec) return InvalidArgument("body is not valid JSON: " + ec.message());
  if (!v.is_object()) return InvalidArgument("body must be a JSON object");
  return std::move(v.as_object());
}

FieldReader::FieldReader(const json::object& obj, std::string prefix)
    : obj_(obj), prefix_(std::move(prefix)) {}

std::string FieldReader::Path(std::string_view key) const {
  return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
}

const json::value* FieldReader::Find(std::string_view key) {
  seen_.insert(std::string(key));
  const json::value* v = obj_.if_contains(key);
  if (v == nullptr || v->is_null()) return nullptr;
  return v;
}

Status FieldReader::String(std::string_view key, std::string& out, bool required) {
  const json::value* v = Find(key);
  if (v == nullptr) {
    return required ? InvalidArgument(Path(key) + ": is required") : OkStatus();
  }
  if (!v->is_string()) return InvalidArgument(Path(key) + ": must be a string");
  out = std::string(v->as_string());
  return OkStatus();
}

Status FieldReader::Int(std::string_view key, int64_t& out, int64_t min, int64_t max,
                        bool required) {
  const json::value* v = Find(key);
  if (v == nullptr) {
    return required ? InvalidArgument(Path(key) + ": is required") : OkStatus();
  }
  int64_t n = 0;
  if (v->is_int64()) {
    n = v->as_int64();
  } else if (v->is_uint64()) {
    return InvalidArgument(Path(key) + ": out of range");
  } else if (v->is_double() &&
             v->as_double() == static_cast<double>(static_cast<int64_t>(v->as_double())) &&
             std::abs(v->as_double()) < 9e15) {
    n = static_cast<int64_t>(v->as_double());
  } else {
    return InvalidArgument(Path(key) + ": must be an integer");
  }
  if (n < min || n > max) {
    return InvalidArgument(Path(key) + ": must be between " + std::to_string(min) + " and " +
                           std::to_string(max));
  }
  out = n;
  return OkStatus();
}

Status FieldReader::Int(std::string_view key, int& out, int min, int max, bool required) {
  int64_t n = out;
  FASTGPU_RETURN_IF_ERROR(Int(key, n, min, max, required));
  out = static_cast<int>(n);
  return OkStatus();
}

Status FieldReader::Bool(std::string_view key, bool& out) {
  const json::value* v = Find(key);
  if (v == nullptr) return OkStatus();
  if (!v->is_bool()) return InvalidArgument(Path(key) + ": must be true or false");
  out = v->as_bool();
  return OkStatus();
}

Status FieldReader::StringList(std::string_view key, std::vector<std::string>& out, bool required) {
  const json::value* v = Find(key);
  if (v == nullptr) {
    return required ? InvalidArgument(Path(key) + ": is required") : OkStatus();
  }
  if (!v->is_array()) return InvalidArgument(Path(key) + ": must be an array of strings");
  std::vector<std::string> list;
  for (const json::value& e : v->as_array()) {
    if (!e.is_string()) return InvalidArgument(Path(key) + ": must be an array of strings");
    list.emplace_back(e.as_string());
  }
  out = std::move(list);
  return OkStatus();
}

Status FieldReader::StringMap(std::string_view key, std::map<std::string, std::string>& out) {
  const json::value* v = Find(key);
  if (v == nullptr) return OkStatus();
  if (!v->is_object()) return InvalidArgument(Path(key) + ": must be an object of strings");
  std::map<std::string, std::string> m;
  for (const auto& kv : v->as_object()) {
    if (!kv.value().is_string()) {
      return InvalidArgument(Path(key) + "." + std::string(kv.key()) + ": must be a string");
    }
    m[std::string(kv.key())] = std::string(kv.value().as_string());
  }
  out = std::move(m);
  return OkStatus();
}

Result<const json::object*> FieldReader::Object(std::string_view key) {
  const json::value* v = Find(key);
  if (v == nullptr) return static_cast<const json::object*>(nullptr);
  if (!v->is_object()) return InvalidArgument(Path(key) + ": must be an object");
  return &v->as_object();
}

Result<const json::array*> FieldReader::Array(std::string_view key) {
  const json::value* v = Find(key);
  if (v == nullptr) return static_cast<const json::array*>(nullptr);
  if (!v->is_array()) return InvalidArgument(Path(key) + ": must be an array");
  return &v->as_array();
}

Status FieldReader::Finish() const {
  for (const auto& kv : obj_) {
    if (!seen_.contains(std::string_view(kv.key()))) {
      return InvalidArgument(Path(kv.key()) + ": unknown field");
    }
  }
  return OkStatus();
}

Result<Shape> ShapeFromJson(const json::object& obj, const std::string& prefix) {
  FieldReader r(obj, prefix);
  Shape s;
  FASTGPU_RETURN_IF_ERROR(r.Int("gpu_count", s.gpu_count, 0, 64));
  FASTGPU_RETURN_IF_ERROR(r.Int("gpu_milli", s.gpu_milli, 0, 1000));
  FASTGPU_RETURN_IF_ERROR(r.Int("gpu_memory_mib", s.gpu_memory_mib, 0, int64_t{1} << 40));
  FASTGPU_RETURN_IF_ERROR(r.StringList("gpu_models", s.gpu_models));
  FASTGPU_RETURN_IF_ERROR(r.Int("cpu_milli", s.cpu_milli, 0, int64_t{1} << 40));
  FASTGPU_RETURN_IF_ERROR(r.Int("memory_mib", s.memory_mib, 0, int64_t{1} << 40));
  std::string iso = "default";
  FASTGPU_RETURN_IF_ERROR(r.String("isolation", iso));
  auto parsed = ParseIsolation(iso);
  if (!parsed.ok()) return parsed.status().WithContext(r.Path("isolation"));
  s.isolation = *parsed;
  // A whole-GPU request may leave gpu_milli out: 1000 per GPU.
  if (s.gpu_count > 0 && s.gpu_milli == 0) s.gpu_milli = 1000;
  FASTGPU_RETURN_IF_ERROR(r.Finish());
  return s;
}

Result<JobSpec> JobSpecFromJson(const json::object& obj,
                                const std::set<std::string>* known_models) {
  FieldReader r(obj);
  JobSpec spec;
  FASTGPU_RETURN_IF_ERROR(r.String("name", spec.name));
  FASTGPU_RETURN_IF_ERROR(r.StringList("command", spec.command, /*required=*/true));
  FASTGPU_RETURN_IF_ERROR(r.StringMap("env", spec.env));
  FASTGPU_RETURN_IF_ERROR(r.Int("replicas", spec.replicas, 1, 1024));
  FASTGPU_RETURN_IF_ERROR(r.Int("max_retries", spec.max_retries, 0, 100));
  FASTGPU_RETURN_IF_ERROR(r.Int("priority", spec.priority, -1000, 1000));
  FASTGPU_RETURN_IF_ERROR(r.Bool("run_as_root", spec.run_as_root));
  FASTGPU_RETURN_IF_ERROR(r.String("image", spec.image));
  FASTGPU_ASSIGN_OR_RETURN(const json::object* shape, r.Object("shape"));
  if (shape == nullptr) return InvalidArgument("shape: is required");
  FASTGPU_ASSIGN_OR_RETURN(spec.shape, ShapeFromJson(*shape, "shape"));
  FASTGPU_RETURN_IF_ERROR(r.Finish());
  FASTGPU_RETURN_IF_ERROR(ValidateJobSpec(spec, known_models));
  return spec;
}

json::object ShapeToJson(const Shape& s) {
  json::array models;
  for (const auto& m : s.gpu_models) models.emplace_back(m);
  return {{"gpu_count", s.gpu_count},
          {"gpu_milli", s.gpu_milli},
          {"gpu_memory_mib", s.gpu_memory_mib},
          {"gpu_models", std::move(models)},
          {"cpu_milli", s.cpu_milli},
          {"memory_mib", s.memory_mib},
          {"isolation", IsolationName(s.isolation)},
          {"description", DescribeShape(s)}};
}

json::object JobSpecToJson(const JobSpec& spec) {
  json::array cmd;
  for (const auto& a : spec.command) cmd.emplace_back(a);
  json::object env;
  for (const auto& [k, v] : spec.env) env[k] = v;
  json::object o{{"name", spec.name},         {"command", std::move(cmd)},
                 {"env", std::move(env)},     {"shape", ShapeToJson(spec.shape)},
                 {"replicas", spec.replicas}, {"max_retries", spec.max_retries},
                 {"priority", spec.priority}, {"image", spec.image}};
  if (spec.run_as_root) o["run_as_root"] = true;
  return o;
}

json::object JobToJson(const Job& job, const std::vector<Allocation>& allocations, bool simulated) {
  json::object o = JobSpecToJson(job.spec);
  o["id"] = job.id;
  o["tenant_id"] = job.tenant_id;
  o["state"] = JobStateName(job.state);
  o["reason"] = job.reason;
  o["attempts"] = job.attempts;
  o["created_at"] = ToUnixMillis(job.created_at);
  o["updated_at"] = ToUnixMillis(job.updated_at);
  o["simulated"] = simulated;
  json::array events;
  for (const JobEvent& e : job.events) {
    events.push_back(json::object{{"at", ToUnixMillis(e.at)},
                                  {"from", JobStateName(e.from)},
                                  {"to", JobStateName(e.to)},
                                  {"reason", e.reason}});
  }
  o["events"] = std::move(events);
  json::array allocs;
  for (const Allocation& a : allocations) allocs.push_back(AllocationToJson(a));
  o["allocations"] = std::move(allocs);
  return o;
}

json::object AllocationToJson(const Allocation& a) {
  json::array slices;
  for (const VgpuSlice& s : a.slices) {
    slices.push_back(json::object{{"gpu_index", s.gpu_index},
                                  {"gpu_uuid", s.gpu_uuid},
                                  {"milli", s.milli},
                                  {"memory_mib", s.memory_mib},
                                  {"isolation", IsolationName(s.isolation)}});
  }
  return {{"allocation_id", a.id},
          {"job_id", a.job_id},
          {"replica", a.replica},
          {"node_id", a.node_id},
          {"gpu_model", a.gpu_model},
          {"slices", std::move(slices)},
          {"cpu_milli", a.cpu_milli},
          {"memory_mib", a.memory_mib},
          {"created_at", ToUnixMillis(a.created_at)}};
}

json::object GpuToJson(const Gpu& g) {
  return {{"index", g.index},
          {"uuid", g.uuid},
          {"model", g.model},
          {"memory_mib", g.memory_mib},
          {"healthy", g.healthy},
          {"health_reason", g.health_reason},
          {"mig_enabled", g.mig_enabled},
          {"simulated", g.simulated}};
}

json::object TenantToJson(const Tenant& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"admin", t.admin},
          {"max_gpu_milli", t.quota.max_gpu_milli},
          {"budget_cents", t.quota.budget_cents},
          {"allow_root", t.allow_root},
          {"created_at", ToUnixMillis(t.created_at)}};
}

std::string ErrorJson(const Status& status) {
  return json::serialize(
      json::object{{"code", StatusCodeName(status.code())}, {"message", status.message()}});
}

}  // namespace fastgpu::server

#include "model/json.h"

#include <cmath>

namespace fastgpu::model {

namespace json = boost::json;

namespace {

constexpr int kMaxGpuIndex = 1023;
constexpr int64_t kMaxMib = int64_t{1} << 40;
constexpr int64_t kMaxGpuMemoryMib = int64_t{1} << 30;

std::string Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

json::array StringArray(const std::vector<std::string>& list) {
  json::array a;
  a.reserve(list.size());
  for (const std::string& s : list) a.emplace_back(s);
  return a;
}

// The try_value_to entry: the decoder, its message dropped.
template <class T>
boost::system::result<T> TryDecode(const json::value& v) {
  T out{};
  if (!JsonDecode(v, "", UnknownFields::kIgnore, out).ok()) {
    return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
  }
  return out;
}

}  // namespace

// ---- JsonObjectReader ----

JsonObjectReader::JsonObjectReader(const json::value& value, std::string path,
                                   UnknownFields unknown)
    : path_(std::move(path)), unknown_(unknown) {
  if (value.is_object()) {
    obj_ = &value.as_object();
  } else {
    status_ =
        InvalidArgument((path_.empty() ? std::string("value") : path_) + ": must be an object");
  }
}

JsonObjectReader::JsonObjectReader(const json::object& object, std::string path,
                                   UnknownFields unknown)
    : obj_(&object), path_(std::move(path)), unknown_(unknown) {}

std::string JsonObjectReader::Path(std::string_view key) const { return Join(path_, key); }

void JsonObjectReader::Fail(std::string_view key, std::string_view what) {
  if (status_.ok()) status_ = InvalidArgument(Path(key) + ": " + std::string(what));
}

const json::value* JsonObjectReader::Find(std::string_view key, Need need) {
  if (!status_.ok()) return nullptr;
  seen_.insert(std::string(key));
  const json::value* v = obj_->if_contains(key);
  if (v == nullptr || v->is_null()) {
    if (need == Need::kRequired) Fail(key, "is required");
    return nullptr;
  }
  return v;
}

const json::value* JsonObjectReader::Raw(std::string_view key) {
  return Find(key, Need::kOptional);
}

JsonObjectReader& JsonObjectReader::Str(std::string_view key, std::string& out, Need need) {
  const json::value* v = Find(key, need);
  if (v == nullptr) return *this;
  if (!v->is_string()) {
    Fail(key, "must be a string");
    return *this;
  }
  out = std::string(v->as_string());
  return *this;
}

JsonObjectReader& JsonObjectReader::Int(std::string_view key, int64_t& out, int64_t min,
                                        int64_t max, Need need) {
  const json::value* v = Find(key, need);
  if (v == nullptr) return *this;
  int64_t n = 0;
  if (v->is_int64()) {
    n = v->as_int64();
  } else if (v->is_uint64()) {  // above INT64_MAX: beyond every range we accept
    Fail(key, "out of range");
    return *this;
  } else if (v->is_double() && std::abs(v->as_double()) < 9e15 &&
             v->as_double() == std::trunc(v->as_double())) {
    n = static_cast<int64_t>(v->as_double());  // exact: |d| < 2^53
  } else {
    Fail(key, "must be an integer");
    return *this;
  }
  if (n < min || n > max) {
    Fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return *this;
  }
  out = n;
  return *this;
}

JsonObjectReader& JsonObjectReader::Int(std::string_view key, int& out, int min, int max,
                                        Need need) {
  int64_t n = out;
  Int(key, n, min, max, need);
  if (ok()) out = static_cast<int>(n);  // within [min, max], so it fits
  return *this;
}

JsonObjectReader& JsonObjectReader::Bool(std::string_view key, bool& out, Need need) {
  const json::value* v = Find(key, need);
  if (v == nullptr) return *this;
  if (!v->is_bool()) {
    Fail(key, "must be true or false");
    return *this;
  }
  out = v->as_bool();
  return *this;
}

JsonObjectReader& JsonObjectReader::Double(std::string_view key, double& out, Need need) {
  const json::value* v = Find(key, need);
  if (v == nullptr) return *this;
  if (!v->is_number()) {
    Fail(key, "must be a number");
    return *this;
  }
  out = v->to_number<double>();  // every JSON number converts to double
  return *this;
}

JsonObjectReader& JsonObjectReader::StrList(std::string_view key, std::vector<std::string>& out,
                                            Need need) {
  const json::value* v = Find(key, need);
  if (v == nullptr) return *this;
  if (!v->is_array()) {
    Fail(key, "must be an array of strings");
    return *this;
  }
  std::vector<std::string> list;
  for (const json::value& e : v->as_array()) {
    if (!e.is_string()) {
      Fail(key, "must be an array of strings");
      return *this;
    }
    list.emplace_back(e.as_string());
  }
  out = std::move(list);
  return *this;
}

JsonObjectReader& JsonObjectReader::StrMap(std::string_view key,
                                           std::map<std::string, std::string>& out, Need need) {
  const json::value* v = Find(key, need);
  if (v == nullptr) return *this;
  if (!v->is_object()) {
    Fail(key, "must be an object of strings");
    return *this;
  }
  std::map<std::string, std::string> m;
  for (const auto& kv : v->as_object()) {
    if (!kv.value().is_string()) {
      Fail(std::string(key) + "." + std::string(kv.key()), "must be a string");
      return *this;
    }
    m[std::string(kv.key())] = std::string(kv.value().as_string());
  }
  out = std::move(m);
  return *this;
}

Status JsonObjectReader::Finish() const {
  if (!status_.ok() || unknown_ == UnknownFields::kIgnore) return status_;
  for (const auto& kv : *obj_) {
    if (!seen_.contains(std::string_view(kv.key()))) {
      return InvalidArgument(Path(kv.key()) + ": unknown field");
    }
  }
  return OkStatus();
}

Result<json::value> ParseJson(std::string_view text) {
  boost::system::error_code ec;
  json::parse_options opts;
  opts.max_depth = 32;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec, {}, opts);
  if (ec) return InvalidArgument("not valid JSON: " + ec.message());
  return v;
}

// ---- Gpu ----

void tag_invoke(const json::value_from_tag&, json::value& v, const Gpu& g) {
  v = json::object{{"index", g.index},
                   {"uuid", g.uuid},
                   {"model", g.model},
                   {"memory_mib", g.memory_mib},
                   {"healthy", g.healthy},
                   {"health_reason", g.health_reason},
                   {"mig_enabled", g.mig_enabled},
                   {"simulated", g.simulated}};
  if (!g.vm.Empty()) v.as_object()["vm"] = json::value_from(g.vm);
}

Status JsonDecode(const json::value& v, const std::string& path, UnknownFields unknown, Gpu& g) {
  JsonObjectReader r(v, path, unknown);
  r.Int("index", g.index, 0, kMaxGpuIndex, Need::kRequired)
      .Str("uuid", g.uuid, Need::kRequired)
      .Str("model", g.model, Need::kRequired)
      .Int("memory_mib", g.memory_mib, 1, kMaxGpuMemoryMib, Need::kRequired)
      .Bool("healthy", g.healthy)
      .Str("health_reason", g.health_reason)
      .Bool("mig_enabled", g.mig_enabled)
      .Bool("simulated", g.simulated)
      .Field("vm", g.vm);
  return r.Finish();
}

// ---- VmGpuType, VmOffer (vm isolation) ----

void tag_invoke(const json::value_from_tag&, json::value& v, const VmGpuType& t) {
  v = json::object{
      {"name", t.name}, {"milli", t.milli}, {"framebuffer_mib", t.framebuffer_mib}};
}

Status JsonDecode(const json::value& v, const std::string& path, UnknownFields unknown,
                  VmGpuType& t) {
  JsonObjectReader r(v, path, unknown);
  r.Str("name", t.name, Need::kRequired)
      .Int("milli", t.milli, 1, 1000, Need::kRequired)
      .Int("framebuffer_mib", t.framebuffer_mib, 0, kMaxGpuMemoryMib);
  return r.Finish();
}

void tag_invoke(const json::value_from_tag&, json::value& v, const VmOffer& o) {
  json::array types;
  for (const VmGpuType& t : o.types) types.push_back(json::value_from(t));
  v = json::object{{"passthrough", o.passthrough}, {"types", std::move(types)}};
  if (!o.reason.empty()) v.as_object()["reason"] = o.reason;
}

Status JsonDecode(const json::value& v, const std::string& path, UnknownFields unknown,
                  VmOffer& o) {
  JsonObjectReader r(v, path, unknown);
  r.Bool("passthrough", o.passthrough).List("types", o.types).Str("reason", o.reason);
  if (r.ok() && o.types.size() > static_cast<size_t>(kMaxVmGpuTypes)) {
    r.Fail("types", "at most " + std::to_string(kMaxVmGpuTypes) + " types");
  }
  return r.Finish();
}

boost::system::result<Gpu> tag_invoke(const json::try_value_to_tag<Gpu>&, const json::value& v) {
  return TryDecode<Gpu>(v);
}

// ---- Shape ----

void tag_invoke(const json::value_from_tag&, json::value& v, const Shape& s) {
  v = json::object{{"gpu_count", s.gpu_count},
                   {"gpu_milli", s.gpu_milli},
                   {"gpu_memory_mib", s.gpu_memory_mib},
                   {"gpu_models", StringArray(s.gpu_models)},
                   {"cpu_milli", s.cpu_milli},
                   {"memory_mib", s.memory_mib},
                   {"isolation", IsolationName(s.isolation)}};
}

Status JsonDecode(const json::value& v, const std::string& path, UnknownFields unknown, Shape& s) {
  JsonObjectReader r(v, path, unknown);
  std::string iso(IsolationName(s.isolation));
  r.Int("gpu_count", s.gpu_count, 0, 64)
      .Int("gpu_milli", s.gpu_milli, 0, 1000)
      .Int("gpu_memory_mib", s.gpu_memory_mib, 0, kMaxMib)
      .StrList("gpu_models", s.gpu_models)
      .Int("cpu_milli", s.cpu_milli, 0, kMaxMib)
      .Int("memory_mib", s.memory_mib, 0, kMaxMib)
      .Str("isolation", iso);
  if (r.ok()) {
    Result<Isolation> parsed = ParseIsolation(iso);
    if (parsed.ok()) {
      s.isolation = *parsed;
    } else {
      r.Fail("isolation", parsed.status().message());
    }
  }
  // A whole-GPU request may leave gpu_milli out: 1000 per GPU.
  if (s.gpu_count > 0 && s.gpu_milli == 0) s.gpu_milli = 1000;
  return r.Finish();
}

boost::system::result<Shape> tag_invoke(const json::try_value_to_tag<Shape>&,
                                        const json::value& v) {
  return TryDecode<Shape>(v);
}

// ---- VgpuSlice ----

void tag_invoke(const json::value_from_tag&, json::value& v, const VgpuSlice& s) {
  v = json::object{{"gpu_index", s.gpu_index},
                   {"gpu_uuid", s.gpu_uuid},
                   {"milli", s.milli},
                   {"memory_mib", s.memory_mib},
                   {"isolation", IsolationName(s.isolation)}};
  if (!s.vm_type.empty()) v.as_object()["vm_type"] = s.vm_type;
}

Status JsonDecode(const json::value& v, const std::string& path, UnknownFields unknown,
                  VgpuSlice& s) {
  JsonObjectReader r(v, path, unknown);
  std::string iso;
  r.Int("gpu_index", s.gpu_index, 0, kMaxGpuIndex, Need::kRequired)
      .Str("gpu_uuid", s.gpu_uuid)
      .Int("milli", s.milli, 1, 1000, Need::kRequired)
      .Int("memory_mib", s.memory_mib, 0, kMaxGpuMemoryMib)
      .Str("isolation", iso, Need::kRequired)
      .Str("vm_type", s.vm_type);
  if (r.ok()) {
    Result<Isolation> parsed = ParseIsolation(iso);
    if (parsed.ok()) {
      s.isolation = *parsed;
    } else {
      r.Fail("isolation", parsed.status().message());
    }
  }
  return r.Finish();
}

boost::system::result<VgpuSlice> tag_invoke(const json::try_value_to_tag<VgpuSlice>&,
                                            const json::value& v) {
  return TryDecode<VgpuSlice>(v);
}

// ---- ReadinessProbe ----

void tag_invoke(const json::value_from_tag&, json::value& v, const ReadinessProbe& p) {
  switch (p.kind) {
    case ReadinessProbe::Kind::kHttp:
      v = json::object{{"http", p.http_path}};
      return;
    case ReadinessProbe::Kind::kTcp:
      v = json::object{{"tcp", true}};
      return;
    case ReadinessProbe::Kind::kNone:
      v = json::object{};
      return;
  }
}

Status JsonDecode(const json::value& v, const std::string& path, UnknownFields unknown,
                  ReadinessProbe& p) {
  JsonObjectReader r(v, path, unknown);
  std::string http;
  bool has_http = false;
  bool tcp = false;
  if (const json::value* h = r.Raw("http")) {
    has_http = true;
    if (!h->is_string()) {
      r.Fail("http", "must be a path such as \"/healthz\"");
    } else {
      http = std::string(h->as_string());
    }
  }
  r.Bool("tcp", tcp);
  FASTGPU_RETURN_IF_ERROR(r.Finish());
  const std::string where = path.empty() ? "readiness" : path;
  if (has_http && tcp) {
    return InvalidArgument(where + ": give either \"http\" or \"tcp\", not both");
  }
  ReadinessProbe out;
  if (has_http) {
    out.kind = ReadinessProbe::Kind::kHttp;
    out.http_path = std::move(http);
  } else if (tcp) {
    out.kind = ReadinessProbe::Kind::kTcp;
  } else {
    return InvalidArgument(where + ": needs \"http\": \"/path\" or \"tcp\": true");
  }
  if (Status st = ValidateReadinessProbe(out); !st.ok()) {
    // ValidateReadinessProbe names "readiness.http"; here the probe sits at `where`.
    std::string msg = st.message();
    const std::string prefix = "readiness.";
    if (msg.rfind(prefix, 0) == 0) msg = where + "." + msg.substr(prefix.size());
    return InvalidArgument(msg);
  }
  p = std::move(out);
  return OkStatus();
}

// ---- JobSpec ----

void tag_invoke(const json::value_from_tag&, json::value& v, const JobSpec& spec) {
  json::object env;
  for (const auto& [k, val] : spec.env) env[k] = val;
  json::object o{{"name", spec.name},         {"command", StringArray(spec.command)},
                 {"env", std::move(env)},     {"shape", json::value_from(spec.shape)},
                 {"replicas", spec.replicas}, {"max_retries", spec.max_retries},
                 {"priority", spec.priority}, {"image", spec.image}};
  if (spec.run_as_root) o["run_as_root"] = true;
  if (!spec.service.empty()) {  // only for a service's replicas
    o["service"] = spec.service;
    o["service_generation"] = spec.service_generation;
  }
  if (spec.session) {  // only for sessions, so that batch jobs keep their form
    o["session"] = true;
    o["tty"] = spec.tty;
    o["idle_timeout_s"] = spec.idle_timeout_s;
  }
  if (spec.port) o["port"] = true;  // only when set, so that batch jobs keep their form
  if (spec.readiness.kind != ReadinessProbe::Kind::kNone) {
    o["readiness"] = json::value_from(spec.readiness);
  }
  v = std::move(o);
}

Status JsonDecode(const json::value& v, const std::string& path, UnknownFields unknown,
                  JobSpec& spec) {
  JsonObjectReader r(v, path, unknown);
  r.Str("name", spec.name)
      .StrList("command", spec.command, Need::kRequired)
      .StrMap("env", spec.env)
      .Int("replicas", spec.replicas, 1, 1024)
      .Int("max_retries", spec.max_retries, 0, 100)
      .Int("priority", spec.priority, -1000, 1000)  // absent in rows of older versions
      .Bool("run_as_root", spec.run_as_root)
      .Str("image", spec.image)  // likewise: a plain process
      .Str("service", spec.service)
      .Int("service_generation", spec.service_generation, 0, int64_t{1} << 53)
      .Bool("session", spec.session)
      .Bool("tty", spec.tty)
      .Int("idle_timeout_s", spec.idle_timeout_s, 0, int64_t{30} * 24 * 3600)
      .Bool("port", spec.port)
      .Field("readiness", spec.readiness)
      .Field("shape", spec.shape, Need::kRequired);
  return r.Finish();
}

boost::system::result<JobSpec> tag_invoke(const json::try_value_to_tag<JobSpec>&,
                                          const json::value& v) {
  return TryDecode<JobSpec>(v);
}

// ---- encode-only types ----

void tag_invoke(const json::value_from_tag&, json::value& v, const JobEvent& e) {
  v = json::object{{"at", ToUnixMillis(e.at)},
                   {"from", JobStateName(e.from)},
                   {"to", JobStateName(e.to)},
                   {"reason", e.reason}};
}

void tag_invoke(const json::value_from_tag&, json::value& v, const Allocation& a) {
  json::array slices;
  for (const VgpuSlice& s : a.slices) slices.push_back(json::value_from(s));
  v = json::object{{"allocation_id", a.id},
                   {"job_id", a.job_id},
                   {"replica", a.replica},
                   {"node_id", a.node_id},
                   {"gpu_model", a.gpu_model},
                   {"slices", std::move(slices)},
                   {"cpu_milli", a.cpu_milli},
                   {"memory_mib", a.memory_mib},
                   {"created_at", ToUnixMillis(a.created_at)}};
}

void tag_invoke(const json::value_from_tag&, json::value& v, const Job& job) {
  json::value spec = json::value_from(job.spec);
  json::object& o = spec.as_object();
  o["id"] = job.id;
  o["tenant_id"] = job.tenant_id;
  o["state"] = JobStateName(job.state);
  o["reason"] = job.reason;
  o["attempts"] = job.attempts;
  o["created_at"] = ToUnixMillis(job.created_at);
  o["updated_at"] = ToUnixMillis(job.updated_at);
  json::array events;
  for (const JobEvent& e : job.events) events.push_back(json::value_from(e));
  o["events"] = std::move(events);
  v = std::move(spec);
}

void tag_invoke(const json::value_from_tag&, json::value& v, const Tenant& t) {
  v = json::object{{"id", t.id},
                   {"name", t.name},
                   {"admin", t.admin},
                   {"max_gpu_milli", t.quota.max_gpu_milli},
                   {"budget_cents", t.quota.budget_cents},
                   {"allow_root", t.allow_root},
                   {"created_at", ToUnixMillis(t.created_at)}};
}

}  // namespace fastgpu::model

#include "store/sqlite_codec.h"

#include <boost/json.hpp>
#include <exception>

namespace fastgpu {
namespace json = boost::json;
namespace {

// Parses `text` and applies `decode` to it; Boost.JSON's exceptions (a field of the
// wrong type or missing) become DataLoss here, at the adapter.
template <typename T, typename Fn>
Result<T> Decode(std::string_view text, const char* what, Fn decode) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) return DataLoss(std::string("stored ") + what + " is not JSON: " + ec.message());
  try {
    return decode(v);
  } catch (const std::exception& e) {
    return DataLoss(std::string("stored ") + what + " is malformed: " + e.what());
  }
}

std::string Str(const json::value& v) { return std::string(v.as_string().c_str()); }

Isolation IsolationOf(const json::value& v) {
  Result<Isolation> iso = ParseIsolation(Str(v));
  if (!iso.ok()) throw std::runtime_error(iso.status().message());
  return *iso;
}

}  // namespace

std::string EncodeJobSpec(const JobSpec& spec) {
  json::array command, models;
  for (const std::string& arg : spec.command) command.emplace_back(arg);
  for (const std::string& m : spec.shape.gpu_models) models.emplace_back(m);
  json::object env;
  for (const auto& [k, v] : spec.env) env[k] = v;
  const Shape& s = spec.shape;
  json::object shape{{"gpu_count", s.gpu_count},
                     {"gpu_milli", s.gpu_milli},
                     {"gpu_memory_mib", s.gpu_memory_mib},
                     {"gpu_models", std::move(models)},
                     {"cpu_milli", s.cpu_milli},
                     {"memory_mib", s.memory_mib},
                     {"isolation", IsolationName(s.isolation)}};
  json::object o{{"name", spec.name},         {"command", std::move(command)},
                 {"env", std::move(env)},     {"shape", std::move(shape)},
                 {"replicas", spec.replicas}, {"max_retries", spec.max_retries},
                 {"priority", spec.priority}, {"image", spec.image}};
  return json::serialize(o);
}

Result<JobSpec> DecodeJobSpec(std::string_view text) {
  return Decode<JobSpec>(text, "job spec", [](const json::value& v) {
    const json::object& o = v.as_object();
    JobSpec spec;
    spec.name = Str(o.at("name"));
    for (const json::value& a : o.at("command").as_array()) spec.command.push_back(Str(a));
    for (const auto& kv : o.at("env").as_object()) {
      spec.env[std::string(kv.key())] = Str(kv.value());
    }
    const json::object& s = o.at("shape").as_object();
    spec.shape.gpu_count = static_cast<int>(s.at("gpu_count").as_int64());
    spec.shape.gpu_milli = static_cast<int>(s.at("gpu_milli").as_int64());
    spec.shape.gpu_memory_mib = s.at("gpu_memory_mib").as_int64();
    for (const json::value& m : s.at("gpu_models").as_array()) {
      spec.shape.gpu_models.push_back(Str(m));
    }
    spec.shape.cpu_milli = s.at("cpu_milli").as_int64();
    spec.shape.memory_mib = s.at("memory_mib").as_int64();
    spec.shape.isolation = IsolationOf(s.at("isolation"));
    spec.replicas = static_cast<int>(o.at("replicas").as_int64());
    spec.max_retries = static_cast<int>(o.at("max_retries").as_int64());
    if (const json::value* p = o.if_contains("priority")) {
      spec.priority = static_cast<int>(p->as_int64());  // absent in rows of older versions
    }
    if (const json::value* i = o.if_contains("image")) spec.image = Str(*i);  // likewise
    return spec;
  });
}

std::string EncodeGpus(const std::vector<Gpu>& gpus) {
  json::array a;
  for (const Gpu& g : gpus) {
    a.emplace_back(json::object{{"index", g.index},
                                {"uuid", g.uuid},
                                {"model", g.model},
                                {"memory_mib", g.memory_mib},
                                {"healthy", g.healthy},
                                {"health_reason", g.health_reason},
                                {"mig_enabled", g.mig_enabled},
                                {"simulated", g.simulated}});
  }
  return json::serialize(a);
}

Result<std::vector<Gpu>> DecodeGpus(std::string_view text) {
  return Decode<std::vector<Gpu>>(text, "node GPUs", [](const json::value& v) {
    std::vector<Gpu> gpus;
    for (const json::value& e : v.as_array()) {
      const json::object& o = e.as_object();
      Gpu g;
      g.index = static_cast<int>(o.at("index").as_int64());
      g.uuid = Str(o.at("uuid"));
      g.model = Str(o.at("model"));
      g.memory_mib = o.at("memory_mib").as_int64();
      g.healthy = o.at("healthy").as_bool();
      g.health_reason = Str(o.at("health_reason"));
      g.mig_enabled = o.at("mig_enabled").as_bool();
      g.simulated = o.at("simulated").as_bool();
      gpus.push_back(std::move(g));
    }
    return gpus;
  });
}

std::string EncodeSlices(const std::vector<VgpuSlice>& slices) {
  json::array a;
  for (const VgpuSlice& s : slices) {
    a.emplace_back(json::object{{"gpu_index", s.gpu_index},
                                {"gpu_uuid", s.gpu_uuid},
                                {"milli", s.milli},
                                {"memory_mib", s.memory_mib},
                                {"isolation", IsolationName(s.isolation)}});
  }
  return json::serialize(a);
}

Result<std::vector<VgpuSlice>> DecodeSlices(std::string_view text) {
  return Decode<std::vector<VgpuSlice>>(text, "allocation slices", [](const json::value& v) {
    std::vector<VgpuSlice> slices;
    for (const json::value& e : v.as_array()) {
      const json::object& o = e.as_object();
      VgpuSlice s;
      s.gpu_index = static_cast<int>(o.at("gpu_index").as_int64());
      s.gpu_uuid = Str(o.at("gpu_uuid"));
      s.milli = static_cast<int>(o.at("milli").as_int64());
      s.memory_mib = o.at("memory_mib").as_int64();
      s.isolation = IsolationOf(o.at("isolation"));
      slices.push_back(std::move(s));
    }
    return slices;
  });
}

}  // namespace fastgpu

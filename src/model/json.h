// The JSON form of the model's wire types, defined once (Boost.JSON).
//
// Every place that writes or reads a model type as JSON (the public API in server/, the
// SQLite store's JSON columns, the agent protocol, the CLI) goes through these
// definitions, so a field is named, typed and range-checked in exactly one place:
//
//   boost::json::value v = boost::json::value_from(gpu);        // encode (never fails)
//   Result<Gpu> g = FromJson<Gpu>(v);                           // decode, with the path
//   auto r = boost::json::try_value_to<std::vector<Gpu>>(v);    // decode, error code only
//
// Encoders and decoders are the tag_invoke overloads below (found by argument-dependent
// lookup, so they sit in the types' namespace). Decoders are strict because their input
// can be untrusted: a wrong type, a missing required field or a number out of range is an
// error naming the field's path ("shape.gpu_milli: must be between 0 and 1000"); no
// exception escapes and no value is cast unchecked. Unknown fields are ignored (a newer
// peer may add some) unless the caller asks to refuse them (UnknownFields::kRefuse, what
// the public API does with request bodies). Optional fields that are absent or null keep
// the type's default. All functions are pure and thread-safe.
//
// JSON forms (field names are frozen: the SQLite store keeps these forms on disk):
//   Gpu        {"index","uuid","model","memory_mib","healthy","health_reason",
//               "mig_enabled","simulated"}; index, uuid, model, memory_mib required
//   Shape      {"gpu_count","gpu_milli","gpu_memory_mib","gpu_models","cpu_milli",
//               "memory_mib","isolation"}; all optional; gpu_milli defaults to 1000 when
//               gpu_count > 0 (a whole-GPU request may leave it out)
//   VgpuSlice  {"gpu_index","gpu_uuid","milli","memory_mib","isolation"}; gpu_index,
//               milli and isolation required
//   JobSpec    {"name","command","env","shape","replicas","max_retries","priority",
//               "image","run_as_root","session","tty","idle_timeout_s","port",
//               "readiness","service","service_generation"}; command and shape required;
//               run_as_root and port written only when true, the session fields only for
//               a session, readiness only when set, service and service_generation only
//               for a service's replica
//   ReadinessProbe {"http": "/path"} or {"tcp": true}: exactly one
//   JobEvent   {"at","from","to","reason"} (encode only)
//   Allocation {"allocation_id","job_id","replica","node_id","gpu_model","slices",
//               "cpu_milli","memory_mib","created_at"} (encode only)
//   Job        the JobSpec's fields plus {"id","tenant_id","state","reason","attempts",
//               "created_at","updated_at","events"} (encode only)
//   Tenant     {"id","name","admin","max_gpu_milli","budget_cents","allow_root",
//               "created_at"} (encode only)
// Times are Unix milliseconds.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/result.h"
#include "model/allocation.h"
#include "model/gpu.h"
#include "model/job.h"
#include "model/shape.h"
#include "model/tenant.h"

namespace fastgpu::model {

// What a decoder does with a field it does not know.
enum class UnknownFields {
  kIgnore,  // default: forward compatible, a newer writer may add fields
  kRefuse,  // InvalidArgument naming the field (request bodies of the public API)
};

// Whether a field must be present (and not null).
enum class Need { kOptional, kRequired };

// Reads the fields of one JSON object and remembers the first error with its field path.
// Each getter leaves `out` unchanged when the field is absent or null (an error when the
// field is Need::kRequired) and records an error when its type or range is wrong; after
// the first error the getters do nothing. Borrows `value` (which must outlive the reader).
// Not thread-safe.
class JsonObjectReader {
 public:
  // `path` prefixes field names in errors ("" at the top, "shape", "gpus[2]").
  explicit JsonObjectReader(const boost::json::value& value, std::string path = "",
                            UnknownFields unknown = UnknownFields::kIgnore);
  explicit JsonObjectReader(const boost::json::object& object, std::string path = "",
                            UnknownFields unknown = UnknownFields::kIgnore);

  JsonObjectReader& Str(std::string_view key, std::string& out, Need need = Need::kOptional);
  JsonObjectReader& Int(std::string_view key, int64_t& out, int64_t min, int64_t max,
                        Need need = Need::kOptional);
  JsonObjectReader& Int(std::string_view key, int& out, int min, int max,
                        Need need = Need::kOptional);
  JsonObjectReader& Bool(std::string_view key, bool& out, Need need = Need::kOptional);
  // Any JSON number.
  JsonObjectReader& Double(std::string_view key, double& out, Need need = Need::kOptional);
  JsonObjectReader& StrList(std::string_view key, std::vector<std::string>& out,
                            Need need = Need::kOptional);
  JsonObjectReader& StrMap(std::string_view key, std::map<std::string, std::string>& out,
                           Need need = Need::kOptional);
  // A nested value of a type with a JsonDecode overload (model types, protocol messages).
  template <class T>
  JsonObjectReader& Field(std::string_view key, T& out, Need need = Need::kOptional);
  // An array of such values; element paths read "key[i]".
  template <class T>
  JsonObjectReader& List(std::string_view key, std::vector<T>& out, Need need = Need::kOptional);
  // The field's value, nullptr when absent or null (or after an error); marks it read.
  const boost::json::value* Raw(std::string_view key);

  // Records "<path.key>: <what>" unless an error is recorded already.
  void Fail(std::string_view key, std::string_view what);
  // The path of a field of this object.
  std::string Path(std::string_view key) const;
  bool ok() const { return status_.ok(); }
  // The first error (InvalidArgument "<path>: <what>"); with UnknownFields::kRefuse, also
  // the first field that no getter asked for.
  Status Finish() const;

 private:
  const boost::json::value* Find(std::string_view key, Need need);

  const boost::json::object* obj_ = nullptr;
  std::string path_;
  UnknownFields unknown_;
  std::set<std::string, std::less<>> seen_;
  Status status_;
};

// The decoders proper, one per type: decode `v` (found at `path`) into `out`. OK, or
// InvalidArgument "<path>.<field>: <what>". Use FromJson / try_value_to rather than these.
Status JsonDecode(const boost::json::value& v, const std::string& path, UnknownFields unknown,
                  Gpu& out);
Status JsonDecode(const boost::json::value& v, const std::string& path, UnknownFields unknown,
                  VmGpuType& out);
Status JsonDecode(const boost::json::value& v, const std::string& path, UnknownFields unknown,
                  VmOffer& out);
Status JsonDecode(const boost::json::value& v, const std::string& path, UnknownFields unknown,
                  Shape& out);
Status JsonDecode(const boost::json::value& v, const std::string& path, UnknownFields unknown,
                  VgpuSlice& out);
Status JsonDecode(const boost::json::value& v, const std::string& path, UnknownFields unknown,
                  JobSpec& out);
Status JsonDecode(const boost::json::value& v, const std::string& path, UnknownFields unknown,
                  ReadinessProbe& out);

// A vector of decodable values; element paths read "path[i]".
template <class T>
Status JsonDecode(const boost::json::value& v, const std::string& path, UnknownFields unknown,
                  std::vector<T>& out) {
  const std::string where = path.empty() ? "value" : path;
  if (!v.is_array()) return InvalidArgument(where + ": must be an array");
  std::vector<T> list;
  list.reserve(v.as_array().size());
  for (size_t i = 0; i < v.as_array().size(); ++i) {
    T item;
    FASTGPU_RETURN_IF_ERROR(
        JsonDecode(v.as_array()[i], path + "[" + std::to_string(i) + "]", unknown, item));
    list.push_back(std::move(item));
  }
  out = std::move(list);
  return OkStatus();
}

// Decodes `v` as a T. InvalidArgument naming the field on any mismatch.
template <class T>
Result<T> FromJson(const boost::json::value& v, UnknownFields unknown = UnknownFields::kIgnore) {
  T out{};
  Status st = JsonDecode(v, "", unknown, out);
  if (!st.ok()) return st;
  return out;
}

// Parses `text` (JSON, at most 32 levels deep) and decodes it as a T. InvalidArgument when
// it is not JSON or does not fit T.
Result<boost::json::value> ParseJson(std::string_view text);
template <class T>
Result<T> FromJsonText(std::string_view text, UnknownFields unknown = UnknownFields::kIgnore) {
  FASTGPU_ASSIGN_OR_RETURN(boost::json::value v, ParseJson(text));
  return FromJson<T>(v, unknown);
}

// The JSON text of any type with a value_from conversion.
template <class T>
std::string ToJsonText(const T& x) {
  return boost::json::serialize(boost::json::value_from(x));
}

// ---- Boost.JSON customisation points (encoders and try_value_to entries) ----

void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v, const Gpu& g);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v, const VmGpuType& t);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v, const VmOffer& o);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v, const Shape& s);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v, const VgpuSlice& s);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v, const JobSpec& s);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v, const ReadinessProbe& p);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v, const JobEvent& e);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v, const Allocation& a);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v, const Job& j);
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v, const Tenant& t);

// try_value_to<T> for the decodable types: the decoder above, its error reduced to
// errc::invalid_argument (use FromJson for the message).
boost::system::result<Gpu> tag_invoke(const boost::json::try_value_to_tag<Gpu>&,
                                      const boost::json::value& v);
boost::system::result<Shape> tag_invoke(const boost::json::try_value_to_tag<Shape>&,
                                        const boost::json::value& v);
boost::system::result<VgpuSlice> tag_invoke(const boost::json::try_value_to_tag<VgpuSlice>&,
                                            const boost::json::value& v);
boost::system::result<JobSpec> tag_invoke(const boost::json::try_value_to_tag<JobSpec>&,
                                          const boost::json::value& v);

// ---- template definitions ----

template <class T>
JsonObjectReader& JsonObjectReader::Field(std::string_view key, T& out, Need need) {
  const boost::json::value* v = Find(key, need);
  if (v == nullptr) return *this;
  T item{};
  Status st = JsonDecode(*v, Path(key), unknown_, item);
  if (!st.ok()) {
    status_ = st;
    return *this;
  }
  out = std::move(item);
  return *this;
}

template <class T>
JsonObjectReader& JsonObjectReader::List(std::string_view key, std::vector<T>& out, Need need) {
  return Field<std::vector<T>>(key, out, need);
}

}  // namespace fastgpu::model

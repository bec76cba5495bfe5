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
    : reader_(obj, std::move(prefix), model::UnknownFields::kRefuse) {}

std::string FieldReader::Path(std::string_view key) const { return reader_.Path(key); }

Status FieldReader::Current() const { return reader_.ok() ? OkStatus() : reader_.Finish(); }

Status FieldReader::String(std::string_view key, std::string& out, bool required) {
  reader_.Str(key, out, required ? model::Need::kRequired : model::Need::kOptional);
  return Current();
}

Status FieldReader::Int(std::string_view key, int64_t& out, int64_t min, int64_t max,
                        bool required) {
  reader_.Int(key, out, min, max, required ? model::Need::kRequired : model::Need::kOptional);
  return Current();
}

Status FieldReader::Int(std::string_view key, int& out, int min, int max, bool required) {
  reader_.Int(key, out, min, max, required ? model::Need::kRequired : model::Need::kOptional);
  return Current();
}

Status FieldReader::Bool(std::string_view key, bool& out) {
  reader_.Bool(key, out);
  return Current();
}

Status FieldReader::StringList(std::string_view key, std::vector<std::string>& out, bool required) {
  reader_.StrList(key, out, required ? model::Need::kRequired : model::Need::kOptional);
  return Current();
}

Status FieldReader::StringMap(std::string_view key, std::map<std::string, std::string>& out) {
  reader_.StrMap(key, out);
  return Current();
}

Result<const json::object*> FieldReader::Object(std::string_view key) {
  const json::value* v = reader_.Raw(key);
  FASTGPU_RETURN_IF_ERROR(Current());
  if (v == nullptr) return static_cast<const json::object*>(nullptr);
  if (!v->is_object()) return InvalidArgument(Path(key) + ": must be an object");
  return &v->as_object();
}

Result<const json::array*> FieldReader::Array(std::string_view key) {
  const json::value* v = reader_.Raw(key);
  FASTGPU_RETURN_IF_ERROR(Current());
  if (v == nullptr) return static_cast<const json::array*>(nullptr);
  if (!v->is_array()) return InvalidArgument(Path(key) + ": must be an array");
  return &v->as_array();
}

Status FieldReader::Finish() const { return reader_.Finish(); }

Result<model::Shape> ShapeFromJson(const json::object& obj, const std::string& prefix) {
  model::Shape s;
  FASTGPU_RETURN_IF_ERROR(JsonDecode(json::value(obj), prefix, model::UnknownFields::kRefuse, s));
  return s;
}

Result<model::JobSpec> JobSpecFromJson(const json::object& obj,
                                       const std::set<std::string>* known_models) {
  FASTGPU_ASSIGN_OR_RETURN(
      model::JobSpec spec,
      model::FromJson<model::JobSpec>(json::value(obj), model::UnknownFields::kRefuse));
  FASTGPU_RETURN_IF_ERROR(model::ValidateJobSpec(spec, known_models));
  return spec;
}

namespace {

// Adds the shape's description (for people) to its JSON form.
void Describe(json::value& shape_json, const model::Shape& s) {
  shape_json.as_object()["description"] = model::DescribeShape(s);
}

}  // namespace

json::object ShapeToJson(const model::Shape& s) {
  json::value v = json::value_from(s);
  Describe(v, s);
  return std::move(v.as_object());
}

json::object JobSpecToJson(const model::JobSpec& spec) {
  json::value v = json::value_from(spec);
  Describe(v.as_object()["shape"], spec.shape);
  return std::move(v.as_object());
}

json::object JobToJson(const model::Job& job, const std::vector<model::Allocation>& allocations,
                       bool simulated) {
  json::value v = json::value_from(job);
  json::object& o = v.as_object();
  Describe(o["shape"], job.spec.shape);
  o["simulated"] = simulated;
  json::array allocs;
  for (const model::Allocation& a : allocations) allocs.push_back(json::value_from(a));
  o["allocations"] = std::move(allocs);
  return std::move(o);
}

json::object AllocationToJson(const model::Allocation& a) {
  return std::move(json::value_from(a).as_object());
}

json::object GpuToJson(const model::Gpu& g) { return std::move(json::value_from(g).as_object()); }

json::object TenantToJson(const model::Tenant& t) {
  return std::move(json::value_from(t).as_object());
}

std::string ErrorJson(const Status& status) {
  return json::serialize(
      json::object{{"code", StatusCodeName(status.code())}, {"message", status.message()}});
}

}  // namespace fastgpu::server

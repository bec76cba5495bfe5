// JSON encoding and strict decoding of the API's resources (Boost.JSON).
//
// The JSON form of each model type is defined once, in model/json.h; these functions are
// the API's view of it: request bodies are decoded refusing unknown fields (a typo in a
// field name is an error, not silently ignored), and answers add what only the API shows
// (a shape's "description", a job's "simulated" and live "allocations"). Decoders refuse
// unknown fields, wrong types and out-of-range numbers with an InvalidArgument whose message
// starts with the field's path ("shape.gpu_milli: ..."). Encoders never fail. All functions
// are pure and thread-safe.
#pragma once

#include <boost/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "model/allocation.h"
#include "model/gpu.h"
#include "model/job.h"
#include "model/json.h"
#include "model/tenant.h"

namespace fastgpu::server {

namespace json = boost::json;

// Parses `body` as one JSON object. InvalidArgument when it is not valid JSON or not an object.
Result<json::object> ParseObject(std::string_view body);

// Reads the fields of one JSON object of a request body, refusing types that do not fit
// and, at Finish(), any field that was not read. Field paths in errors carry `prefix`.
// The rules are the model's (model/json.h, JsonObjectReader); this keeps the Status-per-call
// form the handlers use.
class FieldReader {
 public:
  FieldReader(const json::object& obj, std::string prefix = "");
  // Each getter leaves `out` unchanged when the field is absent (or null) and
  // returns InvalidArgument naming the field when its type or range is wrong.
  Status String(std::string_view key, std::string& out, bool required = false);
  Status Int(std::string_view key, int64_t& out, int64_t min, int64_t max, bool required = false);
  Status Int(std::string_view key, int& out, int min, int max, bool required = false);
  Status Bool(std::string_view key, bool& out);
  Status StringList(std::string_view key, std::vector<std::string>& out, bool required = false);
  Status StringMap(std::string_view key, std::map<std::string, std::string>& out);
  // The nested object, or nullptr when absent; InvalidArgument when not an object.
  Result<const json::object*> Object(std::string_view key);
  Result<const json::array*> Array(std::string_view key);
  // InvalidArgument naming the first field that no getter asked for.
  Status Finish() const;
  std::string Path(std::string_view key) const;

 private:
  Status Current() const;
  model::JsonObjectReader reader_;
};

// {"name","command","env","shape":{...},"replicas","max_retries",
// "priority"}; validates the spec too.
Result<model::JobSpec> JobSpecFromJson(const json::object& obj,
                                       const std::set<std::string>* known_models);
Result<model::Shape> ShapeFromJson(const json::object& obj, const std::string& prefix);

json::object ShapeToJson(const model::Shape& shape);
json::object JobSpecToJson(const model::JobSpec& spec);
// The job with its events; `allocations` are its live allocations (may be empty);
// `simulated` marks a job placed on simulated GPUs.
json::object JobToJson(const model::Job& job, const std::vector<model::Allocation>& allocations,
                       bool simulated);
json::object AllocationToJson(const model::Allocation& alloc);
json::object GpuToJson(const model::Gpu& gpu);
json::object TenantToJson(const model::Tenant& tenant);

// "INVALID_ARGUMENT" / message body of an error.
std::string ErrorJson(const Status& status);

}  // namespace fastgpu::server

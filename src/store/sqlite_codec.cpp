#include "store/sqlite_codec.h"

#include "model/json.h"
#include "model/service_json.h"

namespace fastgpu::store {
namespace {

// Decodes a stored column with the model's decoder; a column that does not fit is DataLoss
// (the store wrote it, so it was damaged), its message naming the field.
template <typename T>
Result<T> Decode(std::string_view text, const char* what) {
  Result<T> r = model::FromJsonText<T>(text);
  if (!r.ok())
    return DataLoss(std::string("stored ") + what + " is malformed: " + r.status().message());
  return r;
}

}  // namespace

std::string EncodeJobSpec(const model::JobSpec& spec) { return model::ToJsonText(spec); }

Result<model::JobSpec> DecodeJobSpec(std::string_view text) {
  return Decode<model::JobSpec>(text, "job spec");
}

std::string EncodeServiceSpec(const model::ServiceSpec& spec) { return model::ToJsonText(spec); }

Result<model::ServiceSpec> DecodeServiceSpec(std::string_view text) {
  return Decode<model::ServiceSpec>(text, "service spec");
}

std::string EncodeStringList(const std::vector<std::string>& list) {
  boost::json::array a;
  for (const std::string& s : list) a.emplace_back(s);
  return boost::json::serialize(a);
}

Result<std::vector<std::string>> DecodeStringList(std::string_view text, const char* what) {
  Result<boost::json::value> v = model::ParseJson(text);
  std::vector<std::string> out;
  if (v.ok() && v->is_array()) {
    for (const boost::json::value& e : v->as_array()) {
      if (!e.is_string()) break;
      out.emplace_back(e.as_string());
    }
    if (out.size() == v->as_array().size()) return out;
  }
  return DataLoss(std::string("stored ") + what + " is malformed: must be an array of strings");
}

std::string EncodeGpus(const std::vector<model::Gpu>& gpus) { return model::ToJsonText(gpus); }

Result<std::vector<model::Gpu>> DecodeGpus(std::string_view text) {
  return Decode<std::vector<model::Gpu>>(text, "node GPUs");
}

std::string EncodeSlices(const std::vector<model::VgpuSlice>& slices) {
  return model::ToJsonText(slices);
}

Result<std::vector<model::VgpuSlice>> DecodeSlices(std::string_view text) {
  return Decode<std::vector<model::VgpuSlice>>(text, "allocation slices");
}

}  // namespace fastgpu::store

#include "store/sqlite_codec.h"

#include "model/json.h"

namespace fastgpu {
namespace {

// Decodes a stored column with the model's decoder; a column that does not fit is DataLoss
// (the store wrote it, so it was damaged), its message naming the field.
template <typename T>
Result<T> Decode(std::string_view text, const char* what) {
  Result<T> r = FromJsonText<T>(text);
  if (!r.ok())
    return DataLoss(std::string("stored ") + what + " is malformed: " + r.status().message());
  return r;
}

}  // namespace

std::string EncodeJobSpec(const JobSpec& spec) { return ToJsonText(spec); }

Result<JobSpec> DecodeJobSpec(std::string_view text) { return Decode<JobSpec>(text, "job spec"); }

std::string EncodeGpus(const std::vector<Gpu>& gpus) { return ToJsonText(gpus); }

Result<std::vector<Gpu>> DecodeGpus(std::string_view text) {
  return Decode<std::vector<Gpu>>(text, "node GPUs");
}

std::string EncodeSlices(const std::vector<VgpuSlice>& slices) { return ToJsonText(slices); }

Result<std::vector<VgpuSlice>> DecodeSlices(std::string_view text) {
  return Decode<std::vector<VgpuSlice>>(text, "allocation slices");
}

}  // namespace fastgpu

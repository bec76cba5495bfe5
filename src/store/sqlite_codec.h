// JSON text for the columns of the SQLite store that hold nested values (internal):
// a job's spec, a node's GPUs, an allocation's slices, in the model's JSON forms
// (model/json.h: the same field names since the first schema, so older rows still read).
// Decoding reports a malformed column as DataLoss naming the field. Pure functions;
// thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "model/allocation.h"
#include "model/gpu.h"
#include "model/job.h"

namespace fastgpu {

std::string EncodeJobSpec(const JobSpec& spec);
Result<JobSpec> DecodeJobSpec(std::string_view json);

std::string EncodeGpus(const std::vector<Gpu>& gpus);
Result<std::vector<Gpu>> DecodeGpus(std::string_view json);

std::string EncodeSlices(const std::vector<VgpuSlice>& slices);
Result<std::vector<VgpuSlice>> DecodeSlices(std::string_view json);

}  // namespace fastgpu

// JSON text for the columns of the SQLite store that hold nested values (internal):
// a job's spec, a service's spec and replica jobs, a node's GPUs, an allocation's slices, in the model's JSON forms
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
#include "model/service.h"

namespace fastgpu::store {

std::string EncodeJobSpec(const model::JobSpec& spec);
Result<model::JobSpec> DecodeJobSpec(std::string_view json);

std::string EncodeServiceSpec(const model::ServiceSpec& spec);
Result<model::ServiceSpec> DecodeServiceSpec(std::string_view json);
// A JSON array of strings (a service's replica job ids).
std::string EncodeStringList(const std::vector<std::string>& list);
Result<std::vector<std::string>> DecodeStringList(std::string_view json, const char* what);

std::string EncodeGpus(const std::vector<model::Gpu>& gpus);
Result<std::vector<model::Gpu>> DecodeGpus(std::string_view json);

std::string EncodeSlices(const std::vector<model::VgpuSlice>& slices);
Result<std::vector<model::VgpuSlice>> DecodeSlices(std::string_view json);

}  // namespace fastgpu::store

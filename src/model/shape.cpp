#include "model/shape.h"

#include <algorithm>

#include "model/gpu.h"
#include "model/units.h"

namespace fastgpu::model {

std::string_view IsolationName(Isolation iso) {
  switch (iso) {
    case Isolation::kDefault:
      return "default";
    case Isolation::kVm:
      return "vm";
    case Isolation::kMig:
      return "mig";
    case Isolation::kMps:
      return "mps";
    case Isolation::kShared:
      return "shared";
    case Isolation::kExclusive:
      return "exclusive";
  }
  return "default";
}

Result<Isolation> ParseIsolation(std::string_view name) {
  for (Isolation i : {Isolation::kDefault, Isolation::kVm, Isolation::kMig, Isolation::kMps,
                      Isolation::kShared, Isolation::kExclusive}) {
    if (IsolationName(i) == name) return i;
  }
  return InvalidArgument("unknown isolation '" + std::string(name) +
                         "' (use exclusive, mig, mps, shared or default)");
}

bool Shape::AllowsModel(std::string_view model) const {
  if (gpu_models.empty()) return true;
  return std::find(gpu_models.begin(), gpu_models.end(), model) != gpu_models.end();
}

Status ValidateShape(const Shape& s, const std::set<std::string>* known_models) {
  if (s.gpu_count < 0) return InvalidArgument("gpu_count must not be negative");
  if (s.gpu_milli < 0) return InvalidArgument("gpu_milli must not be negative");
  if (s.gpu_memory_mib < 0) return InvalidArgument("gpu_memory must not be negative");
  if (s.cpu_milli < 0) return InvalidArgument("cpu_milli must not be negative");
  if (s.memory_mib < 0) return InvalidArgument("memory must not be negative");
  if (s.gpu_milli > 1000) {
    return InvalidArgument(
        "gpu_milli must be at most 1000 (one whole GPU); ask for whole GPUs with gpu_count");
  }
  if (s.gpu_count > 64) return InvalidArgument("gpu_count must be at most 64");
  if (s.gpu_count == 0) {
    if (s.gpu_milli > 0) return InvalidArgument("gpu_milli is set but gpu_count is 0");
    if (s.gpu_memory_mib > 0)
      return InvalidArgument("gpu_memory is set but the request asks for no GPU");
    if (!s.gpu_models.empty())
      return InvalidArgument("gpu_models is set but the request asks for no GPU");
    if (s.isolation != Isolation::kDefault) {
      return InvalidArgument("isolation is set but the request asks for no GPU");
    }
    if (s.cpu_milli == 0 && s.memory_mib == 0) {
      return InvalidArgument("empty request: ask for GPUs, cpu_milli or memory");
    }
  } else {
    if (s.gpu_milli == 0) return InvalidArgument("gpu_milli must be 1..1000 when gpu_count is set");
    if (s.gpu_count > 1 && s.gpu_milli != 1000) {
      return InvalidArgument(
          "gpu_milli must be 1000 when gpu_count is above 1 (fractions are of one GPU)");
    }
  }
  std::set<std::string> seen;
  for (const std::string& m : s.gpu_models) {
    FASTGPU_RETURN_IF_ERROR(ValidateGpuModelName(m).WithContext("gpu_models"));
    if (!seen.insert(m).second) return InvalidArgument("gpu_models lists '" + m + "' twice");
    if (known_models != nullptr && known_models->count(m) == 0) {
      return InvalidArgument("gpu_models: unknown GPU model '" + m + "'");
    }
  }
  if (s.gpu_count > 0) {
    if (s.isolation == Isolation::kExclusive && s.IsFractional()) {
      return InvalidArgument("isolation: exclusive needs whole GPUs, but gpu_milli is " +
                             std::to_string(s.gpu_milli));
    }
    if (s.isolation == Isolation::kMig && s.gpu_count > 1) {
      return InvalidArgument("isolation: mig gives one instance per replica; gpu_count must be 1");
    }
  }
  return OkStatus();
}

std::string DescribeShape(const Shape& s) {
  std::string out;
  if (s.gpu_count > 0) {
    out = FormatGpuAmount({s.gpu_count, s.gpu_milli}) + " GPU";
    if (s.gpu_memory_mib > 0) out += " (" + FormatMemoryMib(s.gpu_memory_mib) + ")";
    for (size_t i = 0; i < s.gpu_models.size(); ++i) {
      out += (i == 0 ? " " : "|") + s.gpu_models[i];
    }
  } else {
    out = "no GPU";
  }
  if (s.cpu_milli > 0) out += ", " + FormatCpuMilli(s.cpu_milli) + " CPU";
  if (s.memory_mib > 0) out += ", " + FormatMemoryMib(s.memory_mib);
  return out;
}

}  // namespace fastgpu::model

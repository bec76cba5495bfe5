#include "model/gpu.h"

namespace fastgpu::model {

const std::set<std::string>& KnownGpuModels() {
  static const std::set<std::string> kModels = {
      "H200-141GB", "H100-80GB", "H100-94GB", "H800-80GB", "A100-80GB", "A100-40GB",
      "A800-80GB",  "L40S",      "L40",       "L4",        "A10",       "A30",
      "A40",        "T4",        "V100",      "V100M16",   "V100M32",   "P100",
      "G1",         "G2",        "G3",        "RTX4090",   "RTX3090",   "B200"};
  return kModels;
}

Status ValidateGpuModelName(const std::string& model) {
  if (model.empty() || model.size() > 64) {
    return InvalidArgument("GPU model name must be 1 to 64 characters");
  }
  for (char c : model) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok)
      return InvalidArgument("GPU model '" + model + "' has a character outside [A-Za-z0-9._-]");
  }
  return OkStatus();
}

const VmGpuType* SmallestVmTypeFor(const VmOffer& offer, int milli) {
  for (const VmGpuType& t : offer.types) {
    if (t.milli >= milli) return &t;
  }
  return nullptr;
}

namespace {

Status ValidateVmOffer(const VmOffer& vm, const std::string& where) {
  if (vm.types.size() > static_cast<size_t>(kMaxVmGpuTypes)) {
    return InvalidArgument(where + ": vm.types holds more than " +
                           std::to_string(kMaxVmGpuTypes) + " types");
  }
  for (size_t i = 0; i < vm.types.size(); ++i) {
    const VmGpuType& t = vm.types[i];
    const std::string at = where + ": vm.types[" + std::to_string(i) + "]";
    if (t.name.empty() || t.name.size() > 128)
      return InvalidArgument(at + ".name must be 1 to 128 characters");
    if (t.milli < 1 || t.milli > 1000) return InvalidArgument(at + ".milli must be 1..1000");
    if (t.framebuffer_mib < 0) return InvalidArgument(at + ".framebuffer_mib must not be negative");
    if (i > 0 && t.milli < vm.types[i - 1].milli)
      return InvalidArgument(at + ": types must be sorted smallest first");
  }
  return OkStatus();
}

}  // namespace

Status ValidateGpu(const Gpu& gpu) {
  if (gpu.index < 0) return InvalidArgument("gpu index must not be negative");
  if (gpu.uuid.empty())
    return InvalidArgument("gpu " + std::to_string(gpu.index) + ": uuid is empty");
  FASTGPU_RETURN_IF_ERROR(
      ValidateGpuModelName(gpu.model).WithContext("gpu " + std::to_string(gpu.index)));
  if (gpu.memory_mib <= 0) {
    return InvalidArgument("gpu " + std::to_string(gpu.index) + ": memory_mib must be positive");
  }
  return ValidateVmOffer(gpu.vm, "gpu " + std::to_string(gpu.index));
}

Status ValidateNode(const Node& node) {
  if (node.name.empty()) return InvalidArgument("node name is empty");
  if (node.cpu_milli < 0) return InvalidArgument("node cpu_milli must not be negative");
  if (node.memory_mib < 0) return InvalidArgument("node memory_mib must not be negative");
  std::vector<bool> seen(node.gpus.size(), false);
  for (const Gpu& g : node.gpus) {
    FASTGPU_RETURN_IF_ERROR(ValidateGpu(g).WithContext("node " + node.name));
    if (g.index >= static_cast<int>(node.gpus.size()) || seen[g.index]) {
      return InvalidArgument("node " + node.name + ": gpu indexes must be 0.." +
                             std::to_string(node.gpus.size() - 1) + " without repeats");
    }
    seen[g.index] = true;
  }
  return OkStatus();
}

}  // namespace fastgpu::model

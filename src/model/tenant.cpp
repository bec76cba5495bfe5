#include "model/tenant.h"

namespace fastgpu::model {

Status ValidateTenantName(const std::string& name) {
  if (name.empty() || name.size() > 63)
    return InvalidArgument("tenant name must be 1 to 63 characters");
  if (!(name[0] >= 'a' && name[0] <= 'z')) {
    return InvalidArgument("tenant name must start with a lowercase letter");
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return InvalidArgument("tenant name '" + name + "' may hold only a-z, 0-9 and '-'");
    }
  }
  return OkStatus();
}

Status ValidateQuota(const Quota& q) {
  if (q.max_gpu_milli < 0) return InvalidArgument("quota max_gpu_milli must not be negative");
  if (q.budget_cents < 0) return InvalidArgument("quota budget must not be negative");
  return OkStatus();
}

}  // namespace fastgpu::model

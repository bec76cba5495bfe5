// Tenants: who owns jobs, tokens, quotas and a budget.
//
// Plain value types; validation is pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "common/clock.h"
#include "common/status.h"

namespace fastgpu::model {

struct Quota {
  int64_t max_gpu_milli = 0;  // GPU held at once, in milli; 0 = unlimited
  int64_t budget_cents = 0;   // spend per period; 0 = unlimited
};

struct Tenant {
  std::string id;      // "tenant-<hex>"
  std::string name;    // unique, 1-63 of [a-z0-9-], starts with a letter
  bool admin = false;  // the operator's tenant: sees and touches everything
  Quota quota;
  // The admin lets this tenant's jobs ask to run as root on the node (`job submit
  // --root`); default false: every replica runs as an unprivileged user.
  bool allow_root = false;
  TimePoint created_at{};
};

Status ValidateTenantName(const std::string& name);
Status ValidateQuota(const Quota& quota);

}  // namespace fastgpu::model

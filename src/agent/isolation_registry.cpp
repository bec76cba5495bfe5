// The isolation modes the agent knows: one table line per mode; the defaults of the
// optional hooks.
#include "agent/isolation.h"
#include "agent/isolation_internal.h"

namespace fastgpu {
namespace {

using ModeGetter = const IsolationMode& (*)();
// One line per mode; a mode's Kind() must be the Isolation it is listed under.
constexpr struct {
  Isolation isolation;
  ModeGetter get;
} kModes[] = {
    {Isolation::kExclusive, &ExclusiveIsolation},
    {Isolation::kMig, &MigIsolation},
    {Isolation::kMps, &MpsIsolation},
    {Isolation::kShared, &SharedIsolation},
};

}  // namespace

Result<const IsolationMode*> FindIsolationMode(Isolation isolation) {
  if (isolation == Isolation::kDefault) {
    return InvalidArgument("slice without an explicit isolation");
  }
  for (const auto& entry : kModes) {
    if (entry.isolation == isolation) return &entry.get();
  }
  std::string known;
  for (const auto& entry : kModes) {
    known += (known.empty() ? "" : ", ") + std::string(IsolationName(entry.isolation));
  }
  const std::string_view name = IsolationName(isolation);
  if (Result<Isolation> named = ParseIsolation(name); !named.ok() || *named != isolation) {
    return InvalidArgument("unknown isolation value " +
                           std::to_string(static_cast<int>(isolation)) + " (this agent has " +
                           known + ")");
  }
  return Unimplemented(std::string(name) + " isolation is not available yet (this agent has " +
                       known + ")");
}

std::vector<const IsolationMode*> IsolationModes() {
  std::vector<const IsolationMode*> modes;
  for (const auto& entry : kModes) modes.push_back(&entry.get());
  return modes;
}

const IsolationMode* IsolationModeOf(const Allocation& allocation) {
  if (allocation.slices.empty()) return nullptr;
  Result<const IsolationMode*> mode = FindIsolationMode(allocation.slices[0].isolation);
  return mode.ok() ? *mode : nullptr;
}

// Defaults of the optional hooks.

Status IsolationMode::CheckAllocation(const Allocation&) const { return OkStatus(); }

Status IsolationMode::Start(const VgpuPlan&, const std::vector<GpuSample>&, IsolationServices&,
                            ReplicaRecord*) const {
  return OkStatus();
}

void IsolationMode::Supervise(const std::vector<const ReplicaRecord*>&, IsolationServices&) const {}

std::vector<std::string> IsolationMode::DeviceNodes(const IsolationServices&) const { return {}; }

std::vector<std::string> IsolationMode::HostFolders(const ReplicaRecord&,
                                                    const IsolationServices&) const {
  return {};
}

void IsolationMode::Release(const ReplicaRecord&, IsolationServices&) const {}

}  // namespace fastgpu

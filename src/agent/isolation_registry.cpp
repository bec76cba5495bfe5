// The isolation modes the agent knows: one table line per mode; the defaults of the
// optional hooks.
#include "agent/isolation.h"
#include "agent/isolation_internal.h"

namespace fastgpu::agent {
namespace {

using ModeGetter = const IsolationMode& (*)();
// One line per mode; a mode's Kind() must be the Isolation it is listed under.
constexpr struct {
  model::Isolation isolation;
  ModeGetter get;
} kModes[] = {
    {model::Isolation::kExclusive, &ExclusiveIsolation},
    {model::Isolation::kMig, &MigIsolation},
    {model::Isolation::kMps, &MpsIsolation},
    {model::Isolation::kShared, &SharedIsolation},
    {model::Isolation::kVm, &VmIsolation},
};

}  // namespace

Result<const IsolationMode*> FindIsolationMode(model::Isolation isolation) {
  if (isolation == model::Isolation::kDefault) {
    return InvalidArgument("slice without an explicit isolation");
  }
  for (const auto& entry : kModes) {
    if (entry.isolation == isolation) return &entry.get();
  }
  std::string known;
  for (const auto& entry : kModes) {
    known += (known.empty() ? "" : ", ") + std::string(model::IsolationName(entry.isolation));
  }
  const std::string_view name = model::IsolationName(isolation);
  if (Result<model::Isolation> named = model::ParseIsolation(name);
      !named.ok() || *named != isolation) {
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

const IsolationMode* IsolationModeOf(const model::Allocation& allocation) {
  if (allocation.slices.empty()) return nullptr;
  Result<const IsolationMode*> mode = FindIsolationMode(allocation.slices[0].isolation);
  return mode.ok() ? *mode : nullptr;
}

// Defaults of the optional hooks.

Status IsolationMode::CheckAllocation(const model::Allocation&) const { return OkStatus(); }

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

Status IsolationMode::PrepareLaunch(const protocol::DesiredReplica&, const ReplicaRecord&,
                                    const std::vector<GpuSample>&, IsolationServices&,
                                    LaunchSpec*) const {
  return OkStatus();
}

void IsolationMode::Release(const ReplicaRecord&, IsolationServices&) const {}

}  // namespace fastgpu::agent

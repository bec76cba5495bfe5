#include "store/records.h"

namespace fastgpu::store {

std::string_view NodeStateName(NodeState s) {
  switch (s) {
    case NodeState::kReady:
      return "ready";
    case NodeState::kDraining:
      return "draining";
    case NodeState::kLost:
      return "lost";
  }
  return "ready";
}

Result<NodeState> ParseNodeState(std::string_view name) {
  for (NodeState s : {NodeState::kReady, NodeState::kDraining, NodeState::kLost}) {
    if (NodeStateName(s) == name) return s;
  }
  return InvalidArgument("unknown node state '" + std::string(name) + "'");
}

std::string_view AllocationStateName(AllocationState s) {
  switch (s) {
    case AllocationState::kPending:
      return "pending";
    case AllocationState::kStarting:
      return "starting";
    case AllocationState::kRunning:
      return "running";
    case AllocationState::kExited:
      return "exited";
    case AllocationState::kFailed:
      return "failed";
    case AllocationState::kReleased:
      return "released";
  }
  return "pending";
}

Result<AllocationState> ParseAllocationState(std::string_view name) {
  for (AllocationState s :
       {AllocationState::kPending, AllocationState::kStarting, AllocationState::kRunning,
        AllocationState::kExited, AllocationState::kFailed, AllocationState::kReleased}) {
    if (AllocationStateName(s) == name) return s;
  }
  return InvalidArgument("unknown allocation state '" + std::string(name) + "'");
}

namespace {
int Rank(AllocationState s) {
  switch (s) {
    case AllocationState::kPending:
      return 0;
    case AllocationState::kStarting:
      return 1;
    case AllocationState::kRunning:
      return 2;
    case AllocationState::kExited:
    case AllocationState::kFailed:
      return 3;
    case AllocationState::kReleased:
      return 4;
  }
  return 0;
}
}  // namespace

bool IsLive(AllocationState s) { return Rank(s) <= 2; }

bool CanAdvance(AllocationState from, AllocationState to) { return Rank(to) > Rank(from); }

std::string_view ChangeKindName(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kJob:
      return "job";
    case ChangeKind::kAllocation:
      return "allocation";
    case ChangeKind::kNode:
      return "node";
  }
  return "job";
}

}  // namespace fastgpu::store

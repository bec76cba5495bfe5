#include "store/store_util.h"

#include <charconv>
#include <exception>

namespace fastgpu::store {

TimePoint TruncateToMillis(TimePoint t) { return FromUnixMillis(ToUnixMillis(t)); }

model::Job NormalizeJobTimes(const model::Job& job) {
  model::Job j = job;
  j.created_at = TruncateToMillis(j.created_at);
  j.updated_at = TruncateToMillis(j.updated_at);
  for (model::JobEvent& e : j.events) e.at = TruncateToMillis(e.at);
  return j;
}

Result<int64_t> ParseJobCursor(const std::string& cursor) {
  if (cursor.empty()) return int64_t{0};
  int64_t seq = 0;
  const char* end = cursor.data() + cursor.size();
  auto [ptr, ec] = std::from_chars(cursor.data(), end, seq);
  if (ec != std::errc() || ptr != end || seq < 0) {
    return InvalidArgument("malformed cursor '" + cursor + "'");
  }
  return seq;
}

std::string FormatJobCursor(int64_t seq) { return std::to_string(seq); }

int ClampJobLimit(int limit) { return limit < 1 ? 1 : (limit > 1000 ? 1000 : limit); }

Status ApplyGpuHealth(model::Node& node, const std::vector<GpuHealth>& health) {
  for (const GpuHealth& h : health) {
    bool found = false;
    for (const model::Gpu& g : node.gpus) found = found || g.index == h.index;
    if (!found) {
      return InvalidArgument("node " + node.id + " has no gpu " + std::to_string(h.index));
    }
  }
  for (const GpuHealth& h : health) {
    for (model::Gpu& g : node.gpus) {
      if (g.index != h.index) continue;
      g.healthy = h.healthy;
      g.health_reason = h.healthy ? "" : h.reason;
    }
  }
  return OkStatus();
}

bool HealthChanged(const std::vector<model::Gpu>& before, const std::vector<model::Gpu>& after) {
  if (before.size() != after.size()) return true;
  for (size_t i = 0; i < before.size(); ++i) {
    if (before[i].healthy != after[i].healthy ||
        before[i].health_reason != after[i].health_reason) {
      return true;
    }
  }
  return false;
}

Status ApplyAllocationUpdate(AllocationRecord& r, const AllocationUpdate& u) {
  if (u.state == r.state) {
    if (!u.message.empty()) r.message = u.message;
    return OkStatus();
  }
  if (r.state == AllocationState::kReleased &&
      (u.state == AllocationState::kExited || u.state == AllocationState::kFailed)) {
    // How its process ended, reported after the release: recorded, the state kept.
    r.exit_code = u.exit_code;
    r.signal = u.signal;
    if (!u.message.empty()) r.message = u.message;
    return OkStatus();
  }
  if (!CanAdvance(r.state, u.state)) {
    return FailedPrecondition("allocation " + r.alloc.id + " cannot go from " +
                              std::string(AllocationStateName(r.state)) + " to " +
                              std::string(AllocationStateName(u.state)));
  }
  const int64_t at_ms = ToUnixMillis(u.at);
  if (u.state == AllocationState::kRunning && r.started_at_ms == 0) r.started_at_ms = at_ms;
  if (!IsLive(u.state) && r.ended_at_ms == 0) r.ended_at_ms = at_ms;
  if (u.state == AllocationState::kExited || u.state == AllocationState::kFailed) {
    r.exit_code = u.exit_code;
    r.signal = u.signal;
  }
  if (!u.message.empty()) r.message = u.message;
  r.state = u.state;
  return OkStatus();
}

Result<std::string_view> LogBytesToAppend(int64_t size, int64_t offset, std::string_view data,
                                          int64_t max_bytes) {
  if (offset < 0) return InvalidArgument("negative log offset");
  if (offset > size) {
    return OutOfRange("log chunk leaves a gap: expected offset " + std::to_string(size));
  }
  const int64_t end = offset + static_cast<int64_t>(data.size());
  if (end <= size) return std::string_view();
  std::string_view fresh = data.substr(static_cast<size_t>(size - offset));
  if (size >= max_bytes) {
    return ResourceExhausted("log is at its cap of " + std::to_string(max_bytes) + " bytes");
  }
  const int64_t room = max_bytes - size;
  if (static_cast<int64_t>(fresh.size()) > room) fresh = fresh.substr(0, static_cast<size_t>(room));
  return fresh;
}

Status RunGuarded(const std::function<Status()>& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Internal(std::string("exception in store transaction: ") + e.what());
  } catch (...) {
    return Internal("unknown exception in store transaction");
  }
}

Status DiskFullError(std::string_view detail) {
  std::string msg = "the control plane's disk is full; retry later";
  if (!detail.empty()) msg += " (" + std::string(detail) + ")";
  return Unavailable(std::move(msg));
}

Status ValidateLeaderLease(const LeaderLease& lease) {
  if (lease.holder.empty()) return InvalidArgument("leader lease: empty holder");
  if (lease.generation < 1) return InvalidArgument("leader lease: generation below 1");
  return OkStatus();
}

}  // namespace fastgpu::store

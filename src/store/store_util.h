// Helpers shared by the Store implementations: the rules both must apply the same way.
// Internal to the store module. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/records.h"

namespace fastgpu::store {

// `t` with the sub-millisecond part dropped (what the store keeps).
TimePoint TruncateToMillis(TimePoint t);

// The job with every time truncated to the millisecond.
model::Job NormalizeJobTimes(const model::Job& job);

// Job list cursors: the creation sequence number of the last job returned, as text.
// An empty cursor is 0 (from the start); anything but digits is InvalidArgument.
Result<int64_t> ParseJobCursor(const std::string& cursor);
std::string FormatJobCursor(int64_t seq);
// JobFilter::limit clamped to 1..1000.
int ClampJobLimit(int limit);

// Sets health and reason of the GPUs named in `health` on `node`. InvalidArgument (and
// `node` unchanged) when an index is not one of the node's GPUs.
Status ApplyGpuHealth(model::Node& node, const std::vector<GpuHealth>& health);
// True when a GPU's health or health reason differs between `before` and `after` (the
// same GPUs, before and after ApplyGpuHealth).
bool HealthChanged(const std::vector<model::Gpu>& before, const std::vector<model::Gpu>& after);

// Applies an allocation state change per WriteTx::UpdateAllocation.
// FailedPrecondition (and `record` unchanged) when the change goes backwards.
Status ApplyAllocationUpdate(AllocationRecord& record, const AllocationUpdate& update);

// The part of `data` (a log chunk at `offset`) to append to a log of `size` bytes,
// per WriteTx::AppendLog: overlap trimmed, a gap OutOfRange, cut at `max_bytes`,
// ResourceExhausted when the log is already full and something new remains.
Result<std::string_view> LogBytesToAppend(int64_t size, int64_t offset, std::string_view data,
                                          int64_t max_bytes);

// Runs `fn`, turning an escaping exception into Internal.
Status RunGuarded(const std::function<Status()>& fn);

// InvalidArgument for a lease with an empty holder or a generation below 1.
Status ValidateLeaderLease(const LeaderLease& lease);

}  // namespace fastgpu::store

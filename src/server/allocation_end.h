// How an allocation ended, as its record tells it.
//
// An allocation the control plane releases while its replica still runs (the job was
// cancelled, requeued, or failed through another replica) is marked "stopped by the
// control plane (<why>)". The agent then stops the process (SIGTERM, then SIGKILL) and
// reports how it ended; that first report after the release is recorded on the released
// allocation (its exit code and signal; the state stays released), so the record says
// "killed by signal 15" and not "exit 0". EndedText is what `fastgpu job get` shows in
// its EXIT column. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store/records.h"

namespace fastgpu::server {

inline constexpr std::string_view kStoppedByControlPlane = "stopped by the control plane";

// The reason an agent gives for a replica the kernel's OOM killer ended at its memory
// limit (docs/agent-protocol.md). The allocation's message then starts with it.
inline constexpr std::string_view kOomKilled = "OOMKilled";

// The message to store for a report with `reason`: `message` when it already starts
// with the reason (or there is none), else "<reason>: <message>".
std::string WithReason(std::string_view reason, const std::string& message);

// The reason recorded for an allocation that ended ("OOMKilled"), or "".
std::string EndReason(const store::AllocationRecord& rec);

// "stopped by the control plane (job cancelled)".
std::string StoppedMessage(const std::string& why);

// The update that releases `rec` at `at`: a live one with StoppedMessage(why), one that
// already ended with its record kept as it is.
store::AllocationUpdate ReleaseUpdate(const store::AllocationRecord& rec, TimePoint at,
                                      const std::string& why);

// When `rec` was released by the control plane while live and no exit has been recorded
// since, and `report` says how its process ended (exited or failed): the update that
// records it on the released allocation (exit code, signal, and a message saying both what
// ended it and why it was stopped). Otherwise nullopt (nothing to record).
std::optional<store::AllocationUpdate> LateExitUpdate(const store::AllocationRecord& rec,
                                                      const store::AllocationUpdate& report);

// How it ended, for people: "" while live, "OOMKilled", "signal 15", "exit 3", "failed to
// start", or "stopped by the control plane" when it was released while live and its agent
// has not reported since.
std::string EndedText(const store::AllocationRecord& rec);

}  // namespace fastgpu::server

#include "server/allocation_end.h"

namespace fastgpu::server {

namespace {

bool StoppedUnreported(const store::AllocationRecord& rec) {
  return rec.state == store::AllocationState::kReleased &&
         rec.message.rfind(kStoppedByControlPlane, 0) == 0;
}

}  // namespace

std::string WithReason(std::string_view reason, const std::string& message) {
  if (reason.empty() || message.rfind(reason, 0) == 0) return message;
  return std::string(reason) + (message.empty() ? "" : ": " + message);
}

std::string EndReason(const store::AllocationRecord& rec) {
  if (store::IsLive(rec.state) || rec.message.rfind(kOomKilled, 0) != 0) return "";
  return std::string(kOomKilled);
}

std::string StoppedMessage(const std::string& why) {
  return std::string(kStoppedByControlPlane) + " (" + why + ")";
}

store::AllocationUpdate ReleaseUpdate(const store::AllocationRecord& rec, TimePoint at,
                                      const std::string& why) {
  store::AllocationUpdate u;
  u.state = store::AllocationState::kReleased;
  u.at = at;
  if (store::IsLive(rec.state)) u.message = StoppedMessage(why);
  return u;
}

std::optional<store::AllocationUpdate> LateExitUpdate(const store::AllocationRecord& rec,
                                                      const store::AllocationUpdate& report) {
  if (!StoppedUnreported(rec)) return std::nullopt;
  if (report.state != store::AllocationState::kExited &&
      report.state != store::AllocationState::kFailed) {
    return std::nullopt;
  }
  store::AllocationUpdate u = report;
  std::string how = report.message;
  if (how.empty()) {
    how = report.signal != 0 ? "killed by signal " + std::to_string(report.signal)
                             : "exit " + std::to_string(report.exit_code);
  }
  u.message = "ended after it was " + rec.message + ": " + how;  // no longer starts with the mark
  return u;
}

std::string EndedText(const store::AllocationRecord& rec) {
  if (store::IsLive(rec.state)) return "";
  if (std::string reason = EndReason(rec); !reason.empty()) return reason;
  if (rec.signal != 0) return "signal " + std::to_string(rec.signal);
  if (StoppedUnreported(rec)) return std::string(kStoppedByControlPlane);
  // Failed to start, and maybe released since (the job failed through it): it never ran
  // and its agent said why.
  if (rec.state == store::AllocationState::kFailed ||
      (rec.state == store::AllocationState::kReleased && rec.started_at_ms == 0 &&
       rec.exit_code == 0 && !rec.message.empty())) {
    return "failed to start";
  }
  return "exit " + std::to_string(rec.exit_code);
}

}  // namespace fastgpu::server

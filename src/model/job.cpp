#include "model/job.h"

#include "model/image_ref.h"

namespace fastgpu::model {

std::string_view JobStateName(JobState s) {
  switch (s) {
    case JobState::kPending:
      return "pending";
    case JobState::kScheduled:
      return "scheduled";
    case JobState::kRunning:
      return "running";
    case JobState::kSucceeded:
      return "succeeded";
    case JobState::kFailed:
      return "failed";
    case JobState::kCancelled:
      return "cancelled";
  }
  return "pending";
}

Result<JobState> ParseJobState(std::string_view name) {
  for (JobState s : {JobState::kPending, JobState::kScheduled, JobState::kRunning,
                     JobState::kSucceeded, JobState::kFailed, JobState::kCancelled}) {
    if (JobStateName(s) == name) return s;
  }
  return InvalidArgument("unknown job state '" + std::string(name) + "'");
}

bool IsTerminal(JobState s) {
  return s == JobState::kSucceeded || s == JobState::kFailed || s == JobState::kCancelled;
}

bool CanTransition(JobState from, JobState to) {
  if (IsTerminal(from) || from == to) return false;
  if (to == JobState::kFailed || to == JobState::kCancelled) return true;
  switch (from) {
    case JobState::kPending:
      return to == JobState::kScheduled;
    case JobState::kScheduled:
      return to == JobState::kRunning || to == JobState::kPending;
    case JobState::kRunning:
      return to == JobState::kSucceeded || to == JobState::kPending;
    default:
      return false;
  }
}

Status ValidateReadinessProbe(const ReadinessProbe& probe) {
  if (probe.kind != ReadinessProbe::Kind::kHttp) {
    if (!probe.http_path.empty()) return InvalidArgument("readiness.http: only for an HTTP probe");
    return OkStatus();
  }
  const std::string& path = probe.http_path;
  if (path.empty() || path[0] != '/') return InvalidArgument("readiness.http: must start with '/'");
  if (path.size() > 1024) return InvalidArgument("readiness.http: at most 1024 characters");
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return InvalidArgument(
          "readiness.http: printable ASCII without spaces only (percent-encode the rest)");
    }
  }
  return OkStatus();
}

Status ValidateJobSpec(const JobSpec& spec, const std::set<std::string>* known_models) {
  if (spec.name.size() > 128) return InvalidArgument("name must be at most 128 characters");
  for (char c : spec.name) {
    if (static_cast<unsigned char>(c) < 0x20)
      return InvalidArgument("name has a control character");
  }
  if (spec.command.empty() || spec.command[0].empty()) {
    return InvalidArgument("command is required");
  }
  for (const std::string& arg : spec.command) {
    if (arg.find('\0') != std::string::npos) return InvalidArgument("command has a NUL byte");
  }
  for (const auto& [k, v] : spec.env) {
    if (k.empty() || k.find('=') != std::string::npos || k.find('\0') != std::string::npos) {
      return InvalidArgument("env: invalid variable name '" + k + "'");
    }
    if (v.find('\0') != std::string::npos) return InvalidArgument("env: " + k + " has a NUL byte");
  }
  if (spec.replicas < 1 || spec.replicas > 1024) {
    return InvalidArgument("replicas must be 1..1024");
  }
  if (spec.max_retries < 0 || spec.max_retries > 100) {
    return InvalidArgument("max_retries must be 0..100");
  }
  if (spec.priority < -1000 || spec.priority > 1000) {
    return InvalidArgument("priority must be -1000..1000");
  }
  if (spec.readiness.kind != ReadinessProbe::Kind::kNone && !spec.port) {
    return InvalidArgument("readiness: only a job with a port (\"port\": true) can be probed");
  }
  FASTGPU_RETURN_IF_ERROR(ValidateReadinessProbe(spec.readiness));
  if (!spec.image.empty()) {
    if (auto ref = ParseImageRef(spec.image); !ref.ok()) {
      return ref.status().WithContext("image");
    }
  }
  return ValidateShape(spec.shape, known_models).WithContext("shape");
}

Status TransitionJob(Job& job, JobState to, std::string reason, TimePoint now) {
  if (!CanTransition(job.state, to)) {
    return FailedPrecondition("job " + job.id + " cannot go from " +
                              std::string(JobStateName(job.state)) + " to " +
                              std::string(JobStateName(to)));
  }
  job.events.push_back(JobEvent{now, job.state, to, reason});
  job.state = to;
  job.reason = std::move(reason);
  job.updated_at = now;
  if (to == JobState::kScheduled) ++job.attempts;
  return OkStatus();
}

}  // namespace fastgpu::model

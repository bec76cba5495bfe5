// Jobs: a command run to completion by one or more replicas placed as a gang.
//
// Lifecycle: pending -> scheduled -> running -> succeeded | failed | cancelled.
// A replica lost with its node sends the job back to pending while retries remain.
// Every transition records its reason. Plain value types; functions are pure.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "model/shape.h"

namespace fastgpu::model {

enum class JobState { kPending, kScheduled, kRunning, kSucceeded, kFailed, kCancelled };

std::string_view JobStateName(JobState s);  // "pending", "scheduled", ...
Result<JobState> ParseJobState(std::string_view name);
bool IsTerminal(JobState s);
// Whether the lifecycle allows from -> to. Terminal states allow nothing; any live
// state may go to failed or cancelled; scheduled and running may go back to pending
// (requeue after a lost node or an unhealthy GPU).
bool CanTransition(JobState from, JobState to);

struct JobEvent {
  TimePoint at{};
  JobState from = JobState::kPending;
  JobState to = JobState::kPending;
  std::string reason;
};

// How the agent judges a replica with a port ready to serve (JobSpec::readiness). JSON
// {"http": "/path"} (GET http://<endpoint>/path answers 2xx or 3xx) or {"tcp": true} (a TCP
// connect to the endpoint succeeds); absent = kNone: ready once running.
struct ReadinessProbe {
  enum class Kind { kNone, kHttp, kTcp };
  Kind kind = Kind::kNone;
  std::string http_path;  // kHttp only: starts with '/', printable ASCII, at most 1024 chars

  bool operator==(const ReadinessProbe&) const = default;
};

// Checks a probe's own form: kHttp with a valid path, no path otherwise. InvalidArgument
// naming "readiness.http".
Status ValidateReadinessProbe(const ReadinessProbe& probe);

// What a tenant submits.
struct JobSpec {
  std::string name;                        // optional, 0-128 printable characters
  std::vector<std::string> command;        // argv; required, first element non-empty
  std::map<std::string, std::string> env;  // extra environment
  Shape shape;                             // per replica
  int replicas = 1;                        // gang size, 1..1024
  int max_retries = 0;                     // requeues allowed after a loss, 0..100
  int priority = 0;  // -1000..1000, default 0; over budget, the lowest is stopped first
  // Run as root on the node instead of an unprivileged sandbox user; refused (403) unless
  // the tenant has allow_root. Default false.
  bool run_as_root = false;
  // OCI image each replica runs in (podman on the node, see docs/security.md),
  // e.g. "localhost/trainer:v3". Default "": the command runs as a plain process. The
  // node refuses an image whose registry its operator did not allow.
  std::string image;
  // The service this job is a replica of (docs/services.md): the service's id, set by the
  // control plane's service pass, never by a tenant. Default "": a plain job. JSON
  // "service" and "service_generation" (both present only for a replica).
  std::string service;
  // The service's generation the replica was started with (Service::generation); a
  // rolling update replaces replicas of older generations. Default 0.
  int64_t service_generation = 0;
  // An interactive session (`fastgpu run -it`, docs/sessions.md) instead of a batch job:
  // the command runs with its stdin and output connected to the user's terminal through
  // the control plane, and the job ends when the command exits, after `idle_timeout_s`
  // without input or output, or when no client reattached within the control plane's
  // grace period. Default false. JSON "session" (present only when true).
  bool session = false;
  // session only: run under a pseudo-terminal (true) or with plain pipes. Default false.
  bool tty = false;
  // session only: end it after this long without input or output. Default 0: the
  // control plane's default (--session-idle-timeout); above its maximum it is clamped.
  int64_t idle_timeout_s = 0;
  // Each replica gets a TCP port from its agent, given to it as PORT in its environment;
  // the replica's endpoint ("host:port") is shown with its allocation. Default false.
  // JSON "port" (present only when true).
  bool port = false;
  // port only: when the replica counts as ready (docs/agent.md#endpoints). Default kNone:
  // ready once it runs. JSON "readiness" (absent when kNone).
  ReadinessProbe readiness;
};

struct Job {
  std::string id;  // "job-<hex>"
  std::string tenant_id;
  JobSpec spec;
  JobState state = JobState::kPending;
  std::string reason;  // reason of the latest transition
  int attempts = 0;    // times the job was scheduled
  TimePoint created_at{};
  TimePoint updated_at{};
  std::vector<JobEvent> events;
};

// Checks a spec: command present, env keys valid (no '=' or NUL, not empty), replicas
// and retries in range, image empty or a valid reference (ParseImageRef), a readiness
// probe only with `port` (and well formed), and the shape (see ValidateShape).
Status ValidateJobSpec(const JobSpec& spec, const std::set<std::string>* known_models = nullptr);

// Moves `job` to `to` at `now` with `reason`, recording an event. FailedPrecondition
// when the lifecycle does not allow it (the job is left unchanged).
Status TransitionJob(Job& job, JobState to, std::string reason, TimePoint now);

}  // namespace fastgpu::model

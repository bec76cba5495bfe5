// Services: long-running replicas the control plane keeps at a count (docs/services.md).
//
// A service is a command run by `replicas` replica jobs at a time (each a plain job of one
// replica whose JobSpec names the service). The control plane's service pass replaces a
// replica that ends, cancels extras, backs off when replicas crash at once, and rolls the
// replicas one at a time when the spec changes (the generation rises). The autoscaler moves
// `replicas` between min_replicas and max_replicas. Plain value types; functions are pure
// and thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "model/job.h"
#include "model/shape.h"

namespace fastgpu::model {

// How a replica is judged ready to serve. JSON {"http": "/path"} (an HTTP GET of the path on
// the replica's port answers 2xx) or {"tcp": true} (the port accepts a connection); absent:
// a running replica counts as ready.
struct ServiceReadiness {
  std::string http_path;  // "/healthz"; "" for none. Starts with '/', printable ASCII
  bool tcp = false;       // a TCP connect to the port; not with http_path
  bool empty() const { return http_path.empty() && !tcp; }
  friend bool operator==(const ServiceReadiness&, const ServiceReadiness&) = default;
};

inline constexpr int kMaxServiceReplicas = 1024;

// What a tenant asks for.
struct ServiceSpec {
  std::string name;                        // required, 1-63 of [a-z0-9-], unique per tenant
  std::vector<std::string> command;        // argv of each replica; required
  std::map<std::string, std::string> env;  // extra environment of each replica
  Shape shape;                             // per replica (the job's vocabulary)
  // The replica listens on the port its agent gives it ($PORT in its environment). Default
  // false: the replica gets no port.
  bool port = false;
  ServiceReadiness readiness;  // default: none (running is ready); needs `port`
  int min_replicas = 1;        // 0..1024, default 1; 0 lets an idle service drop to zero
  // min_replicas..1024; default 0 here means "as min_replicas, at least 1"
  // (ApplyServiceDefaults fills it in before the spec is stored).
  int max_replicas = 0;
  double target_rps = 0;    // requests per second per replica the autoscaler aims at; 0 = off
  int target_gpu_util = 0;  // GPU utilisation percent (1..100) to aim at; 0 = off; not both
  // With min_replicas 0: no request for this long scales the service to zero. Default 300.
  int64_t idle_timeout_s = 300;
  // The autoscaler lowers `replicas` only after wanting fewer for this long. Default 300.
  int64_t scale_down_delay_s = 300;
  std::string image;         // OCI image of each replica, as JobSpec::image; default none
  bool run_as_root = false;  // as JobSpec::run_as_root; default false
  friend bool operator==(const ServiceSpec&, const ServiceSpec&) = default;
};

// Where a service stands, as the service pass last saw it.
//   pending:  fewer replicas running than wanted (starting, or waiting for capacity);
//   running:  every wanted replica running (and ready);
//   updating: a rolling update replaces replicas of an older generation;
//   backoff:  replicas end right after they start; the next start waits (see reason);
//   idle:     zero replicas wanted (scaled to zero), nothing runs.
enum class ServiceState { kPending, kRunning, kUpdating, kBackoff, kIdle };
std::string_view ServiceStateName(ServiceState s);  // "pending", "running", ...
Result<ServiceState> ParseServiceState(std::string_view name);

struct Service {
  std::string id;  // "svc-<hex>"
  std::string tenant_id;
  ServiceSpec spec;
  int replicas = 1;        // the desired count now, within [min_replicas, max_replicas]
  int64_t generation = 1;  // rises with every update of what a replica runs
  ServiceState state = ServiceState::kPending;
  std::string reason;                     // why it is in that state; people read it
  std::vector<std::string> replica_jobs;  // ids of its live replica jobs, oldest first
  TimePoint created_at{};
  TimePoint updated_at{};
  friend bool operator==(const Service&, const Service&) = default;
};

// 1-63 characters of [a-z0-9-], starting with a letter or digit, not ending with '-'.
Status ValidateServiceName(const std::string& name);

// Fills what the spec leaves to defaults: max_replicas 0 becomes max(min_replicas, 1).
void ApplyServiceDefaults(ServiceSpec& spec);

// Checks a spec (after ApplyServiceDefaults): the name, the command and env as a job's,
// replica bounds (0 <= min <= max <= 1024, max >= 1), at most one autoscaling target, the
// readiness probe (an HTTP path or TCP, not both; needs `port`), timeouts (0..30 days), the
// image and the shape (ValidateShape). InvalidArgument naming the field.
Status ValidateServiceSpec(const ServiceSpec& spec,
                           const std::set<std::string>* known_models = nullptr);

// Whether a change from `before` to `after` changes what a replica runs (command, env,
// shape, port, readiness, image, run_as_root): such a change starts a new generation and
// rolls the replicas. Changes of the scaling fields alone do not.
bool ReplicaSpecChanged(const ServiceSpec& before, const ServiceSpec& after);

// `n` clamped to the service's [min_replicas, max_replicas].
int ClampReplicas(const ServiceSpec& spec, int n);

// The job spec of one replica of `service`: its command, env, shape, image and root flag,
// one replica, no retries (a replica lost is replaced by the service pass), named as the
// service, carrying the service's id and generation.
JobSpec ReplicaJobSpec(const Service& service);

}  // namespace fastgpu::model

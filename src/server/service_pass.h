// ServicePass: the reconciler's step that keeps every service at its replica count
// (docs/services.md).
//
// For each service (model/service.h) a pass:
//   * drops from the service's replica list every replica job that ended (any terminal
//     state, a lost node's included) and replaces it with a new replica job;
//   * backs off when replicas end soon after they start (within `crash_window`, 10 s by
//     default; a replica cancelled by a person does not count): the next start waits 1 s,
//     then 2 s, 4 s ... up to `backoff_max` (5 min), and the service's state is "backoff"
//     with the reason ("crash loop: replica exited 1 within 2s; next start in 8s"). The count
//     starts over when every wanted replica has run for `crash_window` or the spec changes;
//   * cancels extras, newest first, when there are more replicas than wanted;
//   * rolls an update (the generation rose) one replica at a time: it starts one replica of
//     the new generation, waits until it is ready (`is_ready`: by default running), then
//     cancels one of the old generation, and so on;
//   * writes the service's state and reason when they change.
// A pass first plans each service on a read snapshot; only a service whose plan changes
// something is planned again and written in a write transaction of its own (so a pass over
// services that are as wanted writes nothing, and a change by the API meanwhile is seen).
// The back-off is kept in memory (a new leader starts without it). Leader only: the
// reconciler runs it.
//
// Borrows the store, clock and ids (they must outlive it). Not thread-safe: the
// reconciler calls Run under its pass lock.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "model/job.h"
#include "model/service.h"
#include "store/store.h"

namespace fastgpu::server {

struct ServicePassOptions {
  // A replica that ends (not cancelled) within this long of starting is a crash. Default 10 s.
  std::chrono::milliseconds crash_window{std::chrono::seconds(10)};
  std::chrono::milliseconds backoff_initial{std::chrono::seconds(1)};  // default 1 s
  std::chrono::milliseconds backoff_max{std::chrono::minutes(5)};      // default 5 min
  // Whether a live replica job is ready to serve. Default (empty): it is running.
  std::function<bool(const model::Job&)> is_ready;
};

// What one pass did.
struct ServicePassStats {
  int services = 0;   // services looked at
  int written = 0;    // services whose plan wrote something
  int submitted = 0;  // replica jobs submitted
  int cancelled = 0;  // replica jobs cancelled (extras, rolled, of deleted services)
  int ended = 0;      // replica jobs found ended and dropped from their service
  int crashes = 0;    // of those, ended within the crash window
};

class ServicePass {
 public:
  ServicePass(store::Store& store, Clock& clock, IdGenerator& ids, ServicePassOptions options = {});

  // One pass over every service (see the file comment). A store error ends the pass early
  // and is returned; the next pass starts over.
  Result<ServicePassStats> Run();

 private:
  // In memory per service: the crash loop's back-off.
  struct Backoff {
    int64_t generation = 0;   // the generation the crashes were counted for
    int crashes = 0;          // crashes in a row
    TimePoint not_before{};   // no replica starts before this
    std::string reason;       // "crash loop: ..." as the last crash set it
  };
  struct Plan;
  // Reads the service's replicas and decides what to do; with `tx` a WriteTx (apply), does
  // it. Fills `plan`.
  Status PlanService(store::ReadTx& tx, store::WriteTx* write, const std::string& service_id,
                     Plan& plan);
  bool Ready(const model::Job& job) const;

  store::Store& store_;
  Clock& clock_;
  IdGenerator& ids_;
  const ServicePassOptions options_;
  std::map<std::string, Backoff> backoff_;  // by service id
};

// The desired replica count of a service, as the API's scale and the autoscaler set it:
// `replicas` clamped to [min_replicas, max_replicas].
struct ScaleOutcome {
  model::Service service;  // as stored afterwards
  int requested = 0;       // what was asked
  bool clamped = false;    // requested was outside [min, max]
  std::string note;        // "clamped to max_replicas 8" when clamped, else ""
};

// Sets the service's desired replica count to `replicas` clamped to its bounds, with
// `reason` ("scaled by alice", "autoscaler: 37 rps over 2 replicas") as the service's reason
// when the count changes; the service pass starts or stops replicas at its next pass.
// NotFound for an unknown service; InvalidArgument for a negative count. The hook the
// autoscaler calls (inside its own write transaction).
Result<ScaleOutcome> SetServiceReplicas(store::WriteTx& tx, const std::string& service_id,
                                        int replicas, const std::string& reason, TimePoint now);

// Cancels a live replica job in `tx`: the job goes to cancelled with `reason` and its
// allocations are released (their agents stop them). A terminal job is left as it is.
Status CancelReplicaJob(store::WriteTx& tx, model::Job& job, const std::string& reason,
                        TimePoint now);

}  // namespace fastgpu::server

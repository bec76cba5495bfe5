// Readiness probes of replicas with a port (docs/agent.md#endpoints).
//
// ProbeOnce asks one replica once: an HTTP probe sends GET <path> to http://host:port and
// counts a 2xx or 3xx answer as ready; a TCP probe counts a completed connect. Each is
// bounded by its timeout, so a replica that accepts and never answers cannot stall the
// prober.
//
// ReadinessProber runs the probes on a thread of its own, so that the agent's loop (and
// its heartbeats) never waits on a workload: the loop hands it the replicas to watch
// (SetTargets, every round) and reads the latest verdicts (Ready). Each target is probed
// about once per `interval` (default 1 s); a target probed for the first time counts as
// not ready until its first probe ends. Probes run one after another: with N slow
// replicas one round takes up to N timeouts.
//
// Thread safety: ProbeOnce is thread-safe; the prober's methods may be called from any
// thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "model/job.h"

namespace fastgpu::agent {

// The verdict of one probe.
struct ProbeResult {
  bool ready = false;
  std::string detail;  // why not ("connection refused", "HTTP 503"); "" when ready
};

// Probes host:port once as `probe` says; kNone counts as ready. `host` is an IP address
// or a name.
ProbeResult ProbeOnce(const std::string& host, int port, const model::ReadinessProbe& probe,
                      std::chrono::milliseconds timeout);

// One replica the prober watches.
struct ProbeTarget {
  std::string allocation_id;
  std::string host;  // where to reach it: the advertise host
  int port = 0;
  model::ReadinessProbe probe;
};

class ReadinessProber {
 public:
  // Starts the prober's thread. `timeout` bounds one probe (default 1 s).
  explicit ReadinessProber(std::chrono::milliseconds interval = std::chrono::seconds(1),
                           std::chrono::milliseconds timeout = std::chrono::seconds(1));
  ~ReadinessProber();  // Stop()
  ReadinessProber(const ReadinessProber&) = delete;
  ReadinessProber& operator=(const ReadinessProber&) = delete;

  // The replicas to probe from now on; verdicts of replicas not listed are dropped, and a
  // target whose port or probe changed starts again as not ready.
  void SetTargets(std::vector<ProbeTarget> targets);
  // The latest verdict for the replica; false when it was not probed yet (or not listed).
  bool Ready(const std::string& allocation_id) const;
  // Ends the thread (waits for a probe in flight, at most its timeout). Idempotent.
  void Stop();

 private:
  void Loop();

  const std::chrono::milliseconds interval_;
  const std::chrono::milliseconds timeout_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                        // guarded by mu_
  std::map<std::string, ProbeTarget> targets_;   // guarded by mu_
  std::map<std::string, ProbeResult> verdicts_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace fastgpu::agent

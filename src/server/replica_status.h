// ReplicaStatus: what the agents last said about each live replica's endpoint and
// readiness, and about each GPU's utilisation, kept in memory.
//
// The heartbeat handler (api_nodes.cpp) gives it one ObserveNode per accepted heartbeat:
// the node's live allocations as the store holds them, each with the endpoint
// ("host:port", "" when the replica has no port) and readiness its agent reported, and
// the node's GPU utilisations. An allocation of that node missing from the next
// heartbeat's list (released, finished) is forgotten then; a node that stops
// heartbeating is forgotten on the first read after `stale_after` (its lease: the
// reconciler declares it lost at that point and releases its allocations). Nothing is
// written to the store: after a control plane restart (or on a replica that is not the
// one the agents talk to) the table fills again within one heartbeat interval.
//
// Readers: `job get` (each allocation's endpoint and ready), `node get`/`node list` (each
// GPU's utilization_pct), /metrics (fastgpu_gpu_utilization_percent{node,gpu}), and the
// services' reconciler, proxy and autoscaler (EndpointsOfJob, AllocationGpuUtilization).
//
// Borrows the clock (must outlive it). Thread-safe: every method may be called from any
// thread (one mutex).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "model/job.h"

namespace fastgpu::server {

// One live replica as its agent last reported it.
struct ReplicaEndpoint {
  std::string allocation_id, job_id;
  std::string endpoint;  // "host:port"; "" when the replica has no port (or none yet)
  // Running and, with a port, its readiness probe passed (no probe: running is enough).
  bool ready = false;
  TimePoint updated{};  // when the heartbeat that said so arrived
};

// What one heartbeat says about one live allocation of its node.
struct ReplicaObservation {
  std::string allocation_id, job_id;
  std::vector<int> gpu_indices;  // the node's GPUs the allocation's slices sit on
  std::string endpoint;          // as reported; "" = none
  bool ready = false;
};

// One GPU's utilisation as its node last reported it.
struct GpuUtilization {
  std::string node_id;
  int gpu_index = 0;
  int percent = 0;  // 0..100
  TimePoint updated{};
};

class ReplicaStatus;

// Whether a service's replica job serves: running and, when it has a port, its agent
// reported it ready (its readiness probe passed; no probe: running). `status` may be null
// (no reports kept): running is then enough.
bool ReplicaJobReady(const model::Job& job, const ReplicaStatus* status);

class ReplicaStatus {
 public:
  // `stale_after`: entries of a node not heard from for longer are ignored and dropped.
  // Default 15 s, the control plane's default node lease (ServerOptions::node_timeout).
  explicit ReplicaStatus(const Clock& clock,
                         std::chrono::milliseconds stale_after = std::chrono::seconds(15));

  // One accepted heartbeat of `node_id` at `at`: `live` are all of the node's live
  // allocations (the node's others are forgotten), `gpu_percent` its GPUs' utilisations
  // by index (-1 = unknown: that GPU's entry is dropped). Replaces what the node said
  // before.
  void ObserveNode(const std::string& node_id, TimePoint at, std::vector<ReplicaObservation> live,
                   const std::map<int, int>& gpu_percent);
  // Forgets one allocation (released by the control plane before its node said so).
  void Forget(const std::string& allocation_id);

  // Endpoints of the live allocations of a job (ready or not), ordered by allocation id.
  std::vector<ReplicaEndpoint> EndpointsOfJob(const std::string& job_id) const;
  // One allocation's entry; nullopt when unknown (not live, not reported yet, or stale).
  std::optional<ReplicaEndpoint> EndpointOf(const std::string& allocation_id) const;
  // Mean utilisation (0..100) over the GPUs an allocation's slices sit on whose
  // utilisation is known; nullopt when none is (or the allocation is unknown).
  std::optional<double> AllocationGpuUtilization(const std::string& allocation_id) const;
  // One GPU's utilisation; nullopt when unknown or stale.
  std::optional<int> GpuPercent(const std::string& node_id, int gpu_index) const;
  // Every known GPU utilisation, ordered by node id and index.
  std::vector<GpuUtilization> GpuUtilizations() const;
  // "fastgpu_gpu_utilization_percent{node="..",gpu=".."} N" lines with their HELP and
  // TYPE (the header only when no GPU is known).
  std::string RenderMetrics() const;

 private:
  struct Entry {
    std::string node_id;
    ReplicaObservation seen;
    TimePoint updated{};
  };
  bool FreshLocked(TimePoint updated) const;
  void ForgetLocked(const std::string& allocation_id);
  // Drops stale entries, at most once per `stale_after`.
  void PurgeStaleLocked();

  const Clock& clock_;
  const std::chrono::milliseconds stale_after_;
  mutable std::mutex mu_;
  TimePoint last_purge_{};                              // guarded by mu_
  std::unordered_map<std::string, Entry> allocations_;  // by allocation id; guarded by mu_
  // job id -> its allocation ids (ordered); guarded by mu_
  std::unordered_map<std::string, std::set<std::string>> by_job_;
  // node id -> its allocation ids; guarded by mu_
  std::unordered_map<std::string, std::vector<std::string>> by_node_;
  // (node id, GPU index) -> percent and when; guarded by mu_
  std::map<std::pair<std::string, int>, std::pair<int, TimePoint>> gpus_;
};

}  // namespace fastgpu::server

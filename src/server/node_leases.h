// NodeLeases: when the control plane last heard from each node, kept in memory.
//
// A node's lease is judged on the heartbeats the server received, not on the ones it
// managed to write to the store: the heartbeat handler renews the lease here as soon as
// the node's token is authenticated, before its store write (which may fail, e.g. while
// the control plane's disk is full). The table also holds the moment this control plane
// started: every node gets a full lease from then on, so no node is judged on silence
// that happened while the control plane itself was down (as the node lifecycle
// controller of Kubernetes does after a restart).
//
// Thread-safe: any method may be called from any thread.
#pragma once

#include <algorithm>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace fastgpu::server {

class NodeLeases {
 public:
  // `started_at`: when the control plane started (every lease runs at least from then).
  explicit NodeLeases(TimePoint started_at) : started_at_(started_at) {}

  // Records a heartbeat of `node_id` received at `at`; an earlier time than the one
  // recorded changes nothing.
  void Renew(const std::string& node_id, TimePoint at);

  // When the node was last heard from: the latest of `stored` (the last heartbeat the
  // store holds), the last Renew of the node, and the start of the control plane.
  TimePoint LastSeen(const std::string& node_id, TimePoint stored) const;

  TimePoint started_at() const {
    std::lock_guard lock(mu_);
    return started_at_;
  }
  // Starts every lease again from `at` (a replica that becomes the leader judges no node
  // on silence from before it led).
  void Restart(TimePoint at) {
    std::lock_guard lock(mu_);
    started_at_ = std::max(started_at_, at);
  }

 private:
  TimePoint started_at_;  // guarded by mu_
  mutable std::mutex mu_;
  std::unordered_map<std::string, TimePoint> renewed_;  // guarded by mu_
};

}  // namespace fastgpu::server

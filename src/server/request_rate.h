// RequestRate: what the service proxy saw of each service's traffic, for the autoscaler.
//
// The proxy calls Record() for every request it takes for a service (answered or not) and
// BeginWait()/EndWait() around the time a request is held for want of a ready replica; the
// reconciler's autoscaler pass reads Rate(), LastRequest() and Waiting(). Counts are kept
// in one-second buckets over a sliding window (default 30 s): Rate() is the requests of
// the window divided by its length. A service the table has never seen has rate 0, no
// waiting request and, as its last request, the moment the table was started (or
// Restart()ed): a control plane that just started or just became the leader does not
// judge a service idle on silence it did not watch, as NodeLeases does for nodes.
//
// Kept in memory by the control-plane replica that serves the proxy; with several
// replicas, each counts the requests it proxied (docs/services.md).
//
// Thread-safe: any method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"

namespace fastgpu::server {

class RequestRate {
 public:
  // `started_at`: when counting began (see the header comment). `window`: the sliding
  // window of Rate(), at least 1 s; default 30 s.
  explicit RequestRate(TimePoint started_at,
                       std::chrono::seconds window = std::chrono::seconds(30));

  // One request for `service` (a service's key: its tenant and name) at `at`.
  void Record(const std::string& service, TimePoint at);
  // Requests per second for `service` over the window that ends at `now`.
  double Rate(const std::string& service, TimePoint now) const;
  // The latest of the service's last Record() and the start of counting.
  TimePoint LastRequest(const std::string& service) const;

  // A request for `service` is being held until a replica is ready (BeginWait), or no
  // longer (EndWait: answered, timed out or gone). Waiting() counts those held now.
  void BeginWait(const std::string& service);
  void EndWait(const std::string& service);
  int Waiting(const std::string& service) const;

  // Every service with a request in the window or waiting now.
  std::vector<std::string> Active(TimePoint now) const;

  // Counting starts again at `at` for the idle rule (LastRequest is at least `at`); the
  // counts are kept.
  void Restart(TimePoint at);

  std::chrono::seconds window() const { return window_; }

 private:
  struct Series {
    std::deque<std::pair<int64_t, int64_t>> buckets;  // (unix second, requests), oldest first
    TimePoint last{};
    int waiting = 0;
  };
  // Drops the buckets of `s` that ended before the window ending at `now_s`.
  void Prune(Series& s, int64_t now_s) const;

  const std::chrono::seconds window_;
  mutable std::mutex mu_;
  TimePoint started_at_;                              // guarded by mu_
  std::unordered_map<std::string, Series> services_;  // guarded by mu_
};

}  // namespace fastgpu::server

// Metrics: the control plane's counters and histograms, rendered as Prometheus text.
//
// API requests are counted by route pattern ("/v1/jobs/{id}"), method and status, with
// a latency histogram per route; the reconciler records scheduling latency (submit to
// placement). Every label comes from a bounded set, whatever clients send: methods fold
// to the standard ones or "other" (MethodLabel), statuses outside 100..599 to "0", and
// routes past kMaxRoutes distinct patterns to "other", so the exposition cannot grow
// with the number of distinct requests. Gauges that describe the pool (jobs by state, GPUs by
// model) are computed at scrape time by the caller and passed to Render; those the
// reconciler measures each pass (pass durations, pending jobs per tenant, allocation per
// node and GPU, fragmentation, the LP bound: pool_metrics.h) are set by it with ObservePass
// and SetPool. Thread-safe (one mutex).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "server/pool_metrics.h"

namespace fastgpu::server {

// The method as a metric label: "GET", "POST", ... for the nine standard methods, else
// "other".
std::string MethodLabel(std::string_view method);

// A cumulative histogram with fixed bucket bounds in seconds.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds_seconds);
  void Observe(double seconds);
  // Appends "<name>_bucket{<labels>,le=...}", _sum and _count lines.
  void Render(const std::string& name, const std::string& labels, std::string& out) const;
  uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative
  double sum_ = 0;
  uint64_t count_ = 0;
};

// Pool gauges gathered by the caller at scrape time.
struct PoolGauges {
  std::map<std::string, int64_t> jobs_by_state;           // "pending" -> n
  std::map<std::string, int64_t> nodes_by_state;          // "ready" -> n
  std::map<std::string, double> gpus_allocated_by_model;  // model -> GPUs (fractional)
  std::map<std::string, double> gpus_free_by_model;       // model -> GPUs (fractional)
};

class Metrics {
 public:
  Metrics();
  // One API request served: route pattern, method (any string: folded by MethodLabel),
  // HTTP status, latency.
  void ObserveRequest(const std::string& route, const std::string& method, int status,
                      double seconds);
  // One job placed: seconds from its submission (or requeue) to its placement.
  void ObserveScheduling(double seconds);
  void CountHeartbeat();
  // One request the service proxy held for want of a ready replica (scale from zero)
  // answered or given up after `seconds`.
  void ObserveServiceColdStart(double seconds);
  // One reconciler pass ended (however it ended), after `seconds` of work.
  void ObservePass(double seconds);
  // The pool as the reconciler last measured it (replaces the previous snapshot).
  void SetPool(PoolSnapshot snapshot);
  // A copy of the snapshot SetPool last gave (cheap: its gauges are shared); its
  // `allocation` is null until a pass measured the pool. For the pool history.
  PoolSnapshot pool() const;
  // The whole exposition text.
  std::string Render(const PoolGauges& gauges) const;

 private:
  static constexpr size_t kMaxRoutes = 64;  // distinct route labels kept

  mutable std::mutex mu_;
  std::set<std::string> routes_;  // route labels seen, at most kMaxRoutes
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, Histogram> request_latency_;
  Histogram scheduling_latency_;
  uint64_t heartbeats_ = 0;
  Histogram pass_duration_;
  Histogram cold_start_;
  uint64_t passes_ = 0;
  PoolSnapshot pool_;
};

}  // namespace fastgpu::server

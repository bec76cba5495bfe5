// Pool history: the pool's gauges over time, for the dashboard's charts (GET
// /v1/pool/history), kept in memory with no Prometheus.
//
// PoolHistory is a bounded ring buffer of PoolSamples: when full, the oldest sample is
// dropped. PoolSampler owns a thread that, every `interval` of its Clock (a ManualClock in
// tests), copies the pool gauges the reconciler last published to Metrics (pool_metrics.h)
// into a PoolHistory. Nothing is recorded until a reconciler pass has measured the pool (a
// follower replica, whose reconciler does not run, records nothing); after that the sample
// is the latest measure, so on a leader that lost its lease the last measure repeats.
//
// Thread-safety: PoolHistory is thread-safe (one mutex); a PoolSampler is started and
// stopped from one thread. The sampler borrows its Metrics, Clock and PoolHistory (they
// must outlive it).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "server/json_codec.h"

namespace fastgpu::server {

class Metrics;
struct PoolSnapshot;

// The pool at one moment: GPU milli (1000 = one GPU) and jobs.
struct PoolSample {
  int64_t at_ms = 0;                          // Unix milliseconds of the sample
  int64_t capacity_milli = 0;                 // healthy GPUs of nodes not lost
  int64_t allocated_milli = 0;                // held by live allocations
  int64_t free_milli = 0;                     // free on healthy GPUs of nodes taking work
  std::optional<double> fragmentation_ratio;  // fragmented / free; unset until computed
  std::optional<double> fragmented_milli;     // unset until computed
  int64_t pending_jobs = 0;                   // all tenants
  double oldest_pending_seconds = 0;          // the longest wait of a pending job; 0: none
};

// The sample of `snapshot` at `at_ms`; nullopt when no pass has measured the pool yet.
std::optional<PoolSample> SampleOf(const PoolSnapshot& snapshot, int64_t at_ms);

// {"at","capacity_milli","allocated_milli","free_milli","fragmentation_ratio",
// "fragmented_milli","pending_jobs","oldest_pending_seconds"}; the two optional fields are
// null while unset.
json::object PoolSampleToJson(const PoolSample& s);

struct PoolHistoryOptions {
  // Between two samples. Default 10 s.
  std::chrono::milliseconds interval{10000};
  // Samples kept. Default 8,640: 24 hours at 10 s (about 0.6 MiB).
  size_t capacity = 8640;
};

class PoolHistory {
 public:
  // `capacity` >= 1 (0 is taken as 1).
  explicit PoolHistory(size_t capacity);

  // Appends `s`, dropping the oldest sample when full. Samples are expected in time order.
  void Add(const PoolSample& s);
  // The samples taken at or after `since_ms`, oldest first, at most `limit` of them (the
  // newest ones when there are more).
  std::vector<PoolSample> Since(int64_t since_ms, size_t limit) const;
  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::deque<PoolSample> samples_;  // oldest first, at most capacity_
};

class PoolSampler {
 public:
  PoolSampler(Metrics& metrics, Clock& clock, PoolHistory& history,
              std::chrono::milliseconds interval);
  ~PoolSampler();  // Stop()
  PoolSampler(const PoolSampler&) = delete;
  PoolSampler& operator=(const PoolSampler&) = delete;

  // Starts the thread: it samples every `interval` from now on. Call once.
  void Start();
  // Ends the thread and waits for it. Idempotent.
  void Stop();
  // One sample now (what the thread does each interval); false when nothing was measured.
  bool SampleOnce();

 private:
  void Run();

  Metrics& metrics_;
  Clock& clock_;
  PoolHistory& history_;
  const std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace fastgpu::server

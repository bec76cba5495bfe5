// LeaderElector: which of the control-plane replicas on one store leads.
//
// Every replica serves the API; exactly one, the leader, runs the reconciler (placement,
// node lease expiry, job progress, budget enforcement, garbage collection). The leader
// holds a lease kept in the store (store::LeaderLease): it renews it every renew_every;
// when the lease has lapsed (lease_ttl without a renewal) another replica takes it over
// with the next generation. The generation is a fencing token: the leader's writes go
// through a FencedStore that checks, in the same transaction, that the stored lease still
// has its holder and generation, so a deposed leader (paused, cut off, slow) cannot write
// after another took over. A replica whose renewal fails (its database is unreachable)
// stops leading at once.
//
// With a store no other replica can share (SQLite, memory), the replica takes the lease at
// its first round, whatever is stored (a restart does not wait for its old lease).
//
// Thread-safe: the accessors from any thread; Start / Stop from one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/result.h"
#include "store/store.h"

namespace fastgpu::server {

struct LeaderOptions {
  std::string replica_id;  // required: this replica's id, unique among the replicas
  std::chrono::milliseconds lease_ttl{4000};    // default 4 s
  std::chrono::milliseconds renew_every{1000};  // default 1 s (well under the ttl)
  bool shared_store = false;                    // other replicas may use the store (PostgreSQL)
};

// FailedPrecondition unless the stored lease is held by `holder` at `generation`.
Status CheckLeader(store::ReadTx& tx, const std::string& holder, int64_t generation);

class LeaderElector {
 public:
  // `on_elected(generation)` runs when this replica starts leading, `on_deposed()` when it
  // stops; both on the elector's thread (or the caller of RunOnce / Stop).
  LeaderElector(store::Store& store, Clock& clock, LeaderOptions options,
                std::function<void(int64_t)> on_elected, std::function<void()> on_deposed);
  ~LeaderElector();

  // One round: takes, renews or leaves the lease. True when this replica leads after it.
  // A failed store write stops the leading and is returned.
  Result<bool> RunOnce();
  // Rounds every renew_every on a thread of its own, until Stop.
  void Start();
  // Stops the rounds; a leader stops leading and hands the lease back (it expires now), so
  // that another replica takes over at its next round.
  void Stop();

  bool leading() const { return generation_.load() > 0; }
  int64_t generation() const { return generation_.load(); }  // 0 when not leading
  const std::string& replica_id() const { return options_.replica_id; }
  // The leader as last seen ("" when none was seen yet).
  std::string leader() const;

 private:
  void Depose();

  store::Store& store_;
  Clock& clock_;
  const LeaderOptions options_;
  std::function<void(int64_t)> on_elected_;
  std::function<void()> on_deposed_;
  std::atomic<int64_t> generation_{0};
  mutable std::mutex mu_;
  std::string leader_;  // guarded by mu_
  std::mutex run_mu_;   // one round at a time
  std::mutex thread_mu_;
  std::condition_variable_any cv_;  // waited on through clock_
  bool stopping_ = false;           // guarded by thread_mu_
  std::thread thread_;
};

// A Store whose writes carry the leader's fencing token: while armed with a generation,
// every Write first checks (CheckLeader, in its own transaction) that the lease is still
// this replica's at that generation, and fails with FailedPrecondition when it is not;
// while disarmed (not leading), every Write fails so. Before the first Arm / Disarm it
// passes writes through unchecked (a control plane whose reconciler runs without an
// elector, as in tests). Reads always pass through.
class FencedStore final : public store::Store {
 public:
  FencedStore(store::Store& inner, std::string holder)
      : inner_(inner), holder_(std::move(holder)) {}
  void Arm(int64_t generation) { generation_.store(generation); }
  void Disarm() { generation_.store(0); }

  Status Write(std::function<Status(store::WriteTx&)> fn) override;
  Status Read(std::function<Status(store::ReadTx&)> fn) override { return inner_.Read(fn); }
  std::string_view Kind() const override { return inner_.Kind(); }
  store::StoreStats Stats() const override { return inner_.Stats(); }

 private:
  store::Store& inner_;
  const std::string holder_;
  std::atomic<int64_t> generation_{-1};  // -1: unchecked; 0: not leading
};

}  // namespace fastgpu::server

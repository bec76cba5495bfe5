#include "server/leader.h"

#include <spdlog/spdlog.h>

namespace fastgpu::server {

Status CheckLeader(store::ReadTx& tx, const std::string& holder, int64_t generation) {
  auto lease = tx.GetLeaderLease();
  if (!lease.ok() && lease.status().code() != StatusCode::kNotFound) return lease.status();
  if (!lease.ok() || lease->holder != holder || lease->generation != generation) {
    return FailedPrecondition(
        "this control-plane replica no longer leads (its lease generation " +
        std::to_string(generation) + " was taken over" +
        (lease.ok() ? " by " + lease->holder + " at generation " + std::to_string(lease->generation)
                    : std::string()) +
        ")");
  }
  return OkStatus();
}

Status FencedStore::Write(std::function<Status(store::WriteTx&)> fn) {
  const int64_t generation = generation_.load();
  if (generation < 0) return inner_.Write(std::move(fn));
  if (generation == 0) {
    return FailedPrecondition("this control-plane replica does not lead; its writes are fenced");
  }
  return inner_.Write([&](store::WriteTx& tx) -> Status {
    FASTGPU_RETURN_IF_ERROR(CheckLeader(tx, holder_, generation));
    return fn(tx);
  });
}

LeaderElector::LeaderElector(store::Store& store, Clock& clock, LeaderOptions options,
                             std::function<void(int64_t)> on_elected,
                             std::function<void()> on_deposed)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      on_elected_(std::move(on_elected)),
      on_deposed_(std::move(on_deposed)) {}

LeaderElector::~LeaderElector() { Stop(); }

std::string LeaderElector::leader() const {
  std::lock_guard lock(mu_);
  return leader_;
}

void LeaderElector::Depose() {
  if (generation_.exchange(0) > 0 && on_deposed_) on_deposed_();
}

Result<bool> LeaderElector::RunOnce() {
  std::lock_guard run(run_mu_);
  const int64_t mine = generation_.load();
  const int64_t now_ms = ToUnixMillis(clock_.Now());
  store::LeaderLease seen;
  Status s = store_.Write([&](store::WriteTx& tx) -> Status {
    auto lease = tx.GetLeaderLease();
    if (!lease.ok() && lease.status().code() != StatusCode::kNotFound) return lease.status();
    store::LeaderLease next{options_.replica_id, 1, now_ms + options_.lease_ttl.count()};
    if (lease.ok()) {
      const bool renewing =
          mine > 0 && lease->holder == options_.replica_id && lease->generation == mine;
      if (renewing) {
        next.generation = mine;
      } else if (!options_.shared_store || now_ms >= lease->expires_at_ms ||
                 lease->holder == options_.replica_id) {
        // Takes over: a lapsed lease, or this replica's own from before it lost track of it
        // (a new generation fences whatever its earlier leading left in flight).
        next.generation = lease->generation + 1;
      } else {
        seen = *lease;  // another replica leads
        return OkStatus();
      }
    }
    seen = next;
    return tx.PutLeaderLease(next);
  });
  if (!s.ok()) {
    if (mine > 0) {
      spdlog::warn("leader: {} cannot renew its lease ({}); it stops leading", options_.replica_id,
                   s.ToString());
    }
    Depose();
    return s;
  }
  {
    std::lock_guard lock(mu_);
    leader_ = seen.holder;
  }
  const bool lead = seen.holder == options_.replica_id;
  if (lead && seen.generation != mine) {
    if (mine > 0) Depose();  // (cannot happen: a renewal keeps the generation)
    spdlog::info("leader: {} leads (lease generation {})", options_.replica_id, seen.generation);
    generation_.store(seen.generation);
    if (on_elected_) on_elected_(seen.generation);
  } else if (!lead && mine > 0) {
    spdlog::warn("leader: {} was deposed; {} leads (generation {})", options_.replica_id,
                 seen.holder, seen.generation);
    Depose();
  }
  return lead;
}

void LeaderElector::Start() {
  std::lock_guard lock(thread_mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    std::unique_lock lock(thread_mu_);
    while (!stopping_) {
      lock.unlock();
      auto r = RunOnce();
      if (!r.ok()) spdlog::warn("leader: round failed: {}", r.status().ToString());
      lock.lock();
      clock_.WaitUntil(lock, cv_, clock_.MonotonicNow() + options_.renew_every,
                       [this] { return stopping_; });
    }
  });
}

void LeaderElector::Stop() {
  {
    std::lock_guard lock(thread_mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard run(run_mu_);
  const int64_t mine = generation_.load();
  if (mine <= 0) return;
  Depose();
  // Hands the lease back: it expires now, so the next round of another replica takes it.
  const int64_t now_ms = ToUnixMillis(clock_.Now());
  Status s = store_.Write([&](store::WriteTx& tx) -> Status {
    auto lease = tx.GetLeaderLease();
    if (!lease.ok() || lease->holder != options_.replica_id || lease->generation != mine) {
      return OkStatus();
    }
    lease->expires_at_ms = now_ms;
    return tx.PutLeaderLease(*lease);
  });
  if (!s.ok()) spdlog::warn("leader: could not hand the lease back: {}", s.ToString());
}

}  // namespace fastgpu::server

// Admission: a submitted job that no registered node could ever hold is refused.
//
// "Ever" is judged on the pool as it is, every node empty and healthy, drained and lost
// nodes included (they may come back): a 5-replica gang of whole GPUs on a 4-GPU pool, more
// GPU memory than any GPU has, MIG isolation where no GPU is in MIG mode, a GPU model the
// pool lacks, more CPU or memory than any node has. Such a job would wait forever, so it
// is refused (HTTP 422) with the reason it would have waited with. A pool with no node
// yet accepts everything (a fresh `fastgpu up` registers its agent a moment after it
// starts). With `allow_unplaceable` (`--allow-unplaceable`, for a pool that is about to
// grow) such jobs are accepted and wait, saying "never fits in this pool as it is: ...".
//
// The pool's totals are kept between submissions (AdmissionPool) and read again only when
// a node was written since (the store's ReadTx::LatestNodeChangeSeq), so a submission does
// not decode every node. Whether a node was written is asked at most once per
// kAdmissionRecheck for a job the kept pool can hold, and always before a refusal: a job
// is never refused on an old view, and one admitted on a view up to a second old (a node
// deleted meanwhile) waits with its reason like a job whose node went away after it was
// admitted. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "model/job.h"
#include "scheduler/feasibility.h"
#include "store/store.h"

namespace fastgpu::server {

// How long a pool view admits jobs before the store is asked whether a node changed.
inline constexpr std::chrono::milliseconds kAdmissionRecheck{1000};

class AdmissionPool {
 public:
  // OK when `spec` could ever be placed in the pool `tx` sees, when the pool has no node,
  // or when `allow_unplaceable`. Otherwise FailedPrecondition whose message is the pending
  // reason the job would get ("never fits in this pool as it is: the gang needs 5 GPUs at
  // once; the whole pool has 4"); the API answers it with 422. Store errors are returned.
  // The pool's totals are read in the caller's transaction when a node changed since the
  // last call.
  Status Check(store::ReadTx& tx, const model::JobSpec& spec, bool allow_unplaceable,
               TimePoint now);

 private:
  std::mutex mu_;
  int64_t node_seq_ = -1;              // guarded by mu_: LatestNodeChangeSeq when read
  TimePoint checked_at_{};             // guarded by mu_: when node_seq_ was last read
  std::vector<sched::PoolNode> pool_;  // guarded by mu_: every node, nothing allocated
};

}  // namespace fastgpu::server

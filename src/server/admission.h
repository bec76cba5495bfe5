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
// Stateless; thread-safe (each call reads the store in the caller's transaction).
#pragma once

#include "common/status.h"
#include "model/job.h"
#include "store/store.h"

namespace fastgpu::server {

// OK when `spec` could ever be placed in the pool `tx` sees, when the pool has no node,
// or when `allow_unplaceable`. Otherwise FailedPrecondition whose message is the pending
// reason the job would get ("never fits in this pool as it is: the gang needs 5 GPUs at
// once; the whole pool has 4"); the API answers it with 422. Store errors are returned.
Status CheckAdmission(store::ReadTx& tx, const model::JobSpec& spec, bool allow_unplaceable);

}  // namespace fastgpu::server

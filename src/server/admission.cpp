#include "server/admission.h"

#include "scheduler/feasibility.h"
#include "server/node_usage.h"

namespace fastgpu::server {

namespace {

Status Judge(const std::vector<sched::PoolNode>& pool, const model::JobSpec& spec) {
  if (pool.empty()) return OkStatus();
  // Whether it could ever fit does not depend on what runs now: no allocations needed.
  sched::Diagnosis d = sched::CheckEverFits(pool, sched::Request{"", spec.shape, spec.replicas});
  if (d.verdict != sched::Verdict::kNever) return OkStatus();
  return FailedPrecondition(d.Text());
}

}  // namespace

Status AdmissionPool::Check(store::ReadTx& tx, const model::JobSpec& spec, bool allow_unplaceable,
                            TimePoint now) {
  if (allow_unplaceable) return OkStatus();
  {
    std::lock_guard lock(mu_);
    if (node_seq_ >= 0 && now >= checked_at_ && now - checked_at_ < kAdmissionRecheck &&
        Judge(pool_, spec).ok()) {
      return OkStatus();
    }
  }
  FASTGPU_ASSIGN_OR_RETURN(int64_t seq, tx.LatestNodeChangeSeq());
  std::lock_guard lock(mu_);
  if (seq != node_seq_) {
    FASTGPU_ASSIGN_OR_RETURN(auto nodes, tx.ListNodes());
    pool_ = PoolView(nodes, {});
    node_seq_ = seq;
  }
  checked_at_ = now;
  return Judge(pool_, spec);
}

}  // namespace fastgpu::server

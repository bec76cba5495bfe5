#include "server/admission.h"

#include "scheduler/feasibility.h"
#include "server/node_usage.h"

namespace fastgpu::server {

Status CheckAdmission(store::ReadTx& tx, const model::JobSpec& spec, bool allow_unplaceable) {
  if (allow_unplaceable) return OkStatus();
  FASTGPU_ASSIGN_OR_RETURN(auto nodes, tx.ListNodes());
  if (nodes.empty()) return OkStatus();
  // Whether it could ever fit does not depend on what runs now: no allocations needed.
  sched::Request req{"", spec.shape, spec.replicas};
  sched::Diagnosis d = sched::CheckEverFits(PoolView(nodes, {}), req);
  if (d.verdict != sched::Verdict::kNever) return OkStatus();
  return FailedPrecondition(d.Text());
}

}  // namespace fastgpu::server

// Virtual GPUs: turns an allocation's slices into the environment its workload gets,
// after checking that the isolation mode is possible on those GPUs. Never silently
// weaker: where a mode is not possible the plan fails with the reason.
//
//   exclusive  whole GPUs: CUDA_VISIBLE_DEVICES=<uuid>,...; no other replica on them.
//   mig        an existing MIG instance: CUDA_VISIBLE_DEVICES=<MIG uuid>. The slice names
//              the instance's UUID, or the parent GPU's UUID and then a free instance
//              with enough memory is picked. Instances are never created or destroyed.
//   mps        one GPU: CUDA_VISIBLE_DEVICES=<uuid>, CUDA_MPS_PIPE_DIRECTORY of that GPU's
//              control daemon, CUDA_MPS_ACTIVE_THREAD_PERCENTAGE=milli/10 (at least 1),
//              CUDA_MPS_PINNED_DEVICE_MEM_LIMIT=0=<memory_mib>MB.
//   shared     time-sliced with soft limits only: CUDA_VISIBLE_DEVICES=<uuid> and the
//              share in FASTGPU_GPU_MILLI / FASTGPU_GPU_MEMORY_MIB, stated as not enforced.
//   vm         not available yet (Unimplemented).
// Every workload also gets FASTGPU_JOB_ID, FASTGPU_REPLICA, FASTGPU_REPLICAS,
// FASTGPU_ALLOCATION_ID and FASTGPU_ISOLATION. A CPU-only allocation gets
// CUDA_VISIBLE_DEVICES="" (no GPU). On simulated GPUs the environment is exactly the
// one the real mode gives, but no MPS daemon runs (the note says so).
//
// Fractions on one GPU must add up to at most the GPU (milli <= 1000, memory <= the
// GPU's) and may not mix isolation modes. Each mode is an IsolationMode (isolation.h,
// one file isolation_<mode>.cpp each) chosen from a table; PlanVgpu does only what the
// modes share. Pure functions, thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "agent/gpu_inventory.h"
#include "common/result.h"
#include "protocol/agent_protocol.h"

namespace fastgpu::agent {

struct VgpuPlan {
  std::map<std::string, std::string> env;  // added to the workload's environment
  std::vector<int> mps_gpus;               // GPUs whose MPS control daemon must run
  std::vector<std::string> mig_instances;  // MIG instance UUIDs this replica holds
  std::string note;                        // for the replica's message; "" if nothing to say
};

// The MPS pipe directory of one GPU: <mps_root>/<gpu uuid>/pipe.
std::string MpsPipeDirectory(const std::string& mps_root, const std::string& gpu_uuid);

// Plans `want` on a node whose GPUs are `gpus` (their gpu.healthy already set by the
// health tracker) next to the replicas already placed there (`placed`, with the MIG
// instances they hold in `placed_mig`). FailedPrecondition when the mode is not possible
// on the GPU (not in MIG mode, unhealthy, mixed modes, no free instance),
// ResourceExhausted when the GPU would be oversubscribed, InvalidArgument for a slice
// that names a GPU the node does not have, Unimplemented for vm.
Result<VgpuPlan> PlanVgpu(const protocol::DesiredReplica& want, const std::vector<GpuSample>& gpus,
                          const std::vector<model::Allocation>& placed,
                          const std::vector<std::string>& placed_mig, const std::string& mps_root);

}  // namespace fastgpu::agent

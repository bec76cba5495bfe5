// mps: a share of one GPU through CUDA MPS. CUDA_VISIBLE_DEVICES=<uuid>,
// CUDA_MPS_PIPE_DIRECTORY of that GPU's control daemon, CUDA_MPS_ACTIVE_THREAD_PERCENTAGE=
// milli/10 (at least 1), CUDA_MPS_PINNED_DEVICE_MEM_LIMIT=0=<memory_mib>MB, and the share
// in FASTGPU_GPU_MILLI / FASTGPU_GPU_MEMORY_MIB. The agent starts the GPU's control
// daemon (mps.h) before the workload and restarts it should it die while MPS replicas
// run; on simulated GPUs the environment is the same but no daemon runs. MPS clients of
// one GPU share a sandbox uid (the MPS server serves one user at a time).
#include <algorithm>
#include <set>

#include "agent/isolation_internal.h"
#include "common/log.h"

namespace fastgpu::agent {
namespace {

class Mps final : public FractionalMode {
 public:
  model::Isolation Kind() const override { return model::Isolation::kMps; }

  void SetEnvironment(const std::vector<SliceGrant>& grants, const PlanContext& context,
                      VgpuPlan* plan) const override {
    const SliceGrant& g = grants.front();
    plan->env["CUDA_MPS_PIPE_DIRECTORY"] = MpsPipeDirectory(context.mps_root, g.device);
    plan->env["CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"] = std::to_string(std::max(1, g.milli / 10));
    plan->env["CUDA_MPS_PINNED_DEVICE_MEM_LIMIT"] = "0=" + std::to_string(g.memory_mib) + "MB";
    SetShare(g, plan);
    if (context.simulated) {
      plan->note = "simulated GPU: MPS environment set as on a real GPU, but no MPS daemon runs";
    } else {
      plan->mps_gpus.push_back(g.gpu_index);
    }
  }

  Status Start(const VgpuPlan& plan, const std::vector<GpuSample>& gpus,
               IsolationServices& services, ReplicaRecord* rec) const override {
    for (int index : plan.mps_gpus) {
      auto it = std::find_if(gpus.begin(), gpus.end(),
                             [&](const GpuSample& g) { return g.gpu.index == index; });
      if (it == gpus.end()) {
        return FailedPrecondition("mps isolation: " + GpuName(index) + " is gone");
      }
      const std::string& uuid = it->gpu.uuid;
      bool started = false;
      Status st = services.mps.Ensure(uuid, &started);
      if (!st.ok()) return Status(st.code(), "mps isolation: " + st.message());
      if (started) spdlog::info("started the MPS control daemon for GPU {} ({})", index, uuid);
      rec->mps_gpus.push_back(uuid);
    }
    return OkStatus();
  }

  void Supervise(const std::vector<const ReplicaRecord*>& live,
                 IsolationServices& services) const override {
    std::set<std::string> in_use;
    for (const ReplicaRecord* rec : live) in_use.insert(rec->mps_gpus.begin(), rec->mps_gpus.end());
    for (const std::string& uuid : in_use) {
      bool started = false;
      Status st = services.mps.Ensure(uuid, &started);
      if (!st.ok()) {
        spdlog::error("MPS control daemon for {} is down and could not be restarted: {}", uuid,
                      st.message());
      } else if (started) {
        spdlog::warn("MPS control daemon for {} had stopped; restarted it", uuid);
      }
    }
  }

  std::vector<std::string> HostFolders(const ReplicaRecord& rec,
                                       const IsolationServices& services) const override {
    // The pipe folder lives under the hidden data dir; the client talks to the daemon
    // through it.
    std::vector<std::string> paths;
    for (const std::string& uuid : rec.mps_gpus) {
      std::string pipe = MpsPipeDirectory(services.mps_root, uuid);
      auto info = services.env.Stat(pipe);
      if (info.ok() && info->is_dir) paths.push_back(pipe);
    }
    return paths;
  }

  bool OneUserPerGpu() const override { return true; }
};

}  // namespace

const IsolationMode& MpsIsolation() {
  static const Mps mode;
  return mode;
}

}  // namespace fastgpu::agent

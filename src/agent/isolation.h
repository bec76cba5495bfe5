// IsolationMode: one way of giving a replica its share of a GPU (exclusive, mig, mps,
// shared, vm), chosen by the allocation's Isolation from a fixed table (isolation_registry.cpp).
//
// PlanVgpu (vgpu.h) does what every mode shares: the replica's own variables, one mode
// per allocation, the slice's GPU exists, is named once, is healthy and the slice's milli
// is 1..1000. A mode then decides, per slice, whether the slice can have it on that GPU
// beside the replicas already there and which device it gets (PlaceSlice), and turns the
// slices' grants into the workload's environment and limits (SetEnvironment). When the
// replica is launched and while it runs, ReplicaSet (replicas.h) asks the mode for the
// services the workload needs (Start, Supervise: MPS control daemons), the device nodes
// it may open besides its GPUs' (DeviceNodes), the host folders it must see
// (HostFolders), how sandbox uids are shared (OneUserPerGpu) and what to undo when it
// ends (Release).
//
// Adding a mode: one file isolation_<name>.cpp with a final class
// implementing this interface and a function returning its instance (declared in
// isolation_internal.h), and one line in the table of isolation_registry.cpp.
//
// Modes are stateless singletons owned by the registry; every method is const and
// thread-safe. The launch-side hooks act through IsolationServices, which the agent loop
// owns (not thread-safe).
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/file_env.h"
#include "agent/gpu_inventory.h"
#include "agent/launcher.h"
#include "agent/mps.h"
#include "agent/state.h"
#include "agent/vgpu.h"
#include "agent/vm_options.h"
#include "common/result.h"
#include "model/shape.h"
#include "protocol/agent_protocol.h"

namespace fastgpu::agent {

// What other replicas (not the one being planned) hold on one GPU.
struct GpuUse {
  int milli = 0;                     // compute shares, summed
  int64_t memory_mib = 0;            // memory: a slice's cap, or its compute share of the GPU's
  std::set<model::Isolation> modes;  // their isolation modes; empty: the GPU is free
};

// One slice of an allocation on its GPU, as PlanVgpu hands it to the mode: the GPU is on
// the node, named once, present and healthy, and 1 <= slice.milli <= 1000.
struct SliceRequest {
  const model::Allocation& allocation;
  const model::VgpuSlice& slice;
  const GpuSample& gpu;
  GpuUse others;                            // the other replicas on this GPU
  const std::set<std::string>& mig_in_use;  // MIG instance UUIDs held, by others and
                                            // by the earlier slices of this allocation
};

// What a slice got.
struct SliceGrant {
  int gpu_index = -1;
  std::string device;        // what CUDA_VISIBLE_DEVICES names: a GPU's or a MIG instance's UUID
  std::string mig_instance;  // the MIG instance the slice holds; "" for none
  int milli = 0;             // the compute share it holds (1000: the whole GPU)
  int64_t memory_mib = 0;    // the memory it holds
};

// What the environment depends on besides the grants.
struct PlanContext {
  std::string mps_root;    // <data_dir>/mps: MpsPipeDirectory(mps_root, uuid)
  bool simulated = false;  // one of the slices' GPUs is simulated
};

// The agent's side of a mode at launch and while the replica runs. Borrowed.
struct IsolationServices {
  MpsDaemons& mps;                // per-GPU MPS control daemons
  std::string mps_root;           // as PlanContext::mps_root
  std::string gpu_dev_dir;        // where the GPU device nodes live (default /dev)
  FileEnv& env = PosixFileEnv();  // the agent's files (the MPS folders among them)
  const VmOptions* vm = nullptr;  // vm replicas: the guest and libvirt; nullptr: none
};

class IsolationMode {
 public:
  // The model's Isolation this mode implements; Name() is its IsolationName.
  virtual model::Isolation Kind() const = 0;
  std::string_view Name() const { return model::IsolationName(Kind()); }

  // Whether an allocation's slices, taken together, suit the mode (before any GPU is
  // looked at). Default OK; FailedPrecondition with the reason otherwise (mps and shared
  // give one GPU per replica).
  virtual Status CheckAllocation(const model::Allocation& allocation) const;

  // Feasibility and plan of one slice: the device it gets, or why it cannot have this
  // mode there: FailedPrecondition when the mode is not possible on the GPU (MIG mode,
  // mixed modes, no free MIG instance), ResourceExhausted when the GPU would be
  // oversubscribed, InvalidArgument for a slice that contradicts the GPU (UUID, memory).
  virtual Result<SliceGrant> PlaceSlice(const SliceRequest& request) const = 0;
  // PlaceSlice's verdict without its grant.
  Status Feasible(const SliceRequest& request) const { return PlaceSlice(request).status(); }

  // The environment and limits of the workload from the grants (one per slice, in the
  // allocation's order), and what the replica's message should say (plan->note).
  // PlanVgpu has already set CUDA_VISIBLE_DEVICES to the grants' devices,
  // FASTGPU_ISOLATION to Name() and plan->mig_instances; a mode adds its variables and
  // plan->mps_gpus.
  virtual void SetEnvironment(const std::vector<SliceGrant>& grants, const PlanContext& context,
                              VgpuPlan* plan) const = 0;

  // Before the workload is launched: starts what it needs (the MPS daemon of each GPU in
  // plan.mps_gpus) and records it in `rec` (rec->mps_gpus). Default OK. An error, with
  // the reason prefixed by the mode's name, fails the replica.
  virtual Status Start(const VgpuPlan& plan, const std::vector<GpuSample>& gpus,
                       IsolationServices& services, ReplicaRecord* rec) const;
  // On every poll, with the replicas whose workload still runs (of any mode): keeps
  // their services up (restarting an MPS daemon that died). Default: nothing.
  virtual void Supervise(const std::vector<const ReplicaRecord*>& live,
                         IsolationServices& services) const;
  // Device nodes (files or folders) the workload may open besides its GPUs' own and the
  // driver's shared ones (mig: <gpu_dev_dir>/nvidia-caps). The device cgroup allows the
  // nodes in a folder; missing ones are left out. Default none.
  virtual std::vector<std::string> DeviceNodes(const IsolationServices& services) const;
  // Host folders the workload must see at the same path (mps: the pipe folders of
  // rec.mps_gpus that exist): bound back into a plain replica's sandbox (they are under
  // the hidden data dir), mounted into a container. The only host folders a workload
  // gets besides its work dir: never one the job's environment names. Default none.
  virtual std::vector<std::string> HostFolders(const ReplicaRecord& rec,
                                               const IsolationServices& services) const;
  // After Start, before the launch: may replace what the shim runs (vm: the guest's
  // runner, with the workload's command and environment handed into the guest). `spec`
  // holds the workload's argv, environment and files. An error, with the reason prefixed
  // by the mode's name, fails the replica. Default: nothing.
  virtual Status PrepareLaunch(const protocol::DesiredReplica& want, const ReplicaRecord& rec,
                               const std::vector<GpuSample>& gpus, IsolationServices& services,
                               LaunchSpec* spec) const;
  // True when the workload runs inside a guest of its own, so the process sandbox does not
  // apply to what the shim runs (vm). Default false.
  virtual bool OwnGuest() const { return false; }
  // True when replicas of this mode on one GPU must run as one sandbox uid (NVIDIA's
  // MPS serves one user at a time). Default false.
  virtual bool OneUserPerGpu() const { return false; }
  // After the replica ended and its processes are gone: undoes what Start set up for it
  // alone. Default nothing (a MIG instance is free once its record ended; MPS daemons
  // serve the GPU's later replicas too).
  virtual void Release(const ReplicaRecord& rec, IsolationServices& services) const;

 protected:
  // Modes live for the whole program in the registry and are never deleted through
  // this type.
  ~IsolationMode() = default;
};

// The mode implementing `isolation`: InvalidArgument for kDefault (a placed slice always
// names its mode) and for a value the model does not name; Unimplemented for one no mode
// implements ("vm isolation is not available yet (this agent has exclusive, mig, mps,
// shared)").
Result<const IsolationMode*> FindIsolationMode(model::Isolation isolation);
// Every registered mode, in table order.
std::vector<const IsolationMode*> IsolationModes();
// The mode of an allocation (that of its first slice); nullptr for a CPU-only allocation
// or an isolation no mode implements.
const IsolationMode* IsolationModeOf(const model::Allocation& allocation);

}  // namespace fastgpu::agent

// Container replicas: a job with an `image` runs each replica in an OCI container
// through podman (docs/security.md).
//
// The shim launcher is unchanged: its workload is `podman run` in the foreground, so
// the shim still owns the process group, the log (the container's stdout/stderr pass
// straight through, --log-driver=passthrough) and the exit status (podman run exits
// with the container's status, 128+n when a signal n ended it). SIGTERM to the process
// group reaches the container's init through podman's signal proxy; --init gives the
// workload an init (catatonit) that forwards it, so a workload that is PID 1's child
// ends on SIGTERM instead of ignoring it as PID 1 would. The container is named
// fastgpu-<allocation id>; --rm removes it when podman run ends, and the agent also
// removes it (RemoveContainer) whenever such a replica ends, is killed after its grace
// period or is found ended after an agent restart, in case podman run itself was killed.
//
// The pure parts (argv, device arguments, checks) are free functions; RemoveContainer
// and FindRuntime touch the system. All thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "agent/launcher.h"
#include "common/result.h"
#include "model/image_ref.h"
#include "protocol/agent_protocol.h"

namespace fastgpu::agent {

struct ContainerOptions {
  // The runtime binary: a name looked up in PATH, or a path. Default "podman".
  std::string runtime = "podman";
  // Registries an image may come from (host[:port], see RegistryAllowed). Default
  // {"localhost"}: only images imported or built on the node (podman's "localhost/NAME").
  std::vector<std::string> allowed_registries = {"localhost"};
  // Options put before `run` (podman's global options: --root, --runroot,
  // --storage-driver, --runtime, --cgroup-manager ...). Default none.
  std::vector<std::string> runtime_args;
  // Options put after `run`, before the image (e.g. --ulimit nofile=1024:1024). They come
  // after FastGPU's own options. Default none.
  std::vector<std::string> run_args;
  // --user of the container. The agent sets the replica's own sandbox uid here (or 0:0
  // for a root job the tenant may run); the default "65534:65534" (nobody:nogroup) holds
  // only where the agent gives no uids (sandbox off, or not root). The replica's working
  // folder is given to this user.
  std::string user = "65534:65534";
  // --pids-limit per container. Default 4096.
  int64_t pids_limit = 4096;
  // --network. Default "host": the same network a plain replica has (a job of several
  // replicas reaches its peers by the node's addresses). "none" isolates it.
  std::string network = "host";
  // Where GPU device nodes are looked for (nvidia<index>, nvidiactl, nvidia-uvm,
  // nvidia-uvm-tools). Default "/dev".
  std::string dev_dir = "/dev";
  // Where a Container Device Interface spec for nvidia.com/gpu is looked for; when one
  // is there, GPUs are passed as --device nvidia.com/gpu=<index>. Default the two CDI
  // folders podman reads.
  std::vector<std::string> cdi_dirs = {"/etc/cdi", "/var/run/cdi"};
};

// One container replica, as the agent plans it.
struct ContainerRun {
  std::string allocation_id;               // names the container
  std::string image;                       // canonical reference (ImageRef::Canonical)
  std::vector<std::string> command;        // argv inside the container
  std::map<std::string, std::string> env;  // the container's whole extra environment
  std::string work_dir;                    // bind-mounted at the same path, and the cwd
  std::vector<std::string> mounts;         // more folders bind-mounted at the same path
  std::vector<std::string> devices;        // --device values (GpuDeviceArgs)
  int64_t memory_mib = 0;                  // --memory; 0: none
  int64_t cpu_milli = 0;                   // --cpus; 0: none
};

// "fastgpu-<allocation id>".
std::string ContainerName(const std::string& allocation_id);

// The runtime's argv: runtime [runtime_args] run --rm --name ... [run_args] IMAGE CMD...
// argv[0] is options.runtime as given. Environment values go as -e K=V, never -e K
// (which would copy the runtime's own environment into the container).
std::vector<std::string> BuildContainerArgv(const ContainerOptions& options,
                                            const ContainerRun& run);

// runtime [runtime_args] rm --force --ignore --time 0 fastgpu-<allocation id>.
std::vector<std::string> BuildRemoveArgv(const ContainerOptions& options,
                                         const std::string& allocation_id);

// The --device values for GPUs `gpu_indexes` of the node: nvidia.com/gpu=<index> for
// each when a CDI spec naming nvidia.com/gpu is in options.cdi_dirs; otherwise each
// <dev_dir>/nvidia<index> that exists (device minor = NVML index, NVML's default PCI
// order) plus nvidiactl, nvidia-uvm and nvidia-uvm-tools where present. Empty for a
// CPU-only allocation or simulated GPUs (no device nodes).
std::vector<std::string> GpuDeviceArgs(const ContainerOptions& options,
                                       const std::vector<int>& gpu_indexes);

// OK when `image` parses and its registry is allowed; InvalidArgument for a malformed
// reference, PermissionDenied naming the registry and the allowed list otherwise.
Result<model::ImageRef> CheckImage(const ContainerOptions& options, const std::string& image);

// The runtime's path: options.runtime when it has a '/' and is executable, else the
// first executable match in `path_env` (a PATH value). NotFound: "podman not found in
// PATH (...)" with what to do.
Result<std::string> FindRuntime(const ContainerOptions& options, const std::string& path_env);

// "uid:gid" of options.user as numbers; InvalidArgument when it is not numeric.
Result<std::pair<int, int>> ContainerUser(const ContainerOptions& options);

// The environment of the runtime process itself (not of the container): PATH, HOME,
// locale, and the variables that tell podman where its configuration is
// (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, CONTAINERS_REGISTRIES_CONF, TMPDIR,
// XDG_RUNTIME_DIR) copied from the agent's own environment. A job's env never reaches
// it, so a job cannot point podman at a configuration of its own.
std::map<std::string, std::string> RuntimeEnv();

// Turns `spec`, the plain launch of `want` (argv, env with the vGPU's variables, work
// dir), into the launch of `podman run`: the container gets the replica's environment
// (less the agent's PATH, USER, LOGNAME unless the job set them), its GPUs
// (GpuDeviceArgs), its CPU and memory as limits, `host_folders` (the folders its
// isolation mode shares with it, IsolationMode::HostFolders: the MPS pipe folder) at the
// same path, and its working folder, which is given to options.user; no other host
// folder, whatever the job's environment names. The runtime process gets RuntimeEnv
// plus FASTGPU_ALLOCATION_ID and FASTGPU_WORK_DIR. Fails (spec unchanged but for the
// folder's owner) when the image is malformed or not allowed, or the folder cannot be
// given to the user.
Status MakeContainerLaunch(const ContainerOptions& options, const protocol::DesiredReplica& want,
                           const std::vector<std::string>& host_folders, LaunchSpec* spec);

// Runs BuildRemoveArgv and waits up to `timeout` (then kills it). OK when the runtime
// exited 0; Internal/Unavailable with its exit status otherwise. Blocks the caller.
Status RemoveContainer(const ContainerOptions& options, const std::string& allocation_id,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace fastgpu::agent

// The shim launcher's confinement of a workload (SandboxSpec in launcher.h), split into
// what is prepared before fork (paths, strings, the order of mounts) and what the
// workload's child process does between fork and exec.
//
// Internal to shim_launcher.cpp. EnterSandbox and DropPrivileges make only
// async-signal-safe calls (raw system calls, no allocation): the agent is multi-threaded.
// Thread safety: PrepareSandbox and ProbeSandbox are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/launcher.h"
#include "common/result.h"

namespace fastgpu::agent::sandbox {

// Where a confinement step failed; names for messages come from StepName.
enum Step : int32_t {
  kNone = 0,
  kUnsharePid,
  kForkInit,
  kUnshare,
  kMountPrivate,
  kOpenSource,
  kHide,
  kMkdir,
  kBindBack,
  kDev,
  kDevNode,
  kShm,
  kHostname,
  kProc,
  kCapabilities,
  kSetgroups,
  kSetgid,
  kSetuid,
  kNoNewPrivs,
  kVerify,
  kCount,
};
const char* StepName(int32_t step);

// Most bind-backs and devices one workload gets (fds opened on the child's stack).
constexpr size_t kMaxBinds = 16;
constexpr size_t kMaxDevices = 64;

struct Prepared {
  bool namespaces = false;
  int64_t uid = -1, gid = -1;
  std::string hostname;
  struct Hide {
    std::string path;
    std::string options;  // tmpfs mount data, e.g. "mode=0755,size=1m"
  };
  std::vector<Hide> hides;  // outermost first; /tmp among them
  struct Bind {
    std::string target;               // made visible again at the same path
    std::vector<std::string> mkdirs;  // created inside the covering tmpfs, outer first
  };
  std::vector<Bind> binds;
  struct Device {
    std::string source;   // host node (or folder of nodes)
    std::string target;   // /dev/<base name>
    bool folder = false;  // a folder such as nvidia-caps: bound whole
  };
  std::vector<Device> devices;
};

// Checks and orders `spec` (absolute paths, limits). InvalidArgument on a bad spec.
Result<Prepared> Prepare(const agent::SandboxSpec& spec);

// True when `path` (absolute) lies under a folder the sandbox covers and does not bind
// back: a program there cannot be run inside it.
bool Hidden(const Prepared& p, const std::string& path);

// In the workload's child, after it joined its cgroups: new mount, IPC and UTS
// namespaces and the mounts of Prepared. Returns 0, or an errno with *step set.
int EnterNamespaces(const Prepared& p, int32_t* step);
// In the workload's child, last before exec: drops to p.uid/p.gid with no capabilities
// and no_new_privs (nothing when p.uid < 0). Returns 0, or an errno with *step set.
int DropPrivileges(const Prepared& p, int32_t* step);

}  // namespace fastgpu::agent::sandbox

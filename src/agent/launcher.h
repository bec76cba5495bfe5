// ProcessLauncher: starts, watches and signals workload processes.
//
// The real launcher (MakeShimLauncher) detaches every workload from the agent: it
// forks twice, so the per-replica "shim" is re-parented to init and runs in a session
// of its own (setsid). The shim forks the workload into its own process group (and its
// cgroup, when given), relays the workload's stdout/stderr into the log file up to a
// size cap, waits for it, kills what is left of its process group, and writes the exit
// status to a file (temp + fsync + rename). So the exit code is known even when the
// agent was down at the time, and killing the agent kills no workload. Between fork and
// exec only async-signal-safe calls are made (the agent is multi-threaded).
//
// With a SandboxSpec (launcher.h, docs/security.md) the shim first enters a new
// PID namespace and forks a tiny init there (pid 1, "fastgpu-init": it only reaps orphans
// and dies with the shim); the workload, still the shim's own child and leader of its
// process group, is pid 2 of that namespace, unshares mount, IPC and UTS namespaces, hides
// the paths it must not see, gets a private /tmp, /dev and /proc, joins its cgroups and
// then drops to an unprivileged uid/gid before exec. When the workload ends the shim
// kills the init, which ends everything left in the namespace.
//
// A ProcessHandle names the shim and the workload by pid and start time (from
// /proc/<pid>/stat), so a recycled pid is never mistaken for them.
//
// Thread safety: implementations must be thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace fastgpu::agent {

// How a workload is confined. The default confines nothing: the workload runs as the
// launcher's user in the host's namespaces.
struct SandboxSpec {
  // Run as this uid/gid: no supplementary groups, empty capability sets (bounding,
  // ambient, inheritable too) and no_new_privs. -1 (default): keep the launcher's user.
  int64_t uid = -1;
  int64_t gid = -1;
  // Own PID, mount, IPC and UTS namespaces, with the mount setup below. Default false.
  bool namespaces = false;
  // namespaces only: the UTS host name. Default "": "fastgpu".
  std::string hostname;
  // namespaces only: absolute paths covered by an empty tmpfs (a path inside another one
  // is covered with it).
  std::vector<std::string> hide_paths;
  // namespaces only: folders under a hidden path made visible again at the same place
  // (the work dir, an MPS pipe folder). Must exist.
  std::vector<std::string> bind_back;
  // namespaces only: device nodes bound into the private /dev under their base name
  // (/dev/null, /dev/zero, ... and the allocation's GPUs; a folder such as nvidia-caps is
  // bound whole). Missing ones are skipped.
  std::vector<std::string> devices;
};

struct LaunchSpec {
  std::vector<std::string> argv;              // argv[0] is looked up in env's PATH
  std::map<std::string, std::string> env;     // the whole environment of the workload
  std::string work_dir;                       // must exist
  std::string log_path;                       // combined stdout/stderr, appended
  int64_t log_cap_bytes = int64_t{64} << 20;  // output beyond this is dropped (noted once)
  std::string status_path;                    // written by the shim when the workload ends
  // cgroup.procs (v2) or tasks/cgroup.procs (v1) files the workload writes its pid into
  // before exec, one per hierarchy; empty: no cgroup.
  std::vector<std::string> cgroup_procs;
  // Confinement (see SandboxSpec); the cgroups are joined before privileges are dropped.
  SandboxSpec sandbox;
  // An interactive session's stdio (session_host.h), borrowed: the launcher duplicates
  // them. With `tty`, `stdin_fd` is a terminal's slave: the workload starts a new session
  // (setsid) with it as controlling terminal and as stdin, stdout and stderr. Without,
  // `stdin_fd` is its stdin, `stdout_fd` its stdout, and `stderr_fd` its stderr (when -1,
  // stderr goes to `stdout_fd` too). Nothing goes to the log then. Default -1: stdin is
  // /dev/null, output goes to the log.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  bool tty = false;
};

// The operator's policy for confining replicas (the agent turns it into a SandboxSpec
// per replica; docs/security.md).
struct SandboxOptions {
  // Default false (library users and tests opt in; `fastgpu agent` and `fastgpu up` turn
  // it on): workloads run as the agent's user in the host's namespaces.
  bool enabled = false;
  // Each replica runs as its own uid (its gid the same number): the lowest in
  // [first_uid, last_uid] that no replica the agent still holds uses; MPS replicas of one
  // GPU share one (MPS serves one user at a time). Default 200000-299999.
  int64_t first_uid = 200000;
  int64_t last_uid = 299999;
  // Paths hidden from workloads besides the agent's data dir (`fastgpu up` adds the
  // control plane's). Default none.
  std::vector<std::string> hide_paths;
  // The GPU device nodes come from AgentOptions::gpu_dev_dir (`--gpu-dev-dir`).
};

// What this host lets the launcher confine, found by trying it in a throwaway child.
struct SandboxSupport {
  bool root = false;        // euid 0: can change uid/gid and drop capabilities
  bool namespaces = false;  // PID, mount, IPC and UTS namespaces and the mounts work
  std::string note;         // what is missing and why, for logs and reports
};
SandboxSupport ProbeSandbox();

struct ProcessHandle {
  int shim_pid = 0;
  uint64_t shim_start = 0;  // start time in clock ticks since boot
  int pid = 0;              // the workload (leader of its process group)
  uint64_t pid_start = 0;
};

struct ProcessState {
  enum class Kind { kRunning, kExited, kLost };
  Kind kind = Kind::kRunning;
  int exit_code = 0;        // kExited: exit status (128 + n is NOT used; see signal)
  int signal = 0;           // kExited: the signal that ended it, 0 if none
  int64_t ended_at_ms = 0;  // kExited: Unix ms
  std::string message;      // "exit 0", "killed by signal 9", why it is lost
};

class ProcessLauncher {
 public:
  virtual ~ProcessLauncher() = default;
  // Starts the workload. FailedPrecondition when argv[0] cannot be found or executed
  // (the message says why); Internal when fork or pipes fail.
  virtual Result<ProcessHandle> Launch(const LaunchSpec& spec) = 0;
  // Where the workload is: the status file decides kExited; otherwise a live shim means
  // kRunning; a shim that is gone without a status file is kLost.
  virtual ProcessState Poll(const ProcessHandle& handle, const std::string& status_path) = 0;
  // Sends `signal` to the workload's process group while its shim is alive; OK (and
  // nothing sent) when it is already gone.
  virtual Status Signal(const ProcessHandle& handle, int signal) = 0;
};

std::unique_ptr<ProcessLauncher> MakeShimLauncher();

// Start time (field 22 of /proc/<pid>/stat) of a live, non-zombie process; 0 when there
// is no such process.
// Never throws: a process that exits while its stat file is read counts as gone.
uint64_t ProcessStartTime(int pid);
// Field 22 of a /proc/<pid>/stat line; 0 for a zombie or dead process, or a malformed line.
uint64_t ParseProcStatStartTime(const std::string& content);

// The live workloads a shim launcher started for replicas under `replicas_dir`
// ("<data_dir>/replicas"), keyed by allocation id, found without any state file: every
// process whose environment has FASTGPU_ALLOCATION_ID=<id> and
// FASTGPU_WORK_DIR=<replicas_dir>/<id>/work, that leads its own process group (the
// workload itself, not one of its children) and whose parent is a "fastgpu-shim". The
// handles carry pids and start times as Launch returns them. Processes that exit during
// the scan are skipped. Never throws.
std::map<std::string, ProcessHandle> FindLaunchedWorkloads(const std::string& replicas_dir);

// The status file's content for an exit status as waitpid returns it (used by the shim,
// and by tests): "exit <code> <signal> <ended_at_ms>\n".
ProcessState ParseStatusFile(const std::string& content);

}  // namespace fastgpu::agent

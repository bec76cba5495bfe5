// FileEnv: every file and folder the agent itself reads or writes, behind a small
// interface, after LevelDB's Env: PosixFileEnv() is the real file system,
// NewMemoryFileEnv() keeps everything in memory for tests. The agent takes one by
// injection (AgentOptions::env) and hands the same one down. Inside it:
//   - the agent's own files: the state file, replica folders and work dirs (their modes),
//     logs and exit statuses (replicas.h, state.h, log_shipper.h);
//   - cgroups (cgroup.h): the mount table it searches, the fastgpu/ and replica group
//     folders, every control file it writes (cgroup.subtree_control, cpu.max,
//     memory.max, pids.max, the v1 files, cgroup.kill, freezer.state) or reads
//     (cgroup.controllers, cgroup.procs, memory.events, memory.oom_control);
//   - the MPS folders (mps.h): each GPU's pipe and log folders and the daemon's pid file.
// Outside it:
//   - the real launcher's files for a workload (shim_launcher.cpp, the real side of the
//     launcher.h seam): its child writes the log and the exit-status file and joins the
//     group's cgroup.procs, and Poll reads that exit status back; they are on the real
//     disk because a real process writes them (FakeProcessLauncher writes its stand-ins
//     through the env). The MPS control program's output log is likewise opened for the
//     child by posix_spawn;
//   - kernel objects reached through a path: the device program attached to a cgroup
//     folder (devices.h), the sandbox's mounts and device nodes (sandbox.h), chown of a
//     work dir to its sandbox uid;
//   - host files only read for facts about the host or a process: /proc (meminfo, a
//     pid's stat, status and environ), the GPU device nodes under /dev, the fake
//     inventory's fault file (a test hook) and the CDI specs that tell whether the
//     container runtime knows the GPUs (container.cpp).
//
// Errors are values: NotFound when a file or folder to read is missing; Internal for
// any other failure (a write into a missing folder included), with the operation, the
// path and the reason ("open /x/agent-state.json.tmp: Is a directory").
//
// Thread safety: implementations are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace fastgpu::agent {

// What Stat tells about a file or folder.
struct FileInfo {
  bool is_dir = false;
  int64_t size = 0;    // bytes (a folder's: what the file system says)
  uint32_t mode = 0;   // permission bits (07777)
  TimePoint modified;  // last change of its content (a folder's: of its entries)
};

class FileEnv {
 public:
  virtual ~FileEnv() = default;

  // The whole content of `path`, at most `max_bytes` (more: OutOfRange).
  virtual Result<std::string> ReadFile(const std::string& path,
                                       int64_t max_bytes = int64_t{16} << 20) = 0;
  // Up to `max_bytes` of `path` from `offset` (fewer at the end); "" when `offset` is at
  // or past the end.
  virtual Result<std::string> ReadFileRange(const std::string& path, int64_t offset,
                                            int64_t max_bytes) = 0;
  // The size of the file in bytes.
  virtual Result<int64_t> FileSize(const std::string& path) = 0;
  // True when a file or folder exists at `path`.
  virtual bool Exists(const std::string& path) = 0;
  // Kind, size, mode and modification time of `path` (NotFound when missing).
  virtual Result<FileInfo> Stat(const std::string& path) = 0;

  // Creates or truncates `path` (mode 0600 when new) and writes `data`; with `sync`, the
  // content is on stable storage when it returns OK. Its folder must exist.
  virtual Status WriteFile(const std::string& path, std::string_view data, bool sync) = 0;
  // Appends `data` to `path` (created, mode 0600, when missing). Its folder must exist.
  virtual Status AppendFile(const std::string& path, std::string_view data) = 0;
  // Renames the file `from` to `to` in one step, replacing a file at `to`.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // Makes the entries of folder `dir` (a rename into it) durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // Creates folder `dir` and its missing parents (mode 0755 less the umask; the memory
  // env: 0755); OK when it exists.
  virtual Status CreateDirs(const std::string& dir) = 0;
  // Sets the permission bits of `path` to `mode` (07777 at most). NotFound when missing.
  virtual Status Chmod(const std::string& path, uint32_t mode) = 0;
  // The names in folder `dir`, sorted.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // Removes the file or folder at `path` with everything in it; OK when nothing is there.
  virtual Status RemoveAll(const std::string& path) = 0;
  // Removes folder `dir` alone (rmdir(2)), as cgroup folders must be removed: NotFound
  // when missing; FailedPrecondition when it holds a folder; Unavailable when the file
  // system says it is busy (a cgroup that still has processes); Internal otherwise.
  // Files in it: a POSIX folder holding any fails (FailedPrecondition) unless the file
  // system owns them (cgroupfs's control files go with their folder); the memory env,
  // standing in for cgroupfs, removes them with the folder.
  virtual Status RemoveDir(const std::string& dir) = 0;
};

// The real file system (plain POSIX calls; never an exception). Process-wide.
FileEnv& PosixFileEnv();

// A file system in memory: folders and files in maps, "/" and "." always there; modes
// (files 0600, folders 0755 when made) but no owners; each change is stamped with
// `clock`'s Now() (nullptr: the system clock; borrowed, it must outlive the env).
// Thread-safe. For tests of the agent's bookkeeping and of its cgroup and MPS files.
std::unique_ptr<FileEnv> NewMemoryFileEnv(const Clock* clock = nullptr);

// Replaces `path` so that a crash at any point leaves either its old or its new content:
// writes <path>.tmp with sync, renames it over `path`, syncs the folder.
Status WriteFileAtomically(FileEnv& env, const std::string& path, std::string_view data);

}  // namespace fastgpu::agent

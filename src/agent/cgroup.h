// Cgroups: CPU, memory, process-count and device limits for replicas, on cgroup v2 or v1.
//
// Probe() decides once which layout the host has and whether limits can be enforced:
//
//   v2  `root` is a cgroup2 mount with the cpu and memory controllers, and the agent can
//       make <root>/fastgpu and enable cpu, memory (and pids, when offered) for its
//       children. Device access is a BPF_PROG_TYPE_CGROUP_DEVICE program (devices.h),
//       used when the kernel lets the agent load one.
//   v1  otherwise: the per-controller cgroup mounts under `root` are read from the
//       mount table (`mountinfo`, /proc/self/mountinfo format; never assumed paths).
//       cpu and memory hierarchies are required; pids, devices and freezer are used
//       when mounted. The agent makes fastgpu/ in each.
//
// When neither works, enabled() is false and note() says why; replicas then run without
// limits. note() always says which version and controllers are in force (the agent logs
// it and shows it in its snapshot). Each replica gets a group named after its allocation
// id: <v2 root>/fastgpu/<name>, or <mount>/fastgpu/<name> in each v1 hierarchy. The name
// is the one identifier the agent persists (ReplicaRecord::cgroup); every folder and
// procs file is derived from it, also after a restart.
//
//   v2: cpu.max, memory.max (+ memory.swap.max 0), pids.max, device program.
//   v1: cpu.cfs_quota_us/cfs_period_us, memory.limit_in_bytes (+ memory.memsw.limit_in_bytes
//       when swap accounting exists, so swap cannot dodge the limit), pids.max,
//       devices.deny "a" then devices.allow per rule, freezer (for Kill).
//
// Every cgroup file and folder (the mount table included) is read and written through the
// FileEnv given to Probe (file_env.h), so that tests drive the same code over an
// in-memory file system; only the device program (devices.h) and kill(2) reach the
// kernel otherwise.
//
// Thread safety: Create/Kill/Remove/OomKills touch only their own group; safe from any
// thread. Probe returns a value that is then read-only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/devices.h"
#include "agent/file_env.h"
#include "common/clock.h"
#include "common/result.h"

namespace fastgpu::agent {

enum class CgroupVersion { kNone, kV1, kV2 };

// What a replica's group enforces. 0 means no limit.
struct CgroupLimits {
  int64_t cpu_milli = 0;   // share of one core x 1000 per 100 ms period
  int64_t memory_mib = 0;  // memory (and memory + swap) limit
  int64_t pids_max = 0;    // most processes and threads at once
  // Devices the replica may use; nullopt: devices are not restricted. Ignored (and said
  // so in devices_note()) when the host cannot restrict devices.
  std::optional<std::vector<DeviceRule>> devices;
};

class Cgroups {
 public:
  // `root` "" means disabled ("cgroups turned off"). `mountinfo`: the mount table to
  // search for v1 hierarchies (tests pass a file of their own).
  static Cgroups Probe(const std::string& root,
                       const std::string& mountinfo = "/proc/self/mountinfo");
  // The same through `env` (borrowed; it must outlive the value and its copies).
  static Cgroups Probe(FileEnv& env, const std::string& root,
                       const std::string& mountinfo = "/proc/self/mountinfo");

  bool enabled() const { return version_ != CgroupVersion::kNone; }
  CgroupVersion version() const { return version_; }
  // "cgroup v1 (cpu, memory, pids, devices, freezer) under /sys/fs/cgroup/<controller>/fastgpu",
  // or why cgroups are off.
  const std::string& note() const { return note_; }
  // Whether Create can restrict devices.
  bool restricts_devices() const { return devices_; }
  // The controllers in force: a subset of cpu, memory, pids, devices, freezer.
  std::vector<std::string> controllers() const;

  // Makes the replica's group `name` (a safe folder name) with `limits` in every
  // hierarchy and returns `name`, the identifier to persist. On failure nothing is left
  // behind: FailedPrecondition when disabled, Internal when a folder or a limit cannot
  // be written (the message names the file).
  Result<std::string> Create(const std::string& name, const CgroupLimits& limits) const;
  // The cgroup.procs files the workload must join, one per hierarchy ({} when disabled).
  std::vector<std::string> ProcsFiles(const std::string& name) const;
  // The group's folder in the hierarchy of `controller` ("cpu", "memory", "pids",
  // "devices", "freezer"); "" when that controller is not in force.
  std::string Dir(const std::string& name, const std::string& controller) const;
  // Kills every process of the group: cgroup.kill on v2 where the kernel has it; on v1
  // freezes the group (when the freezer is mounted), SIGKILLs each pid of every
  // hierarchy's cgroup.procs and thaws it; then repeats until the group is empty or 2 s
  // have passed.
  void Kill(const std::string& name) const;
  // Removes the group's folder in every hierarchy (it must be empty of processes; a
  // busy folder is retried for up to 0.5 s); errors are ignored.
  void Remove(const std::string& name) const;
  // Removes the groups under fastgpu/ that hold no process, are not named in `keep`, and
  // were made at least `min_age` ago: those left by replicas whose agent never came back
  // (workloads outlive their agent; the next agent on the same data dir would remove
  // them). Returns the names removed. With several agents on one host, one agent may so
  // remove the group of another's replica that ended while that agent was down (which
  // then reports it without its OOM counter).
  // A group's age is `now` less its folder's modification time.
  std::vector<std::string> RemoveStale(const std::set<std::string>& keep,
                                       std::chrono::seconds min_age, TimePoint now) const;
  // How many processes of the group the kernel's OOM killer has killed (v2
  // memory.events, v1 memory.oom_control "oom_kill"); -1 when unknown.
  int64_t OomKills(const std::string& name) const;

  // The group name a persisted identifier stands for: itself, or the last component of
  // an older state file's v2 folder ("/sys/fs/cgroup/fastgpu/alloc-1" -> "alloc-1").
  static std::string NameOf(const std::string& persisted);
  // "50000 100000" for 500 milli (at least 1000 us per period); "max 100000" for 0.
  static std::string CpuMax(int64_t cpu_milli);
  // The v1 cpu.cfs_quota_us for a 100000 us period: 50000 for 500 milli, -1 for 0.
  static int64_t CpuQuotaUs(int64_t cpu_milli);

 private:
  Result<std::string> CreateV2(const std::string& name, const CgroupLimits& limits) const;
  Result<std::string> CreateV1(const std::string& name, const CgroupLimits& limits) const;
  // The distinct hierarchies' fastgpu folders (v1: cpu and cpuacct may share one).
  std::vector<std::string> Bases() const;

  FileEnv* env_ = &PosixFileEnv();  // borrowed
  CgroupVersion version_ = CgroupVersion::kNone;
  std::string base_;                       // v2: <root>/fastgpu
  std::map<std::string, std::string> v1_;  // v1: controller -> <mount>/fastgpu
  bool pids_ = false;                      // pids.max is written
  bool devices_ = false;                   // devices can be restricted
  bool swap_ = false;                      // v1: memory.memsw.* exists
  std::string note_;
};

}  // namespace fastgpu::agent

// Cgroups: CPU and memory limits for replicas through cgroup v2.
//
// Probe() decides once whether limits can be enforced: the cgroup v2 hierarchy must be
// mounted at `root` with the cpu and memory controllers, and the agent must be able to
// make <root>/fastgpu and enable both controllers for its children. When it cannot,
// enabled() is false and note() says why (the agent logs it and puts it in its
// registration and heartbeat messages); replicas then run without CPU/memory limits.
// Each replica gets <root>/fastgpu/<allocation id> with cpu.max (cpu_milli / 1000 of a
// core per period) and memory.max; the workload joins it before exec (launcher.h).
//
// Thread safety: Create/Kill/Remove touch only their own folder; safe from any thread.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace fastgpu {

class Cgroups {
 public:
  // `root` "" means disabled ("cgroups turned off").
  static Cgroups Probe(const std::string& root);

  bool enabled() const { return enabled_; }
  const std::string& note() const { return note_; }
  const std::string& base() const { return base_; }

  // Makes the replica's group with its limits (0 = no limit) and returns its folder.
  // Internal when the folder or a limit cannot be written.
  Result<std::string> Create(const std::string& name, int64_t cpu_milli, int64_t memory_mib) const;
  // Kills every process in the group: cgroup.kill where the kernel has it, else SIGKILL
  // to each pid in cgroup.procs.
  void Kill(const std::string& dir) const;
  // Removes the group's folder (it must be empty of processes); errors are ignored.
  void Remove(const std::string& dir) const;

  // "50000 100000" for 500 milli; "max 100000" for 0.
  static std::string CpuMax(int64_t cpu_milli);

 private:
  bool enabled_ = false;
  std::string base_;
  std::string note_;
};

}  // namespace fastgpu

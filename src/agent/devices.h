// Device access for replicas: which device nodes a replica may open, and how that rule
// set is enforced by the device cgroup (v1 `devices.allow` lines, or a v2
// BPF_PROG_TYPE_CGROUP_DEVICE program built here from raw BPF instructions, no libbpf).
//
// A replica may use the harmless standard devices (StandardDeviceRules) plus the
// character devices of its GPUs and the NVIDIA control nodes (DeviceRulesForPaths on
// their paths); everything else is denied: open(), read, write and mknod.
//
// Pure functions except DeviceRulesForPaths (stat) and the Load/Attach calls (bpf()).
// Thread-safe.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace fastgpu::agent {

// One allowed device (or a range of them).
struct DeviceRule {
  static constexpr int64_t kAny = -1;
  char type = 'c';            // 'c' character, 'b' block
  int64_t major = kAny;       // kAny: every major number
  int64_t minor = kAny;       // kAny: every minor number
  std::string access = "rw";  // letters of r (read), w (write), m (mknod)

  // The v1 devices.allow line: "c 1:3 rw", "c 136:* rw".
  std::string ToV1() const;
  friend bool operator==(const DeviceRule&, const DeviceRule&) = default;
};

// null 1:3, zero 1:5, full 1:7, random 1:8, urandom 1:9, tty 5:0, ptmx 5:2, pts 136:*,
// all read/write (no mknod).
std::vector<DeviceRule> StandardDeviceRules();

// One read/write rule per existing device node in `paths` (stat() gives its type and
// major:minor). Paths that do not exist, or are not device nodes, are skipped and
// appended to `*skipped` (optional) with the reason.
std::vector<DeviceRule> DeviceRulesForPaths(const std::vector<std::string>& paths,
                                            std::vector<std::string>* skipped = nullptr);

// The BPF_PROG_TYPE_CGROUP_DEVICE program that allows exactly `rules`: it returns 1 for
// a (type, access, major, minor) that some rule covers (every asked access letter in the
// rule's) and 0 for the rest. Reads only struct bpf_cgroup_dev_ctx.
std::vector<bpf_insn> BuildDeviceProgram(const std::vector<DeviceRule>& rules);

// Loads `program` into the kernel; returns its fd (the caller closes it). Internal with
// the verifier's log when it is refused; FailedPrecondition when bpf() is not permitted
// or not supported.
Result<int> LoadDeviceProgram(const std::vector<bpf_insn>& program);

// Loads the program for `rules` and attaches it (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) to
// the cgroup v2 folder `cgroup_dir`. The attachment lives as long as the group; no fd
// is kept open. Errors as LoadDeviceProgram, or Internal when the attach fails.
Status AttachDeviceProgram(const std::string& cgroup_dir, const std::vector<DeviceRule>& rules);

}  // namespace fastgpu::agent

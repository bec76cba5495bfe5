// The per-replica vm runner: what `fastgpu vm-run --spec FILE` does under the replica's
// shim (launcher.h), so that a vm replica has the same process, log, exit status, stop and
// re-adoption as every other mode. It starts the replica's transient domain, copies the
// guest's output (its second serial port, a file) to stdout as it grows, and when the
// guest has powered off exits with the code the guest reported. A stop (SIGTERM from the
// agent) destroys the domain first. Either way it removes the serial files; the disk
// overlay is libvirt's transient one, gone with the domain.
//
// Thread safety: RunVm runs on one thread; `stop` may be set from a signal handler.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>

#include "agent/libvirt.h"
#include "common/result.h"

namespace fastgpu::agent {

// What the agent hands the runner (a JSON file in the replica's folder).
struct VmRun {
  std::string uri = "qemu:///system";  // libvirt
  std::string name;                    // the domain's name
  std::string xml_path;                // its XML (BuildDomainXml)
  std::string output_path;             // ttyS1's file: the workload's output
  std::string console_path;            // ttyS0's file: the guest's console
  std::string nonce;                   // the exit line's prefix
};

Status WriteVmRun(const std::string& path, const VmRun& run);
Result<VmRun> ReadVmRun(const std::string& path);

// Splits the guest's output stream into the workload's bytes and the exit line
// "<nonce> exit <code>" (which may follow output that did not end its line).
class GuestOutput {
 public:
  explicit GuestOutput(std::string nonce) : nonce_(std::move(nonce)) {}
  // New bytes from the guest; returns those to show (whole lines; a partial last line is
  // held back until it ends or Finish).
  std::string Feed(std::string_view bytes);
  // The end of the stream: what is still held back.
  std::string Finish();
  // The exit code the guest reported, once its exit line was seen.
  std::optional<int> exit_code() const { return exit_code_; }

 private:
  std::string Line(std::string line);  // a whole line without its '\n'; returns what to show
  std::string nonce_;
  std::string pending_;
  std::optional<int> exit_code_;
};

// Exit codes of the runner itself, besides the guest's own.
inline constexpr int kVmRunFailed = 125;   // could not start the guest (stderr says why)
inline constexpr int kVmNoExitCode = 126;  // the guest ended without an exit line

// Runs the guest to its end as described at the top; writes the workload's output to
// `out_fd` and the runner's own messages to `err_fd`. Returns the guest's exit code, or
// kVmRunFailed / kVmNoExitCode, or -1 when `stop` was set (the domain destroyed).
int RunVm(const VmRun& run, Hypervisor& hypervisor, int out_fd, int err_fd,
          const std::atomic<bool>& stop,
          std::chrono::milliseconds poll = std::chrono::milliseconds(100));

}  // namespace fastgpu::agent

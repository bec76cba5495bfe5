// MpsDaemons: one CUDA MPS control daemon per GPU, started and watched by the agent.
//
// Each GPU gets its own folders <mps_root>/<gpu uuid>/{pipe,log}; its daemon is started
// as `<control> -d` with CUDA_VISIBLE_DEVICES=<gpu uuid>, CUDA_MPS_PIPE_DIRECTORY and
// CUDA_MPS_LOG_DIRECTORY set to them, and is known to be alive by the pid file
// (nvidia-cuda-mps-control.pid) it writes in its pipe folder. Daemons outlive the
// agent (like workloads) and are found again by that pid file after a restart. Used
// only for real GPUs: on simulated GPUs no daemon is started. The folders are made and
// the pid file read through the FileEnv it is given (file_env.h); the control program's
// own output log is opened for it by posix_spawn, outside the env.
//
// Thread safety: not thread-safe; the agent loop owns it.
#pragma once

#include <chrono>
#include <string>

#include "agent/file_env.h"
#include "common/status.h"

namespace fastgpu::agent {

class MpsDaemons {
 public:
  // `control` is the program (default in AgentOptions: "nvidia-cuda-mps-control").
  // `env` is borrowed and must outlive this object.
  MpsDaemons(std::string mps_root, std::string control,
             std::chrono::milliseconds start_timeout = std::chrono::seconds(10),
             FileEnv& env = PosixFileEnv());

  // OK when the GPU's daemon runs, starting it if needed (`*started` tells whether it
  // had to). Unavailable when the program cannot run or writes no pid file in time.
  Status Ensure(const std::string& gpu_uuid, bool* started = nullptr);
  // True when the GPU's daemon is alive (its pid file names a live process).
  bool Running(const std::string& gpu_uuid) const;
  // Sends "quit" to the GPU's daemon (when it runs) and waits for the command to end.
  Status Stop(const std::string& gpu_uuid);

 private:
  // Runs the control program for one GPU with `stdin_text` on its standard input and
  // waits for it to end; returns its exit status or an error.
  Status RunControl(const std::string& gpu_uuid, const char* arg, const std::string& stdin_text);

  std::string root_;
  std::string control_;
  std::chrono::milliseconds start_timeout_;
  FileEnv& env_;
};

}  // namespace fastgpu::agent

// A stand-in for nvidia-cuda-mps-control, for tests of the mps isolation mode: written to
// a file and made executable, it is given to the agent as its MPS control program. "-d"
// appends its arguments and CUDA environment to the file $CALLS names (when set) and
// leaves a background "daemon" whose pid goes to the pid file of the pipe folder; "quit"
// on stdin stops that daemon.
#pragma once

namespace fastgpu::testing {

inline constexpr const char* kFakeMpsControl = R"sh(#!/bin/sh
if [ -n "$CALLS" ]; then
  echo "$* CVD=$CUDA_VISIBLE_DEVICES PIPE=$CUDA_MPS_PIPE_DIRECTORY LOG=$CUDA_MPS_LOG_DIRECTORY" >> "$CALLS"
fi
if [ "$1" = "-d" ]; then
  sleep 300 > /dev/null 2>&1 &
  echo $! > "$CUDA_MPS_PIPE_DIRECTORY/nvidia-cuda-mps-control.pid"
  exit 0
fi
read cmd
if [ "$cmd" = quit ]; then kill "$(cat "$CUDA_MPS_PIPE_DIRECTORY/nvidia-cuda-mps-control.pid")"; fi
)sh";

}  // namespace fastgpu::testing

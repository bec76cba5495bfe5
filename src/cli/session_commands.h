// The interactive session commands (docs/sessions.md):
//   fastgpu run [-i] [-t] [shape flags] [--idle-timeout S] -- CMD...
//   fastgpu attach SESSION
//   fastgpu job exec JOB [--replica N] [-i] [-t] -- CMD...
// `run` submits a job of kind session, waits until it is placed, and connects the
// terminal to the command over a WebSocket through the control plane; with -t the local
// terminal is put in raw mode and its size follows the window (SIGWINCH). `fastgpu` exits
// with the remote command's exit code; with 255 when the control plane is lost (the
// session keeps running for the control plane's grace period: `fastgpu attach` it), and
// with 1 when the session cannot be started (the message says why).
#pragma once

#include <CLI/CLI.hpp>

namespace fastgpu::cli {

// Adds `run` and `attach` to the top level.
void RegisterSessionCommands(CLI::App& app, int* exit_code);
// Adds `exec` under `job`: the command runs inside a running replica (docs/sessions.md).
void AddJobExec(CLI::App* job, int* exit_code);

}  // namespace fastgpu::cli

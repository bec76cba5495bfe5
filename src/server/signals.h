// Termination signals for long-running commands (`fastgpu server`, `fastgpu up`).
//
// BlockTerminationSignals() must be called before any thread starts, so that every
// thread inherits the mask and SIGINT / SIGTERM are delivered only through
// WaitForTerminationSignal(). Not for libraries: only main-level commands call these.
#pragma once

namespace fastgpu::server {

// Blocks SIGINT and SIGTERM in the calling thread (and the threads it starts later).
void BlockTerminationSignals();
// Waits until SIGINT or SIGTERM arrives; returns the signal number.
int WaitForTerminationSignal();

}  // namespace fastgpu::server

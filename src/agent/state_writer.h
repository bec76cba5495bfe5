// StateWriter: makes the agent's state durable. The agent saves through it before it
// starts an allocation (so that no restart can start the same allocation a second time)
// and after every round. The real one writes the state file (SaveAgentState: temp file,
// fsync, rename, fsync of the folder); testing/fake_state_writer.h injects failures.
//
// Thread safety: implementations must be thread-safe; the agent calls from one thread.
#pragma once

#include <memory>
#include <string>

#include "agent/file_env.h"
#include "agent/state.h"
#include "common/status.h"

namespace fastgpu::agent {

class StateWriter {
 public:
  virtual ~StateWriter() = default;
  // OK once `state` is on stable storage (it survives a crash of the agent or the
  // machine). Any error (full disk, read-only or missing folder, I/O error) means the
  // previous durable state is still the one a restart will find.
  virtual Status Save(const AgentState& state) = 0;
  // Where the state goes, for messages ("/var/lib/fastgpu/agent/agent-state.json").
  virtual std::string Describe() const = 0;
};

// The state file at `path` (its folder must exist), written through `env` (borrowed).
std::unique_ptr<StateWriter> MakeFileStateWriter(std::string path, FileEnv& env = PosixFileEnv());

}  // namespace fastgpu::agent

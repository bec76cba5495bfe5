// `--pool FILE` of `fastgpu server` and `fastgpu up`: the node pool's groups (server/pool.h)
// with the binary's providers: `exec` (the operator's command) and `simulated` (an agent
// in this process with simulated GPUs of the group's shape, as `fastgpu up --simulate-gpus`
// starts its local one, after the group's boot delay).
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "server/pool.h"

namespace fastgpu::main {

// Where the simulated nodes' agents keep their folders (<data_dir>/pool/<node name>) and the
// CA file they trust over HTTPS when the join token pins none ("" for plain HTTP).
struct PoolAgentSettings {
  std::string data_dir;
  std::string ca_file;
};

// Reads and checks the pool file (the error names the file and the field) and makes the
// pool with its providers. `settings` is read when a simulated node starts (so it may be
// filled after the control plane starts) and must outlive the pool.
Result<std::shared_ptr<server::NodePool>> OpenPool(const std::string& pool_file,
                                                   const PoolAgentSettings& settings);

}  // namespace fastgpu::main

// The node pool's configuration: node groups read from the JSON file given to
// `fastgpu server --pool FILE` (docs/pool.md shows the format).
//
// A group is a kind of node a provider can start on demand: its shape (GPU model and
// count, CPU, memory), its price per hour (the pool starts the group whose node costs least
// for the pending work's dominant share of it), min and max nodes, how long a node may take
// to register (boot_timeout) and how long an empty node is kept (scale_down_after).
//
// Parsing is strict: an unknown field, a missing required field, a bad value, min above max
// or an unknown provider is an InvalidArgument naming the field ("groups[1].max_nodes: ...").
// Plain values; no I/O but LoadPoolFile's read of the file.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace fastgpu::server {

// What one node of a group offers.
struct PoolNodeShape {
  std::string gpu_model;   // default "" (CPU-only node); one model per node
  int gpus = 0;            // default 0
  int64_t cpu_milli = 0;   // required, > 0 ("cpu": "64" in the file)
  int64_t memory_mib = 0;  // required, > 0 ("memory": "512GiB" in the file)
};

// The `exec` provider's settings (pool_exec_provider.h).
struct ExecProviderConfig {
  std::vector<std::string> command;  // required: argv; the verb is appended
  std::chrono::seconds timeout{60};  // default 60 s per call
};

// The `simulated` provider's settings (pool_sim_provider.h).
struct SimulatedProviderConfig {
  std::chrono::seconds boot_delay{5};  // default 5 s from create to the agent's start
};

struct NodeGroupConfig {
  std::string name;                            // required: 1-40 characters of [a-z0-9-]
  std::string provider;                        // required: "exec" or "simulated"
  int min_nodes = 0;                           // default 0
  int max_nodes = 1;                           // default 1; >= min_nodes, >= 1
  PoolNodeShape shape;                         // required
  double price_per_hour = 0;                   // default 0; >= 0
  std::chrono::seconds boot_timeout{600};      // default 10 min
  std::chrono::seconds scale_down_after{600};  // default 10 min
  ExecProviderConfig exec;                     // with provider "exec"
  SimulatedProviderConfig simulated;           // with provider "simulated"
};

struct PoolConfig {
  std::vector<NodeGroupConfig> groups;  // at least one; names unique
};

// The providers a group may name.
const std::vector<std::string>& PoolProviderNames();

// Parses and validates the file's text (see the file comment).
Result<PoolConfig> ParsePoolConfig(std::string_view json_text);
// Reads `path` and parses it; NotFound / InvalidArgument name the path.
Result<PoolConfig> LoadPoolFile(const std::string& path);

// True when some group can give nodes back (min_nodes < max_nodes): the pool is elastic,
// and the placement engine packs work onto nodes holding work (EngineOptions::elastic_pool)
// so that emptied nodes can go.
bool CanShrink(const PoolConfig& config);

}  // namespace fastgpu::server

// What a trace costs under a price table, pooled against dedicated whole GPUs.
//
// The trace is replayed in time: each pod arrives at its creation_time and leaves at its
// deletion_time (the trace's columns, in seconds), is placed at arrival by the named
// policy on the trace's nodes, and pays for its lifetime at the price of the GPU model of
// the node it landed on (metering/pooling.h does the arithmetic: a fraction pays its
// share; dedicated, every GPU pod holds whole GPUs). Pods that fit nowhere when they
// arrive are counted and not billed; pods without a positive lifetime are skipped.
// Pure functions of their input except ReadPodLifetimes (reads a file); thread-safe.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "metering/pooling.h"
#include "metering/pricing.h"
#include "sim/trace.h"

namespace fastgpu::sim {

struct PodLifetime {
  int64_t creation_s = 0;
  int64_t deletion_s = 0;
};

// name -> lifetime from a pod list's creation_time / deletion_time columns (a row with
// an empty deletion_time gets -1: it never ended in the trace, and is skipped).
// NotFound when the file cannot be read; InvalidArgument "<file>:<line>: ..." for a bad
// row or missing columns.
Result<std::map<std::string, PodLifetime>> ReadPodLifetimes(const std::string& path);
Result<std::map<std::string, PodLifetime>> ParsePodLifetimes(const std::string& text,
                                                             const std::string& source);

struct TraceCost {
  std::string policy;
  int64_t pods_billed = 0;
  int64_t pods_unplaced = 0;   // fit nowhere at arrival
  int64_t pods_skipped = 0;    // no lifetime in the trace
  metering::PoolingCost cost;  // pooled vs dedicated, cents and GPU-hours
};

// Replays `pods` (with `lifetimes` by name) on `nodes` with `policy` (a scheduler policy
// name). NotFound for an unknown policy; InvalidArgument for a bad price table.
Result<TraceCost> CostOfTrace(const std::vector<TraceNode>& nodes,
                              const std::vector<TracePod>& pods,
                              const std::map<std::string, PodLifetime>& lifetimes,
                              const std::string& policy, const metering::PriceTable& prices);

// A price table from a JSON file (metering/price_json.h): NotFound when it cannot be read,
// InvalidArgument naming the file when it does not parse.
Result<metering::PriceTable> ReadPriceTableFile(const std::string& path);

// `fastgpu sim --prices FILE.json`: reads the price table (metering/price_json.h) and the
// lifetimes of `pods_path`, and costs the trace under each of `policies` that is a
// scheduler policy (batch placers are left out). NotFound / InvalidArgument naming the
// file when one cannot be read or parsed.
Result<std::vector<TraceCost>> CostOfTraceFiles(const std::vector<TraceNode>& nodes,
                                                const std::vector<TracePod>& pods,
                                                const std::string& pods_path,
                                                const std::vector<std::string>& policies,
                                                const std::string& prices_path);

// {"policy","pods_billed","pods_unplaced","pods_skipped","pooled_cents","pooled",
//  "dedicated_cents","dedicated","pooled_gpu_hours","dedicated_gpu_hours","gpu_hour_saving"}
boost::json::object TraceCostToJson(const TraceCost& cost);
boost::json::array TraceCostsToJson(const std::vector<TraceCost>& costs);
// One row per policy: pooled and dedicated cost and GPU-hours, the saving.
std::string TraceCostsToTable(const std::vector<TraceCost>& costs);

}  // namespace fastgpu::sim

// Helpers of the metering integration tests: a control plane on 127.0.0.1 port 0 driven
// by a ManualClock (server/server_test_util.h), jobs run by a simulated agent whose
// reports carry the agent's own start and end times.
#pragma once

#include <string>
#include <vector>

#include "server/server_test_util.h"

namespace fastgpu::metering_test {

using server::ServerOptions;
using server::testing::Reply;
using server::testing::SimAgent;
using server::testing::TestControlPlane;
namespace json = boost::json;

// A job body: `replicas` of `gpu` ("\"gpu_count\":1,\"gpu_milli\":500"), CPU and memory.
std::string JobBody(const std::string& gpu, int64_t cpu_milli, int64_t memory_mib, int replicas = 1,
                    int priority = 0);

// Submits as `token`; expects 201 and returns the job id.
std::string Submit(TestControlPlane& cp, const std::string& token, const std::string& body);

// The allocation ids of the job, in replica order.
std::vector<std::string> AllocationsOf(TestControlPlane& cp, const std::string& job_id);

// An agent report of `state` with the agent's times (0 = left out).
json::object Report(const std::string& alloc, const std::string& state, int64_t started_ms,
                    int64_t ended_ms = 0);

// GET /v1/usage as `token`; expects 200.
Reply Usage(TestControlPlane& cp, const std::string& token, const std::string& query);

// The tenant's id from its name (as the admin).
std::string TenantId(TestControlPlane& cp, const std::string& name);

// PUT /v1/prices as the admin; expects 200.
void SetPrices(TestControlPlane& cp, const std::string& json_body);

// Cents of the row `key` of a usage report (-1 when absent).
int64_t RowCents(const Reply& report, const std::string& key);

}  // namespace fastgpu::metering_test

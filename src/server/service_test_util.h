// Helpers of the services' tests (service_api_test.cpp, service_pass_test.cpp): a control
// plane with a tenant and a simulated agent, service calls through the API, and replica
// reports from the agent.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "server/reconciler_test_util.h"
#include "server/server_test_util.h"

namespace fastgpu::server::testing {

class ServiceFixture : public ::testing::Test {
 public:
  void SetUp() override {
    token_ = cp_.NewTenantToken("team-a");
    agent_ = std::make_unique<SimAgent>(cp_, "node-a", 4);
  }

  // {"name": name, "command": ["sleep","3600"], quarter GPU} plus `extra` fields (JSON
  // members, "" for none).
  static std::string Body(const std::string& name, const std::string& extra = "") {
    return R"({"name":")" + name +
           R"(","command":["sleep","3600"],"shape":{"gpu_count":1,"gpu_milli":250})" +
           (extra.empty() ? "" : "," + extra) + "}";
  }
  Reply Create(const std::string& body) { return cp_.Do("POST", "/v1/services", token_, body); }
  Reply Get(const std::string& name) { return cp_.Do("GET", "/v1/services/" + name, token_); }
  Reply Scale(const std::string& name, int n) {
    return cp_.Do("POST", "/v1/services/" + name + "/scale", token_,
                  R"({"replicas":)" + std::to_string(n) + "}");
  }
  // The live replica jobs of the service, oldest first.
  std::vector<std::string> Replicas(const std::string& name) {
    Reply r = Get(name);
    EXPECT_EQ(r.status, 200) << r.raw;
    std::vector<std::string> out;
    if (r.status != 200) return out;
    for (const json::value& id : r.body.at("replica_jobs").as_array()) {
      out.emplace_back(id.as_string());
    }
    return out;
  }
  std::string State(const std::string& name) { return Get(name).Str("state"); }
  std::string Reason(const std::string& name) { return Get(name).Str("reason"); }
  // The job's field, read as the admin.
  std::string JobField(const std::string& job, const std::string& key) {
    return cp_.Do("GET", "/v1/jobs/" + job, cp_.admin()).Str(key);
  }
  // The job's latest allocation ("" when it has none).
  std::string AllocOf(const std::string& job) {
    Reply r = cp_.Do("GET", "/v1/jobs/" + job, cp_.admin());
    const json::array& allocs = r.body.at("allocations").as_array();
    if (allocs.empty()) return "";
    return std::string(allocs.back().at("allocation_id").as_string());
  }
  // The agent reports the job's replica in `state` (with `exit_code` for exited). A running
  // replica is reported ready on an endpoint of its own, as an agent whose readiness probe
  // passed does, in this and every later heartbeat until it is reported otherwise.
  void Report(const std::string& job, const std::string& state, int exit_code = 0) {
    const std::string alloc = AllocOf(job);
    ASSERT_FALSE(alloc.empty()) << job << " has no allocation";
    json::object report = ReplicaReportJson(alloc, state, exit_code);
    running_.erase(alloc);
    if (state == "running") {
      report["ready"] = true;
      report["endpoint"] = "127.0.0.1:" + std::to_string(40000 + running_.size());
      running_[alloc] = report;
    }
    json::array replicas = RunningReports();
    if (state != "running") replicas.push_back(report);
    Reply hb = agent_->Heartbeat(replicas);
    ASSERT_EQ(hb.status, 200) << hb.raw;
  }
  // What the agent reports about the replicas it runs, in each heartbeat.
  json::array RunningReports() const {
    json::array out;
    for (const auto& [alloc, report] : running_) out.push_back(report);
    return out;
  }
  // Moves the clock by `seconds`, the agent heartbeating every 5 s (its lease holds).
  void Advance(int seconds) {
    for (int left = seconds; left > 0; left -= 5) {
      cp_.clock().Advance(std::chrono::seconds(std::min(left, 5)));
      ASSERT_EQ(agent_->Heartbeat(RunningReports()).status, 200);
    }
  }
  // Every replica of the service placed and reported running.
  void RunAll(const std::string& name) {
    cp_.Reconcile();
    for (const std::string& job : Replicas(name)) {
      if (JobField(job, "state") == "scheduled") Report(job, "running");
    }
    cp_.Reconcile();
  }

  TestControlPlane cp_;
  std::string token_;
  std::unique_ptr<SimAgent> agent_;
  std::map<std::string, json::object> running_;  // allocation -> its last running report
};

}  // namespace fastgpu::server::testing

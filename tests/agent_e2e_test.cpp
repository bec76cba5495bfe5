// End to end: `fastgpu server` and two `fastgpu agent` processes with simulated GPUs.
// A fractional job runs to success with its log shipped; a whole-GPU job whose GPU gets
// an injected XID 79 is requeued onto the other node and finishes there.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/testing/fake_control_plane.h"
#include "common/testing/temp_dir.h"
#include "net/http_client.h"
#include "tests/fastgpu_child.h"

namespace fastgpu {
namespace {

namespace json = boost::json;
using testing::FakeControlPlane;

using testing::ChildProcess;

// The binary with `args`, its output appended to `log_path` (tests/fastgpu_child.h).
std::unique_ptr<ChildProcess> Start(std::vector<std::string> args, const std::string& log_path) {
  auto child = std::make_unique<ChildProcess>(testing::StartFastgpu(std::move(args), log_path));
  EXPECT_TRUE(child->ok());
  return child;
}

std::string Read(const std::string& path) {
  std::string s = testing::ReadFile(path);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class AgentEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string cp = dir_.path() + "/cp";
    server_ = Start(std::vector<std::string>{"server", "--listen", "127.0.0.1:0", "--data-dir", cp,
                                             "--heartbeat-interval", "0.1", "--node-timeout", "5"},
                    dir_.path() + "/server.log");
    std::string url;
    bool not_built = false;
    ASSERT_TRUE(FakeControlPlane::WaitFor([&] {
      std::string log = Read(dir_.path() + "/server.log");
      not_built = log.find("not built yet") != std::string::npos;
      size_t at = log.find("listening on ");
      if (at == std::string::npos) return not_built;
      url = log.substr(at + 13, log.find('\n', at) - at - 13);
      return true;
    })) << Read(dir_.path() + "/server.log");
    if (not_built) GTEST_SKIP() << "fastgpu server is not built in this tree";
    admin_ = Read(cp + "/admin.token");
    join_ = Read(cp + "/join.token");
    net::HttpClientOptions o;
    o.bearer_token = admin_;
    auto client = net::HttpClient::Create(url, o);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(client).value();
    for (const char* name : {"node-a", "node-b"}) {
      std::string d = dir_.path() + "/" + name;
      agents_.push_back(Start(
          std::vector<std::string>{"agent", "--server", url, "--join-token", join_, "--data-dir", d,
                                   "--simulate-gpus", "1xH100-80GB", "--name", name,
                                   "--cgroup-root", "", "--fault-file", d + ".faults",
                                   "--stop-grace", "1", "--kill-workloads-on-exit",
                                   "--no-sandbox"},  // jobs read files of the test's temp dir
          dir_.path() + "/" + name + ".log"));
    }
    ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return NodeCount() == 2; }));
  }

  json::object Get(const std::string& path) {
    auto res = client_->Get(path);
    if (!res.ok() || !res->ok()) return {};
    return json::parse(res->body).as_object();
  }
  std::string Submit(const std::string& body) {
    auto res = client_->Post("/v1/jobs", body);
    EXPECT_TRUE(res.ok()) << res.status();
    EXPECT_TRUE(res->ok()) << res->status << " " << res->body;
    return std::string(json::parse(res->body).at("id").as_string());
  }
  std::string JobState(const std::string& id) {
    json::object job = Get("/v1/jobs/" + id);
    return job.contains("state") ? std::string(job["state"].as_string()) : "";
  }
  // Node id of the job's newest live allocation, "" if none.
  std::string JobNode(const std::string& id) {
    json::object job = Get("/v1/jobs/" + id);
    if (!job.contains("allocations")) return "";
    auto& allocs = job["allocations"].as_array();
    return allocs.empty() ? "" : std::string(allocs.back().at("node_id").as_string());
  }
  size_t NodeCount() {
    json::object nodes = Get("/v1/nodes");
    return nodes.contains("nodes") ? nodes["nodes"].as_array().size() : 0;
  }
  std::string NodeName(const std::string& node_id) {
    json::object nodes = Get("/v1/nodes");
    for (auto& n : nodes["nodes"].as_array()) {
      if (n.at("id").as_string() == node_id) return std::string(n.at("name").as_string());
    }
    return "";
  }

  testing::TempDir dir_;
  std::unique_ptr<ChildProcess> server_;
  std::vector<std::unique_ptr<ChildProcess>> agents_;
  std::unique_ptr<net::HttpClient> client_;
  std::string admin_, join_;
};

TEST_F(AgentEndToEndTest, FractionalJobSucceedsWithItsLog) {
  std::string id = Submit(R"({"command":["sh","-c","echo hello $CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"],
      "shape":{"gpu_count":1,"gpu_milli":500,"gpu_memory_mib":20480}})");
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return JobState(id) == "succeeded"; }))
      << JobState(id) << "\n"
      << Read(dir_.path() + "/node-a.log");
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] {
    json::object logs = Get("/v1/jobs/" + id + "/logs?replica=0");
    return logs.contains("data") && logs["data"].as_string() == "hello 50\n";
  }));
}

TEST_F(AgentEndToEndTest, XidOnTheJobsGpuRequeuesItOnTheOtherNode) {
  std::string release = dir_.path() + "/release";
  std::string id = Submit(R"({"command":["sh","-c","while [ ! -f )" + release +
                          R"( ]; do sleep 0.05; done"],"shape":{"gpu_count":1},"max_retries":2})");
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return JobState(id) == "running"; })) << JobState(id);
  std::string first = JobNode(id);
  std::string sick = NodeName(first);
  ASSERT_FALSE(sick.empty());
  std::ofstream(dir_.path() + "/" + sick + ".faults", std::ios::app) << "xid 0 79\n";
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] {
    std::string node = JobNode(id);
    return !node.empty() && node != first && JobState(id) == "running";
  })) << JobState(id);
  std::ofstream(release) << "go";
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return JobState(id) == "succeeded"; }))
      << JobState(id);
  bool unhealthy_seen = false;
  json::object nodes = Get("/v1/nodes");
  for (auto& n : nodes["nodes"].as_array()) {
    if (n.at("id").as_string() != first) continue;
    for (auto& g : n.at("gpus").as_array()) {
      unhealthy_seen = !g.at("healthy").as_bool() &&
                       g.at("health_reason").as_string() == "XID 79 (fell off the bus)";
    }
  }
  EXPECT_TRUE(unhealthy_seen);
}

}  // namespace
}  // namespace fastgpu

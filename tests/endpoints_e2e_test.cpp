// Replica endpoints end to end under `fastgpu up --simulate-gpus 1xH100-80GB`: a job
// submitted with `--port --ready-http /` that serves HTTP on $PORT (python3's
// http.server, bound to 127.0.0.1) shows its endpoint and ready: true in `job get -o
// json`, and its page is fetched through that endpoint; a job that writes 70 to
// $FASTGPU_SIMULATED_GPU_UTIL_FILE shows utilization_pct 70 on its GPU in `node list -o
// json`, `node get` and /metrics. Skips without /usr/bin/python3.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/testing/temp_dir.h"
#include "net/http_client.h"
#include "tests/json_output.h"
#include "tests/test_util.h"
#include "tests/up_process.h"

namespace fastgpu::testing {
namespace {

namespace json = boost::json;

class EndpointsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The system's python3: workloads run as sandbox users, who cannot enter /root (where
    // a pyenv's python3 may come first in PATH).
    if (std::system("/usr/bin/python3 -c 'import http.server' >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "/usr/bin/python3 is not installed";
    }
    up_ = std::make_unique<UpProcess>(
        std::vector<std::string>{"--log-level", "info", "up", "--data-dir", dir_.path(),
                                 "--simulate-gpus", "1xH100-80GB"},
        dir_.path() + "/up.log");
    ASSERT_TRUE(up_->ok()) << up_->output();
    std::string token = ReadFile(dir_.path() + "/admin.token");
    token = token.substr(0, token.find('\n'));
    flags_ = " --server " + up_->url() + " --token " + token;
  }

  void TearDown() override {
    if (up_ == nullptr) return;
    // Workloads outlive `fastgpu up` by design: stop ours first (the agent is told
    // within a heartbeat, 2 s); they also end by themselves after 120 s.
    for (const std::string& id : jobs_) RunFastgpu("job cancel " + id + flags_);
    std::this_thread::sleep_for(std::chrono::seconds(5));
    up_->Stop(SIGTERM);
  }

  std::string Submit(const std::string& args, const std::string& command) {
    CommandResult r = RunFastgpu("job submit -o json " + args + flags_ + " -- " + command);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    json::value v = JsonOutput(r);
    std::string id = v.is_object() ? std::string(v.at("id").as_string()) : "";
    if (!id.empty()) jobs_.push_back(id);
    return id;
  }

  // Polls `args` (a command printing JSON) every 100 ms for up to 60 s until `done`
  // accepts its output; the last output (null when it never parsed).
  json::value PollJson(const std::string& args,
                       const std::function<bool(const json::value&)>& done) {
    std::string last;
    for (int i = 0; i < 600; ++i) {
      CommandResult r = RunFastgpu(args + flags_);
      last = r.output;
      if (r.exit_code == 0) {
        boost::system::error_code ec;
        json::value v = json::parse(r.output, ec);
        if (!ec && done(v)) return v;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "`" << args << "` never got there: " << last << "\n" << up_->output();
    return nullptr;
  }

  TempDir dir_;
  std::unique_ptr<UpProcess> up_;
  std::string flags_;
  std::vector<std::string> jobs_;
};

TEST_F(EndpointsE2eTest, AReadyReplicaIsReachedThroughItsEndpoint) {
  const std::string id =
      Submit("--name web --gpu 0.25 --port --ready-http /",
             "sh -c 'exec timeout 120 /usr/bin/python3 -m http.server \"$PORT\" --bind 127.0.0.1'");
  ASSERT_FALSE(id.empty());
  json::value job = PollJson("job get -o json " + id, [](const json::value& v) {
    const json::array& allocs = v.at("allocations").as_array();
    return !allocs.empty() && allocs[0].at("ready").as_bool();
  });
  ASSERT_TRUE(job.is_object());
  EXPECT_EQ(job.at("port"), json::value(true));
  EXPECT_EQ(json::serialize(job.at("readiness")), R"({"http":"/"})");
  const json::object& alloc = job.at("allocations").as_array()[0].as_object();
  const std::string endpoint(alloc.at("endpoint").as_string());
  ASSERT_EQ(endpoint.rfind("127.0.0.1:", 0), 0u) << endpoint;
  EXPECT_EQ(alloc.at("state").as_string(), "running");

  net::HttpClientOptions o;
  o.connect_timeout = std::chrono::seconds(5);
  o.read_timeout = std::chrono::seconds(5);
  auto client = net::HttpClient::Create("http://" + endpoint, o);
  ASSERT_TRUE(client.ok()) << client.status();
  auto page = (*client)->Get("/");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("Directory listing"), std::string::npos) << page->body;

  // The table view names the endpoint too.
  CommandResult table = RunFastgpu("job get " + id + flags_);
  EXPECT_NE(table.output.find(endpoint), std::string::npos) << table.output;
  // A probe without a port is refused, naming the flag.
  CommandResult bad = RunFastgpu("job submit --ready-tcp" + flags_ + " -- true");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--ready-tcp: a readiness probe needs --port"), std::string::npos)
      << bad.output;
}

TEST_F(EndpointsE2eTest, ASimulatedGpuShowsTheLoadItsReplicaWrote) {
  const std::string id =
      Submit("--name load --gpu 0.5",
             "sh -c 'echo 70 > \"$FASTGPU_SIMULATED_GPU_UTIL_FILE\"; exec sleep 120'");
  ASSERT_FALSE(id.empty());
  json::value nodes = PollJson("node list -o json", [](const json::value& v) {
    const json::array& list = v.at("nodes").as_array();
    if (list.empty()) return false;
    const json::object& gpu = list[0].at("gpus").as_array()[0].as_object();
    const json::value* pct = gpu.if_contains("utilization_pct");
    return pct != nullptr && *pct == json::value(70);
  });
  ASSERT_TRUE(nodes.is_object());
  const std::string node_id(nodes.at("nodes").as_array()[0].at("id").as_string());
  CommandResult got = RunFastgpu("node get -o json " + node_id + flags_);
  ASSERT_EQ(got.exit_code, 0) << got.output;
  json::value node = JsonOutput(got);
  ASSERT_TRUE(node.is_object());
  EXPECT_EQ(node.at("gpus").at(0).at("utilization_pct"), json::value(70)) << got.output;
  CommandResult table = RunFastgpu("node get " + node_id + flags_);
  EXPECT_NE(table.output.find("70%"), std::string::npos) << table.output;

  auto client = net::HttpClient::Create(up_->url());
  ASSERT_TRUE(client.ok()) << client.status();
  auto metrics = (*client)->Get("/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_NE(metrics->body.find("fastgpu_gpu_utilization_percent{node=\"" + node_id +
                               "\",gpu=\"0\"} 70\n"),
            std::string::npos)
      << metrics->body;
}

}  // namespace
}  // namespace fastgpu::testing

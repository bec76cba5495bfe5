// The control plane with a batch placer, end to end: the real `fastgpu server --placer
// ilp-batch` with a real agent on simulated GPUs; jobs submitted through the CLI, a gang
// among them, are placed window by window and run to success. An unknown placer name is
// refused at start-up with every name the control plane takes.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/fastgpu_child.h"
#include "tests/json_output.h"
#include "tests/server_process.h"
#include "tests/test_util.h"

namespace fastgpu::testing {
namespace {

namespace json = boost::json;

std::string Field(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
}

// `fastgpu job get -o json`, polled every 100 ms (at most 30 s) until the job's state is
// `want` or terminal; the last answer.
json::object WaitForState(const std::string& flags, const std::string& id,
                          const std::string& want) {
  json::object last;
  for (int i = 0; i < 300; ++i) {
    CommandResult r = RunFastgpu("job get " + id + " -o json " + flags);
    if (r.exit_code == 0) {
      last = JsonOutput(r).as_object();
      const std::string state = Field(last, "state");
      if (state == want || state == "failed" || state == "succeeded" || state == "cancelled") {
        return last;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return last;
}

TEST(BatchPlacerE2eTest, ServerWithIlpBatchRunsJobsAndGangsToSuccess) {
  TempDir dir;
  ServerProcess server({"server", "--data-dir", dir.path() + "/cp", "--placer", "ilp-batch",
                        "--batch-size", "2", "--batch-time-limit", "0.5", "--heartbeat-interval",
                        "0.2"});
  ASSERT_TRUE(server.ok()) << server.output();
  EXPECT_NE(
      server.output().find("placer: ilp-batch (batch: windows of 2 pending jobs, 0.5 s each)"),
      std::string::npos)
      << server.output();
  ChildProcess agent =
      StartFastgpu({"agent", "--server", server.url(), "--join-token",
                    ReadFirstLine(dir.path() + "/cp/join.token"), "--simulate-gpus", "2xH100-80GB",
                    "--data-dir", dir.path() + "/agent", "--cgroup-root", "", "--name", "sim-1"},
                   dir.path() + "/agent.log");
  const std::string flags =
      "--server " + server.url() + " --token " + ReadFirstLine(dir.path() + "/cp/admin.token");
  bool registered = false;
  for (int i = 0; i < 200 && !registered; ++i) {
    CommandResult nodes = RunFastgpu("node list -o json " + flags);
    if (nodes.exit_code == 0) registered = !JsonOutput(nodes).at("nodes").as_array().empty();
    if (!registered) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(registered) << ReadFile(dir.path() + "/agent.log");

  // Five jobs on two GPUs, a gang of two among them: three windows of at most two jobs,
  // and the later ones wait for the earlier ones to end.
  std::vector<std::string> submits = {
      "--gpu 0.5 -- sh -c 'sleep 0.3'", "--gpu 0.5 -- sh -c 'sleep 0.3'",
      "--gpu 1 --replicas 2 -- sh -c 'sleep 0.3'", "--gpu 1 -- true", "--cpu 1 -- true"};
  std::vector<std::string> ids;
  for (const std::string& s : submits) {
    CommandResult sub = RunFastgpu("job submit -o json " + flags + " " + s);
    ASSERT_EQ(sub.exit_code, 0) << sub.output;
    ids.emplace_back(JsonOutput(sub).at("id").as_string());
  }
  for (size_t j = 0; j < ids.size(); ++j) {
    json::object job = WaitForState(flags, ids[j], "succeeded");
    EXPECT_EQ(Field(job, "state"), "succeeded") << submits[j] << ": " << json::serialize(job);
    const json::value* allocs = job.if_contains("allocations");
    ASSERT_NE(allocs, nullptr) << json::serialize(job);
    EXPECT_EQ(allocs->as_array().size(), j == 2 ? 2u : 1u) << json::serialize(job);
  }
  agent.Stop({SIGTERM});
  EXPECT_EQ(server.Signal(SIGTERM), 0) << server.output();
}

TEST(BatchPlacerE2eTest, UnknownPlacerIsAStartUpErrorListingEveryName) {
  TempDir dir;
  CommandResult r = RunFastgpu("server --listen 127.0.0.1:0 --data-dir " + dir.path() +
                               "/cp --placer no-such-placer");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("unknown placer 'no-such-placer' (online policies: first-fit, "
                          "best-fit, dot-product, gpu-packing, gpu-clustering, fgd, random, "
                          "fastgpu; batch placers: ilp-batch)"),
            std::string::npos)
      << r.output;
  CommandResult up = RunFastgpu("up --listen 127.0.0.1:0 --data-dir " + dir.path() +
                                "/up --simulate-gpus 1xH100-80GB --placer no-such-placer");
  EXPECT_EQ(up.exit_code, 2) << up.output;
  EXPECT_NE(up.output.find("batch placers: ilp-batch"), std::string::npos) << up.output;
  EXPECT_NE(RunFastgpu("server --help").output.find("--batch-time-limit"), std::string::npos);
}

}  // namespace
}  // namespace fastgpu::testing

// A control-plane outage longer than the node lease: `fastgpu server` is killed for twice
// the lease while an agent (`fastgpu agent --simulate-gpus`) runs a long job, and a short
// job exits with code 7 meanwhile. Restarted on the same address and data dir, the
// control plane gives every node a full lease from its start: the long job keeps running
// (re-adopted, never started twice) and the short one is failed with its real exit code.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "tests/fault_process.h"
#include "tests/server_process.h"

namespace fastgpu::testing {
namespace {

constexpr int kLeaseSeconds = 2;

int Lines(const std::string& path) {
  std::string s = ReadText(path);
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

TEST(ControlPlaneOutageTest, AnOutageLongerThanTheLeaseKillsNoHealthyWork) {
  TempDir dir;
  const int port = FreeLoopbackPort();
  ASSERT_NE(port, 0);
  const std::string cp_dir = dir.path() + "/cp";
  const std::string server_log = dir.path() + "/server.log";
  const std::vector<std::string> server_args = {
      "server", "--listen",       "127.0.0.1:" + std::to_string(port), "--data-dir",
      cp_dir,   "--node-timeout", std::to_string(kLeaseSeconds),       "--heartbeat-interval",
      "0.2"};
  auto server = std::make_unique<ChildProcess>(StartFastgpu(server_args, server_log));
  ASSERT_TRUE(WaitUntil([&] { return !ListeningUrl(server_log).empty(); })) << ReadText(server_log);
  const std::string url = ListeningUrl(server_log);
  JsonClient api(url, ReadFirstLine(cp_dir + "/admin.token"));
  ChildProcess agent =
      StartFastgpu({"agent", "--server", url, "--join-token", ReadFirstLine(cp_dir + "/join.token"),
                    "--data-dir", dir.path() + "/agent", "--simulate-gpus", "2xH100-80GB", "--name",
                    "n1", "--cgroup-root", "", "--stop-grace", "1", "--kill-workloads-on-exit",
                    "--no-sandbox"},  // the jobs write and read files of the test's temp dir
                   dir.path() + "/agent.log");
  ASSERT_TRUE(WaitUntil([&] {
    auto r = api.Do("GET", "/v1/nodes");
    return r.status == 200 && !r.body.at("nodes").as_array().empty();
  })) << ReadText(dir.path() + "/agent.log");

  // Each job appends to its marker when it starts; retries would show as a second line.
  const std::string long_marker = dir.path() + "/long.runs", long_release = dir.path() + "/long.go";
  const std::string short_marker = dir.path() + "/short.runs",
                    short_release = dir.path() + "/short.go";
  auto submit = [&](const std::string& script) {
    boost::json::object body{{"command", boost::json::array{"sh", "-c", script}},
                             {"shape", boost::json::object{{"gpu_count", 1}}},
                             {"max_retries", 2}};
    auto r = api.Do("POST", "/v1/jobs", boost::json::serialize(body));
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.Str("id");
  };
  const std::string long_job = submit("echo run >> " + long_marker + "; while [ ! -f " +
                                      long_release + " ]; do sleep 0.05; done");
  const std::string short_job = submit("echo run >> " + short_marker + "; while [ ! -f " +
                                       short_release + " ]; do sleep 0.05; done; exit 7");
  auto state = [&](const std::string& id) { return api.Do("GET", "/v1/jobs/" + id).Str("state"); };
  ASSERT_TRUE(WaitUntil([&] {
    return state(long_job) == "running" && state(short_job) == "running";
  })) << state(long_job)
      << " " << state(short_job) << "\n"
      << ReadText(dir.path() + "/agent.log");

  // The outage: the control plane is gone for twice the lease; the short job exits 7.
  server->Stop({SIGKILL});
  std::ofstream(short_release) << "go";
  std::this_thread::sleep_for(std::chrono::seconds(2 * kLeaseSeconds) +
                              std::chrono::milliseconds(500));
  server = std::make_unique<ChildProcess>(StartFastgpu(server_args, server_log));
  ASSERT_TRUE(WaitUntil([&] { return ListeningUrl(server_log) == url; }, std::chrono::seconds(20)))
      << ReadText(server_log);
  ASSERT_TRUE(WaitUntil([&] { return state(short_job) == "failed"; })) << state(short_job);
  auto short_reply = api.Do("GET", "/v1/jobs/" + short_job);
  EXPECT_NE(short_reply.Str("reason").find("exited with code 7"), std::string::npos)
      << short_reply.raw;
  const auto& allocs = short_reply.body.at("allocations").as_array();
  ASSERT_EQ(allocs.size(), 1u) << short_reply.raw;
  EXPECT_EQ(allocs[0].at("exit_code").as_int64(), 7) << short_reply.raw;

  // Three leases after the restart the long job still runs where it ran, once.
  for (int i = 0; i < 3 * kLeaseSeconds * 4; ++i) {
    ASSERT_EQ(state(long_job), "running") << api.Do("GET", "/v1/jobs/" + long_job).raw;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  auto nodes = api.Do("GET", "/v1/nodes");
  EXPECT_EQ(nodes.body.at("nodes").as_array()[0].at("state").as_string(), "ready") << nodes.raw;
  std::ofstream(long_release) << "go";
  EXPECT_TRUE(WaitUntil([&] { return state(long_job) == "succeeded"; })) << state(long_job);
  EXPECT_EQ(Lines(long_marker), 1) << "the long job ran more than once";
  EXPECT_EQ(Lines(short_marker), 1) << "the short job ran more than once";
  auto long_reply = api.Do("GET", "/v1/jobs/" + long_job);
  EXPECT_EQ(long_reply.body.at("allocations").as_array().size(), 1u) << long_reply.raw;
}

}  // namespace
}  // namespace fastgpu::testing

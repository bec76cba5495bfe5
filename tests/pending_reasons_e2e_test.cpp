// What a user sees through the CLI against `fastgpu up`: a job no node could ever hold is
// refused with the reason, a job waiting for a drained node says so in `fastgpu job get`,
// and a cancelled replica's EXIT reads "signal 15", not 0.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <chrono>
#include <thread>

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

TEST(PendingReasonsE2eTest, UserSeesTheRealObstacleAndTheSignal) {
  TempDir dir;
  ServerProcess up({"up", "--data-dir", dir.path(), "--simulate-gpus", "2xH100-80GB",
                    "--heartbeat-interval", "0.2"});
  ASSERT_TRUE(up.ok()) << up.output();
  const std::string flags =
      "--server " + up.url() + " --token " + ReadFirstLine(dir.path() + "/admin.token");
  // The local agent registers a moment after the start.
  std::string node;
  for (int i = 0; i < 100 && node.empty(); ++i) {
    CommandResult nodes = RunFastgpu("node list -o json " + flags);
    if (nodes.exit_code == 0) {
      const json::value list = JsonOutput(nodes);
      for (const auto& n : list.at("nodes").as_array()) {
        node = std::string(n.at("id").as_string());
      }
    }
    if (node.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(node.empty());

  // Never fits: refused, saying why.
  CommandResult gang = RunFastgpu("job submit --gpu 1 --replicas 5 " + flags + " -- sleep 1");
  EXPECT_NE(gang.exit_code, 0);
  EXPECT_NE(gang.output.find("never fits in this pool as it is: the gang needs 5 GPUs at once; "
                             "the whole pool has 2"),
            std::string::npos)
      << gang.output;
  CommandResult memory =
      RunFastgpu("job submit --gpu 0.5 --gpu-memory 200GiB " + flags + " -- sleep 1");
  EXPECT_NE(memory.exit_code, 0);
  EXPECT_NE(memory.output.find("asks 200GiB of GPU memory per GPU; the largest GPU has"),
            std::string::npos)
      << memory.output;
  CommandResult mig = RunFastgpu("job submit --gpu 0.5 --isolation mig " + flags + " -- sleep 1");
  EXPECT_NE(mig.exit_code, 0);
  EXPECT_NE(mig.output.find("asks for MIG isolation; no GPU is in MIG mode"), std::string::npos)
      << mig.output;

  // Waits for a drained node: `job get` says which.
  ASSERT_EQ(RunFastgpu("node drain " + node + " " + flags).exit_code, 0);
  CommandResult sub = RunFastgpu("job submit -o json --gpu 1 " + flags + " -- sleep 60");
  ASSERT_EQ(sub.exit_code, 0) << sub.output;
  const std::string id(JsonOutput(sub).at("id").as_string());
  const std::string drained = "waiting for unavailable capacity: node " + node + " is drained";
  WaitForJob(flags, id, [&](const json::object& j) { return Field(j, "reason") == drained; });
  CommandResult get = RunFastgpu("job get " + id + " " + flags);
  EXPECT_NE(get.output.find("reason:    " + drained), std::string::npos) << get.output;

  // Back in service: it runs; cancelled, its replica is stopped by SIGTERM and says so.
  ASSERT_EQ(RunFastgpu("node drain --undo " + node + " " + flags).exit_code, 0);
  WaitForJob(flags, id, [](const json::object& j) { return Field(j, "state") == "running"; });
  ASSERT_EQ(RunFastgpu("job cancel " + id + " " + flags).exit_code, 0);
  json::value done = WaitForJob(flags, id, [](const json::object& j) {
    const auto& allocs = j.at("allocations").as_array();
    return !allocs.empty() && Field(allocs[0].as_object(), "ended") == "signal 15";
  });
  const auto& alloc = done.at("allocations").as_array()[0].as_object();
  EXPECT_EQ(alloc.at("signal").as_int64(), 15);
  EXPECT_EQ(Field(alloc, "state"), "released");
  get = RunFastgpu("job get " + id + " " + flags);
  EXPECT_NE(get.output.find("released  0:1000m/exclusive  -         signal 15"), std::string::npos)
      << get.output;
  EXPECT_NE(get.output.find("ended after it was stopped by the control plane (job cancelled): "
                            "killed by signal 15 (Terminated)"),
            std::string::npos)
      << get.output;
  std::printf("%s\n%s\n%s\n%s\n", gang.output.c_str(), memory.output.c_str(), mig.output.c_str(),
              get.output.c_str());
  EXPECT_EQ(up.Signal(SIGTERM), 0) << up.output();
}

}  // namespace
}  // namespace fastgpu::testing

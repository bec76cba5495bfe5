// The trace replayed through the real control plane against the simulator: a `fastgpu
// server` on loopback gets a subset of the Alibaba trace's nodes, registered and kept
// heartbeating by `fastgpu_replay` through the agent protocol, and the seed-0 drawn arrival
// order of a subset of the default pod list, one job at a time; `fastgpu sim` replays the
// same nodes, pods, seed and max arrival with the same policy, in the same mode (the engine
// learning the workload from the arrivals). With each job placed alone by the control
// plane's long-lived engine, its allocated share of GPU capacity after the last arrival
// must equal the simulator's within 0.05 points, with as many arrivals left unplaced.
// Both figures are printed and recorded. (They agree exactly: the engine's node order is
// the order of registration in both, so ties break alike.)
//
// The subsets keep the run short: every arrival waits for a pass of the reconciler, and
// every pod of the list arrives at least once in a drawn order, so the pod list is thinned
// with the nodes to keep its demand near the cluster's capacity.
// Skips when the trace is absent (label `trace`).
#include <gtest/gtest.h>

#include <array>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/testing/child_process.h"
#include "common/testing/temp_dir.h"
#include "tests/server_process.h"

namespace fastgpu::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// One trace line in kStride is kept (the header always): 203 of the 1,213 nodes and
// 1,359 of the 8,152 pods of the default list (about 1,400 arrivals, each waiting for a
// pass; 1,510 pods of multigpu50).
constexpr int kStride = 6;

const std::string kTraceDir = FASTGPU_TRACE_DIR;
const std::string kNodeList = kTraceDir + "/openb_node_list_gpu_node.csv";

// Writes the header and every kStride-th data line of `from` to `to`; the lines kept.
int WriteSubset(const std::string& from, const std::string& to) {
  std::ifstream in(from);
  std::ofstream out(to);
  std::string line;
  int kept = 0;
  for (int n = 0; std::getline(in, line); ++n) {
    if (n == 0) {
      out << line << "\n";
    } else if ((n - 1) % kStride == 0) {
      out << line << "\n";
      ++kept;
    }
  }
  return kept;
}

// Runs `command` through the shell, its stderr appended to `log`.
ShellRun RunCommand(const std::string& command, const std::string& log) {
  return RunShell(command, log);
}

json::value Parse(const ShellRun& run, const std::string& log) {
  boost::system::error_code ec;
  json::value v = json::parse(run.out, ec);
  EXPECT_FALSE(ec) << run.out << "\n" << ReadFile(log);
  return ec ? json::value() : v;
}

// The pod list, by its name in the trace (openb_pod_list_<name>.csv).
class ReplayTraceTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ReplayTraceTest, ControlPlaneOneAtATimeAllocatesAsTheSimulator) {
  const std::string pod_list = kTraceDir + "/openb_pod_list_" + GetParam() + ".csv";
  if (!fs::exists(kNodeList) || !fs::exists(pod_list)) {
    GTEST_SKIP() << "trace not found in " << kTraceDir;
  }
  TempDir dir;
  const std::string nodes = dir.path() + "/nodes.csv", pods = dir.path() + "/pods.csv";
  const std::string log = dir.path() + "/replay.log";
  ASSERT_GT(WriteSubset(kNodeList, nodes), 200);
  ASSERT_GT(WriteSubset(pod_list, pods), 1000);
  fs::create_directories(dir.path() + "/data");

  ServerProcess server({"server", "--data-dir", dir.path() + "/data", "--policy", "fastgpu"});
  ASSERT_TRUE(server.ok()) << server.output();
  const ShellRun replay =
      RunCommand(std::string(FASTGPU_REPLAY_BINARY) + " --server " + server.url() + " --data-dir " +
                     dir.path() + "/data --nodes " + nodes + " --pods " + pods +
                     " --order drawn --seed 0 --max-arrival 1.0"
                     " --submit one-at-a-time --timeout 240 --json",
                 log);
  ASSERT_EQ(replay.exit_code, 0) << replay.out << "\n" << ReadFile(log);
  const json::value cp = Parse(replay, log);
  ASSERT_TRUE(cp.is_object());

  const ShellRun sim =
      RunCommand(std::string(FASTGPU_BINARY) + " sim --nodes " + nodes + " --pods " + pods +
                     " --policies fastgpu --seeds 1 --seed-base 0 --max-arrival 1.0"
                     " --arrivals drawn -o json",
                 log);
  ASSERT_EQ(sim.exit_code, 0) << sim.out << "\n" << ReadFile(log);
  const json::value sv = Parse(sim, log);
  ASSERT_TRUE(sv.is_object());
  const json::value& fastgpu = sv.at("policies").at("fastgpu");

  // The same cluster and the same arrivals on both sides, every one decided.
  EXPECT_EQ(cp.at("capacity_gpus").to_number<int64_t>(), sv.at("capacity_gpus").as_int64());
  EXPECT_EQ(cp.at("nodes").to_number<int64_t>(), sv.at("nodes").as_int64());
  EXPECT_EQ(cp.at("arrivals").to_number<double>(), fastgpu.at("arrivals").to_number<double>());
  // No node went silent long enough to be marked lost (that would fail its jobs).
  EXPECT_EQ(cp.at("nodes_lost").to_number<int64_t>(), 0);
  EXPECT_EQ(cp.at("failed").to_number<int64_t>(), 0);
  EXPECT_LT(cp.at("max_heartbeat_gap_s").to_number<double>(), 15);
  EXPECT_EQ(cp.at("undecided").to_number<int64_t>(), 0);
  EXPECT_FALSE(cp.at("timed_out").as_bool());

  const double cp_share = cp.at("allocated_share").to_number<double>();
  const double sim_share = fastgpu.at("alloc_share_final").to_number<double>();
  const double cp_failed =
      cp.at("refused").to_number<double>() + cp.at("pending").to_number<double>();
  std::cout << GetParam() << ": control plane: allocated share " << cp_share << ", " << cp_failed
            << " arrivals not placed; simulator: " << sim_share << ", "
            << fastgpu.at("failures").to_number<double>() << " failures; "
            << cp.at("arrivals").to_number<double>() << " arrivals, "
            << cp.at("seconds").to_number<double>() << " s\n";
  RecordProperty("control_plane_share", std::to_string(cp_share));
  RecordProperty("simulator_share", std::to_string(sim_share));
  EXPECT_NEAR(cp_share, sim_share, 0.0005)
      << "the control plane placed the same arrivals otherwise than the simulator's engine";
  EXPECT_EQ(cp_failed, fastgpu.at("failures").to_number<double>());
}

// The default list and the two that differ most from it: more GPU sharing, more gangs.
INSTANTIATE_TEST_SUITE_P(PodLists, ReplayTraceTest,
                         ::testing::Values("default", "gpushare80", "multigpu50"));

}  // namespace
}  // namespace fastgpu::testing

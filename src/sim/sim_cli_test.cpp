// Runs the built `fastgpu sim` on a small input and reads its JSON.
#include <gtest/gtest.h>

#include <array>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/testing/child_process.h"
#include "common/testing/temp_dir.h"

namespace {

namespace fs = std::filesystem;

using fastgpu::testing::ShellRun;

// Runs a command, its stderr with its stdout.
ShellRun RunCommand(const std::string& command) { return fastgpu::testing::RunShell(command); }

class SimCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(FASTGPU_BINARY)) GTEST_SKIP() << "fastgpu binary not built";
    dir_ = tmp_.path();
    std::ofstream(dir_ / "nodes.csv") << "sn,cpu_milli,memory_mib,gpu,model\n"
                                         "n0,32000,131072,4,G2\nn1,16000,65536,2,T4\n";
    std::ofstream pods(dir_ / "pods.csv");
    pods << "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\n";
    for (int i = 0; i < 12; ++i) {
      pods << "p" << i << "," << 2000 << ",4096," << (i % 3 == 0 ? 2 : 1) << ","
           << (i % 3 == 0 ? 1000 : 250 + 50 * i) << "," << (i == 4 ? "T4" : "") << "\n";
    }
  }
  std::string Sim(const std::string& args) {
    return std::string(FASTGPU_BINARY) + " sim --nodes " + (dir_ / "nodes.csv").string() +
           " --pods " + (dir_ / "pods.csv").string() + " " + args;
  }
  fastgpu::testing::TempDir tmp_;
  fs::path dir_;
};

TEST_F(SimCliTest, PrintsOneJsonObject) {
  ShellRun run = RunCommand(Sim("--policies fgd,best-fit,fastgpu --seeds 3 -o json"));
  ASSERT_EQ(run.exit_code, 0) << run.out;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(run.out, ec);
  ASSERT_FALSE(ec) << run.out;
  const boost::json::object& root = v.as_object();
  EXPECT_EQ(root.at("seeds").as_int64(), 3);
  EXPECT_EQ(root.at("capacity_gpus").as_int64(), 6);
  const boost::json::object& policies = root.at("policies").as_object();
  ASSERT_EQ(policies.size(), 3u);
  for (const char* name : {"fgd", "best-fit", "fastgpu"}) {
    const boost::json::object& p = policies.at(name).as_object();
    double at100 = p.at("alloc_share_at_100").to_number<double>();
    EXPECT_GE(at100, 0);
    EXPECT_LE(at100, 1);
    EXPECT_GT(p.at("placements_per_second").to_number<double>(), 0);
    EXPECT_TRUE(p.contains("first_failure_arrival"));
    EXPECT_TRUE(p.contains("frag_share_at_100"));
    EXPECT_TRUE(p.contains("alloc_share_final"));
    const boost::json::object& curve = p.at("curve").as_object();
    EXPECT_EQ(curve.at("arrived").as_array().size(), curve.at("allocated").as_array().size());
    EXPECT_FALSE(curve.at("unallocated").as_array().empty());
  }
}

TEST_F(SimCliTest, TableAndClearErrors) {
  ShellRun table = RunCommand(Sim("--policies random --seeds 1"));
  ASSERT_EQ(table.exit_code, 0) << table.out;
  EXPECT_NE(table.out.find("ALLOC@100"), std::string::npos);
  EXPECT_NE(table.out.find("random"), std::string::npos);

  ShellRun unknown = RunCommand(Sim("--policies nope"));
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.out.find("unknown policy 'nope'"), std::string::npos) << unknown.out;

  std::ofstream(dir_ / "pods.csv", std::ios::app) << "bad,x,1,1,100,\n";
  ShellRun bad = RunCommand(Sim("--seeds 1"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.out.find("pods.csv:14: cpu_milli 'x' is not an integer"), std::string::npos)
      << bad.out;

  ShellRun missing = RunCommand(std::string(FASTGPU_BINARY) + " sim --pods x.csv");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.out.find("--nodes"), std::string::npos) << missing.out;
}

TEST_F(SimCliTest, HelpListsTheBatchPlacersAndTheBinaryRunsThem) {
  ShellRun help = RunCommand(std::string(FASTGPU_BINARY) + " sim --help");
  ASSERT_EQ(help.exit_code, 0) << help.out;
  EXPECT_NE(help.out.find("batch placers: ilp-batch"), std::string::npos) << help.out;

  ShellRun run = RunCommand(Sim("--policies ilp-batch --seeds 1 --batch-size 4 -o json"));
  ASSERT_EQ(run.exit_code, 0) << run.out;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(run.out, ec);
  ASSERT_FALSE(ec) << run.out;
  EXPECT_TRUE(v.as_object().at("policies").as_object().contains("ilp-batch")) << run.out;
}

TEST_F(SimCliTest, ArrivalsAsListedReplaysEachPodOnce) {
  ShellRun listed = RunCommand(Sim("--policies best-fit --seeds 2 --arrivals as-listed -o json"));
  ASSERT_EQ(listed.exit_code, 0) << listed.out;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(listed.out, ec);
  ASSERT_FALSE(ec) << listed.out;
  EXPECT_EQ(v.at("arrival_order").as_string(), "as-listed");
  EXPECT_EQ(v.at("policies").at("best-fit").at("arrivals").to_number<double>(), 12);

  ShellRun drawn = RunCommand(Sim("--policies best-fit --seeds 1 -o json"));
  ASSERT_EQ(drawn.exit_code, 0) << drawn.out;
  EXPECT_EQ(boost::json::parse(drawn.out).at("arrival_order").as_string(), "drawn");

  ShellRun bad = RunCommand(Sim("--arrivals shuffled"));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("--arrivals"), std::string::npos) << bad.out;

  ShellRun help = RunCommand(std::string(FASTGPU_BINARY) + " sim --help");
  EXPECT_NE(help.out.find("as-listed"), std::string::npos) << help.out;
}

TEST_F(SimCliTest, PlotsWithGnuplotOrSaysItIsMissing) {
  fs::path svg = dir_ / "curves.svg";
  ShellRun run = RunCommand(Sim("--policies fgd,fastgpu --seeds 1 --plot " + svg.string()));
  if (RunCommand("command -v gnuplot").exit_code != 0) {
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_NE(run.out.find("gnuplot"), std::string::npos);
    return;
  }
  ASSERT_EQ(run.exit_code, 0) << run.out;
  std::ifstream in(svg);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("<svg"), std::string::npos);
  EXPECT_NE(text.find("fastgpu"), std::string::npos);
}

TEST_F(SimCliTest, TimelineReportsTheElasticPoolAndPlotsIt) {
  std::ofstream(dir_ / "timed.csv") << "name,cpu_milli,memory_mib,num_gpu,gpu_milli,creation_time,"
                                       "deletion_time\n"
                                       "a,1000,1024,1,500,0,3600\nb,1000,1024,1,500,60,1800\n"
                                       "c,1000,1024,2,1000,100,7200\n";
  const std::string base = std::string(FASTGPU_BINARY) + " sim --timeline --nodes " +
                           (dir_ / "nodes.csv").string() + " --pods " +
                           (dir_ / "timed.csv").string();
  ShellRun run = RunCommand(base + " --policies best-fit,fastgpu,ilp-batch --seeds 2 -o json");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  // The batch placer is skipped with a note on stderr, before the JSON.
  EXPECT_NE(run.out.find("skipping the batch placer ilp-batch"), std::string::npos) << run.out;
  boost::json::value v = boost::json::parse(run.out.substr(run.out.find('{')));
  const boost::json::object& p = v.at("policies").at("best-fit").as_object();
  const double demand = (0.5 * 3600 + 0.5 * 1740 + 2.0 * 7100) / 3600;
  EXPECT_NEAR(p.at("demand_gpu_hours").to_number<double>(), demand, 1e-3);
  EXPECT_GE(p.at("provisioned_gpu_hours").to_number<double>(), demand);
  EXPECT_NEAR(p.at("static_gpu_hours").to_number<double>(), 6 * 2.0, 1e-3);
  EXPECT_EQ(p.at("pods_placed").as_int64(), 3);
  EXPECT_EQ(p.at("provisioned_over_demand_per_seed").as_array().size(), 2u);
  EXPECT_EQ(v.at("policies").as_object().size(), 2u);

  ShellRun table = RunCommand(base + " --policies fastgpu --seeds 1 --boot-delay 30");
  ASSERT_EQ(table.exit_code, 0) << table.out;
  EXPECT_NE(table.out.find("boot delay 30 s"), std::string::npos) << table.out;

  ShellRun bad = RunCommand(base + " --boot-delay -5");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("--boot-delay"), std::string::npos) << bad.out;
  ShellRun no_times = RunCommand(Sim("--timeline"));
  EXPECT_EQ(no_times.exit_code, 2) << no_times.out;
  EXPECT_NE(no_times.out.find("creation_time"), std::string::npos) << no_times.out;

  if (RunCommand("command -v gnuplot").exit_code != 0) return;
  fs::path svg = dir_ / "timeline.svg";
  ShellRun plot = RunCommand(base + " --policies fastgpu --seeds 1 --plot " + svg.string());
  ASSERT_EQ(plot.exit_code, 0) << plot.out;
  std::ifstream in(svg);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("provisioned"), std::string::npos);
}

}  // namespace

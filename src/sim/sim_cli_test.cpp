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

}  // namespace

#include "sim/trace.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace fastgpu::sim {
namespace {

TEST(TraceTest, ParsesNodeList) {
  Result<std::vector<TraceNode>> nodes = ParseNodeList(
      "sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,P100\nn1,96000,393216,0,\n", "n.csv");
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  ASSERT_EQ(nodes->size(), 2u);
  EXPECT_EQ((*nodes)[0].model, "P100");
  EXPECT_EQ((*nodes)[0].gpu_count, 2);
  EXPECT_EQ((*nodes)[1].cpu_milli, 96000);
  sched::Cluster c = BuildCluster(*nodes);
  EXPECT_EQ(c.TotalGpuMilli(), 2000);
}

TEST(TraceTest, ParsesPodListWithModelsAndColumnsInAnyOrder) {
  Result<std::vector<TracePod>> pods = ParsePodList(
      "num_gpu,name,gpu_milli,cpu_milli,memory_mib,gpu_spec,qos\n"
      "1,p0,460,6000,12288,,LS\n"
      "8,p1,1000,64000,262144,V100M16|V100M32,BE\n"
      "0,p2,0,2000,4096,,BE\r\n",
      "p.csv");
  ASSERT_TRUE(pods.ok()) << pods.status();
  ASSERT_EQ(pods->size(), 3u);
  EXPECT_TRUE((*pods)[0].shape.IsFractional());
  EXPECT_EQ((*pods)[1].shape.gpu_count, 8);
  EXPECT_EQ((*pods)[1].shape.gpu_models, (std::vector<std::string>{"V100M16", "V100M32"}));
  EXPECT_EQ((*pods)[2].shape.gpu_count, 0);
  EXPECT_EQ((*pods)[2].shape.memory_mib, 4096);
}

struct BadRow {
  const char* text;
  const char* expect;  // substring of the error
};

class BadPodRows : public ::testing::TestWithParam<BadRow> {};

TEST_P(BadPodRows, NameFileAndLine) {
  std::string text = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\np0,1000,10,1,500,\n";
  text += GetParam().text;
  Result<std::vector<TracePod>> pods = ParsePodList(text, "pods.csv");
  ASSERT_FALSE(pods.ok());
  EXPECT_EQ(pods.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(pods.status().message().find("pods.csv:3: "), std::string::npos)
      << pods.status().message();
  EXPECT_NE(pods.status().message().find(GetParam().expect), std::string::npos)
      << pods.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Rows, BadPodRows,
    ::testing::Values(BadRow{"p1,abc,10,1,500,\n", "cpu_milli 'abc' is not an integer"},
                      BadRow{"p1,1000,10,1,1500,\n", "gpu_milli 1500 is out of range"},
                      BadRow{"p1,1000,10,-1,500,\n", "num_gpu -1 is out of range"},
                      BadRow{"p1,1000,10,2,500,\n", "must be whole"},
                      BadRow{"p1,1000,10\n", "3 fields, the header has 6"},
                      BadRow{",1000,10,1,500,\n", "empty pod name"},
                      BadRow{"p1,1000,10,1,0,\n", "num_gpu > 0 with gpu_milli 0"},
                      BadRow{"p1,1000,10,1,500,T4||V100\n", "empty model"}));

TEST(TraceTest, BadNodeRowsAndHeaders) {
  Result<std::vector<TraceNode>> bad =
      ParseNodeList("sn,cpu_milli,memory_mib,gpu,model\nn0,1,1,1,T4\nn1,1,1,99,T4\n", "n.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("n.csv:3: gpu 99 is out of range"), std::string::npos)
      << bad.status().message();
  Result<std::vector<TraceNode>> header = ParseNodeList("sn,cpu_milli,gpu,model\n", "n.csv");
  ASSERT_FALSE(header.ok());
  EXPECT_NE(header.status().message().find("n.csv:1: header lacks the column 'memory_mib'"),
            std::string::npos);
  EXPECT_FALSE(ParseNodeList("", "n.csv").ok());
  EXPECT_EQ(ReadNodeList("/nonexistent/nodes.csv").status().code(), StatusCode::kNotFound);
}

TEST(TraceTest, ReadsTheRealTrace) {
  std::string dir = FASTGPU_TRACE_DIR;
  if (!std::filesystem::exists(dir + "/openb_node_list_gpu_node.csv")) {
    GTEST_SKIP() << "trace not found in " << dir;
  }
  Result<std::vector<TraceNode>> nodes = ReadNodeList(dir + "/openb_node_list_gpu_node.csv");
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  EXPECT_EQ(nodes->size(), 1213u);
  EXPECT_EQ(BuildCluster(*nodes).TotalGpuMilli(), 6212000);
  Result<std::vector<TracePod>> pods = ReadPodList(dir + "/openb_pod_list_default.csv");
  ASSERT_TRUE(pods.ok()) << pods.status();
  EXPECT_EQ(pods->size(), 8152u);
}

}  // namespace
}  // namespace fastgpu::sim

#include "cli/output.h"

#include <gtest/gtest.h>

namespace fastgpu::cli {
namespace {

namespace json = boost::json;

TEST(OutputTest, TableAlignsColumns) {
  Table t({"ID", "STATE"});
  t.Add({"job-1", "running"});
  t.Add({"j", "x"});
  EXPECT_EQ(t.Render(), "ID     STATE\njob-1  running\nj      x\n");
}

TEST(OutputTest, NodesShowSimulatedGpusAndAllocation) {
  json::value v = json::parse(R"({"nodes":[{"id":"node-1","name":"h","state":"ready",
    "simulated":true,"last_heartbeat":0,"gpus":[
      {"index":0,"model":"H100-80GB","healthy":true,"allocated_milli":1000},
      {"index":1,"model":"H100-80GB","healthy":false,"health_reason":"XID 79",
       "allocated_milli":500}]}]})");
  std::string out = RenderNodeList(v);
  EXPECT_NE(out.find("2x H100-80GB (simulated)"), std::string::npos) << out;
  EXPECT_NE(out.find("1.5 GPU"), std::string::npos) << out;
  EXPECT_NE(out.find("1: XID 79"), std::string::npos) << out;
}

TEST(OutputTest, JobShowsEventsAndSimulatedMark) {
  json::value v = json::parse(R"({"id":"job-1","state":"running","simulated":true,
    "command":["echo","hi"],"shape":{"description":"0.5 GPU"},
    "events":[{"at":0,"from":"pending","to":"scheduled","reason":"placed on node-1"}],
    "allocations":[{"allocation_id":"alloc-1","replica":0,"node_id":"node-1","state":"running",
      "slices":[{"gpu_index":0,"milli":500,"isolation":"mps"}]}]})");
  std::string out = RenderJob(v);
  EXPECT_NE(out.find("running (simulated GPUs)"), std::string::npos) << out;
  EXPECT_NE(out.find("placed on node-1"), std::string::npos) << out;
  EXPECT_NE(out.find("0:500m/mps"), std::string::npos) << out;
  EXPECT_NE(out.find("echo hi"), std::string::npos) << out;
}

TEST(OutputTest, TokenSecretShownOnlyWhenPresent) {
  EXPECT_NE(RenderToken(json::parse(R"({"id":"tok-1","token":"abc"})")).find("abc"),
            std::string::npos);
  EXPECT_NE(RenderToken(json::parse(R"({"id":"tok-1","token":""})")).find("only when"),
            std::string::npos);
}

}  // namespace
}  // namespace fastgpu::cli

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

TEST(OutputTest, VmOffersAndTypesAreShown) {
  json::value nodes = json::parse(R"({"nodes":[{"id":"node-1","name":"h","state":"ready",
    "last_heartbeat":0,"gpus":[
      {"index":0,"model":"H100-80GB","healthy":true,"allocated_milli":0,
       "vm":{"passthrough":true,"types":[{"name":"H100-20C","milli":250}],
             "reason":"cannot connect to libvirt at qemu:///system"}},
      {"index":1,"model":"H100-80GB","healthy":true,"allocated_milli":0}]}]})");
  std::string out = RenderNodeList(nodes);
  EXPECT_NE(out.find("vm isolation offers:\n  node-1 GPU 0: passthrough, H100-20C (0.25 GPU); "
                     "cannot connect to libvirt at qemu:///system\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("GPU 1:"), std::string::npos) << out;  // reports no offer
  // A pool without offers looks as before.
  EXPECT_EQ(RenderVmOffers(json::parse(R"({"nodes":[{"id":"n","gpus":[{"index":0}]}]})")), "");

  json::value job = json::parse(R"({"id":"job-1","state":"running","command":["x"],
    "shape":{},"events":[],"allocations":[{"allocation_id":"alloc-1","replica":0,
      "node_id":"node-1","state":"running",
      "slices":[{"gpu_index":0,"milli":500,"isolation":"vm","vm_type":"H100-40C"}]}]})");
  out = RenderJob(job);
  EXPECT_NE(out.find("0:500m/vm(H100-40C)"), std::string::npos) << out;
}

TEST(OutputTest, TokenSecretShownOnlyWhenPresent) {
  EXPECT_NE(RenderToken(json::parse(R"({"id":"tok-1","token":"abc"})")).find("abc"),
            std::string::npos);
  EXPECT_NE(RenderToken(json::parse(R"({"id":"tok-1","token":""})")).find("only when"),
            std::string::npos);
}

}  // namespace
}  // namespace fastgpu::cli

#include "cli/pool_commands.h"

#include <gtest/gtest.h>

namespace fastgpu::cli {
namespace {

TEST(PoolCommandsTest, RendersGroupsNodesReasonsAndPendingWork) {
  auto r = RenderPoolStatus(boost::json::parse(R"({"enabled":true,"groups":[
    {"name":"a100","provider":"exec","min_nodes":0,"max_nodes":4,
     "shape":{"gpu_model":"A100-80GB","gpus":8,"cpu_milli":64000,"memory_mib":524288},
     "price_per_hour":12.5,"reason":"create failed: quota exceeded","boot_failures":0,
     "nodes":[{"name":"a100-1","node_id":"","state":"booting","age_s":12},
              {"name":"a100-2","node_id":"node-1","state":"ready","age_s":300}]}],
    "pending":[{"job_id":"job-1","why":"waiting for pool node a100-1"}]})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NE(r->find("a100   exec      8xA100-80GB 64 CPU 512GiB  12.5    0    4    1        1"),
            std::string::npos)
      << *r;
  EXPECT_NE(r->find("a100: create failed: quota exceeded"), std::string::npos) << *r;
  EXPECT_NE(r->find("a100-1  a100   booting  -"), std::string::npos) << *r;
  EXPECT_NE(r->find("job-1        waiting for pool node a100-1"), std::string::npos) << *r;
}

TEST(PoolCommandsTest, SaysWhenThereIsNoPoolAndRefusesOtherAnswers) {
  auto none = RenderPoolStatus(boost::json::parse(R"({"enabled":false,"groups":[],"pending":[]})"));
  ASSERT_TRUE(none.ok());
  EXPECT_NE(none->find("no node pool"), std::string::npos);
  EXPECT_FALSE(RenderPoolStatus(boost::json::parse(R"({"groups":3})")).ok());
}

}  // namespace
}  // namespace fastgpu::cli

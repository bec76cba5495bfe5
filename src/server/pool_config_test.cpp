#include "server/pool_config.h"

#include <gtest/gtest.h>

#include <string>

namespace fastgpu::server {
namespace {

constexpr const char* kGood = R"({"groups":[
  {"name":"a100","provider":"simulated","min_nodes":0,"max_nodes":3,
   "shape":{"gpu_model":"A100-80GB","gpus":8,"cpu":"64","memory":"512GiB"},
   "price_per_hour":12.5,"boot_timeout_s":120,"scale_down_after_s":30,
   "simulated":{"boot_delay_s":7}},
  {"name":"cpu","provider":"exec","max_nodes":2,"shape":{"cpu":16,"memory":"64GiB"},
   "exec":{"command":["/usr/local/bin/pool-nodes","--zone","a"],"timeout_s":20}}]})";

TEST(PoolConfigTest, ParsesEveryField) {
  auto c = ParsePoolConfig(kGood);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->groups.size(), 2u);
  const NodeGroupConfig& a = c->groups[0];
  EXPECT_EQ(a.name, "a100");
  EXPECT_EQ(a.provider, "simulated");
  EXPECT_EQ(a.max_nodes, 3);
  EXPECT_EQ(a.shape.gpu_model, "A100-80GB");
  EXPECT_EQ(a.shape.gpus, 8);
  EXPECT_EQ(a.shape.cpu_milli, 64000);
  EXPECT_EQ(a.shape.memory_mib, 512 * 1024);
  EXPECT_DOUBLE_EQ(a.price_per_hour, 12.5);
  EXPECT_EQ(a.boot_timeout.count(), 120);
  EXPECT_EQ(a.scale_down_after.count(), 30);
  EXPECT_EQ(a.simulated.boot_delay.count(), 7);
  const NodeGroupConfig& b = c->groups[1];
  EXPECT_EQ(b.min_nodes, 0);
  EXPECT_EQ(b.shape.gpus, 0);
  EXPECT_EQ(b.shape.cpu_milli, 16000);
  EXPECT_EQ(b.exec.command.size(), 3u);
  EXPECT_EQ(b.exec.timeout.count(), 20);
  EXPECT_EQ(b.boot_timeout.count(), 600);  // defaults
  EXPECT_EQ(b.scale_down_after.count(), 600);
}

// Each bad file is refused with a message naming the field.
TEST(PoolConfigTest, BadFilesNameTheField) {
  const std::string shape = R"("shape":{"gpu_model":"L4","gpus":1,"cpu":"8","memory":"32GiB"})";
  struct Case {
    std::string text;
    std::string field;
  };
  const Case cases[] = {
      {"not json", "not valid JSON"},
      {"{}", "groups: required"},
      {R"({"groups":[],"extra":1})", "extra: unknown field"},
      {R"({"groups":[]})", "groups: must be a non-empty array"},
      {R"({"groups":[{"name":"a","provider":"simulated",)" + shape + R"(,"colour":"red"}]})",
       "groups[0].colour: unknown field"},
      {R"({"groups":[{"name":"a","provider":"simulated","min_nodes":3,"max_nodes":2,)" + shape +
           "}]}",
       "groups[0].min_nodes: min_nodes (3) is above max_nodes (2)"},
      {R"({"groups":[{"name":"a","provider":"aws",)" + shape + "}]}",
       "groups[0].provider: unknown provider \"aws\""},
      {R"({"groups":[{"provider":"simulated",)" + shape + "}]}", "groups[0].name: required"},
      {R"({"groups":[{"name":"a","provider":"simulated"}]})", "groups[0].shape: required"},
      {R"({"groups":[{"name":"a","provider":"simulated","shape":{"gpus":1,"cpu":"8","memory":"1GiB"}}]})",
       "groups[0].shape.gpu_model: required when gpus is above 0"},
      {R"({"groups":[{"name":"a","provider":"simulated","shape":{"cpu":"8","memory":"1GiB","disk":1}}]})",
       "groups[0].shape.disk: unknown field"},
      {R"({"groups":[{"name":"a","provider":"simulated","shape":{"cpu":"lots","memory":"1GiB"}}]})",
       "groups[0].shape.cpu:"},
      {R"({"groups":[{"name":"a","provider":"exec",)" + shape + "}]}",
       "groups[0].exec: required for provider \"exec\""},
      {R"({"groups":[{"name":"a","provider":"exec",)" + shape + R"(,"exec":{"command":[]}}]})",
       "groups[0].exec.command: must be a non-empty array"},
      {R"({"groups":[{"name":"a","provider":"simulated",)" + shape +
           R"(,"exec":{"command":["x"]}}]})",
       "groups[0].exec: only for provider \"exec\""},
      {R"({"groups":[{"name":"a","provider":"simulated",)" + shape + R"(,"max_nodes":-1}]})",
       "groups[0].max_nodes: must be between 1 and 10000"},
      {R"({"groups":[{"name":"a","provider":"simulated",)" + shape +
           R"(,"price_per_hour":"cheap"}]})",
       "groups[0].price_per_hour: must be a number"},
      {R"({"groups":[{"name":"A B","provider":"simulated",)" + shape + "}]}",
       "groups[0].name: must be 1-40 characters"},
      {R"({"groups":[{"name":"a","provider":"simulated",)" + shape +
           R"(},{"name":"a","provider":"simulated",)" + shape + "}]}",
       "groups[1].name: group \"a\" is named twice"},
  };
  for (const Case& c : cases) {
    auto parsed = ParsePoolConfig(c.text);
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(parsed.status().message().find(c.field), std::string::npos)
        << "want \"" << c.field << "\" in: " << parsed.status().message();
  }
}

TEST(PoolConfigTest, CanShrinkWhenSomeGroupHasRoomBelowItsMaximum) {
  auto c = ParsePoolConfig(kGood);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(CanShrink(*c));  // a100: 0 to 3
  for (NodeGroupConfig& g : c->groups) g.min_nodes = g.max_nodes;
  EXPECT_FALSE(CanShrink(*c));  // every group fixed at its size
  c->groups[1].min_nodes = 1;   // cpu: 1 to 2
  EXPECT_TRUE(CanShrink(*c));
}

TEST(PoolConfigTest, MissingFileIsNotFound) {
  auto c = LoadPoolFile("/nonexistent/pool.json");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("/nonexistent/pool.json"), std::string::npos);
}

}  // namespace
}  // namespace fastgpu::server

#include "agent/cgroup.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/testing/temp_dir.h"

namespace fastgpu {
namespace {

std::string Read(const std::string& path) { return testing::ReadFile(path); }

TEST(CgroupTest, WritesLimitsUnderAWritableHierarchy) {
  testing::AgentTempDir root;  // stands in for a cgroup v2 mount
  std::ofstream(root.path() + "/cgroup.controllers") << "cpuset cpu io memory pids\n";
  std::ofstream(root.path() + "/cgroup.subtree_control") << "cpu memory\n";
  Cgroups c = Cgroups::Probe(root.path());
  ASSERT_TRUE(c.enabled()) << c.note();
  EXPECT_EQ(c.base(), root.path() + "/fastgpu");
  EXPECT_EQ(Read(c.base() + "/cgroup.subtree_control"), "+cpu +memory");
  auto dir = c.Create("alloc-1", 1500, 2048);
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(Read(*dir + "/cpu.max"), "150000 100000");
  EXPECT_EQ(Read(*dir + "/memory.max"), std::to_string(2048LL * 1024 * 1024));
  auto unlimited = c.Create("alloc-2", 0, 0);
  ASSERT_TRUE(unlimited.ok());
  EXPECT_EQ(Read(*unlimited + "/cpu.max"), "max 100000");
  EXPECT_EQ(Read(*unlimited + "/memory.max"), "max");
  EXPECT_EQ(Cgroups::CpuMax(500), "50000 100000");
}

TEST(CgroupTest, SaysWhyWhenNotUsable) {
  testing::AgentTempDir root;
  Cgroups none = Cgroups::Probe(root.path());
  EXPECT_FALSE(none.enabled());
  EXPECT_NE(none.note().find("no cgroup v2 hierarchy"), std::string::npos) << none.note();
  EXPECT_EQ(none.Create("x", 1, 1).status().code(), StatusCode::kFailedPrecondition);
  std::ofstream(root.path() + "/cgroup.controllers") << "pids\n";
  Cgroups no_cpu = Cgroups::Probe(root.path());
  EXPECT_FALSE(no_cpu.enabled());
  EXPECT_NE(no_cpu.note().find("cpu or memory"), std::string::npos) << no_cpu.note();
  Cgroups off = Cgroups::Probe("");
  EXPECT_FALSE(off.enabled());
  EXPECT_NE(off.note().find("turned off"), std::string::npos);
}

}  // namespace
}  // namespace fastgpu

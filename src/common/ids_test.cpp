#include "common/ids.h"

#include <gtest/gtest.h>

#include <set>

namespace fastgpu {
namespace {

TEST(IdsTest, RandomIdsAreWellFormedAndDistinct) {
  RandomIdGenerator gen;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = gen.Next("job");
    EXPECT_TRUE(ValidateId(id, "job").ok()) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(IdsTest, SequentialIds) {
  SequentialIdGenerator gen;
  EXPECT_EQ(gen.Next("node"), "node-0000000000000001");
  EXPECT_EQ(gen.Next("node"), "node-0000000000000002");
}

TEST(IdsTest, RejectsMalformed) {
  EXPECT_FALSE(ValidateId("job-xyz", "job").ok());
  EXPECT_FALSE(ValidateId("node-0000000000000001", "job").ok());
  EXPECT_FALSE(ValidateId("job-000000000000000G", "job").ok());
  EXPECT_EQ(RandomHex(16).size(), 32u);
}

}  // namespace
}  // namespace fastgpu

#include "cli/suggest.h"

#include <gtest/gtest.h>

namespace fastgpu::cli {
namespace {

TEST(SuggestTest, EditDistance) {
  EXPECT_EQ(EditDistance("", ""), 0);
  EXPECT_EQ(EditDistance("job", "jobs"), 1);
  EXPECT_EQ(EditDistance("lst", "list"), 1);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
}

TEST(SuggestTest, SuggestsTheClosestWords) {
  const std::vector<std::string> top = {"job", "node", "tenant", "token", "usage", "price", "up"};
  EXPECT_EQ(Suggest("jobs", top), std::vector<std::string>{"job"});
  EXPECT_EQ(Suggest("nodes", top), std::vector<std::string>{"node"});
  EXPECT_EQ(Suggest("lst", {"list", "logs", "get"}), std::vector<std::string>{"list"});
  EXPECT_EQ(Suggest("--gpus", {"--gpu", "--gpu-memory", "--cpu"}).front(), "--gpu");
  EXPECT_TRUE(Suggest("zzzzzz", top).empty());
  EXPECT_TRUE(Suggest("job", top).empty());  // an exact match is not a mistake
}

}  // namespace
}  // namespace fastgpu::cli

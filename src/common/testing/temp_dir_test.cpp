#include "common/testing/temp_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace fastgpu::testing {
namespace {

TEST(TempDirTest, FreshReachableAndRemovedWithItsContents) {
  std::string path;
  {
    TempDir a, b;
    path = a.path();
    ASSERT_FALSE(path.empty());
    EXPECT_NE(a.path(), b.path());
    EXPECT_TRUE(std::filesystem::is_directory(path));
    EXPECT_TRUE(std::filesystem::is_empty(path));
    EXPECT_EQ(FileMode(path), 0755);
    std::filesystem::create_directories(path + "/x/y");
    std::ofstream(path + "/x/y/f") << "data";
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(TempDirTest, UnderAGivenParent) {
  TempDir parent;
  {
    TempDir child(parent.path());
    ASSERT_FALSE(child.path().empty());
    EXPECT_EQ(std::filesystem::path(child.path()).parent_path().string(), parent.path());
    EXPECT_TRUE(std::filesystem::is_directory(child.path()));
  }
  EXPECT_TRUE(std::filesystem::is_empty(parent.path()));
  TempDir nowhere("/nonexistent/fastgpu-parent");
  EXPECT_EQ(nowhere.path(), "");
}

TEST(TempDirTest, ReadFileAndFileMode) {
  TempDir dir;
  const std::string f = dir.path() + "/f";
  std::ofstream(f) << "line 1\nline 2";
  EXPECT_EQ(ReadFile(f), "line 1\nline 2");
  EXPECT_EQ(ReadFile(dir.path() + "/missing"), "");
  std::filesystem::permissions(
      f, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(FileMode(f), 0600);
  EXPECT_EQ(FileMode(dir.path() + "/missing"), -1);
}

}  // namespace
}  // namespace fastgpu::testing

// One suite for every FileEnv: the real file system (in a temp dir) and the in-memory
// one must behave alike, so that tests on the memory env say something about the agent on
// a real disk. Then the state file through an env.
#include "agent/file_env.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "agent/state.h"
#include "common/clock.h"
#include "common/testing/temp_dir.h"

namespace fastgpu::agent {
namespace {

struct EnvCase {
  const char* name;
  std::function<std::unique_ptr<FileEnv>()> make;
};

class FileEnvConformanceTest : public ::testing::TestWithParam<EnvCase> {
 protected:
  void SetUp() override {
    owned_ = GetParam().make();
    env_ = owned_ != nullptr ? owned_.get() : &PosixFileEnv();
    root_ = dir_.path() + "/env";
    ASSERT_TRUE(env_->CreateDirs(root_).ok());
  }
  FileEnv& env() { return *env_; }

  testing::TempDir dir_;  // the memory env only borrows its name
  std::unique_ptr<FileEnv> owned_;
  FileEnv* env_ = nullptr;
  std::string root_;
};

TEST_P(FileEnvConformanceTest, WritesAppendsAndReads) {
  const std::string f = root_ + "/a.log";
  EXPECT_EQ(env().ReadFile(f).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(env().FileSize(f).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(env().Exists(f));
  ASSERT_TRUE(env().WriteFile(f, "hello", /*sync=*/true).ok());
  ASSERT_TRUE(env().AppendFile(f, " world").ok());
  EXPECT_TRUE(env().Exists(f));
  EXPECT_EQ(*env().ReadFile(f), "hello world");
  EXPECT_EQ(*env().FileSize(f), 11);
  EXPECT_EQ(*env().ReadFileRange(f, 6, 3), "wor");
  EXPECT_EQ(*env().ReadFileRange(f, 9, 100), "ld");
  EXPECT_EQ(*env().ReadFileRange(f, 11, 4), "");
  EXPECT_EQ(env().ReadFile(f, 4).status().code(), StatusCode::kOutOfRange);
  ASSERT_TRUE(env().WriteFile(f, "new", /*sync=*/false).ok());  // truncates
  EXPECT_EQ(*env().ReadFile(f), "new");
  ASSERT_TRUE(env().AppendFile(root_ + "/fresh.log", "x").ok());  // created
  EXPECT_EQ(*env().ReadFile(root_ + "/fresh.log"), "x");
}

TEST_P(FileEnvConformanceTest, WritingIntoAMissingFolderOrOverAFolderFails) {
  Status missing = env().WriteFile(root_ + "/no/such/file", "x", true);
  EXPECT_EQ(missing.code(), StatusCode::kInternal);
  EXPECT_NE(missing.message().find("No such file or directory"), std::string::npos) << missing;
  EXPECT_FALSE(env().AppendFile(root_ + "/no/file", "x").ok());
  ASSERT_TRUE(env().CreateDirs(root_ + "/d").ok());
  Status over = env().WriteFile(root_ + "/d", "x", true);
  EXPECT_NE(over.message().find("Is a directory"), std::string::npos) << over;
}

TEST_P(FileEnvConformanceTest, RenameReplacesInOneStep) {
  ASSERT_TRUE(env().WriteFile(root_ + "/a", "old", true).ok());
  ASSERT_TRUE(env().WriteFile(root_ + "/a.tmp", "new", true).ok());
  ASSERT_TRUE(env().Rename(root_ + "/a.tmp", root_ + "/a").ok());
  EXPECT_EQ(*env().ReadFile(root_ + "/a"), "new");
  EXPECT_FALSE(env().Exists(root_ + "/a.tmp"));
  EXPECT_FALSE(env().Rename(root_ + "/gone", root_ + "/a").ok());
  EXPECT_EQ(*env().ReadFile(root_ + "/a"), "new");
  EXPECT_TRUE(env().SyncDir(root_).ok());
}

TEST_P(FileEnvConformanceTest, FoldersAreCreatedListedAndRemovedWithTheirContent) {
  ASSERT_TRUE(env().CreateDirs(root_ + "/replicas/a1/work").ok());
  ASSERT_TRUE(env().CreateDirs(root_ + "/replicas/a1/work").ok());  // already there
  ASSERT_TRUE(env().WriteFile(root_ + "/replicas/a1/output.log", "x", false).ok());
  ASSERT_TRUE(env().CreateDirs(root_ + "/replicas/a2").ok());
  EXPECT_EQ(*env().ListDir(root_ + "/replicas"), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(*env().ListDir(root_ + "/replicas/a1"),
            (std::vector<std::string>{"output.log", "work"}));
  EXPECT_EQ(env().ListDir(root_ + "/none").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(env().RemoveAll(root_ + "/replicas/a1").ok());
  EXPECT_FALSE(env().Exists(root_ + "/replicas/a1/output.log"));
  EXPECT_FALSE(env().Exists(root_ + "/replicas/a1"));
  EXPECT_EQ(*env().ListDir(root_ + "/replicas"), (std::vector<std::string>{"a2"}));
  EXPECT_TRUE(env().RemoveAll(root_ + "/replicas/a1").ok());  // nothing there: OK
  ASSERT_TRUE(env().WriteFile(root_ + "/file", "x", false).ok());
  EXPECT_FALSE(env().CreateDirs(root_ + "/file/sub").ok());
}

TEST_P(FileEnvConformanceTest, StatTellsKindSizeAndModeAndChmodSetsIt) {
  const std::string f = root_ + "/f";
  EXPECT_EQ(env().Stat(f).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(env().Chmod(f, 0644).code(), StatusCode::kNotFound);
  ASSERT_TRUE(env().WriteFile(f, "four", false).ok());
  ASSERT_TRUE(env().CreateDirs(root_ + "/d/e").ok());
  auto file = env().Stat(f);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_FALSE(file->is_dir);
  EXPECT_EQ(file->size, 4);
  EXPECT_EQ(file->mode, 0600u);
  auto dir = env().Stat(root_ + "/d/e");
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_TRUE(dir->is_dir);
  EXPECT_EQ(dir->mode & 0700u, 0700u);
  ASSERT_TRUE(env().Chmod(f, 0640).ok());
  ASSERT_TRUE(env().Chmod(root_ + "/d", 0711).ok());
  EXPECT_EQ(env().Stat(f)->mode, 0640u);
  EXPECT_EQ(env().Stat(root_ + "/d")->mode, 0711u);
  ASSERT_TRUE(env().Rename(f, root_ + "/g").ok());  // the mode goes with the file
  EXPECT_EQ(env().Stat(root_ + "/g")->mode, 0640u);
}

TEST_P(FileEnvConformanceTest, RemoveDirRemovesOneEmptyFolder) {
  EXPECT_EQ(env().RemoveDir(root_ + "/none").code(), StatusCode::kNotFound);
  ASSERT_TRUE(env().CreateDirs(root_ + "/a/b").ok());
  Status busy = env().RemoveDir(root_ + "/a");
  EXPECT_EQ(busy.code(), StatusCode::kFailedPrecondition) << busy;
  EXPECT_TRUE(env().Exists(root_ + "/a/b"));
  ASSERT_TRUE(env().RemoveDir(root_ + "/a/b").ok());
  ASSERT_TRUE(env().RemoveDir(root_ + "/a").ok());
  EXPECT_FALSE(env().Exists(root_ + "/a"));
  EXPECT_EQ(*env().ListDir(root_), std::vector<std::string>{});
}

TEST_P(FileEnvConformanceTest, StateFileRoundTripsAndAFailedSaveKeepsTheOldOne) {
  const std::string path = root_ + "/agent-state.json";
  EXPECT_EQ(LoadAgentState(path, env()).status().code(), StatusCode::kNotFound);
  AgentState state;
  state.agent_id = "agent-1";
  state.node_id = "node-1";
  ReplicaRecord rec;
  rec.desired.allocation.id = "alloc-1";
  rec.state = "running";
  rec.handle.pid = 42;
  rec.log_file_offset = 7;
  state.replicas.push_back(rec);
  ASSERT_TRUE(SaveAgentState(path, state, env()).ok());
  EXPECT_FALSE(env().Exists(path + ".tmp"));
  auto loaded = LoadAgentState(path, env());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->node_id, "node-1");
  ASSERT_EQ(loaded->replicas.size(), 1u);
  EXPECT_EQ(loaded->replicas[0].handle.pid, 42);
  EXPECT_EQ(loaded->replicas[0].log_file_offset, 7);
  // The temp file cannot be written (a folder is in its way): the save fails, the old
  // state stays.
  ASSERT_TRUE(env().CreateDirs(path + ".tmp/x").ok());
  state.node_id = "node-2";
  Status st = SaveAgentState(path, state, env());
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_NE(st.message().find("Is a directory"), std::string::npos) << st;
  EXPECT_EQ(LoadAgentState(path, env())->node_id, "node-1");
  ASSERT_TRUE(env().WriteFile(path, "{not json", true).ok());
  EXPECT_EQ(LoadAgentState(path, env()).status().code(), StatusCode::kDataLoss);
}

INSTANTIATE_TEST_SUITE_P(
    Envs, FileEnvConformanceTest,
    ::testing::Values(EnvCase{"Posix", [] { return std::unique_ptr<FileEnv>(); }},
                      EnvCase{"Memory", [] { return NewMemoryFileEnv(); }}),
    [](const ::testing::TestParamInfo<EnvCase>& info) { return info.param.name; });

TEST(MemoryFileEnvTest, StampsChangesWithItsClock) {
  ManualClock clock;
  auto env = NewMemoryFileEnv(&clock);
  ASSERT_TRUE(env->CreateDirs("/d").ok());
  EXPECT_EQ(env->Stat("/d")->modified, clock.Now());
  clock.Advance(std::chrono::minutes(5));
  ASSERT_TRUE(env->WriteFile("/d/f", "x", false).ok());
  EXPECT_EQ(env->Stat("/d/f")->modified, clock.Now());
  EXPECT_EQ(env->Stat("/d")->modified, clock.Now());  // a new entry changes its folder
  clock.Advance(std::chrono::minutes(5));
  ASSERT_TRUE(env->WriteFile("/d/f", "y", false).ok());
  EXPECT_EQ(env->Stat("/d/f")->modified, clock.Now());
  EXPECT_EQ(env->Stat("/d")->modified, clock.Now() - std::chrono::minutes(5));
}

TEST(MemoryFileEnvTest, RemoveDirTakesTheFilesOfTheFolderAsCgroupfsDoes) {
  auto env = NewMemoryFileEnv();
  ASSERT_TRUE(env->CreateDirs("/cg/fastgpu/a1").ok());
  ASSERT_TRUE(env->WriteFile("/cg/fastgpu/a1/cpu.max", "max 100000", false).ok());
  ASSERT_TRUE(env->RemoveDir("/cg/fastgpu/a1").ok());
  EXPECT_FALSE(env->Exists("/cg/fastgpu/a1/cpu.max"));
  EXPECT_FALSE(env->Exists("/cg/fastgpu/a1"));
  EXPECT_TRUE(env->Exists("/cg/fastgpu"));
}

TEST(PosixFileEnvTest, RemoveDirKeepsAFolderWithAFile) {
  testing::TempDir dir;
  FileEnv& env = PosixFileEnv();
  ASSERT_TRUE(env.WriteFile(dir.path() + "/f", "x", false).ok());
  EXPECT_EQ(env.RemoveDir(dir.path()).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(env.Exists(dir.path() + "/f"));
}

TEST(MemoryFileEnvTest, TouchesNoRealFile) {
  testing::TempDir dir;
  auto env = NewMemoryFileEnv();
  ASSERT_TRUE(env->CreateDirs(dir.path() + "/data").ok());
  AgentState state;
  state.agent_id = "agent-mem";
  ASSERT_TRUE(SaveAgentState(dir.path() + "/data/agent-state.json", state, *env).ok());
  EXPECT_FALSE(PosixFileEnv().Exists(dir.path() + "/data"));
  EXPECT_EQ(LoadAgentState(dir.path() + "/data/agent-state.json", *env)->agent_id, "agent-mem");
}

}  // namespace
}  // namespace fastgpu::agent

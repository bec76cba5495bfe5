#include "agent/state.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/testing/temp_dir.h"

namespace fastgpu::agent {
namespace {

TEST(StateTest, SavesAtomicallyAndLoadsBack) {
  testing::TempDir dir;
  std::string path = dir.path() + "/agent-state.json";
  EXPECT_EQ(LoadAgentState(path).status().code(), StatusCode::kNotFound);
  AgentState st;
  st.agent_id = "agent-1";
  st.node_id = "node-1";
  st.node_token = "secret";
  ReplicaRecord rec;
  rec.desired.allocation.id = "alloc-1";
  rec.desired.allocation.job_id = "job-1";
  rec.desired.command = {"sleep", "1"};
  rec.state = "running";
  rec.handle = {11, 22, 33, 44};
  rec.log_file_offset = 5;
  rec.log_server_offset = 5;
  rec.mig_instances = {"MIG-1"};
  rec.mps_gpus = {"GPU-1"};
  rec.cgroup = "alloc-1";
  rec.reason = "OOMKilled";
  st.replicas.push_back(rec);
  st.finished = {"alloc-0"};
  ASSERT_TRUE(SaveAgentState(path, st).ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto back = LoadAgentState(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->node_token, "secret");
  ASSERT_EQ(back->replicas.size(), 1u);
  EXPECT_EQ(back->replicas[0].handle.pid_start, 44u);
  EXPECT_EQ(protocol::EncodeDesiredReplica(back->replicas[0].desired),
            protocol::EncodeDesiredReplica(rec.desired));
  EXPECT_EQ(back->replicas[0].mps_gpus, rec.mps_gpus);
  EXPECT_EQ(back->finished, st.finished);
  EXPECT_EQ(back->replicas[0].cgroup, "alloc-1");
  EXPECT_EQ(back->replicas[0].reason, "OOMKilled");
  // A state file from before v1 support kept the v2 folder: its name is the group's.
  std::string text = testing::ReadFile(path);
  size_t at = text.find(R"("cgroup":"alloc-1")");
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, 18, R"("cgroup_dir":"/sys/fs/cgroup/fastgpu/alloc-1")");
  std::ofstream(path, std::ios::trunc) << text;
  auto old = LoadAgentState(path);
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(old->replicas[0].cgroup, "alloc-1");
  std::ofstream(path) << "{garbage";
  EXPECT_EQ(LoadAgentState(path).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace fastgpu::agent

// An in-process Agent on this host's real cgroups (root only; skipped otherwise): a
// replica may open the device node of its own GPU but not another GPU's (fake nodes in
// --gpu-dev-dir), and a replica past its memory limit is reported with reason OOMKilled.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "agent/agent.h"
#include "agent/cgroup.h"
#include "agent/fake_inventory.h"
#include "agent/launcher.h"
#include "agent/testing/fake_control_plane.h"
#include "common/testing/temp_dir.h"

namespace fastgpu::agent {
namespace {

using testing::FakeControlPlane;
using testing::TestAllocation;

class ReplicaLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (cgroups, mknod)";
    cgroups_ = Cgroups::Probe("/sys/fs/cgroup");
    if (!cgroups_.enabled()) GTEST_SKIP() << cgroups_.note();
    auto cp = FakeControlPlane::Start();
    ASSERT_TRUE(cp.ok()) << cp.status();
    cp_ = std::move(cp).value();
    agent_ = StartAgent(/*kill_workloads_on_stop=*/true);
    ASSERT_NE(agent_, nullptr);
  }
  std::unique_ptr<Agent> StartAgent(bool kill_workloads_on_stop) {
    auto inv = FakeGpuInventory::Create("2xH100-80GB", "limits-test");
    if (!inv.ok()) return nullptr;
    AgentOptions o;
    o.inventory = std::move(inv).value();
    o.launcher = MakeShimLauncher();
    o.server_url = cp_->url();
    o.join_token = cp_->join_token();
    o.data_dir = dir_.path() + "/data";
    o.name = "limits-node";
    o.heartbeat_interval = std::chrono::milliseconds(20);
    o.retry_interval = std::chrono::milliseconds(20);
    o.stop_grace = std::chrono::milliseconds(500);
    o.cgroup_root = "/sys/fs/cgroup";
    o.gpu_dev_dir = dev_.path();
    o.kill_workloads_on_stop = kill_workloads_on_stop;
    auto agent = std::make_unique<Agent>(std::move(o));
    if (!agent->Start().ok()) return nullptr;
    return agent;
  }
  void TearDown() override {
    if (agent_ != nullptr) agent_->Stop();
    // Workloads outlive an agent by design: end what a failed test left behind.
    for (const std::string& id : ids_) {
      cgroups_.Kill(id);
      cgroups_.Remove(id);
    }
  }
  FakeControlPlane::SeenReplica WaitEnded(const std::string& id) {
    EXPECT_TRUE(FakeControlPlane::WaitFor([&] {
      auto r = cp_->replicas();
      return r.count(id) && (r[id].state == "exited" || r[id].state == "failed");
    })) << id;
    return cp_->replicas()[id];
  }

  testing::TempDir dir_, dev_;
  Cgroups cgroups_;
  std::unique_ptr<FakeControlPlane> cp_;
  std::unique_ptr<Agent> agent_;
  std::vector<std::string> ids_;  // allocations the test started
};

TEST_F(ReplicaLimitsTest, AReplicaOpensItsOwnGpuNodeButNotAnother) {
  if (!cgroups_.restricts_devices()) GTEST_SKIP() << cgroups_.note();
  // Stand-ins for /dev/nvidia0 and /dev/nvidia1: kmsg (opens read-only) and 1:4.
  ASSERT_EQ(mknod((dev_.path() + "/nvidia0").c_str(), S_IFCHR | 0600, makedev(1, 11)), 0);
  ASSERT_EQ(mknod((dev_.path() + "/nvidia1").c_str(), S_IFCHR | 0600, makedev(1, 4)), 0);
  // Unique on the host: cgroups are shared with whatever else runs there.
  const std::string id = "alloc-dev-" + std::to_string(getpid());
  ids_.push_back(id);
  auto d = TestAllocation(id,
                          {"sh", "-c",
                           "(exec 3<\"$D/nvidia0\") && echo gpu0-opened; "
                           "(exec 4<\"$D/nvidia1\") 2>&1 && echo gpu1-opened; "
                           "exit 0"},
                          {{0, "", 500, 40960, model::Isolation::kMps}});
  d.env["D"] = dev_.path();
  cp_->SetAllocations({d});
  auto r = WaitEnded(id);
  EXPECT_EQ(r.state, "exited") << r.message;
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return !cp_->logs(id).empty(); }));
  std::string out = cp_->logs(id);
  EXPECT_NE(out.find("gpu0-opened"), std::string::npos) << out;
  EXPECT_EQ(out.find("gpu1-opened"), std::string::npos) << out;
  EXPECT_NE(out.find("Operation not permitted"), std::string::npos) << out;  // EPERM: the cgroup
}

TEST_F(ReplicaLimitsTest, AReplicaPastItsMemoryLimitIsReportedOomKilled) {
  const std::string id = "alloc-oom-" + std::to_string(getpid());
  ids_.push_back(id);
  auto d = TestAllocation(id, {"sh", "-c", "head -c 200M /dev/zero | tail >/dev/null"});
  d.allocation.memory_mib = 32;
  cp_->SetAllocations({d});
  auto r = WaitEnded(id);
  EXPECT_EQ(r.state, "exited");
  EXPECT_EQ(r.reason, "OOMKilled") << r.message;
  EXPECT_EQ(r.message.rfind("OOMKilled: exceeded its memory limit of 32 MiB (exit 137)", 0), 0u)
      << r.message;
  // The group is gone once the replica ended.
  EXPECT_TRUE(FakeControlPlane::WaitFor(
      [&] { return access(cgroups_.Dir(id, "memory").c_str(), F_OK) != 0; }));
}

// The state keeps the group's name: an agent started after a restart still kills the
// whole group (a child that left the process group included) and removes it.
TEST_F(ReplicaLimitsTest, ARestartedAgentStillKillsAndRemovesTheGroup) {
  agent_->Stop();
  agent_ = StartAgent(/*kill_workloads_on_stop=*/false);
  ASSERT_NE(agent_, nullptr);
  const std::string id = "alloc-restart-" + std::to_string(getpid());
  ids_.push_back(id);
  auto d = TestAllocation(id, {"sh", "-c", "setsid sleep 300 & exec sleep 300"});
  cp_->SetAllocations({d});
  std::string procs = cgroups_.Dir(id, "memory") + "/cgroup.procs";
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] {
    std::string text = testing::ReadFile(procs);
    return cp_->replicas()[id].state == "running" &&
           std::count(text.begin(), text.end(), '\n') == 2;
  })) << testing::ReadFile(procs);
  std::string pids = testing::ReadFile(procs);
  agent_->Stop();  // the workloads keep running
  agent_ = StartAgent(/*kill_workloads_on_stop=*/true);
  ASSERT_NE(agent_, nullptr);
  EXPECT_EQ(testing::ReadFile(procs), pids);
  cp_->SetAllocations({});
  cp_->SetCancel({id});
  EXPECT_TRUE(FakeControlPlane::WaitFor([&] {
    return access(cgroups_.Dir(id, "memory").c_str(), F_OK) != 0 &&
           access(cgroups_.Dir(id, "cpu").c_str(), F_OK) != 0;
  })) << "the group is still there: "
      << testing::ReadFile(procs);
  std::istringstream in(pids);
  for (int pid = 0; in >> pid;) {
    // Dead, or a zombie waiting for its parent to reap it.
    EXPECT_TRUE(FakeControlPlane::WaitFor([&] { return ProcessStartTime(pid) == 0; }))
        << "pid " << pid << " still runs";
  }
}

}  // namespace
}  // namespace fastgpu::agent

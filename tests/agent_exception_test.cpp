// An exception that escapes one round of the agent (from a library deep inside, as
// std::istreambuf_iterator once threw when a workload's /proc/<pid>/stat vanished while
// it was read) is logged and the agent goes on; it never ends the process.
#include <gtest/gtest.h>

#include <atomic>
#include <ios>

#include "agent/agent.h"
#include "agent/fake_inventory.h"
#include "agent/testing/fake_control_plane.h"
#include "common/testing/temp_dir.h"

namespace fastgpu {
namespace {

using testing::FakeControlPlane;
using testing::TestAllocation;

// Simulated GPUs whose first `throws` samples throw what libstdc++ throws on ESRCH.
class ThrowingInventory final : public agent::GpuInventory {
 public:
  ThrowingInventory(std::unique_ptr<agent::FakeGpuInventory> fake, int throws)
      : fake_(std::move(fake)), throws_left_(throws) {}
  Result<std::vector<agent::GpuSample>> Sample() override {
    if (throws_left_.fetch_sub(1) > 0) {
      throw std::ios_base::failure(
          "basic_filebuf::underflow error reading the file: No such process");
    }
    return fake_->Sample();
  }
  std::vector<agent::GpuEvent> DrainEvents() override { return fake_->DrainEvents(); }
  bool simulated() const override { return true; }
  std::string Describe() const override { return "throwing " + fake_->Describe(); }

 private:
  std::unique_ptr<agent::FakeGpuInventory> fake_;
  std::atomic<int> throws_left_;
};

TEST(AgentExceptionTest, AnExceptionInARoundIsLoggedAndTheAgentGoesOn) {
  auto cp = FakeControlPlane::Start();
  ASSERT_TRUE(cp.ok()) << cp.status();
  testing::TempDir dir;
  auto inv = agent::FakeGpuInventory::Create("1xH100-80GB", "exception-test");
  ASSERT_TRUE(inv.ok());
  agent::AgentOptions o;
  o.inventory = std::make_unique<ThrowingInventory>(std::move(inv).value(), 5);
  o.launcher = agent::MakeShimLauncher();
  o.server_url = (*cp)->url();
  o.join_token = (*cp)->join_token();
  o.data_dir = dir.path();
  o.heartbeat_interval = std::chrono::milliseconds(20);
  o.retry_interval = std::chrono::milliseconds(20);
  o.cgroup_root = "";
  o.kill_workloads_on_stop = true;
  agent::Agent agent(std::move(o));
  ASSERT_TRUE(agent.Start().ok());
  (*cp)->SetAllocations({TestAllocation("alloc-after", {"true"})});
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return (*cp)->heartbeats() >= 5; }))
      << "the agent stopped after an exception";
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] {
    auto r = (*cp)->replicas();
    return r.count("alloc-after") && r["alloc-after"].state == "exited";
  }));
  EXPECT_EQ((*cp)->replicas()["alloc-after"].exit_code, 0);
  agent.Stop();
}

}  // namespace
}  // namespace fastgpu

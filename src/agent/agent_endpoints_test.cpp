// The agent's side of replica endpoints: PORT given to replicas that ask, the endpoint
// and readiness in heartbeats (TCP and HTTP probes, both ways), and the utilisation of
// simulated GPUs from the files their replicas write.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <thread>

#include "agent/agent.h"
#include "agent/fake_inventory.h"
#include "agent/launcher.h"
#include "agent/testing/fake_control_plane.h"
#include "agent/testing/fake_launcher.h"
#include "agent/testing/tcp_listener.h"
#include "common/testing/temp_dir.h"

namespace fastgpu::agent {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::FakeControlPlane;
using testing::FakeProcessLauncher;
using testing::TestAllocation;

constexpr char kUtilEnv[] = "FASTGPU_SIMULATED_GPU_UTIL_FILE";

model::VgpuSlice Shared(int gpu, int milli) {
  return {gpu, "", milli, 0, model::Isolation::kShared};
}

class AgentEndpointsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cp = FakeControlPlane::Start();
    ASSERT_TRUE(cp.ok()) << cp.status();
    cp_ = std::move(cp).value();
  }

  AgentOptions Options(const std::string& gpus) {
    auto inv = FakeGpuInventory::Create(gpus, "endpoints-test");
    EXPECT_TRUE(inv.ok());
    AgentOptions o;
    o.inventory = std::move(inv).value();
    o.server_url = cp_->url();
    o.join_token = cp_->join_token();
    o.data_dir = dir_.path();
    o.name = "test-node";
    o.cgroup_root = "";  // hermetic: never touch the machine's cgroups
    o.readiness_interval = milliseconds(50);
    o.readiness_timeout = milliseconds(500);
    return o;
  }

  // Workloads are fakes (launched_) and the loop waits on `clock`.
  std::unique_ptr<Agent> StartFakeAgent(ManualClock& clock,
                                        const std::string& gpus = "1xH100-80GB") {
    AgentOptions o = Options(gpus);
    auto launcher = std::make_unique<FakeProcessLauncher>(&clock);
    launched_ = launcher.get();
    o.launcher = std::move(launcher);
    o.clock = &clock;
    o.heartbeat_interval = seconds(2);
    o.retry_interval = seconds(2);
    auto agent = std::make_unique<Agent>(std::move(o));
    Status st = agent->Start();
    EXPECT_TRUE(st.ok()) << st;
    return agent;
  }

  // Real processes under the shim, on the system clock.
  std::unique_ptr<Agent> StartAgent() {
    AgentOptions o = Options("1xH100-80GB");
    o.launcher = MakeShimLauncher();
    o.heartbeat_interval = milliseconds(50);
    o.retry_interval = milliseconds(50);
    o.stop_grace = milliseconds(500);
    o.kill_workloads_on_stop = true;
    auto agent = std::make_unique<Agent>(std::move(o));
    Status st = agent->Start();
    EXPECT_TRUE(st.ok()) << st;
    return agent;
  }

  static void Step(ManualClock& clock, std::chrono::milliseconds d) {
    ASSERT_TRUE(clock.AwaitWaiters(1));
    clock.Advance(d);
    ASSERT_TRUE(clock.AwaitWaiters(1));
  }

  // Heartbeats every 2 s of clock time until the report of `id` says ready == `want`
  // (the prober runs on real time); false after 10 s.
  bool StepUntilReady(ManualClock& clock, const std::string& id, bool want) {
    const auto deadline = std::chrono::steady_clock::now() + seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      Step(clock, seconds(2));
      if (cp_->replicas()[id].ready == want) return true;
      std::this_thread::sleep_for(milliseconds(30));
    }
    return false;
  }

  int PortOf(const std::string& id) {
    auto p = launched_->Find(id);
    if (!p || !p->spec.env.count("PORT")) return 0;
    return std::stoi(p->spec.env.at("PORT"));
  }

  fastgpu::testing::TempDir dir_;
  std::unique_ptr<FakeControlPlane> cp_;
  FakeProcessLauncher* launched_ = nullptr;  // owned by the agent
};

TEST_F(AgentEndpointsTest, APortIsGivenAsPortAndReportedWithTheEndpoint) {
  ManualClock clock;
  auto agent = StartFakeAgent(clock);
  auto web1 = TestAllocation("alloc-web1", {"server"});
  web1.port = true;
  auto web2 = TestAllocation("alloc-web2", {"server"});
  web2.port = true;
  web2.env["PORT"] = "1";  // the agent's wins
  auto batch = TestAllocation("alloc-batch", {"train.py"});
  cp_->SetAllocations({web1, web2, batch});
  Step(clock, seconds(2));  // launched
  const int p1 = PortOf("alloc-web1"), p2 = PortOf("alloc-web2");
  EXPECT_GT(p1, 1024);
  EXPECT_GT(p2, 1024);
  EXPECT_NE(p1, p2);
  ASSERT_TRUE(launched_->Find("alloc-batch"));
  EXPECT_FALSE(launched_->Find("alloc-batch")->spec.env.count("PORT"));
  Step(clock, seconds(2));  // reported running
  auto seen = cp_->replicas();
  EXPECT_EQ(seen["alloc-web1"].endpoint, "127.0.0.1:" + std::to_string(p1));
  EXPECT_EQ(seen["alloc-web2"].endpoint, "127.0.0.1:" + std::to_string(p2));
  EXPECT_TRUE(seen["alloc-web1"].ready);  // no probe: ready once running
  EXPECT_EQ(seen["alloc-batch"].endpoint, "");
  EXPECT_TRUE(seen["alloc-batch"].ready);
  EXPECT_EQ(agent->Snapshot().advertise_host, "127.0.0.1");
  // Ended: no longer ready; the port is kept in the state across a restart.
  ASSERT_TRUE(launched_->Exit("alloc-web2", 0));
  Step(clock, seconds(2));
  EXPECT_EQ(cp_->replicas()["alloc-web2"].state, "exited");
  EXPECT_FALSE(cp_->replicas()["alloc-web2"].ready);
}

TEST_F(AgentEndpointsTest, AnAdvertiseHostAndAPortRangeAreUsed) {
  ManualClock clock;
  testing::TcpListener probe;  // a free port to start the range at
  ASSERT_TRUE(probe.ok());
  const int base = probe.port();
  AgentOptions o = Options("1xH100-80GB");
  auto launcher = std::make_unique<FakeProcessLauncher>(&clock);
  launched_ = launcher.get();
  o.launcher = std::move(launcher);
  o.clock = &clock;
  o.heartbeat_interval = seconds(2);
  o.advertise_host = "127.0.0.1";
  o.ports = {base, base + 50};
  Agent agent(std::move(o));
  ASSERT_TRUE(agent.Start().ok());
  auto web = TestAllocation("alloc-web", {"server"});
  web.port = true;
  cp_->SetAllocations({web});
  Step(clock, seconds(2));
  const int port = PortOf("alloc-web");
  EXPECT_GT(port, base);  // `base` is bound by the probe listener: skipped
  EXPECT_LE(port, base + 50);
}

TEST_F(AgentEndpointsTest, TcpReadinessBothWays) {
  ManualClock clock;
  auto agent = StartFakeAgent(clock);
  auto web = TestAllocation("alloc-tcp", {"server"});
  web.port = true;
  web.readiness.kind = model::ReadinessProbe::Kind::kTcp;
  cp_->SetAllocations({web});
  Step(clock, seconds(2));
  const int port = PortOf("alloc-tcp");
  ASSERT_GT(port, 0);
  Step(clock, seconds(2));
  EXPECT_EQ(cp_->replicas()["alloc-tcp"].state, "running");
  EXPECT_FALSE(cp_->replicas()["alloc-tcp"].ready);              // nothing listens yet
  auto listener = std::make_unique<testing::TcpListener>(port);  // the "replica" listens
  ASSERT_TRUE(listener->ok());
  EXPECT_TRUE(StepUntilReady(clock, "alloc-tcp", true));
  listener.reset();
  EXPECT_TRUE(StepUntilReady(clock, "alloc-tcp", false));
}

TEST_F(AgentEndpointsTest, HttpReadinessBothWaysWithRealProcesses) {
  if (std::system("python3 -c 'import http.server' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3 is not installed";
  }
  auto agent = StartAgent();
  const char* serve = "exec python3 -m http.server \"$PORT\" --bind 127.0.0.1";
  auto good = TestAllocation("alloc-good", {"sh", "-c", serve});
  good.port = true;
  good.readiness = {model::ReadinessProbe::Kind::kHttp, "/"};
  auto bad = TestAllocation("alloc-bad", {"sh", "-c", serve});
  bad.port = true;
  bad.readiness = {model::ReadinessProbe::Kind::kHttp, "/missing"};  // 404 forever
  auto env = TestAllocation("alloc-env", {"sh", "-c", "echo \"PORT=$PORT\""});
  env.port = true;
  cp_->SetAllocations({good, bad, env});
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return cp_->replicas()["alloc-good"].ready; }))
      << cp_->replicas()["alloc-good"].message;
  auto seen = cp_->replicas();
  EXPECT_EQ(seen["alloc-bad"].state, "running");
  EXPECT_FALSE(seen["alloc-bad"].ready);
  EXPECT_EQ(seen["alloc-good"].endpoint.rfind("127.0.0.1:", 0), 0u) << seen["alloc-good"].endpoint;
  EXPECT_NE(seen["alloc-bad"].endpoint, seen["alloc-good"].endpoint);
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return !cp_->logs("alloc-env").empty(); }));
  const std::string endpoint = cp_->replicas()["alloc-env"].endpoint;
  EXPECT_EQ(cp_->logs("alloc-env"), "PORT=" + endpoint.substr(endpoint.find(':') + 1) + "\n");
}

TEST_F(AgentEndpointsTest, SimulatedGpuUtilizationComesFromTheReplicasFiles) {
  ManualClock clock;
  auto agent = StartFakeAgent(clock, "2xH100-80GB");
  auto a = TestAllocation("alloc-a", {"load"}, {Shared(0, 500)});
  auto b = TestAllocation("alloc-b", {"load"}, {Shared(0, 500)});
  auto c = TestAllocation("alloc-c", {"load"}, {Shared(1, 500)});
  auto cpu = TestAllocation("alloc-cpu", {"load"});
  cp_->SetAllocations({a, b, c, cpu});
  Step(clock, seconds(2));
  auto file = [&](const std::string& id) { return launched_->Find(id)->spec.env.at(kUtilEnv); };
  ASSERT_TRUE(launched_->Find("alloc-a") && launched_->Find("alloc-b") &&
              launched_->Find("alloc-c"));
  EXPECT_FALSE(launched_->Find("alloc-cpu")->spec.env.count(kUtilEnv));  // on no GPU
  EXPECT_EQ(file("alloc-a").front(), '/');  // absolute: the workload runs elsewhere
  Step(clock, seconds(2));
  ASSERT_EQ(cp_->gpus().size(), 2u);
  EXPECT_EQ(cp_->gpus()[0].utilization_pct, 0);  // nothing written
  std::ofstream(file("alloc-a")) << "70\n";
  Step(clock, seconds(2));
  EXPECT_EQ(cp_->gpus()[0].utilization_pct, 70);
  EXPECT_EQ(cp_->gpus()[1].utilization_pct, 0);
  std::ofstream(file("alloc-b")) << "45.5";
  std::ofstream(file("alloc-c")) << "not a number";
  Step(clock, seconds(2));
  EXPECT_EQ(cp_->gpus()[0].utilization_pct, 100);  // 70 + 46, clamped
  EXPECT_EQ(cp_->gpus()[1].utilization_pct, 0);
  ASSERT_TRUE(launched_->Exit("alloc-a", 0));  // an ended replica adds nothing
  Step(clock, seconds(2));
  EXPECT_EQ(cp_->gpus()[0].utilization_pct, 46);
}

}  // namespace
}  // namespace fastgpu::agent

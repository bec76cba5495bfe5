// The agent and its state file: it records an allocation durably before it starts it,
// starts nothing while it cannot (and says why in its replica report), and after a
// restart finds every workload it launched by allocation id, so an allocation never
// runs twice. Uses an in-process Agent against the fake control plane.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>
#include <thread>

#include "agent/agent.h"
#include "agent/fake_inventory.h"
#include "agent/files.h"
#include "agent/launcher.h"
#include "agent/state.h"
#include "agent/testing/fake_control_plane.h"
#include "agent/testing/fake_state_writer.h"
#include "common/testing/temp_dir.h"

namespace fastgpu {
namespace {

using testing::FakeControlPlane;
using testing::FakeStateWriter;
using testing::TestAllocation;

// Pids of the processes that lead their own process group and carry
// FASTGPU_ALLOCATION_ID=<id> with a work dir under `replicas_dir`: copies of the workload.
std::set<int> WorkloadCopies(const std::string& replicas_dir, const std::string& id) {
  std::set<int> pids;
  const std::string want_id = "FASTGPU_ALLOCATION_ID=" + id;
  const std::string want_dir = "FASTGPU_WORK_DIR=" + replicas_dir + "/" + id + "/work";
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return pids;
  while (struct dirent* e = readdir(proc)) {
    int pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    auto env = agent::ReadWholeFile(std::string("/proc/") + e->d_name + "/environ", 4 << 20);
    if (!env.ok()) continue;
    std::string text = std::string(1, '\0') + *env;
    if (text.find('\0' + want_id + '\0') == std::string::npos ||
        text.find('\0' + want_dir + '\0') == std::string::npos) {
      continue;
    }
    if (getpgid(pid) == pid) pids.insert(pid);
  }
  closedir(proc);
  return pids;
}

class AgentStateFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cp = FakeControlPlane::Start();
    ASSERT_TRUE(cp.ok()) << cp.status();
    cp_ = std::move(cp).value();
  }
  void TearDown() override {
    agent_.reset();
    for (const std::string& id : launched_ids_) {
      for (int pid : WorkloadCopies(Replicas(), id)) kill(-pid, SIGKILL);
    }
  }

  std::string Replicas() const { return dir_.path() + "/replicas"; }
  std::string StatePath() const { return dir_.path() + "/agent-state.json"; }

  // Starts the agent (replacing a running one, whose workloads keep running).
  void StartAgent(std::unique_ptr<agent::StateWriter> writer = nullptr) {
    agent_.reset();
    auto inv = agent::FakeGpuInventory::Create("1xH100-80GB", "state-fault");
    ASSERT_TRUE(inv.ok());
    agent::AgentOptions o;
    o.inventory = std::move(inv).value();
    o.launcher = agent::MakeShimLauncher();
    o.server_url = cp_->url();
    o.join_token = cp_->join_token();
    o.data_dir = dir_.path();
    o.name = "state-fault";
    o.heartbeat_interval = std::chrono::milliseconds(20);
    o.retry_interval = std::chrono::milliseconds(20);
    o.stop_grace = std::chrono::milliseconds(300);
    o.cgroup_root = "";
    o.state_writer = std::move(writer);
    agent_ = std::make_unique<agent::Agent>(std::move(o));
    Status st = agent_->Start();
    ASSERT_TRUE(st.ok()) << st;
  }

  // Waits for `n` more heartbeats to reach the control plane.
  bool Beats(int n) {
    int until = cp_->heartbeats() + n;
    return FakeControlPlane::WaitFor([&] { return cp_->heartbeats() >= until; });
  }
  FakeControlPlane::SeenReplica Seen(const std::string& id) {
    auto r = cp_->replicas();
    return r.count(id) ? r[id] : FakeControlPlane::SeenReplica{};
  }
  void Want(const std::string& id) {
    launched_ids_.insert(id);
    cp_->SetAllocations({TestAllocation(id, {"sleep", "30"})});
  }

  testing::TempDir dir_;
  std::unique_ptr<FakeControlPlane> cp_;
  std::unique_ptr<agent::Agent> agent_;
  std::set<std::string> launched_ids_;
};

// Blocks or unblocks the state file for every writer, root included: a directory where
// the temp file must be created makes open() fail with EISDIR.
void BlockStateFile(const std::string& state_path, bool block) {
  std::error_code ec;
  if (block) {
    // A save in flight holds <state>.tmp as a file until its rename: retry until the
    // folder is there, so that every save from now on fails.
    for (int i = 0; i < 1000 && !std::filesystem::is_directory(state_path + ".tmp/x", ec); ++i) {
      std::filesystem::create_directories(state_path + ".tmp/x", ec);
      if (ec) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  } else {
    std::filesystem::remove_all(state_path + ".tmp", ec);
  }
}

TEST_F(AgentStateFaultTest, FailingStateWriterStartsNothingSaysWhyAndRetries) {
  auto writer = std::make_unique<FakeStateWriter>(agent::MakeFileStateWriter(StatePath()));
  FakeStateWriter* fake = writer.get();
  StartAgent(std::move(writer));
  ASSERT_TRUE(Beats(2));
  fake->FailWith("No space left on device");
  Want("alloc-full");
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return Seen("alloc-full").state == "starting"; }));
  ASSERT_TRUE(Beats(10));
  EXPECT_EQ(Seen("alloc-full").state, "starting");
  EXPECT_NE(Seen("alloc-full").message.find("cannot record"), std::string::npos)
      << Seen("alloc-full").message;
  EXPECT_NE(Seen("alloc-full").message.find("No space left on device"), std::string::npos)
      << Seen("alloc-full").message;
  EXPECT_TRUE(WorkloadCopies(Replicas(), "alloc-full").empty());
  EXPECT_GT(fake->failures(), 0);

  fake->Heal();
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return Seen("alloc-full").state == "running"; }))
      << Seen("alloc-full").message;
  EXPECT_EQ(WorkloadCopies(Replicas(), "alloc-full").size(), 1u);
  int pid = Seen("alloc-full").pid;

  StartAgent();  // restart on the same data dir, the real state file
  ASSERT_TRUE(Beats(10));
  EXPECT_EQ(Seen("alloc-full").state, "running");
  EXPECT_EQ(Seen("alloc-full").pid, pid);
  EXPECT_EQ(WorkloadCopies(Replicas(), "alloc-full"), std::set<int>{pid});
}

// The fault's scenario: the state cannot be written, an allocation comes, the agent
// restarts (still unable to write), then the disk recovers and the agent restarts once
// more. While unrecorded no copy runs; at no point do two. `block(true/false)` makes
// the state folder or file unwritable and writable again.
class UnwritableStateTest : public AgentStateFaultTest {
 protected:
  void Run(const std::function<void(bool)>& block) {
    StartAgent();
    ASSERT_TRUE(Beats(2));  // registered, state saved
    block(true);
    Want("alloc-ro");
    ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return !Seen("alloc-ro").state.empty(); }));
    ASSERT_TRUE(Beats(5));
    EXPECT_EQ(Seen("alloc-ro").state, "starting") << Seen("alloc-ro").message;
    EXPECT_NE(Seen("alloc-ro").message.find("cannot record"), std::string::npos)
        << Seen("alloc-ro").message;
    EXPECT_TRUE(WorkloadCopies(Replicas(), "alloc-ro").empty());

    StartAgent();  // restart while the state is still unwritable
    ASSERT_TRUE(Beats(5));
    EXPECT_TRUE(WorkloadCopies(Replicas(), "alloc-ro").empty()) << "started without a record";

    block(false);
    ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return Seen("alloc-ro").state == "running"; }))
        << Seen("alloc-ro").message;
    int pid = Seen("alloc-ro").pid;
    EXPECT_EQ(WorkloadCopies(Replicas(), "alloc-ro"), std::set<int>{pid});

    StartAgent();
    ASSERT_TRUE(Beats(5));
    EXPECT_EQ(Seen("alloc-ro").pid, pid);
    EXPECT_EQ(WorkloadCopies(Replicas(), "alloc-ro"), std::set<int>{pid});
  }
};

TEST_F(UnwritableStateTest, StateFileThatCannotBeCreated) {
  Run([&](bool block) { BlockStateFile(StatePath(), block); });
}

TEST_F(UnwritableStateTest, ReadOnlyStateFolder) {
  if (geteuid() == 0) {
    GTEST_SKIP() << "root writes into a read-only (0555) folder; StateFileThatCannotBeCreated "
                    "and FailingStateWriterStartsNothingSaysWhyAndRetries cover this as root";
  }
  Run([&](bool block) { chmod(dir_.path().c_str(), block ? 0555 : 0755); });
}

// A replica recorded as "starting" whose pids never reached the state file (the agent
// died right after the launch): the restarted agent finds the workload by its
// allocation id and re-adopts it instead of starting a second copy.
TEST_F(AgentStateFaultTest, RestartReadoptsARecordedWorkloadWithoutPids) {
  const std::string id = "alloc-recorded";
  launched_ids_.insert(id);
  std::string rdir = Replicas() + "/" + id;
  std::filesystem::create_directories(rdir + "/work");
  agent::LaunchSpec spec;
  spec.argv = {"sleep", "30"};
  spec.env = {{"PATH", "/usr/bin:/bin"},
              {"FASTGPU_ALLOCATION_ID", id},
              {"FASTGPU_WORK_DIR", rdir + "/work"}};
  spec.work_dir = rdir + "/work";
  spec.log_path = rdir + "/output.log";
  spec.status_path = rdir + "/exit-status";
  auto handle = agent::MakeShimLauncher()->Launch(spec);
  ASSERT_TRUE(handle.ok()) << handle.status();
  agent::AgentState st;
  st.agent_id = "agent-recorded";
  agent::ReplicaRecord rec;
  rec.desired = TestAllocation(id, {"sleep", "30"});
  rec.state = "starting";
  rec.dir = rdir;
  st.replicas.push_back(rec);
  ASSERT_TRUE(agent::SaveAgentState(StatePath(), st).ok());

  cp_->SetAllocations({TestAllocation(id, {"sleep", "30"})});
  StartAgent();
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] { return Seen(id).state == "running"; }))
      << Seen(id).state << ": " << Seen(id).message;
  ASSERT_TRUE(Beats(5));
  EXPECT_EQ(Seen(id).pid, handle->pid);
  EXPECT_EQ(WorkloadCopies(Replicas(), id), std::set<int>{handle->pid});
}

// Workloads the state file does not name at all: one still desired is adopted (not
// started again), one no longer desired is stopped.
TEST_F(AgentStateFaultTest, RestartAdoptsOrStopsWorkloadsMissingFromTheState) {
  auto launch = [&](const std::string& id) {
    launched_ids_.insert(id);
    std::string rdir = Replicas() + "/" + id;
    std::filesystem::create_directories(rdir + "/work");
    agent::LaunchSpec spec;
    spec.argv = {"sleep", "30"};
    spec.env = {{"PATH", "/usr/bin:/bin"},
                {"FASTGPU_ALLOCATION_ID", id},
                {"FASTGPU_WORK_DIR", rdir + "/work"}};
    spec.work_dir = rdir + "/work";
    spec.log_path = rdir + "/output.log";
    spec.status_path = rdir + "/exit-status";
    auto h = agent::MakeShimLauncher()->Launch(spec);
    EXPECT_TRUE(h.ok()) << h.status();
    return h.ok() ? h->pid : 0;
  };
  int wanted = launch("alloc-wanted");
  int stray = launch("alloc-stray");
  ASSERT_GT(wanted, 0);
  ASSERT_GT(stray, 0);
  cp_->SetAllocations({TestAllocation("alloc-wanted", {"sleep", "30"})});
  StartAgent();
  ASSERT_TRUE(FakeControlPlane::WaitFor([&] {
    return WorkloadCopies(Replicas(), "alloc-stray").empty();
  })) << "the workload no longer desired was not stopped";
  ASSERT_TRUE(Beats(5));
  EXPECT_EQ(Seen("alloc-wanted").state, "running");
  EXPECT_EQ(Seen("alloc-wanted").pid, wanted);
  EXPECT_EQ(WorkloadCopies(Replicas(), "alloc-wanted"), std::set<int>{wanted});
}

}  // namespace
}  // namespace fastgpu

// A full disk under the control plane's store: heartbeats still keep the nodes' leases
// (judged on what the server received, not on what it could store), writes answer 503
// "the control plane's disk is full; retry later", and once space returns no node is
// lost and no job failed. In-process with a FaultyStore, and (as root) with the real
// `fastgpu server` on a small tmpfs filled up. Also: an exception thrown inside a pass
// does not end the reconciler thread.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "server/server_test_util.h"
#include "store/faulty_store.h"
#include "store/sqlite_db.h"
#include "tests/fault_process.h"
#include "tests/server_process.h"

namespace fastgpu::server::testing {
namespace {

using fastgpu::testing::ChildProcess;
using fastgpu::testing::JsonClient;
using fastgpu::testing::ListeningUrl;
using fastgpu::testing::ReadText;
using fastgpu::testing::StartFastgpu;
using fastgpu::testing::WaitUntil;

std::string JobState(TestControlPlane& cp, const std::string& id) {
  return cp.Do("GET", "/v1/jobs/" + id, cp.admin()).Str("state");
}

TEST(DiskFullTest, SqliteFullAndEnospcAreUnavailableWithAClearMessage) {
  Status full = store::SqliteStatus(SQLITE_FULL, nullptr, "commit");
  EXPECT_EQ(full.code(), StatusCode::kUnavailable) << full;
  EXPECT_NE(full.message().find("disk is full; retry later"), std::string::npos) << full;
  EXPECT_EQ(HttpStatusFor(full.code()), 503);
  Status io = store::SqliteStatus(SQLITE_IOERR_WRITE, nullptr, "commit");
  EXPECT_EQ(io.code(), StatusCode::kUnavailable) << io;
  EXPECT_EQ(store::SqliteStatus(SQLITE_CORRUPT, nullptr, "x").code(), StatusCode::kInternal);
}

TEST(DiskFullTest, HeartbeatsDuringTheFaultKeepLeasesAndSubmitsGet503) {
  auto owned = std::make_unique<store::FaultyStore>(store::NewMemoryStore());
  store::FaultyStore* store = owned.get();
  TestControlPlane cp(std::move(owned));  // lease: the default 15 s
  SimAgent a(cp, "a", 1), b(cp, "b", 1);
  std::vector<std::string> jobs;
  for (int i = 0; i < 2; ++i) {
    Reply r = cp.Do("POST", "/v1/jobs", cp.admin(), R"({"command":["sleep","99"],
        "shape":{"gpu_count":1,"cpu_milli":1000},"max_retries":0})");
    ASSERT_EQ(r.status, 201) << r.raw;
    jobs.push_back(r.Str("id"));
  }
  cp.Reconcile();
  for (SimAgent* agent : {&a, &b}) {
    json::array running;
    for (const auto& id : agent->Allocations(agent->Heartbeat())) {
      running.push_back(ReplicaReportJson(id, "running"));
    }
    ASSERT_EQ(agent->Heartbeat(running).status, 200);
  }
  cp.Reconcile();
  for (const auto& id : jobs) ASSERT_EQ(JobState(cp, id), "running");

  store->FailWrites();
  int refused = 0;
  for (int i = 0; i < 20; ++i) {  // 40 s of full disk, well past the 15 s lease
    cp.clock().Advance(std::chrono::seconds(2));
    for (SimAgent* agent : {&a, &b}) {
      Reply hb = agent->Heartbeat();
      EXPECT_EQ(hb.status, 503) << hb.raw;
      EXPECT_NE(hb.raw.find("disk is full; retry later"), std::string::npos) << hb.raw;
    }
    if (i % 5 == 0) {
      Reply submit = cp.Do("POST", "/v1/jobs", cp.admin(),
                           R"({"command":["true"],"shape":{"cpu_milli":100}})");
      EXPECT_EQ(submit.status, 503) << submit.raw;
      EXPECT_NE(submit.raw.find("disk is full"), std::string::npos) << submit.raw;
      ++refused;
    }
    cp.server().reconciler().RunOnce().status().IgnoreError();  // writes fail; no matter
  }
  EXPECT_EQ(refused, 4);
  EXPECT_GT(store->failed_writes(), 40);

  store->ClearFault();
  auto pass = cp.server().reconciler().RunOnce();  // before any agent heartbeats again
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->nodes_lost, 0);
  EXPECT_EQ(pass->failed, 0);
  EXPECT_EQ(pass->requeued, 0);
  Reply nodes = cp.Do("GET", "/v1/nodes", cp.admin());
  for (const auto& n : nodes.body.at("nodes").as_array()) {
    EXPECT_EQ(n.at("state").as_string(), "ready") << nodes.raw;
  }
  for (const auto& id : jobs) EXPECT_EQ(JobState(cp, id), "running");
  EXPECT_EQ(a.Heartbeat().status, 200);
  EXPECT_EQ(
      cp.Do("POST", "/v1/jobs", cp.admin(), R"({"command":["true"],"shape":{"cpu_milli":100}})")
          .status,
      201);
}

// A store whose reads throw once armed (a bug, or a library's exception).
class ThrowingStore : public store::Store {
 public:
  ThrowingStore() : inner_(store::NewMemoryStore()) {}
  Status Write(std::function<Status(store::WriteTx&)> fn) override {
    return inner_->Write(std::move(fn));
  }
  Status Read(std::function<Status(store::ReadTx&)> fn) override {
    if (armed_) {
      ++thrown_;
      throw std::runtime_error("injected");
    }
    return inner_->Read(std::move(fn));
  }
  std::string_view Kind() const override { return "throwing"; }
  std::atomic<bool> armed_{false};
  std::atomic<int> thrown_{0};

 private:
  std::unique_ptr<store::Store> inner_;
};

TEST(ReconcilerThreadTest, AnExceptionInAPassDoesNotEndTheLoop) {
  ThrowingStore store;
  ManualClock clock;
  SequentialIdGenerator ids;
  Metrics metrics;
  ReconcilerOptions opts;
  opts.interval = std::chrono::milliseconds(60);
  auto r = Reconciler::Create(store, clock, ids, metrics, opts);
  ASSERT_TRUE(r.ok()) << r.status();
  store.armed_ = true;
  (*r)->Start();
  // The thread waits on the manual clock between passes: each advance past the interval
  // lets one more pass run.
  for (int i = 0; i < 10 && store.thrown_ < 3; ++i) {
    ASSERT_TRUE(clock.AwaitWaiters(1));
    clock.Advance(opts.interval);
  }
  EXPECT_TRUE(WaitUntil([&] { return store.thrown_ >= 3; }, std::chrono::seconds(10)));
  store.armed_ = false;  // and passes work again
  (*r)->Stop();
  EXPECT_TRUE((*r)->RunOnce().ok());
}

// ---- the real server on a small tmpfs, filled up ----

class TmpfsMount {
 public:
  explicit TmpfsMount(const std::string& path) : path_(path) {
    std::filesystem::create_directories(path);
    mounted_ = ::mount("tmpfs", path.c_str(), "tmpfs", 0, "size=8m,mode=0700") == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string path_;
  bool mounted_ = false;
  std::string error_;
};

// Writes to `path` until the file system is full; returns the bytes written.
int64_t FillUp(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return -1;
  std::string chunk(64 * 1024, 'x');
  int64_t total = 0;
  for (;;) {
    ssize_t n = ::write(fd, chunk.data(), chunk.size());
    if (n <= 0) break;
    total += n;
  }
  for (;;) {  // the last pages
    ssize_t n = ::write(fd, chunk.data(), 512);
    if (n <= 0) break;
    total += n;
  }
  ::close(fd);
  return total;
}

TEST(DiskFullTest, RealServerOnAFullTmpfsAnswers503AndLosesNoNode) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs";
  fastgpu::testing::TempDir dir;
  const std::string cp_dir = dir.path() + "/cp";
  TmpfsMount tmpfs(cp_dir);
  if (!tmpfs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here: " << tmpfs.error();

  const std::string server_log = dir.path() + "/server.log";
  ChildProcess server = StartFastgpu({"server", "--listen", "127.0.0.1:0", "--data-dir", cp_dir,
                                      "--node-timeout", "2", "--heartbeat-interval", "0.3"},
                                     server_log);
  ASSERT_TRUE(WaitUntil([&] { return !ListeningUrl(server_log).empty(); })) << ReadText(server_log);
  const std::string url = ListeningUrl(server_log);
  const std::string admin = fastgpu::testing::ReadFirstLine(cp_dir + "/admin.token");
  const std::string join = fastgpu::testing::ReadFirstLine(cp_dir + "/join.token");
  JsonClient api(url, admin);
  const std::string agent_dir = dir.path() + "/agent";
  ChildProcess agent = StartFastgpu(
      {"agent", "--server", url, "--join-token", join, "--data-dir", agent_dir, "--simulate-gpus",
       "1xH100-80GB", "--name", "n1", "--cgroup-root", "", "--stop-grace", "1",
       "--kill-workloads-on-exit", "--no-sandbox"},  // the job reads a file of the test's temp dir
      dir.path() + "/agent.log");
  auto node_state = [&] {
    auto r = api.Do("GET", "/v1/nodes");
    if (r.status != 200 || r.body.at("nodes").as_array().empty()) return std::string();
    return std::string(r.body.at("nodes").as_array()[0].at("state").as_string());
  };
  ASSERT_TRUE(WaitUntil([&] { return node_state() == "ready"; }))
      << ReadText(dir.path() + "/agent.log");
  const std::string release = dir.path() + "/release";
  auto job = api.Do("POST", "/v1/jobs",
                    R"({"command":["sh","-c","while [ ! -f )" + release +
                        R"( ]; do sleep 0.05; done"],"shape":{"gpu_count":1},"max_retries":0})");
  ASSERT_EQ(job.status, 201) << job.raw;
  const std::string job_id = job.Str("id");
  auto job_state = [&] { return api.Do("GET", "/v1/jobs/" + job_id).Str("state"); };
  ASSERT_TRUE(WaitUntil([&] { return job_state() == "running"; })) << job_state();

  const std::string filler = cp_dir + "/filler";
  ASSERT_GT(FillUp(filler), 0);
  int got503 = 0;
  for (int i = 0; i < 5; ++i) {
    auto r = api.Do("POST", "/v1/jobs", R"({"command":["true"],"shape":{"cpu_milli":100}})");
    EXPECT_TRUE(r.status == 503 || r.status == 201) << r.status << " " << r.raw;
    if (r.status == 503) {
      ++got503;
      EXPECT_NE(r.raw.find("disk is full; retry later"), std::string::npos) << r.raw;
    }
  }
  EXPECT_GT(got503, 0) << "no write failed on a full disk";
  // Twice the lease with the disk full: heartbeats cannot be stored.
  std::this_thread::sleep_for(std::chrono::milliseconds(4500));
  EXPECT_EQ(node_state(), "ready");
  std::filesystem::remove(filler);
  // Space is back: the next passes and heartbeats find a live node and a running job.
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  EXPECT_EQ(node_state(), "ready") << ReadText(server_log);
  EXPECT_EQ(job_state(), "running") << api.Do("GET", "/v1/jobs/" + job_id).raw;
  EXPECT_EQ(api.Do("POST", "/v1/jobs", R"({"command":["true"],"shape":{"cpu_milli":100}})").status,
            201);
  std::ofstream(release) << "go";
  EXPECT_TRUE(WaitUntil([&] { return job_state() == "succeeded"; })) << job_state();
  EXPECT_EQ(ReadText(server_log).find("lost"), std::string::npos) << ReadText(server_log);
  agent.Stop({SIGTERM});
  server.Stop({SIGTERM});
}

}  // namespace
}  // namespace fastgpu::server::testing

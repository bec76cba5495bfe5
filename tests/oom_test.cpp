// Replica limits end to end under `fastgpu up --simulate-gpus 1xH100-80GB` on this host's
// real cgroups (v1 or v2): a job that allocates past `--memory 64Mi` ends failed with
// OOMKilled (in `job get`, `job list` and the API), and a job with `--cpu 500m` runs in a
// group whose CPU quota is half a core, removed when the job ends. Skips when not root or
// when the host has no usable cgroups.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "agent/cgroup.h"
#include "common/testing/temp_dir.h"
#include "tests/json_output.h"
#include "tests/test_util.h"
#include "tests/up_process.h"

namespace fastgpu::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

class OomTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (cgroups)";
    cgroups_ = agent::Cgroups::Probe("/sys/fs/cgroup");
    if (!cgroups_.enabled()) GTEST_SKIP() << cgroups_.note();
    up_ = std::make_unique<UpProcess>(
        std::vector<std::string>{"--log-level", "info", "up", "--data-dir", dir_.path(),
                                 "--simulate-gpus", "1xH100-80GB"},
        dir_.path() + "/up.log");
    ASSERT_TRUE(up_->ok()) << up_->output();
    std::string token = ReadFile(dir_.path() + "/admin.token");
    token = token.substr(0, token.find('\n'));
    flags_ = " --server " + up_->url() + " --token " + token;
  }

  void TearDown() override {
    if (up_ != nullptr) up_->Stop(SIGTERM);
    // Workloads outlive `fastgpu up` by design: end what a failed test left behind.
    for (const std::string& id : allocations_) {
      cgroups_.Kill(id);
      cgroups_.Remove(id);
    }
  }

  std::string Submit(const std::string& args, const std::string& command) {
    CommandResult r = RunFastgpu("job submit -o json " + args + flags_ + " -- " + command);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    json::value v = JsonOutput(r);
    return v.is_object() ? std::string(v.at("id").as_string()) : "";
  }

  // `job get -o json` once the job is in `state` (up to 60 s); null when it never is.
  json::value WaitFor(const std::string& id, const std::string& state) {
    std::string last;
    for (int i = 0; i < 600; ++i) {
      CommandResult r = RunFastgpu("job get -o json " + id + flags_);
      last = r.output;
      if (r.exit_code == 0) {
        json::value v = JsonOutput(r);
        if (v.is_object() && v.at("state").as_string() == state) return v;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << id << " never reached " << state << ": " << last << "\n" << up_->output();
    return nullptr;
  }

  TempDir dir_;
  agent::Cgroups cgroups_;
  std::unique_ptr<UpProcess> up_;
  std::string flags_;
  std::vector<std::string> allocations_;  // seen by the test
};

TEST_F(OomTest, AJobPastItsMemoryLimitEndsOomKilled) {
  // tail keeps the whole 300 MiB "line" in memory; the pipeline exits 137 when the OOM
  // killer ends tail.
  std::string id = Submit("--gpu 0.1 --memory 64Mi --name hog",
                          "sh -c 'head -c 300M /dev/zero | tail >/dev/null'");
  ASSERT_FALSE(id.empty());
  json::value job = WaitFor(id, "failed");
  ASSERT_TRUE(job.is_object());
  std::string reason(job.at("reason").as_string());
  EXPECT_NE(reason.find("OOMKilled: exceeded its memory limit of 64 MiB"), std::string::npos)
      << reason;
  const json::array& allocs = job.at("allocations").as_array();
  ASSERT_EQ(allocs.size(), 1u);
  EXPECT_EQ(allocs[0].at("ended").as_string(), "OOMKilled") << json::serialize(allocs[0]);
  EXPECT_EQ(std::string(allocs[0].at("message").as_string()).rfind("OOMKilled: ", 0), 0u)
      << json::serialize(allocs[0]);

  CommandResult get = RunFastgpu("job get " + id + flags_);
  EXPECT_NE(get.output.find("OOMKilled"), std::string::npos) << get.output;
  CommandResult list = RunFastgpu("job list" + flags_);
  EXPECT_NE(list.output.find("OOMKilled: exceeded its memory limit of 64 MiB"), std::string::npos)
      << list.output;
  // The group was read, then removed.
  std::string alloc_id(allocs[0].at("allocation_id").as_string());
  allocations_.push_back(alloc_id);
  EXPECT_FALSE(fs::exists(cgroups_.Dir(alloc_id, "memory")));
}

TEST_F(OomTest, AJobRunsInAGroupWithItsCpuQuota) {
  std::string id = Submit("--gpu 0.1 --cpu 500m --memory 128Mi --name quota", "sleep 120");
  ASSERT_FALSE(id.empty());
  json::value job = WaitFor(id, "running");
  ASSERT_TRUE(job.is_object());
  std::string alloc_id(job.at("allocations").as_array()[0].at("allocation_id").as_string());
  allocations_.push_back(alloc_id);
  std::string cpu = cgroups_.Dir(alloc_id, "cpu"), memory = cgroups_.Dir(alloc_id, "memory");
  if (cgroups_.version() == agent::CgroupVersion::kV1) {
    EXPECT_EQ(ReadFile(cpu + "/cpu.cfs_quota_us"), "50000\n");
    EXPECT_EQ(ReadFile(cpu + "/cpu.cfs_period_us"), "100000\n");
    EXPECT_EQ(ReadFile(memory + "/memory.limit_in_bytes"), std::to_string(128 << 20) + "\n");
  } else {
    EXPECT_EQ(ReadFile(cpu + "/cpu.max"), "50000 100000\n");
    EXPECT_EQ(ReadFile(memory + "/memory.max"), std::to_string(128 << 20) + "\n");
  }
  // The workload (and only it: not the shim) is in every hierarchy's group.
  for (const std::string& procs : cgroups_.ProcsFiles(alloc_id)) {
    EXPECT_FALSE(ReadFile(procs).empty()) << procs;
  }
  CommandResult cancel = RunFastgpu("job cancel " + id + flags_);
  EXPECT_EQ(cancel.exit_code, 0) << cancel.output;
  bool gone = false;
  for (int i = 0; i < 300 && !gone; ++i) {
    gone = !fs::exists(cpu) && !fs::exists(memory);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(gone) << "the group is still there after the job was cancelled";
}

}  // namespace
}  // namespace fastgpu::testing

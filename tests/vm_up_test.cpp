// vm isolation end to end (label "vm"): `fastgpu up --simulate-gpus 1xH100-80GB` booting
// busybox guests under QEMU's software emulation; `job submit --isolation vm` runs the
// command in the guest, `job logs` shows its output (the guest reads its DMI vendor: QEMU)
// and the job ends with the guest's exit code; cancel destroys the guest; an agent restart
// (of `up`) re-adopts a running guest; a missing guest fails the replica with the reason.
// Skips where QEMU, libvirt or a kernel is missing.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "agent/libvirt.h"
#include "agent/vm_domain.h"
#include "common/testing/temp_dir.h"
#include "tests/json_output.h"
#include "tests/test_util.h"
#include "tests/up_process.h"
#include "tests/vm_test_util.h"

namespace fastgpu::testing {
namespace {

namespace json = boost::json;

class VmUpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host_ = &PrepareVmHost();
    if (!host_->skip.empty()) GTEST_SKIP() << host_->skip;
    Start();
  }
  void TearDown() override {
    if (up_ != nullptr) up_->Stop(SIGTERM);
    // Guests outlive `up` like any workload: destroy what a failed test left.
    if (auto hv = agent::OpenLibvirt(host_->uri); hv.ok()) {
      for (const std::string& id : allocations_) {
        (*hv)->Destroy(agent::VmDomainName(id)).IgnoreError();
      }
    }
  }
  void Start(const std::string& kernel = "") {
    up_ = std::make_unique<UpProcess>(
        std::vector<std::string>{"--log-level", "info", "up", "--data-dir", dir_.path(),
                                 "--simulate-gpus", "1xH100-80GB", "--vm-kernel",
                                 kernel.empty() ? host_->kernel : kernel, "--vm-initrd",
                                 host_->initrd, "--vm-domain-type", "qemu"},
        dir_.path() + "/up.log");
    ASSERT_TRUE(up_->ok()) << up_->output();
    std::string token = ReadFile(dir_.path() + "/admin.token");
    token = token.substr(0, token.find('\n'));
    flags_ = " --server " + up_->url() + " --token " + token;
  }
  std::string Submit(const std::string& command) {
    CommandResult r =
        RunFastgpu("job submit -o json --gpu 1 --isolation vm --cpu 1 --memory 256Mi" + flags_ +
                   " -- " + command);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    json::value v = JsonOutput(r);
    return v.is_object() ? std::string(v.at("id").as_string()) : "";
  }
  // `job get -o json` once the job is in `state` (up to `secs`); null when it never is.
  json::value WaitFor(const std::string& id, const std::string& state, int secs = 150) {
    std::string last;
    for (int i = 0; i < secs * 5; ++i) {
      CommandResult r = RunFastgpu("job get -o json " + id + flags_);
      last = r.output;
      if (r.exit_code == 0) {
        json::value v = JsonOutput(r);
        if (v.is_object()) {
          const json::array& a = v.at("allocations").as_array();
          if (!a.empty()) allocations_.insert(std::string(a[0].at("allocation_id").as_string()));
          if (v.at("state").as_string() == state) return v;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << id << " never reached " << state << ": " << last << "\n" << up_->output();
    return nullptr;
  }
  std::string Logs(const std::string& id) { return RunFastgpu("job logs " + id + flags_).output; }
  bool GuestRuns(const std::string& allocation) {
    auto hv = agent::OpenLibvirt(host_->uri);
    return hv.ok() && (*hv)->Running(agent::VmDomainName(allocation)).value_or(false);
  }

  const VmHost* host_ = nullptr;
  TempDir dir_;
  std::unique_ptr<UpProcess> up_;
  std::string flags_;
  std::set<std::string> allocations_;
};

TEST_F(VmUpTest, JobRunsInAGuestWithItsOutputAndExitCode) {
  auto t0 = std::chrono::steady_clock::now();
  std::string id = Submit("sh -c 'echo in-guest; cat /sys/class/dmi/id/sys_vendor; exit 3'");
  ASSERT_FALSE(id.empty());
  json::value job = WaitFor(id, "failed");
  ASSERT_TRUE(job.is_object());
  std::printf("submit to end of a vm job: %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  EXPECT_NE(json::serialize(job).find("exit 3"), std::string::npos) << json::serialize(job);
  std::string logs = Logs(id);
  EXPECT_NE(logs.find("in-guest\nQEMU"), std::string::npos) << logs;
  for (const std::string& a : allocations_) EXPECT_FALSE(GuestRuns(a)) << a;
}

TEST_F(VmUpTest, CancelDestroysTheGuestAndRestartReadoptsIt) {
  std::string id = Submit("sh -c 'echo guest-up; sleep 600'");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitFor(id, "running").is_object());
  ASSERT_EQ(allocations_.size(), 1u);
  const std::string alloc = *allocations_.begin();
  // Wait for the guest's first output.
  for (int i = 0; i < 600 && Logs(id).find("guest-up") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_NE(Logs(id).find("guest-up"), std::string::npos) << up_->output();
  EXPECT_TRUE(GuestRuns(alloc));
  // Restart `up` (its agent): the guest keeps running and is re-adopted.
  EXPECT_EQ(up_->Stop(SIGTERM), 0);
  EXPECT_TRUE(GuestRuns(alloc));
  Start();
  ASSERT_TRUE(WaitFor(id, "running").is_object());
  EXPECT_TRUE(GuestRuns(alloc));
  // Cancel: the guest is destroyed and the job ends cancelled.
  CommandResult c = RunFastgpu("job cancel " + id + flags_);
  EXPECT_EQ(c.exit_code, 0) << c.output;
  ASSERT_TRUE(WaitFor(id, "cancelled", 60).is_object());
  for (int i = 0; i < 100 && GuestRuns(alloc); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_FALSE(GuestRuns(alloc));
}

TEST_F(VmUpTest, MissingGuestKernelFailsTheReplicaWithTheReason) {
  up_->Stop(SIGTERM);
  Start(dir_.path() + "/no-such-kernel");
  std::string id = Submit("true");
  ASSERT_FALSE(id.empty());
  json::value job = WaitFor(id, "failed", 60);
  ASSERT_TRUE(job.is_object());
  EXPECT_NE(json::serialize(job).find("does not exist (--vm-kernel)"), std::string::npos)
      << json::serialize(job);
}

}  // namespace
}  // namespace fastgpu::testing

// A real guest under QEMU through libvirt (label "vm"): the domain builder's XML boots a
// Debian kernel with a busybox initramfs, the guest runs the job's command, and the runner
// hands back its output and exit code. Skips where QEMU, libvirt or a kernel is missing.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "agent/libvirt.h"
#include "agent/vm_domain.h"
#include "agent/vm_leftovers.h"
#include "agent/vm_runner.h"
#include "common/testing/child_process.h"
#include "common/testing/temp_dir.h"
#include "tests/vm_test_util.h"

namespace fastgpu::agent {
namespace {

using testing::ReadFile;
using testing::TempDir;

// Software emulation: hermetic, and a /dev/kvm of a nested host may exist and not work.
std::string DomainType() { return "qemu"; }

// A run of `command` in a fresh guest, its files in `dir`.
VmRun MakeRun(const testing::VmHost& host, const std::string& dir, const std::string& id,
              const std::vector<std::string>& command) {
  VmDomainSpec spec;
  spec.name = VmDomainName(id);
  spec.allocation_id = id;
  spec.domain_type = DomainType();
  spec.memory_mib = 256;
  spec.kernel = host.kernel;
  spec.initrd = host.initrd;
  std::string payload = Base64Encode(GuestScript(command, {{"GREETING", "it's a guest"}}));
  spec.kernel_args = GuestKernelArgs("n0nce" + id, payload);
  spec.console_path = dir + "/console.log";
  spec.output_path = dir + "/output.log";
  Result<std::string> xml = BuildDomainXml(spec);
  EXPECT_TRUE(xml.ok()) << xml.status().message();
  int fd = ::open((dir + "/domain.xml").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  EXPECT_EQ(::write(fd, xml->data(), xml->size()), static_cast<ssize_t>(xml->size()));
  ::close(fd);
  return VmRun{host.uri,         spec.name,         dir + "/domain.xml",
               spec.output_path, spec.console_path, "n0nce" + id};
}

class VmGuestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host_ = &testing::PrepareVmHost();
    if (!host_->skip.empty()) GTEST_SKIP() << host_->skip;
    auto hv = OpenLibvirt(host_->uri);
    ASSERT_TRUE(hv.ok()) << hv.status().message();
    hv_ = std::move(hv).value();
  }
  const testing::VmHost* host_ = nullptr;
  std::unique_ptr<Hypervisor> hv_;
};

TEST_F(VmGuestTest, GuestRunsTheCommandAndReportsItsOutputAndExitCode) {
  TempDir dir;
  VmRun run = MakeRun(*host_, dir.path(), "vmguest1",
                      {"sh", "-c",
                       "echo \"hello from $GREETING\"; cat /sys/class/dmi/id/sys_vendor; "
                       "printf no-newline; exit 7"});
  int out = ::open((dir.path() + "/out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int err = ::open((dir.path() + "/err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::atomic<bool> stop{false};
  auto t0 = std::chrono::steady_clock::now();
  int code = RunVm(run, *hv_, out, err, stop);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(out);
  ::close(err);
  std::string output = ReadFile(dir.path() + "/out");
  EXPECT_EQ(code, 7) << output << ReadFile(dir.path() + "/err");
  EXPECT_EQ(output, "hello from it's a guest\nQEMU\nno-newline") << ReadFile(dir.path() + "/err");
  // Nothing is left: the domain is gone, and so are its serial files.
  EXPECT_FALSE(hv_->Running(run.name).value_or(true));
  EXPECT_NE(::access(run.output_path.c_str(), F_OK), 0);
  EXPECT_NE(::access(run.console_path.c_str(), F_OK), 0);
  std::printf("boot-to-exit of a %s guest: %.1f s\n", DomainType().c_str(), secs);
}

TEST_F(VmGuestTest, StopDestroysTheDomain) {
  TempDir dir;
  VmRun run = MakeRun(*host_, dir.path(), "vmguest2", {"sh", "-c", "echo started; sleep 600"});
  int out = ::open((dir.path() + "/out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::atomic<bool> stop{false};
  int code = 0;
  std::thread runner([&] { code = RunVm(run, *hv_, out, out, stop); });
  // Wait until the guest's command runs, then stop it.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (ReadFile(dir.path() + "/out").find("started") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(ReadFile(dir.path() + "/out").find("started"), std::string::npos);
  EXPECT_TRUE(hv_->Running(run.name).value_or(false));
  auto t0 = std::chrono::steady_clock::now();
  stop = true;
  runner.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(out);
  EXPECT_EQ(code, -1);
  EXPECT_FALSE(hv_->Running(run.name).value_or(true));
  EXPECT_NE(::access(run.output_path.c_str(), F_OK), 0);
  std::printf("stop (destroy) of a running guest: %.2f s\n", secs);
}

TEST_F(VmGuestTest, RefusedDomainFailsWithLibvirtsReason) {
  TempDir dir;
  VmRun run = MakeRun(*host_, dir.path(), "vmguest3", {"true"});
  // The kernel path does not exist: libvirt refuses the domain, the runner says why.
  std::string xml = ReadFile(run.xml_path);
  size_t at = xml.find(host_->kernel);
  xml.replace(at, host_->kernel.size(), dir.path() + "/no-such-kernel");
  int fd = ::open(run.xml_path.c_str(), O_WRONLY | O_TRUNC);
  ASSERT_EQ(::write(fd, xml.data(), xml.size()), static_cast<ssize_t>(xml.size()));
  ::close(fd);
  int err = ::open((dir.path() + "/err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::atomic<bool> stop{false};
  EXPECT_EQ(RunVm(run, *hv_, err, err, stop), kVmRunFailed);
  ::close(err);
  EXPECT_NE(ReadFile(dir.path() + "/err").find("libvirt refused the domain"), std::string::npos)
      << ReadFile(dir.path() + "/err");
  EXPECT_FALSE(hv_->Running(run.name).value_or(true));
}

// At an agent's start its guests of replicas it no longer runs are destroyed with their
// serial files; those it re-adopts stay, and so do other agents' (another replica folder).
TEST_F(VmGuestTest, LeftoverGuestsOfThisAgentAreDestroyed) {
  TempDir dir;
  const std::string replicas = dir.path() + "/replicas";
  auto start = [&](const std::string& id) {
    const std::string rdir = replicas + "/" + id;
    std::filesystem::create_directories(rdir);
    VmDomainSpec spec;
    spec.name = VmDomainName(id);
    spec.allocation_id = id;
    spec.domain_type = DomainType();
    spec.memory_mib = 128;
    spec.kernel = host_->kernel;
    spec.initrd = host_->initrd;
    spec.kernel_args = GuestKernelArgs("n0nce", Base64Encode(GuestScript({"sleep", "600"}, {})));
    spec.console_path = rdir + "/vm-console.log";
    spec.output_path = rdir + "/vm-serial.log";
    Result<std::string> xml = BuildDomainXml(spec);
    ASSERT_TRUE(xml.ok()) << xml.status().message();
    ASSERT_TRUE(hv_->Start(*xml).ok());
  };
  start("vmleft-gone");
  start("vmleft-kept");
  VmOptions vm;
  EXPECT_TRUE(hv_->Running(VmDomainName("vmleft-gone")).value_or(false));
  // Another agent's folder: none of these is its own.
  vm.libvirt_uri = host_->uri;
  EXPECT_TRUE(DestroyLeftoverDomains(vm, dir.path() + "/other", {}).empty());
  std::vector<std::string> destroyed = DestroyLeftoverDomains(vm, replicas, {"vmleft-kept"});
  EXPECT_EQ(destroyed, std::vector<std::string>{VmDomainName("vmleft-gone")});
  EXPECT_FALSE(hv_->Running(VmDomainName("vmleft-gone")).value_or(true));
  EXPECT_NE(::access((replicas + "/vmleft-gone/vm-serial.log").c_str(), F_OK), 0);
  EXPECT_NE(::access((replicas + "/vmleft-gone/vm-console.log").c_str(), F_OK), 0);
  EXPECT_TRUE(hv_->Running(VmDomainName("vmleft-kept")).value_or(false));
  EXPECT_TRUE(hv_->Destroy(VmDomainName("vmleft-kept")).ok());
}

}  // namespace
}  // namespace fastgpu::agent

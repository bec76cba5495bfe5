#include "agent/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "agent/file_env.h"
#include "common/clock.h"
#include "common/testing/temp_dir.h"

namespace fastgpu::agent {
namespace {

namespace fs = std::filesystem;

std::string Read(const std::string& path) { return testing::ReadFile(path); }

// ---- Hermetic tests: cgroup file systems stood in for by plain folders. ----

TEST(CgroupTest, WritesV2LimitsUnderAWritableHierarchy) {
  testing::TempDir root;  // stands in for a cgroup v2 mount
  std::ofstream(root.path() + "/cgroup.controllers") << "cpuset cpu io memory pids\n";
  std::ofstream(root.path() + "/cgroup.subtree_control") << "cpu memory\n";
  Cgroups c = Cgroups::Probe(root.path());
  ASSERT_TRUE(c.enabled()) << c.note();
  EXPECT_EQ(c.version(), CgroupVersion::kV2);
  EXPECT_EQ(Read(root.path() + "/cgroup.subtree_control"), "+cpu +memory +pids");
  EXPECT_EQ(Read(root.path() + "/fastgpu/cgroup.subtree_control"), "+cpu +memory +pids");
  EXPECT_NE(c.note().find("cgroup v2 limits (cpu, memory, pids"), std::string::npos) << c.note();
  auto name = c.Create("alloc-1", {1500, 2048, 100, std::nullopt});
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(*name, "alloc-1");
  std::string dir = root.path() + "/fastgpu/alloc-1";
  EXPECT_EQ(c.Dir("alloc-1", "memory"), dir);
  EXPECT_EQ(c.ProcsFiles("alloc-1"), std::vector<std::string>{dir + "/cgroup.procs"});
  EXPECT_EQ(Read(dir + "/cpu.max"), "150000 100000");
  EXPECT_EQ(Read(dir + "/memory.max"), std::to_string(2048LL * 1024 * 1024));
  EXPECT_EQ(Read(dir + "/pids.max"), "100");
  auto unlimited = c.Create("alloc-2", {});
  ASSERT_TRUE(unlimited.ok());
  EXPECT_EQ(Read(root.path() + "/fastgpu/alloc-2/cpu.max"), "max 100000");
  EXPECT_EQ(Read(root.path() + "/fastgpu/alloc-2/memory.max"), "max");
  EXPECT_EQ(Read(root.path() + "/fastgpu/alloc-2/pids.max"), "max");
  // A kernel-made memory.swap.max is set to 0 so that swap cannot dodge the limit.
  fs::create_directories(root.path() + "/fastgpu/alloc-3");
  std::ofstream(root.path() + "/fastgpu/alloc-3/memory.swap.max") << "max\n";
  ASSERT_TRUE(c.Create("alloc-3", {0, 64, 0, std::nullopt}).ok());
  EXPECT_EQ(Read(root.path() + "/fastgpu/alloc-3/memory.swap.max"), "0");
  std::ofstream(root.path() + "/fastgpu/alloc-3/memory.events") << "low 0\noom 2\noom_kill 1\n";
  EXPECT_EQ(c.OomKills("alloc-3"), 1);
  EXPECT_EQ(c.OomKills("alloc-2"), -1);  // no counter: unknown
  EXPECT_EQ(c.Create("a/b", {}).status().code(), StatusCode::kInvalidArgument);
}

// A mount table with v1 hierarchies under `root` (cpu and cpuacct together, a mount
// point with an escaped space), one outside it and a cgroup2 mount.
std::string V1MountInfo(const std::string& root) {
  return "30 1 8:1 / / rw - ext4 /dev/vda rw\n"
         "31 23 0:28 / " +
         root +
         " rw - tmpfs tmpfs rw\n"
         "32 31 0:29 / " +
         root +
         "/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
         "35 31 0:32 / " +
         root +
         "/memory rw,relatime - cgroup cgroup rw,memory\n"
         "36 31 0:33 / " +
         root +
         "/dev\\040ices rw,relatime - cgroup cgroup rw,devices\n"
         "37 31 0:34 / " +
         root +
         "/freezer rw,relatime - cgroup cgroup rw,freezer\n"
         "38 1 0:35 / /elsewhere/pids rw,relatime - cgroup cgroup rw,pids\n"
         "39 31 0:35 / " +
         root +
         "/pids rw,relatime - cgroup cgroup rw,pids\n"
         "40 31 0:37 / " +
         root +
         "/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
         "41 31 0:38 / " +
         root + "/unified rw,relatime - cgroup2 cgroup2 rw\n";
}

TEST(CgroupTest, FindsV1HierarchiesInTheMountTableAndWritesTheirLimits) {
  testing::TempDir root;
  for (const char* d : {"cpu,cpuacct/fastgpu", "memory/fastgpu", "dev ices", "freezer", "pids"}) {
    fs::create_directories(root.path() + "/" + d);
  }
  // The files the kernel makes in a new group.
  std::ofstream(root.path() + "/cpu,cpuacct/fastgpu/cpu.cfs_quota_us") << "-1\n";
  std::ofstream(root.path() + "/memory/fastgpu/memory.memsw.limit_in_bytes") << "-1\n";
  std::string mountinfo = root.path() + "/mountinfo";
  std::ofstream(mountinfo) << V1MountInfo(root.path());

  Cgroups c = Cgroups::Probe(root.path(), mountinfo);
  ASSERT_TRUE(c.enabled()) << c.note();
  EXPECT_EQ(c.version(), CgroupVersion::kV1);
  EXPECT_EQ(c.controllers(),
            (std::vector<std::string>{"cpu", "memory", "pids", "devices", "freezer"}));
  EXPECT_TRUE(c.restricts_devices());
  EXPECT_NE(c.note().find("cgroup v1 limits (cpu, memory, pids, devices, freezer)"),
            std::string::npos)
      << c.note();
  EXPECT_EQ(c.note().find("not used"), std::string::npos) << c.note();

  std::vector<DeviceRule> devices = {{'c', 1, 3, "rw"}, {'c', 195, 0, "rw"}};
  auto name = c.Create("alloc-1", {1500, 2048, 100, devices});
  ASSERT_TRUE(name.ok()) << name.status();
  std::string cpu = root.path() + "/cpu,cpuacct/fastgpu/alloc-1";
  std::string memory = root.path() + "/memory/fastgpu/alloc-1";
  EXPECT_EQ(c.Dir("alloc-1", "cpu"), cpu);
  EXPECT_EQ(c.Dir("alloc-1", "devices"), root.path() + "/dev ices/fastgpu/alloc-1");
  EXPECT_EQ(Read(cpu + "/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(Read(cpu + "/cpu.cfs_quota_us"), "150000");
  EXPECT_EQ(Read(memory + "/memory.limit_in_bytes"), std::to_string(2048LL << 20));
  EXPECT_EQ(Read(memory + "/memory.memsw.limit_in_bytes"), std::to_string(2048LL << 20));
  EXPECT_EQ(Read(root.path() + "/pids/fastgpu/alloc-1/pids.max"), "100");
  EXPECT_EQ(Read(root.path() + "/dev ices/fastgpu/alloc-1/devices.deny"), "a");
  // Each rule is its own write; a plain file keeps the last one.
  EXPECT_EQ(Read(root.path() + "/dev ices/fastgpu/alloc-1/devices.allow"), "c 195:0 rw");
  // One procs file per hierarchy: cpu and cpuacct share one.
  auto procs = c.ProcsFiles("alloc-1");
  ASSERT_EQ(procs.size(), 5u);
  EXPECT_NE(std::find(procs.begin(), procs.end(), cpu + "/cgroup.procs"), procs.end());
  EXPECT_NE(std::find(procs.begin(), procs.end(), memory + "/cgroup.procs"), procs.end());
  std::ofstream(memory + "/memory.oom_control") << "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
  EXPECT_EQ(c.OomKills("alloc-1"), 3);

  auto unlimited = c.Create("alloc-2", {});
  ASSERT_TRUE(unlimited.ok()) << unlimited.status();
  EXPECT_EQ(Read(root.path() + "/cpu,cpuacct/fastgpu/alloc-2/cpu.cfs_quota_us"), "-1");
  EXPECT_EQ(Read(root.path() + "/memory/fastgpu/alloc-2/memory.limit_in_bytes"), "-1");
  EXPECT_EQ(Read(root.path() + "/pids/fastgpu/alloc-2/pids.max"), "max");
  EXPECT_FALSE(fs::exists(root.path() + "/dev ices/fastgpu/alloc-2/devices.deny"));
}

TEST(CgroupTest, SaysWhyWhenNotUsable) {
  testing::TempDir root;
  std::string mountinfo = root.path() + "/mountinfo";
  std::ofstream(mountinfo) << "30 1 8:1 / / rw - ext4 /dev/vda rw\n";
  Cgroups none = Cgroups::Probe(root.path(), mountinfo);
  EXPECT_FALSE(none.enabled());
  EXPECT_EQ(none.version(), CgroupVersion::kNone);
  EXPECT_NE(none.note().find("no cgroup v2 hierarchy"), std::string::npos) << none.note();
  EXPECT_NE(none.note().find("no cgroup v1 cpu and memory"), std::string::npos) << none.note();
  EXPECT_EQ(none.Create("x", {}).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(none.ProcsFiles("x").empty());
  EXPECT_EQ(none.OomKills("x"), -1);
  std::ofstream(root.path() + "/cgroup.controllers") << "pids\n";
  Cgroups no_cpu = Cgroups::Probe(root.path(), mountinfo);
  EXPECT_FALSE(no_cpu.enabled());
  EXPECT_NE(no_cpu.note().find("cpu or memory"), std::string::npos) << no_cpu.note();
  // v1 with memory but no cpu hierarchy.
  fs::create_directories(root.path() + "/memory");
  std::ofstream(mountinfo) << "35 31 0:32 / " + root.path() +
                                  "/memory rw - cgroup cgroup rw,memory\n";
  Cgroups no_v1_cpu = Cgroups::Probe(root.path(), mountinfo);
  EXPECT_FALSE(no_v1_cpu.enabled());
  EXPECT_NE(no_v1_cpu.note().find("no cgroup v1 cpu and memory"), std::string::npos);
  Cgroups off = Cgroups::Probe("");
  EXPECT_FALSE(off.enabled());
  EXPECT_NE(off.note().find("turned off"), std::string::npos);
}

TEST(CgroupTest, QuotasNamesAndOptionalV1Controllers) {
  EXPECT_EQ(Cgroups::CpuMax(500), "50000 100000");
  EXPECT_EQ(Cgroups::CpuMax(1), "1000 100000");  // the kernel's minimum quota
  EXPECT_EQ(Cgroups::CpuQuotaUs(2000), 200000);
  EXPECT_EQ(Cgroups::CpuQuotaUs(0), -1);
  EXPECT_EQ(Cgroups::NameOf("/sys/fs/cgroup/fastgpu/alloc-1"), "alloc-1");
  EXPECT_EQ(Cgroups::NameOf("alloc-1"), "alloc-1");
  EXPECT_EQ(Cgroups::NameOf(""), "");
  // Only cpu and memory mounted: still usable; the note says what is not used.
  testing::TempDir root;
  fs::create_directories(root.path() + "/cpu/fastgpu");
  fs::create_directories(root.path() + "/memory");
  std::ofstream(root.path() + "/cpu/fastgpu/cpu.cfs_quota_us") << "-1\n";
  std::string mountinfo = root.path() + "/mountinfo";
  std::ofstream(mountinfo) << "32 31 0:29 / " + root.path() + "/cpu rw - cgroup cgroup rw,cpu\n"
                           << "35 31 0:32 / " + root.path() +
                                  "/memory rw - cgroup cgroup rw,memory\n";
  Cgroups c = Cgroups::Probe(root.path(), mountinfo);
  ASSERT_TRUE(c.enabled()) << c.note();
  EXPECT_FALSE(c.restricts_devices());
  EXPECT_NE(c.note().find("pids (not mounted)"), std::string::npos) << c.note();
  EXPECT_NE(c.note().find("swap is not limited"), std::string::npos) << c.note();
  ASSERT_TRUE(c.Create("a", {100, 64, 10, StandardDeviceRules()}).ok());
  EXPECT_EQ(c.ProcsFiles("a").size(), 2u);
  EXPECT_FALSE(fs::exists(root.path() + "/memory/fastgpu/a/memory.memsw.limit_in_bytes"));
}

// ---- The same code over an in-memory file system (file_env.h): no root, no disk. ----

// A cgroup v2 mount at /cg in `env`, offering `controllers`.
void MakeV2Root(FileEnv& env, const std::string& controllers) {
  ASSERT_TRUE(env.CreateDirs("/cg").ok());
  ASSERT_TRUE(env.WriteFile("/cg/cgroup.controllers", controllers, false).ok());
  ASSERT_TRUE(env.WriteFile("/cg/cgroup.subtree_control", "", false).ok());
}

std::string MemRead(FileEnv& env, const std::string& path) {
  auto text = env.ReadFile(path);
  return text.ok() ? *text : "<" + text.status().ToString() + ">";
}

TEST(MemoryCgroupTest, V2SetupWritesEachLimitToItsFileAndRemovalCleansUp) {
  auto env = NewMemoryFileEnv();
  MakeV2Root(*env, "cpuset cpu io memory pids\n");
  Cgroups c = Cgroups::Probe(*env, "/cg", "/proc-not-read");
  ASSERT_TRUE(c.enabled()) << c.note();
  EXPECT_EQ(c.version(), CgroupVersion::kV2);
  EXPECT_EQ(MemRead(*env, "/cg/cgroup.subtree_control"), "+cpu +memory +pids");
  EXPECT_EQ(MemRead(*env, "/cg/fastgpu/cgroup.subtree_control"), "+cpu +memory +pids");
  auto name = c.Create("alloc-1", {250, 512, 64, std::nullopt});
  ASSERT_TRUE(name.ok()) << name.status();
  const std::string dir = "/cg/fastgpu/alloc-1";
  EXPECT_TRUE(env->Stat(dir)->is_dir);
  EXPECT_EQ(MemRead(*env, dir + "/cpu.max"), "25000 100000");
  EXPECT_EQ(MemRead(*env, dir + "/memory.max"), std::to_string(512LL << 20));
  EXPECT_EQ(MemRead(*env, dir + "/pids.max"), "64");
  EXPECT_FALSE(env->Exists(dir + "/memory.swap.max"));  // only set where the kernel has it
  EXPECT_EQ(c.ProcsFiles("alloc-1"), std::vector<std::string>{dir + "/cgroup.procs"});
  // The OOM counter is read from memory.events.
  EXPECT_EQ(c.OomKills("alloc-1"), -1);
  ASSERT_TRUE(env->WriteFile(dir + "/memory.events", "low 0\noom 1\noom_kill 2\n", false).ok());
  EXPECT_EQ(c.OomKills("alloc-1"), 2);
  // An empty group: Kill finds no pid (it only asks cgroup.kill), Remove takes the folder.
  ASSERT_TRUE(env->WriteFile(dir + "/cgroup.procs", "", false).ok());
  c.Kill("alloc-1");
  EXPECT_EQ(MemRead(*env, dir + "/cgroup.kill"), "1");
  c.Remove("alloc-1");
  EXPECT_FALSE(env->Exists(dir));
  EXPECT_EQ(*env->ListDir("/cg/fastgpu"), std::vector<std::string>{"cgroup.subtree_control"});
  EXPECT_FALSE(PosixFileEnv().Exists("/cg"));  // nothing on the real disk
}

TEST(MemoryCgroupTest, AFailedLimitLeavesNoGroupBehindAndNamesTheFile) {
  auto env = NewMemoryFileEnv();
  MakeV2Root(*env, "cpu memory\n");
  Cgroups c = Cgroups::Probe(*env, "/cg", "/proc-not-read");
  ASSERT_TRUE(c.enabled()) << c.note();
  EXPECT_NE(c.note().find("process count not limited"), std::string::npos) << c.note();
  // A folder where memory.max should be: the write fails like a refused limit.
  ASSERT_TRUE(env->CreateDirs("/cg/fastgpu/alloc-x/memory.max").ok());
  auto made = c.Create("alloc-x", {100, 64, 0, std::nullopt});
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), StatusCode::kInternal);
  EXPECT_NE(made.status().message().find("/cg/fastgpu/alloc-x/memory.max"), std::string::npos)
      << made.status();
  EXPECT_FALSE(env->Exists("/cg/fastgpu/alloc-x/pids.max"));
}

TEST(MemoryCgroupTest, AMissingControllerTurnsLimitsOffAndSaysWhich) {
  auto env = NewMemoryFileEnv();
  MakeV2Root(*env, "cpuset cpu io pids\n");  // no memory controller
  ASSERT_TRUE(env->WriteFile("/mountinfo", "30 1 8:1 / / rw - ext4 /dev/vda rw\n", false).ok());
  Cgroups c = Cgroups::Probe(*env, "/cg", "/mountinfo");
  EXPECT_FALSE(c.enabled());
  EXPECT_NE(c.note().find("the cgroup v2 hierarchy at /cg lacks the cpu or memory controller"),
            std::string::npos)
      << c.note();
  EXPECT_NE(c.note().find("no cgroup v1 cpu and memory hierarchies under /cg in /mountinfo"),
            std::string::npos)
      << c.note();
  auto made = c.Create("alloc-1", {100, 64, 0, std::nullopt});
  EXPECT_EQ(made.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(made.status().message().find("lacks the cpu or memory controller"), std::string::npos)
      << made.status();
  EXPECT_FALSE(env->Exists("/cg/fastgpu"));  // nothing made
}

TEST(MemoryCgroupTest, V1SetupWritesEachHierarchyAndRemovalCleansEveryOne) {
  auto env = NewMemoryFileEnv();
  const std::string root = "/sys/fs/cgroup";
  for (const char* d : {"cpu,cpuacct/fastgpu", "memory/fastgpu", "dev ices", "freezer", "pids"}) {
    ASSERT_TRUE(env->CreateDirs(root + "/" + d).ok());
  }
  ASSERT_TRUE(env->WriteFile(root + "/cpu,cpuacct/fastgpu/cpu.cfs_quota_us", "-1\n", false).ok());
  ASSERT_TRUE(env->WriteFile("/mountinfo", V1MountInfo(root), false).ok());
  Cgroups c = Cgroups::Probe(*env, root, "/mountinfo");
  ASSERT_TRUE(c.enabled()) << c.note();
  EXPECT_EQ(c.version(), CgroupVersion::kV1);
  EXPECT_NE(c.note().find("swap is not limited"), std::string::npos) << c.note();
  std::vector<DeviceRule> devices = {{'c', 195, 0, "rw"}};
  ASSERT_TRUE(c.Create("alloc-1", {500, 128, 32, devices}).ok());
  const std::string cpu = root + "/cpu,cpuacct/fastgpu/alloc-1";
  const std::string memory = root + "/memory/fastgpu/alloc-1";
  EXPECT_EQ(MemRead(*env, cpu + "/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(MemRead(*env, cpu + "/cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(MemRead(*env, memory + "/memory.limit_in_bytes"), std::to_string(128LL << 20));
  EXPECT_FALSE(env->Exists(memory + "/memory.memsw.limit_in_bytes"));
  EXPECT_EQ(MemRead(*env, root + "/pids/fastgpu/alloc-1/pids.max"), "32");
  EXPECT_EQ(MemRead(*env, root + "/dev ices/fastgpu/alloc-1/devices.deny"), "a");
  EXPECT_EQ(MemRead(*env, root + "/dev ices/fastgpu/alloc-1/devices.allow"), "c 195:0 rw");
  ASSERT_TRUE(env->WriteFile(memory + "/memory.oom_control", "oom_kill 4\n", false).ok());
  EXPECT_EQ(c.OomKills("alloc-1"), 4);
  c.Kill("alloc-1");  // no pid in any cgroup.procs: the freezer is left alone
  EXPECT_FALSE(env->Exists(root + "/freezer/fastgpu/alloc-1/freezer.state"));
  c.Remove("alloc-1");
  for (const char* h : {"cpu,cpuacct", "memory", "dev ices", "freezer", "pids"}) {
    EXPECT_FALSE(env->Exists(root + "/" + h + "/fastgpu/alloc-1")) << h;
    EXPECT_TRUE(env->Exists(root + "/" + h + "/fastgpu")) << h;
  }
}

TEST(MemoryCgroupTest, RemoveStaleTakesOldEmptyUnnamedGroupsOnly) {
  ManualClock clock(TimePoint(std::chrono::hours(24)));
  auto env = NewMemoryFileEnv(&clock);
  MakeV2Root(*env, "cpu memory pids\n");
  Cgroups c = Cgroups::Probe(*env, "/cg", "/proc-not-read");
  ASSERT_TRUE(c.enabled()) << c.note();
  for (const char* n : {"old-empty", "old-busy", "kept"}) {
    ASSERT_TRUE(c.Create(n, {}).ok()) << n;
  }
  ASSERT_TRUE(env->WriteFile("/cg/fastgpu/old-busy/cgroup.procs", "4242\n", false).ok());
  // Nothing is old enough yet.
  clock.Advance(std::chrono::seconds(599));
  EXPECT_TRUE(c.RemoveStale({"kept"}, std::chrono::seconds(600), clock.Now()).empty());
  clock.Advance(std::chrono::seconds(1));
  std::vector<std::string> removed =
      c.RemoveStale({"kept"}, std::chrono::seconds(600), clock.Now());
  EXPECT_EQ(removed, std::vector<std::string>{"old-empty"});
  EXPECT_FALSE(env->Exists("/cg/fastgpu/old-empty"));
  EXPECT_TRUE(env->Exists("/cg/fastgpu/old-busy"));
  EXPECT_TRUE(env->Exists("/cg/fastgpu/kept"));
}

// ---- Against this host's real cgroup file systems (root only). ----

// Forks a child that joins the groups of `procs`, then returns body()'s value as its
// exit code (100 when it could not join). Returns the child's pid.
pid_t SpawnInGroup(const std::vector<std::string>& procs, const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  std::string me = std::to_string(getpid());
  for (const std::string& p : procs) {
    int fd = open(p.c_str(), O_WRONLY);
    if (fd < 0 || write(fd, me.data(), me.size()) != static_cast<ssize_t>(me.size())) _exit(100);
    close(fd);
  }
  _exit(body());
}

// waitpid's status, or -1 when the child is not done within `timeout`.
int WaitChild(pid_t pid, std::chrono::seconds timeout = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status;
}

std::vector<int> Pids(const std::string& procs) {
  std::istringstream in(Read(procs));
  std::vector<int> out;
  int pid = 0;
  while (in >> pid) out.push_back(pid);
  return out;
}

class RealCgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    cgroups_ = Cgroups::Probe("/sys/fs/cgroup");
    if (!cgroups_.enabled()) GTEST_SKIP() << cgroups_.note();
    static int counter = 0;
    name_ = "fastgpu-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  }
  void TearDown() override {
    if (!cgroups_.enabled()) return;
    cgroups_.Kill(name_);
    cgroups_.Remove(name_);
  }
  Cgroups cgroups_;
  std::string name_;
};

TEST_F(RealCgroupTest, LimitFilesHoldTheValuesWritten) {
  ASSERT_TRUE(cgroups_.Create(name_, {250, 64, 100, StandardDeviceRules()}).ok());
  std::string cpu = cgroups_.Dir(name_, "cpu"), memory = cgroups_.Dir(name_, "memory");
  if (cgroups_.version() == CgroupVersion::kV1) {
    EXPECT_EQ(Read(cpu + "/cpu.cfs_quota_us"), "25000\n");
    EXPECT_EQ(Read(cpu + "/cpu.cfs_period_us"), "100000\n");
    EXPECT_EQ(Read(memory + "/memory.limit_in_bytes"), "67108864\n");
    if (fs::exists(memory + "/memory.memsw.limit_in_bytes")) {
      EXPECT_EQ(Read(memory + "/memory.memsw.limit_in_bytes"), "67108864\n");
    }
    if (cgroups_.restricts_devices()) {
      std::string list = Read(cgroups_.Dir(name_, "devices") + "/devices.list");
      EXPECT_NE(list.find("c 1:3 rw"), std::string::npos) << list;
      EXPECT_NE(list.find("c 136:* rw"), std::string::npos) << list;
      EXPECT_EQ(list.find("a *:*"), std::string::npos) << list;
    }
  } else {
    EXPECT_EQ(Read(cpu + "/cpu.max"), "25000 100000\n");
    EXPECT_EQ(Read(memory + "/memory.max"), "67108864\n");
  }
  if (!cgroups_.Dir(name_, "pids").empty()) {
    EXPECT_EQ(Read(cgroups_.Dir(name_, "pids") + "/pids.max"), "100\n");
  }
  cgroups_.Remove(name_);
  for (const std::string& procs : cgroups_.ProcsFiles(name_)) {
    EXPECT_FALSE(fs::exists(fs::path(procs).parent_path())) << procs;
  }
}

TEST_F(RealCgroupTest, KillEndsEveryProcessOfTheGroup) {
  ASSERT_TRUE(cgroups_.Create(name_, {}).ok());
  auto procs = cgroups_.ProcsFiles(name_);
  // Children in sessions of their own: only the group reaches them all.
  pid_t sh = SpawnInGroup(procs, [] {
    execl("/bin/sh", "sh", "-c", "sleep 300 & setsid sleep 300 & sleep 300 & wait", nullptr);
    return 127;
  });
  ASSERT_GT(sh, 0);
  for (int i = 0; i < 500 && Pids(procs[0]).size() < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(Pids(procs[0]).size(), 4u) << Read(procs[0]);
  cgroups_.Kill(name_);
  for (const std::string& p : procs) EXPECT_TRUE(Pids(p).empty()) << p << ": " << Read(p);
  int status = WaitChild(sh);
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  cgroups_.Remove(name_);
  EXPECT_FALSE(fs::exists(fs::path(procs[0]).parent_path()));
}

TEST_F(RealCgroupTest, AProcessPastTheMemoryLimitIsOomKilledAndCounted) {
  ASSERT_TRUE(cgroups_.Create(name_, {0, 32, 0, std::nullopt}).ok());
  EXPECT_EQ(cgroups_.OomKills(name_), 0);
  // tail keeps the whole line (200 MiB without a newline) in memory.
  pid_t sh = SpawnInGroup(cgroups_.ProcsFiles(name_), [] {
    execl("/bin/sh", "sh", "-c", "head -c 200M /dev/zero | tail > /dev/null", nullptr);
    return 127;
  });
  int status = WaitChild(sh);
  ASSERT_NE(status, -1) << "not killed within 30 s";
  bool killed = (WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGKILL) ||
                (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_TRUE(killed) << "status " << status;
  EXPECT_GE(cgroups_.OomKills(name_), 1);
}

TEST_F(RealCgroupTest, RemoveStaleTakesOnlyOldEmptyGroupsNoRecordNames) {
  const std::vector<std::string> names = {name_ + "-old", name_ + "-young", name_ + "-kept",
                                          name_ + "-busy"};
  for (const std::string& n : names) ASSERT_TRUE(cgroups_.Create(n, {}).ok()) << n;
  auto age = [&](const std::string& n) {
    struct timespec times[2] = {{0, UTIME_OMIT}, {time(nullptr) - 3600, 0}};
    for (const std::string& procs : cgroups_.ProcsFiles(n)) {
      std::string dir = fs::path(procs).parent_path().string();
      ASSERT_EQ(utimensat(AT_FDCWD, dir.c_str(), times, 0), 0) << dir << ": " << strerror(errno);
    }
  };
  age(names[0]);
  age(names[2]);
  age(names[3]);
  pid_t busy = SpawnInGroup(cgroups_.ProcsFiles(names[3]), [] {
    execl("/bin/sleep", "sleep", "300", nullptr);
    return 127;
  });
  for (int i = 0; i < 500 && Pids(cgroups_.ProcsFiles(names[3])[0]).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto removed =
      cgroups_.RemoveStale({names[2]}, std::chrono::minutes(10), std::chrono::system_clock::now());
  auto in = [&](const std::string& n) {
    return std::find(removed.begin(), removed.end(), n) != removed.end();
  };
  EXPECT_TRUE(in(names[0]));
  EXPECT_FALSE(in(names[1])) << "made just now";
  EXPECT_FALSE(in(names[2])) << "named by a record";
  EXPECT_FALSE(in(names[3])) << "has a process";
  EXPECT_FALSE(fs::exists(cgroups_.Dir(names[0], "memory")));
  EXPECT_TRUE(fs::exists(cgroups_.Dir(names[1], "memory")));
  EXPECT_TRUE(fs::exists(cgroups_.Dir(names[3], "cpu")));
  kill(busy, SIGKILL);
  WaitChild(busy);
  for (const std::string& n : names) {
    cgroups_.Kill(n);
    cgroups_.Remove(n);
  }
}

// Makes `allowed` (c 1:5, like /dev/zero) and `denied` (c 1:7, like /dev/full) in `dir`.
void MakeNodes(const std::string& dir, std::string* allowed, std::string* denied) {
  *allowed = dir + "/allowed";
  *denied = dir + "/denied";
  ASSERT_EQ(mknod(allowed->c_str(), S_IFCHR | 0666, makedev(1, 5)), 0) << strerror(errno);
  ASSERT_EQ(mknod(denied->c_str(), S_IFCHR | 0666, makedev(1, 7)), 0) << strerror(errno);
}

// In the child: 0 when `allowed` opens and `denied` is refused with EPERM.
int TryDevices(const std::string& allowed, const std::string& denied) {
  int code = 0;
  int fd = open(allowed.c_str(), O_RDWR);
  if (fd < 0) code |= 1;
  if (fd >= 0) close(fd);
  fd = open(denied.c_str(), O_RDWR);
  if (fd >= 0 || errno != EPERM) code |= 2;
  if (fd >= 0) close(fd);
  return code;
}

TEST_F(RealCgroupTest, DeviceCgroupDeniesDevicesNotAllowed) {
  if (!cgroups_.restricts_devices()) GTEST_SKIP() << cgroups_.note();
  testing::TempDir dir;
  std::string allowed, denied;
  MakeNodes(dir.path(), &allowed, &denied);
  auto rules = DeviceRulesForPaths({allowed});
  ASSERT_EQ(rules.size(), 1u);
  // Outside the group both open.
  EXPECT_EQ(TryDevices(allowed, denied), 2);
  ASSERT_TRUE(cgroups_.Create(name_, {0, 0, 0, rules}).ok());
  pid_t child =
      SpawnInGroup(cgroups_.ProcsFiles(name_), [&] { return TryDevices(allowed, denied); });
  int status = WaitChild(child);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: the allowed node did not open; 2: the denied one did";
}

// The v2 device program, end to end, in whatever cgroup2 hierarchy this host mounts (on
// a hybrid v1 host the empty "unified" one: BPF programs need no controller).
TEST(DeviceProgramCgroupTest, AnAttachedProgramDeniesDevicesNotAllowed) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  std::string mount;
  std::istringstream lines(Read("/proc/self/mountinfo"));
  for (std::string line; std::getline(lines, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point;
    f >> id >> parent >> dev >> root >> point;
    if (line.find(" - cgroup2 ") != std::string::npos && mount.empty()) mount = point;
  }
  if (mount.empty()) GTEST_SKIP() << "no cgroup2 mount";
  std::string group = mount + "/fastgpu-devtest-" + std::to_string(getpid());
  ASSERT_EQ(mkdir(group.c_str(), 0755), 0) << group << ": " << strerror(errno);
  testing::TempDir dir;
  std::string allowed, denied;
  MakeNodes(dir.path(), &allowed, &denied);
  // Only the allowed node (the standard rules would allow 1:7 too).
  std::vector<DeviceRule> rules = DeviceRulesForPaths({allowed});
  ASSERT_EQ(rules.size(), 1u);
  Status st = AttachDeviceProgram(group, rules);
  if (st.code() == StatusCode::kFailedPrecondition) {
    rmdir(group.c_str());
    GTEST_SKIP() << st;
  }
  EXPECT_TRUE(st.ok()) << st;
  pid_t child =
      SpawnInGroup({group + "/cgroup.procs"}, [&] { return TryDevices(allowed, denied); });
  int status = WaitChild(child);
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: the allowed node did not open; 2: the denied one did";
  for (int i = 0; i < 100 && rmdir(group.c_str()) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(fs::exists(group));
}

}  // namespace
}  // namespace fastgpu::agent

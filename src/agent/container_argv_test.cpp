#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "agent/container.h"
#include "common/testing/temp_dir.h"

namespace fastgpu::agent {
namespace {
namespace fs = std::filesystem;
using fastgpu::testing::TempDir;

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

long IndexOf(const std::vector<std::string>& v, const std::string& s) {
  auto it = std::find(v.begin(), v.end(), s);
  return it == v.end() ? -1 : it - v.begin();
}

ContainerRun SampleRun() {
  ContainerRun run;
  run.allocation_id = "alloc-1";
  run.image = "localhost/app:latest";
  run.command = {"sh", "-c", "echo hi; id -u"};
  run.env = {{"CUDA_VISIBLE_DEVICES", "GPU-1"}, {"WEIRD", "a b=c -x"}};
  run.work_dir = "/data/replicas/alloc-1/work";
  run.memory_mib = 2048;
  run.cpu_milli = 1500;
  run.devices = {"/dev/nvidia0", "/dev/nvidiactl"};
  return run;
}

TEST(ContainerArgvTest, RunsUnprivilegedWithLimitsEnvAndWorkDir) {
  ContainerOptions options;
  options.runtime_args = {"--root", "/r", "--storage-driver", "vfs"};
  options.run_args = {"--ulimit", "nofile=1024:1024"};
  std::vector<std::string> argv = BuildContainerArgv(options, SampleRun());
  ASSERT_GE(argv.size(), 8u);
  EXPECT_EQ(argv[0], "podman");
  // Global options before `run`.
  EXPECT_EQ(argv[1], "--root");
  EXPECT_EQ(argv[4], "vfs");
  EXPECT_EQ(argv[5], "run");
  for (const char* want :
       {"--rm", "--name=fastgpu-alloc-1", "--pull=never", "--init", "--sig-proxy=true",
        "--log-driver=passthrough", "--user=65534:65534", "--cap-drop=all",
        "--security-opt=no-new-privileges", "--network=host", "--pids-limit=4096", "--memory=2048m",
        "--cpus=1.500", "--device=/dev/nvidia0", "--device=/dev/nvidiactl",
        "--env=CUDA_VISIBLE_DEVICES=GPU-1", "--env=WEIRD=a b=c -x",
        "--volume=/data/replicas/alloc-1/work:/data/replicas/alloc-1/work",
        "--workdir=/data/replicas/alloc-1/work"}) {
    EXPECT_TRUE(Has(argv, want)) << want;
  }
  // Operator run options after FastGPU's, then the image, then the command unchanged.
  long image = IndexOf(argv, "localhost/app:latest");
  ASSERT_GT(image, 0);
  EXPECT_EQ(IndexOf(argv, "--ulimit"), image - 2);
  EXPECT_GT(IndexOf(argv, "--workdir=/data/replicas/alloc-1/work"), IndexOf(argv, "run"));
  std::vector<std::string> tail(argv.begin() + image + 1, argv.end());
  EXPECT_EQ(tail, (std::vector<std::string>{"sh", "-c", "echo hi; id -u"}));
  // No privileged leftovers, and never an env name without a value (that copies podman's).
  for (const std::string& a : argv) {
    EXPECT_NE(a, "--privileged");
    if (a.rfind("--env=", 0) == 0) {
      EXPECT_NE(a.find('=', 6), std::string::npos) << a;
    }
  }
}

TEST(ContainerArgvTest, OmitsUnsetLimitsAndKeepsADashCommand) {
  ContainerOptions options;
  options.runtime = "/usr/local/bin/podman";
  options.network = "none";
  options.user = "1000:1000";
  ContainerRun run = SampleRun();
  run.memory_mib = 0;
  run.cpu_milli = 250;
  run.devices.clear();
  run.command = {"--help"};
  std::vector<std::string> argv = BuildContainerArgv(options, run);
  EXPECT_EQ(argv[0], "/usr/local/bin/podman");
  EXPECT_EQ(argv[1], "run");
  EXPECT_TRUE(Has(argv, "--network=none"));
  EXPECT_TRUE(Has(argv, "--user=1000:1000"));
  EXPECT_TRUE(Has(argv, "--cpus=0.250"));
  for (const std::string& a : argv) {
    EXPECT_NE(a.rfind("--memory", 0), 0u) << a;
    EXPECT_NE(a.rfind("--device", 0), 0u) << a;
  }
  EXPECT_EQ(argv.back(), "--help");
  EXPECT_EQ(argv[argv.size() - 2], "localhost/app:latest");
}

TEST(ContainerArgvTest, RemoveArgv) {
  ContainerOptions options;
  options.runtime_args = {"--root", "/r"};
  EXPECT_EQ(BuildRemoveArgv(options, "a1"),
            (std::vector<std::string>{"podman", "--root", "/r", "rm", "--force", "--ignore",
                                      "--time", "0", "fastgpu-a1"}));
}

TEST(ContainerArgvTest, GpuDevicesFromNodesOrCdi) {
  TempDir dir;
  ContainerOptions options;
  options.dev_dir = dir.path() + "/dev";
  options.cdi_dirs = {dir.path() + "/cdi"};
  fs::create_directories(options.dev_dir);
  // Simulated GPUs: no device nodes, nothing passed.
  EXPECT_TRUE(GpuDeviceArgs(options, {0, 1}).empty());
  for (const char* n : {"nvidia0", "nvidia1", "nvidia2", "nvidiactl", "nvidia-uvm"}) {
    std::ofstream(options.dev_dir + "/" + n) << "";
  }
  EXPECT_EQ(
      GpuDeviceArgs(options, {2, 0}),
      (std::vector<std::string>{options.dev_dir + "/nvidia2", options.dev_dir + "/nvidia0",
                                options.dev_dir + "/nvidiactl", options.dev_dir + "/nvidia-uvm"}));
  EXPECT_TRUE(GpuDeviceArgs(options, {}).empty());  // CPU-only: no GPU, no control nodes
  fs::create_directories(options.cdi_dirs[0]);
  std::ofstream(options.cdi_dirs[0] + "/other.json") << R"({"kind":"vendor.com/fpga"})";
  EXPECT_EQ(GpuDeviceArgs(options, {1}).front(), options.dev_dir + "/nvidia1");
  std::ofstream(options.cdi_dirs[0] + "/nvidia.yaml")
      << "cdiVersion: 0.5.0\nkind: nvidia.com/gpu\n";
  EXPECT_EQ(GpuDeviceArgs(options, {1, 3}),
            (std::vector<std::string>{"nvidia.com/gpu=1", "nvidia.com/gpu=3"}));
}

TEST(ContainerArgvTest, CheckImageAgainstAllowedRegistries) {
  ContainerOptions options;  // default: localhost only
  auto ok = CheckImage(options, "localhost/app");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->Canonical(), "localhost/app:latest");
  auto hub = CheckImage(options, "busybox");
  ASSERT_FALSE(hub.ok());
  EXPECT_EQ(hub.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(hub.status().message().find("registry 'docker.io' is not allowed on this node "
                                        "(allowed: localhost;"),
            std::string::npos)
      << hub.status().message();
  EXPECT_EQ(CheckImage(options, "Bad Image").status().code(), StatusCode::kInvalidArgument);
  options.allowed_registries = {"localhost", "registry.internal:5000"};
  EXPECT_TRUE(CheckImage(options, "registry.internal:5000/ml/train:v1").ok());
  EXPECT_FALSE(CheckImage(options, "registry.internal/ml/train:v1").ok());
  options.allowed_registries.clear();
  EXPECT_NE(CheckImage(options, "localhost/app").status().message().find("allowed: none"),
            std::string::npos);
}

TEST(ContainerArgvTest, FindRuntime) {
  TempDir dir;
  std::string bin = dir.path() + "/bin";
  fs::create_directories(bin);
  std::ofstream(bin + "/podman") << "#!/bin/sh\n";
  chmod((bin + "/podman").c_str(), 0755);
  ContainerOptions options;
  auto found = FindRuntime(options, "/nonexistent:" + bin);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, bin + "/podman");
  auto missing = FindRuntime(options, "/nonexistent");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message().rfind("podman not found", 0), 0u)
      << missing.status().message();
  options.runtime = bin + "/podman";
  EXPECT_TRUE(FindRuntime(options, "").ok());
  options.runtime = bin + "/nope";
  EXPECT_FALSE(FindRuntime(options, bin).ok());
}

TEST(ContainerArgvTest, ContainerUser) {
  ContainerOptions options;
  auto u = ContainerUser(options);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->first, 65534);
  EXPECT_EQ(u->second, 65534);
  for (const char* bad : {"nobody", "1000", "1000:x", "-1:0", "1:2:3"}) {
    options.user = bad;
    EXPECT_FALSE(ContainerUser(options).ok()) << bad;
  }
}

TEST(ContainerArgvTest, MakeContainerLaunchSplitsTheTwoEnvironments) {
  if (geteuid() != 0) GTEST_SKIP() << "gives the work folder to 65534: needs root";
  TempDir dir;
  std::string work = dir.path() + "/work";
  fs::create_directories(work);
  protocol::DesiredReplica want;
  want.allocation.id = "a7";
  want.allocation.memory_mib = 512;
  want.allocation.cpu_milli = 1000;
  want.command = {"python", "train.py"};
  want.env = {{"CONTAINERS_CONF", "/tmp/evil.conf"}, {"USER", "alice"}};
  want.image = "localhost/trainer";
  LaunchSpec spec;
  spec.argv = want.command;
  spec.env = {{"PATH", "/usr/bin"},
              {"LOGNAME", "root"},
              {"USER", "alice"},
              {"HOME", work},
              {"FASTGPU_WORK_DIR", work},
              {"CONTAINERS_CONF", "/tmp/evil.conf"},
              {"CUDA_VISIBLE_DEVICES", ""},
              {"FASTGPU_ALLOCATION_ID", "a7"}};
  spec.work_dir = work;
  ContainerOptions options;
  ASSERT_TRUE(MakeContainerLaunch(options, want, {}, &spec).ok());
  struct stat st {};
  ASSERT_EQ(stat(work.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(spec.argv[0], "podman");
  EXPECT_TRUE(Has(spec.argv, "localhost/trainer:latest"));
  EXPECT_TRUE(Has(spec.argv, "--env=CONTAINERS_CONF=/tmp/evil.conf"));  // inside: harmless
  EXPECT_TRUE(Has(spec.argv, "--env=USER=alice"));                      // the job set it
  EXPECT_TRUE(Has(spec.argv, "--env=HOME=" + work));
  EXPECT_FALSE(Has(spec.argv, "--env=PATH=/usr/bin"));
  EXPECT_FALSE(Has(spec.argv, "--env=LOGNAME=root"));
  EXPECT_TRUE(Has(spec.argv, "--memory=512m"));
  // podman's own environment: the agent's, never the job's.
  EXPECT_EQ(spec.env.at("FASTGPU_ALLOCATION_ID"), "a7");
  EXPECT_EQ(spec.env.at("FASTGPU_WORK_DIR"), work);
  const char* agent_conf = std::getenv("CONTAINERS_CONF");
  if (agent_conf == nullptr) {
    EXPECT_EQ(spec.env.count("CONTAINERS_CONF"), 0u);
  } else {
    EXPECT_EQ(spec.env.at("CONTAINERS_CONF"), agent_conf);
  }
  EXPECT_EQ(spec.env.count("USER") ? spec.env.at("USER") : "",
            std::getenv("USER") ? std::getenv("USER") : "");

  want.image = "docker.io/library/busybox";
  LaunchSpec refused;
  Status denied = MakeContainerLaunch(options, want, {}, &refused);
  EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied);
}

// Only the folders the isolation mode shares are mounted: a job naming a host folder in
// CUDA_MPS_PIPE_DIRECTORY (or anywhere in its environment) gets no mount of it.
TEST(ContainerArgvTest, MountsTheModesFoldersNeverOneTheJobNames) {
  if (geteuid() != 0) GTEST_SKIP() << "gives the work folder to 65534: needs root";
  TempDir dir;
  std::string work = dir.path() + "/work", pipe = dir.path() + "/mps/GPU-1/pipe";
  fs::create_directories(work);
  fs::create_directories(pipe);
  protocol::DesiredReplica want;
  want.allocation.id = "a8";
  want.command = {"python", "train.py"};
  want.env = {{"CUDA_MPS_PIPE_DIRECTORY", "/etc"}};
  want.image = "localhost/trainer";
  LaunchSpec spec;
  spec.argv = want.command;
  spec.env = {{"CUDA_MPS_PIPE_DIRECTORY", "/etc"}, {"FASTGPU_ALLOCATION_ID", "a8"}};
  spec.work_dir = work;
  LaunchSpec mps = spec;
  ASSERT_TRUE(MakeContainerLaunch(ContainerOptions{}, want, {}, &spec).ok());
  for (const std::string& arg : spec.argv) {
    EXPECT_TRUE(arg.rfind("--volume=", 0) != 0 || arg == "--volume=" + work + ":" + work) << arg;
  }
  ASSERT_TRUE(MakeContainerLaunch(ContainerOptions{}, want, {pipe}, &mps).ok());
  EXPECT_TRUE(Has(mps.argv, "--volume=" + pipe + ":" + pipe));
  EXPECT_FALSE(Has(mps.argv, "--volume=/etc:/etc"));
}

}  // namespace
}  // namespace fastgpu::agent

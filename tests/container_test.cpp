// Jobs with an image against a real `fastgpu up --simulate-gpus 1xH100-80GB`: a replica
// runs in the image's root filesystem as an unprivileged user, its exit code is the
// job's, an image from a registry the node does not allow fails with the reason, a
// container job stops on cancel well within the grace period and leaves no container,
// an agent restarted after its `podman run` was killed removes the orphaned container,
// and a node without podman fails image jobs with "podman not found" while plain jobs
// run. Podman runs on storage private to the test (--root/--runroot in a scratch folder,
// vfs driver), with a tiny image imported from busybox-static. Skips without root,
// podman or /bin/busybox (except the podman-missing test, which needs neither).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/testing/child_process.h"
#include "tests/json_output.h"
#include "tests/server_process.h"
#include "tests/test_util.h"
#include "tests/up_process.h"

namespace fastgpu::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr char kImage[] = "localhost/fastgpu-test-busybox";

// Runs a shell command; its exit status and combined output.
CommandResult Sh(const std::string& cmd) {
  ShellRun run = RunShell(cmd);
  return CommandResult{run.exit_code, std::move(run.out)};
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

// Whether this process may raise resource limits (crun sets podman's default ulimits,
// which are above ours where CAP_SYS_RESOURCE is missing, as in some VMs).
bool HasCapSysResource() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("CapEff:", 0) == 0) {
      unsigned long long caps = std::stoull(line.substr(7), nullptr, 16);
      return (caps >> 24) & 1;
    }
  }
  return false;
}

// cgroup v1 with controllers also on the v2 hierarchy ("hybrid" with controllers):
// crun refuses to start a container there.
bool HybridWithV2Controllers() {
  struct statfs s {};
  if (statfs("/sys/fs/cgroup", &s) != 0 || s.f_type != 0x01021994 /* TMPFS_MAGIC */) {
    return false;
  }
  std::ifstream in("/sys/fs/cgroup/unified/cgroup.controllers");
  std::string controllers;
  std::getline(in, controllers);
  return !controllers.empty();
}

// Podman state private to the test run, and the image every test uses.
class PodmanSandbox {
 public:
  // Made on first use; its scratch folder (storage, image) goes at exit.
  static PodmanSandbox* Get() {
    static PodmanSandbox sandbox;
    return &sandbox;
  }
  const std::string& skip_reason() const { return skip_; }
  const std::vector<std::string>& runtime_args() const { return runtime_args_; }
  const std::vector<std::string>& run_args() const { return run_args_; }
  const std::string& marker() const { return marker_; }
  std::string Podman(const std::string& args) const {
    return "podman " + Join(runtime_args_) + " " + args;
  }
  // Workloads outlive a killed `fastgpu up` by design; a test's containers must not
  // outlive the test (nor keep mounts in the scratch folder).
  void RemoveAllContainers() const { Sh(Podman("rm --all --force --time 0")); }

 private:
  ~PodmanSandbox() {
    if (!dir_.empty()) RemoveAllContainers();
  }
  PodmanSandbox() {
    if (geteuid() != 0) {
      skip_ = "needs root (the agent runs podman as root)";
      return;
    }
    if (Sh("command -v podman").exit_code != 0) {
      skip_ = "podman is not installed (apt-get install podman crun)";
      return;
    }
    if (!fs::exists("/bin/busybox")) {
      skip_ = "/bin/busybox is missing (apt-get install busybox-static)";
      return;
    }
    dir_ = dir_holder_.path();
    runtime_args_ = {"--root",           dir_ + "/storage", "--runroot",        dir_ + "/run",
                     "--tmpdir",         dir_ + "/tmp",     "--storage-driver", "vfs",
                     "--cgroup-manager", "cgroupfs",        "--events-backend", "none"};
    if (HybridWithV2Controllers()) {
      // crun sees a pure cgroup v1 host in a mount namespace without the v2 mount.
      std::string wrapper = dir_ + "/crun-v1";
      std::ofstream(wrapper) << "#!/bin/sh\nexec unshare -m sh -c 'umount "
                                "/sys/fs/cgroup/unified 2>/dev/null; exec crun \"$@\"' crun "
                                "\"$@\"\n";
      fs::permissions(wrapper, fs::perms::owner_all);
      runtime_args_.insert(runtime_args_.end(), {"--runtime", wrapper});
    }
    if (!HasCapSysResource()) {
      run_args_ = {"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"};
    }
    // A root filesystem of busybox and its applets, with a marker only this image has.
    marker_ = "fastgpu-test-image-" + std::to_string(getpid());
    std::string root = dir_ + "/rootfs";
    fs::create_directories(root + "/bin");
    fs::create_directories(root + "/etc");
    fs::create_directories(root + "/tmp");
    fs::copy_file("/bin/busybox", root + "/bin/busybox");
    for (const char* applet : {"sh", "cat", "ls", "id", "sleep", "echo", "touch", "pwd", "true"}) {
      fs::create_symlink("busybox", root + "/bin/" + applet);
    }
    std::ofstream(root + "/etc/os-release") << "ID=" << marker_ << "\n";
    CommandResult tar = Sh("tar -C " + root + " -cf " + dir_ + "/rootfs.tar .");
    if (tar.exit_code != 0) {
      skip_ = "tar failed: " + tar.output;
      return;
    }
    CommandResult imp = Sh(Podman("import " + dir_ + "/rootfs.tar " + kImage));
    if (imp.exit_code != 0) {
      // Not a skip: podman is there, so a failure is this product's environment to fix.
      error_ = "podman import failed: " + imp.output;
    }
    // A container must start here at all, else the tests below say nothing about FastGPU.
    CommandResult probe =
        Sh(Podman("run --rm --pull=never " + Join(run_args_) + " " + kImage + " true"));
    if (error_.empty() && probe.exit_code != 0) error_ = "podman run failed: " + probe.output;
  }

 public:
  const std::string& error() const { return error_; }

 private:
  TempDir dir_holder_;
  std::string dir_;
  std::string skip_;
  std::string error_;
  std::string marker_;
  std::vector<std::string> runtime_args_;
  std::vector<std::string> run_args_;
};

struct Up {
  TempDir dir;
  std::unique_ptr<UpProcess> up;
  std::string flags;

  explicit Up(const std::vector<std::string>& extra) { Start(extra, "/up.log"); }

  void Start(const std::vector<std::string>& extra, const std::string& log) {
    std::vector<std::string> args{"--log-level",     "info",       "up", "--data-dir", dir.path(),
                                  "--simulate-gpus", "1xH100-80GB"};
    args.insert(args.end(), extra.begin(), extra.end());
    up = std::make_unique<UpProcess>(args, dir.path() + log);
    if (!up->ok()) return;
    flags = " --server " + up->url() + " --token " + ReadFirstLine(dir.path() + "/admin.token");
  }

  // Submits and returns the job id ("" on failure, with a test failure).
  std::string Submit(const std::string& args) {
    CommandResult r = RunFastgpu("job submit -o json" + flags + " " + args);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    json::value v = JsonOutput(r);
    if (!v.is_object() || !v.as_object().contains("id")) return "";
    return std::string(v.at("id").as_string());
  }
  json::value Get(const std::string& id) {
    return JsonOutput(RunFastgpu("job get -o json" + flags + " " + id));
  }
  std::string State(const std::string& id) {
    json::value v = Get(id);
    return v.is_object() ? std::string(v.at("state").as_string()) : "";
  }
  std::string Reason(const std::string& id) {
    json::value v = Get(id);
    return v.is_object() ? std::string(v.at("reason").as_string()) : "";
  }
  // Waits until the job ends; its final state.
  std::string Wait(const std::string& id, std::chrono::seconds timeout) {
    RunFastgpu("job wait --timeout " + std::to_string(timeout.count()) + flags + " " + id);
    return State(id);
  }
  std::string Logs(const std::string& id) {
    return RunFastgpu("job logs" + flags + " " + id).output;
  }
};

class ContainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PodmanSandbox* s = PodmanSandbox::Get();
    if (!s->skip_reason().empty()) GTEST_SKIP() << s->skip_reason();
    ASSERT_TRUE(s->error().empty()) << s->error();
    sandbox_ = s;
  }
  void TearDown() override {
    if (sandbox_ != nullptr) sandbox_->RemoveAllContainers();
  }
  std::vector<std::string> AgentFlags(const std::string& registries = "localhost") const {
    return {"--registries",
            registries,
            "--container-runtime-args",
            Join(sandbox_->runtime_args()),
            "--container-run-args",
            Join(sandbox_->run_args())};
  }
  PodmanSandbox* sandbox_ = nullptr;
};

TEST_F(ContainerTest, ReplicaRunsInTheImageAsAnUnprivilegedUser) {
  Up u(AgentFlags());
  ASSERT_TRUE(u.up->ok()) << u.up->output();
  std::string id = u.Submit("--name boxed --gpu 0.5 --memory 256MiB --image " +
                            std::string(kImage) + " -- sh -c " +
                            Quote("cat /etc/os-release || ls /; id -u; pwd; "
                                  "touch written-by-container && echo wrote"));
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(u.Wait(id, std::chrono::seconds(60)), "succeeded") << u.Reason(id) << "\n"
                                                               << u.Logs(id) << "\n"
                                                               << u.up->output();
  std::string logs = u.Logs(id);
  // The image's /etc/os-release, not the host's.
  EXPECT_NE(logs.find("ID=" + sandbox_->marker()), std::string::npos) << logs;
  // The replica's own sandbox uid (the first of the default range: the only replica).
  EXPECT_NE(logs.find("\n200000\n"), std::string::npos) << logs;
  EXPECT_EQ(logs.find("\n0\n"), std::string::npos) << logs;
  EXPECT_NE(logs.find("wrote"), std::string::npos) << logs;  // its work folder is writable
  // `job get` shows the image.
  CommandResult get = RunFastgpu("job get" + u.flags + " " + id);
  EXPECT_NE(get.output.find("image:     " + std::string(kImage)), std::string::npos) << get.output;
  EXPECT_EQ(std::string(u.Get(id).at("image").as_string()), kImage);
}

TEST_F(ContainerTest, ContainerExitCodeIsTheJobsExitCode) {
  Up u(AgentFlags());
  ASSERT_TRUE(u.up->ok()) << u.up->output();
  std::string id =
      u.Submit("--cpu 100m --image " + std::string(kImage) + " -- sh -c " + Quote("exit 7"));
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(u.Wait(id, std::chrono::seconds(60)), "failed");
  EXPECT_NE(u.Reason(id).find("exited with code 7"), std::string::npos) << u.Reason(id);
}

TEST_F(ContainerTest, ImageFromARegistryTheNodeDoesNotAllowFails) {
  Up u(AgentFlags("localhost,registry.internal:5000"));
  ASSERT_TRUE(u.up->ok()) << u.up->output();
  std::string id = u.Submit("--cpu 100m --image registry.example.com/team/app:v1 -- true");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(u.Wait(id, std::chrono::seconds(60)), "failed");
  std::string reason = u.Reason(id);
  EXPECT_NE(reason.find("registry 'registry.example.com' is not allowed on this node (allowed: "
                        "localhost, registry.internal:5000"),
            std::string::npos)
      << reason;
}

TEST_F(ContainerTest, CancelStopsTheContainerWithinTheGracePeriodAndRemovesIt) {
  Up u(AgentFlags());
  ASSERT_TRUE(u.up->ok()) << u.up->output();
  // A duration no other process on the machine sleeps, to look for it afterwards.
  const std::string sleep = "sleep " + std::to_string(100000 + getpid() % 100000);
  std::string id = u.Submit("--cpu 100m --image " + std::string(kImage) + " -- sh -c " +
                            Quote("echo started; " + sleep));
  ASSERT_FALSE(id.empty());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (u.Logs(id).find("started") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_NE(u.Logs(id).find("started"), std::string::npos) << u.up->output();
  json::value job = u.Get(id);
  ASSERT_TRUE(job.is_object());
  std::string alloc(job.at("allocations").as_array().at(0).at("allocation_id").as_string());
  EXPECT_EQ(Sh(sandbox_->Podman("container exists fastgpu-" + alloc)).exit_code, 0);
  auto cancelled_at = std::chrono::steady_clock::now();
  CommandResult cancel = RunFastgpu("job cancel" + u.flags + " " + id);
  ASSERT_EQ(cancel.exit_code, 0) << cancel.output;
  // SIGTERM reaches the workload through podman's signal proxy and the container's init:
  // the container ends (and --rm removes it) well before the 10 s grace period would
  // bring SIGKILL and the agent's `podman rm -f`.
  deadline = cancelled_at + std::chrono::seconds(30);
  while (Sh(sandbox_->Podman("container exists fastgpu-" + alloc)).exit_code == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto took = std::chrono::steady_clock::now() - cancelled_at;
  EXPECT_NE(Sh(sandbox_->Podman("container exists fastgpu-" + alloc)).exit_code, 0)
      << Sh(sandbox_->Podman("ps -a")).output;
  EXPECT_LT(took, std::chrono::seconds(8)) << "the container ignored SIGTERM";
  EXPECT_EQ(u.Wait(id, std::chrono::seconds(30)), "cancelled");
  // No process of the workload is left on the node either.
  EXPECT_NE(Sh("pgrep -x -f " + Quote(sleep)).exit_code, 0) << Sh("ps -ef").output;
}

TEST_F(ContainerTest, AgentRestartRemovesAContainerWhosePodmanWasKilled) {
  Up u(AgentFlags());
  ASSERT_TRUE(u.up->ok()) << u.up->output();
  const std::string sleep = "sleep " + std::to_string(200000 + getpid() % 100000);
  std::string id = u.Submit("--cpu 100m --image " + std::string(kImage) + " -- sh -c " +
                            Quote("echo started; " + sleep));
  ASSERT_FALSE(id.empty());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (u.Logs(id).find("started") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_NE(u.Logs(id).find("started"), std::string::npos) << u.up->output();
  json::value job = u.Get(id);
  ASSERT_TRUE(job.is_object());
  std::string alloc(job.at("allocations").as_array().at(0).at("allocation_id").as_string());
  const std::string name = "fastgpu-" + alloc;
  // The agent goes down (its workloads keep running), then `podman run` is killed: the
  // container lives on without anyone attached to it.
  u.up->Stop(SIGKILL);
  // ("[-]" keeps the pattern from matching the shell that runs pkill.)
  CommandResult killed = Sh("pkill -KILL -f " + Quote("[-]-name=" + name + " "));
  ASSERT_EQ(killed.exit_code, 0) << killed.output;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(Sh(sandbox_->Podman("container exists " + name)).exit_code, 0);
  ASSERT_EQ(Sh("pgrep -x -f " + Quote(sleep)).exit_code, 0);
  // The restarted agent finds the replica ended and removes its container.
  u.Start(AgentFlags(), "/up2.log");
  ASSERT_TRUE(u.up->ok()) << u.up->output();
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Sh(sandbox_->Podman("container exists " + name)).exit_code == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_NE(Sh(sandbox_->Podman("container exists " + name)).exit_code, 0) << u.up->output();
  EXPECT_NE(Sh("pgrep -x -f " + Quote(sleep)).exit_code, 0) << Sh("ps -ef").output;
  EXPECT_EQ(u.Wait(id, std::chrono::seconds(30)), "failed") << u.Reason(id);
}

// Needs neither root nor podman: the agent finds no runtime. Also: the API refuses a
// malformed reference.
TEST(ContainerRuntimeMissingTest, ImageJobsFailWithPodmanNotFoundWhilePlainJobsRun) {
  TempDir bin;
  fs::create_symlink("/bin/sh", bin.path() + "/sh");
  const char* old_path = std::getenv("PATH");
  std::string saved = old_path != nullptr ? old_path : "";
  setenv("PATH", bin.path().c_str(), 1);  // the agent's PATH: sh and nothing else
  Up u({"--no-sandbox"});  // its only `sh` is under /tmp, which a sandboxed job cannot see
  setenv("PATH", saved.c_str(), 1);
  ASSERT_TRUE(u.up->ok()) << u.up->output();
  std::string boxed = u.Submit("--cpu 100m --image " + std::string(kImage) + " -- true");
  std::string plain = u.Submit("--cpu 100m -- sh -c " + Quote("echo plain-ok"));
  ASSERT_FALSE(boxed.empty());
  ASSERT_FALSE(plain.empty());
  EXPECT_EQ(u.Wait(boxed, std::chrono::seconds(60)), "failed");
  EXPECT_NE(u.Reason(boxed).find("podman not found in PATH"), std::string::npos) << u.Reason(boxed);
  EXPECT_EQ(u.Wait(plain, std::chrono::seconds(60)), "succeeded") << u.Reason(plain);
  EXPECT_NE(u.Logs(plain).find("plain-ok"), std::string::npos);
  // A malformed reference never reaches a node: the API refuses it.
  CommandResult bad = RunFastgpu("job submit" + u.flags + " --cpu 100m --image Not/Valid -- true");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("image: 'Not/Valid' is not a valid image reference"), std::string::npos)
      << bad.output;
}

}  // namespace
}  // namespace fastgpu::testing

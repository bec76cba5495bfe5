#include "agent/container.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "agent/files.h"

extern char** environ;

namespace fastgpu::agent {
namespace fs = std::filesystem;

namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::vector<std::string> Prefix(const ContainerOptions& options) {
  std::vector<std::string> argv{options.runtime};
  argv.insert(argv.end(), options.runtime_args.begin(), options.runtime_args.end());
  return argv;
}

// Whether a CDI spec in `dirs` describes nvidia.com/gpu devices.
bool HasNvidiaCdi(const std::vector<std::string>& dirs) {
  for (const std::string& dir : dirs) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string ext = it->path().extension().string();
      if (ext != ".json" && ext != ".yaml" && ext != ".yml") continue;
      auto text = ReadWholeFile(it->path().string(), int64_t{4} << 20);
      if (text.ok() && text->find("nvidia.com/gpu") != std::string::npos) return true;
    }
  }
  return false;
}

std::string CpusValue(int64_t cpu_milli) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(cpu_milli / 1000),
                static_cast<long long>(cpu_milli % 1000));
  return buf;
}

}  // namespace

std::string ContainerName(const std::string& allocation_id) { return "fastgpu-" + allocation_id; }

std::vector<std::string> BuildContainerArgv(const ContainerOptions& options,
                                            const ContainerRun& run) {
  std::vector<std::string> argv = Prefix(options);
  argv.insert(argv.end(), {
                              "run",
                              "--rm",
                              "--name=" + ContainerName(run.allocation_id),
                              "--pull=never",
                              "--init",
                              "--sig-proxy=true",
                              "--log-driver=passthrough",
                              "--user=" + options.user,
                              "--cap-drop=all",
                              "--security-opt=no-new-privileges",
                              "--network=" + options.network,
                              "--pids-limit=" + std::to_string(options.pids_limit),
                          });
  if (run.memory_mib > 0) argv.push_back("--memory=" + std::to_string(run.memory_mib) + "m");
  if (run.cpu_milli > 0) argv.push_back("--cpus=" + CpusValue(run.cpu_milli));
  for (const std::string& d : run.devices) argv.push_back("--device=" + d);
  for (const auto& [k, v] : run.env) {
    argv.push_back("--env=" + k + "=" + v);
  }
  argv.push_back("--volume=" + run.work_dir + ":" + run.work_dir);
  for (const std::string& m : run.mounts) argv.push_back("--volume=" + m + ":" + m);
  argv.push_back("--workdir=" + run.work_dir);
  argv.insert(argv.end(), options.run_args.begin(), options.run_args.end());
  // The image ends podman's options; what follows is the container's argv, even when
  // it starts with '-'.
  argv.push_back(run.image);
  argv.insert(argv.end(), run.command.begin(), run.command.end());
  return argv;
}

std::vector<std::string> BuildRemoveArgv(const ContainerOptions& options,
                                         const std::string& allocation_id) {
  std::vector<std::string> argv = Prefix(options);
  argv.insert(argv.end(),
              {"rm", "--force", "--ignore", "--time", "0", ContainerName(allocation_id)});
  return argv;
}

std::vector<std::string> GpuDeviceArgs(const ContainerOptions& options,
                                       const std::vector<int>& gpu_indexes) {
  std::vector<std::string> out;
  if (gpu_indexes.empty()) return out;
  if (HasNvidiaCdi(options.cdi_dirs)) {
    for (int i : gpu_indexes) out.push_back("nvidia.com/gpu=" + std::to_string(i));
    return out;
  }
  std::error_code ec;
  auto add = [&](const std::string& name) {
    std::string path = options.dev_dir + "/" + name;
    if (fs::exists(path, ec)) out.push_back(path);
  };
  for (int i : gpu_indexes) add("nvidia" + std::to_string(i));
  if (out.empty()) return out;  // no GPU node here (simulated GPUs): nothing to pass
  for (const char* name : {"nvidiactl", "nvidia-uvm", "nvidia-uvm-tools"}) add(name);
  return out;
}

Result<model::ImageRef> CheckImage(const ContainerOptions& options, const std::string& image) {
  FASTGPU_ASSIGN_OR_RETURN(model::ImageRef ref, model::ParseImageRef(image));
  if (!model::RegistryAllowed(ref, options.allowed_registries)) {
    return PermissionDenied("image " + image + ": registry '" + ref.registry +
                            "' is not allowed on this node (allowed: " +
                            (options.allowed_registries.empty()
                                 ? std::string("none")
                                 : Join(options.allowed_registries)) +
                            "; the operator sets them with fastgpu agent --registries)");
  }
  return ref;
}

Result<std::string> FindRuntime(const ContainerOptions& options, const std::string& path_env) {
  const std::string& rt = options.runtime;
  if (rt.empty()) return NotFound("no container runtime configured (--container-runtime)");
  if (rt.find('/') != std::string::npos) {
    if (access(rt.c_str(), X_OK) == 0) return rt;
    return NotFound(rt +
                    " not found or not executable: image jobs need podman (apt-get "
                    "install podman crun) or --container-runtime naming it");
  }
  size_t start = 0;
  for (;;) {
    size_t end = path_env.find(':', start);
    std::string dir = path_env.substr(start, end == std::string::npos ? end : end - start);
    if (!dir.empty()) {
      std::string candidate = dir + "/" + rt;
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return NotFound(rt + " not found in PATH (" + path_env +
                  "): image jobs need podman on the node (apt-get install podman crun) or "
                  "--container-runtime naming it");
}

Result<std::pair<int, int>> ContainerUser(const ContainerOptions& options) {
  int uid = -1, gid = -1;
  char rest = 0;
  if (std::sscanf(options.user.c_str(), "%d:%d%c", &uid, &gid, &rest) != 2 || uid < 0 || gid < 0) {
    return InvalidArgument("container user '" + options.user + "' is not uid:gid");
  }
  return std::pair<int, int>{uid, gid};
}

std::map<std::string, std::string> RuntimeEnv() {
  std::map<std::string, std::string> env;
  const char* path = std::getenv("PATH");
  env["PATH"] =
      path != nullptr ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  const char* home = std::getenv("HOME");
  env["HOME"] = home != nullptr ? home : "/root";
  for (const char* key :
       {"LANG", "LC_ALL", "TZ", "USER", "LOGNAME", "CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF",
        "CONTAINERS_REGISTRIES_CONF", "TMPDIR", "XDG_RUNTIME_DIR"}) {
    if (const char* v = std::getenv(key)) env[key] = v;
  }
  return env;
}

Status MakeContainerLaunch(const ContainerOptions& options, const protocol::DesiredReplica& want,
                           const std::vector<std::string>& host_folders, LaunchSpec* spec) {
  FASTGPU_ASSIGN_OR_RETURN(model::ImageRef ref, CheckImage(options, want.image));
  FASTGPU_ASSIGN_OR_RETURN(auto user, ContainerUser(options));
  ContainerRun run;
  run.allocation_id = want.allocation.id;
  run.image = ref.Canonical();
  run.command = want.command;
  run.env = spec->env;
  // The image's own PATH and user names hold inside, unless the job sets them.
  for (const char* key : {"PATH", "USER", "LOGNAME"}) {
    if (!want.env.count(key)) run.env.erase(key);
  }
  run.work_dir = spec->work_dir;
  run.mounts = host_folders;
  std::vector<int> gpus;
  for (const model::VgpuSlice& s : want.allocation.slices) {
    if (std::find(gpus.begin(), gpus.end(), s.gpu_index) == gpus.end()) {
      gpus.push_back(s.gpu_index);
    }
  }
  run.devices = GpuDeviceArgs(options, gpus);
  run.memory_mib = want.allocation.memory_mib;
  run.cpu_milli = want.allocation.cpu_milli;
  // The container's user owns its working folder (the agent made it as root).
  if (chown(run.work_dir.c_str(), user.first, user.second) != 0) {
    return Internal("cannot give " + run.work_dir + " to " + options.user + ": " +
                    std::string(strerror(errno)));
  }
  spec->argv = BuildContainerArgv(options, run);
  spec->env = RuntimeEnv();
  // FindLaunchedWorkloads finds `podman run` by these after an agent restart.
  spec->env["FASTGPU_ALLOCATION_ID"] = want.allocation.id;
  spec->env["FASTGPU_WORK_DIR"] = run.work_dir;
  return OkStatus();
}

Status RemoveContainer(const ContainerOptions& options, const std::string& allocation_id,
                       std::chrono::milliseconds timeout) {
  std::vector<std::string> args = BuildRemoveArgv(options, allocation_id);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : RuntimeEnv()) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // The agent blocks SIGTERM/SIGINT in every thread; the runtime gets a clean mask.
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  int err = posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (err != 0) {
    return Unavailable("cannot run " + options.runtime + ": " + std::string(strerror(err)));
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return Internal("waitpid: " + std::string(strerror(errno)));
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return Unavailable(options.runtime + " rm " + ContainerName(allocation_id) +
                         " did not finish in time");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return OkStatus();
  return Internal(options.runtime + " rm " + ContainerName(allocation_id) + " failed (status " +
                  std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
}

}  // namespace fastgpu::agent

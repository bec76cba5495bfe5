#include "agent/mps.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "agent/launcher.h"
#include "agent/vgpu.h"

extern char** environ;

namespace fastgpu::agent {

MpsDaemons::MpsDaemons(std::string mps_root, std::string control,
                       std::chrono::milliseconds start_timeout, FileEnv& env)
    : root_(std::move(mps_root)),
      control_(std::move(control)),
      start_timeout_(start_timeout),
      env_(env) {}

bool MpsDaemons::Running(const std::string& gpu_uuid) const {
  auto text = env_.ReadFile(MpsPipeDirectory(root_, gpu_uuid) + "/nvidia-cuda-mps-control.pid", 64);
  int pid = text.ok() ? std::atoi(text->c_str()) : 0;
  return pid > 0 && ProcessStartTime(pid) != 0;
}

Status MpsDaemons::RunControl(const std::string& gpu_uuid, const char* arg,
                              const std::string& stdin_text) {
  std::string pipe_dir = MpsPipeDirectory(root_, gpu_uuid);
  std::string log_dir = root_ + "/" + gpu_uuid + "/log";
  for (const std::string& dir : {pipe_dir, log_dir}) {
    if (Status st = env_.CreateDirs(dir); !st.ok()) {
      return Unavailable("MPS folders for " + gpu_uuid + ": " + st.message());
    }
  }
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    if (kv.rfind("CUDA_VISIBLE_DEVICES=", 0) == 0 || kv.rfind("CUDA_MPS_", 0) == 0) continue;
    env_storage.push_back(kv);
  }
  env_storage.push_back("CUDA_VISIBLE_DEVICES=" + gpu_uuid);
  env_storage.push_back("CUDA_MPS_PIPE_DIRECTORY=" + pipe_dir);
  env_storage.push_back("CUDA_MPS_LOG_DIRECTORY=" + log_dir);
  std::vector<char*> envp;
  for (auto& s : env_storage) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string prog = control_;
  std::vector<char*> argv = {prog.data()};
  std::string arg_storage = arg != nullptr ? arg : "";
  if (arg != nullptr) argv.push_back(arg_storage.data());
  argv.push_back(nullptr);

  int in_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) return Unavailable(std::string("pipe: ") + strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  std::string out_log = log_dir + "/control-output.log";
  posix_spawn_file_actions_addopen(&actions, 1, out_log.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  // The daemon starts with default signal handling and an empty mask, whatever the
  // agent's threads block.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int err = posix_spawnp(&pid, prog.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(in_pipe[0]);
  if (err != 0) {
    close(in_pipe[1]);
    return Unavailable("cannot run " + control_ + ": " + strerror(err));
  }
  if (!stdin_text.empty()) {
    ssize_t ignored = write(in_pipe[1], stdin_text.data(), stdin_text.size());
    (void)ignored;
  }
  close(in_pipe[1]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Unavailable(control_ + " " + arg_storage + " for " + gpu_uuid + " failed (status " +
                       std::to_string(status) + "); see " + log_dir);
  }
  return OkStatus();
}

Status MpsDaemons::Ensure(const std::string& gpu_uuid, bool* started) {
  if (started != nullptr) *started = false;
  if (Running(gpu_uuid)) return OkStatus();
  FASTGPU_RETURN_IF_ERROR(RunControl(gpu_uuid, "-d", ""));
  auto deadline = std::chrono::steady_clock::now() + start_timeout_;
  while (!Running(gpu_uuid)) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Unavailable("MPS control daemon for " + gpu_uuid + " wrote no pid file in " +
                         MpsPipeDirectory(root_, gpu_uuid));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (started != nullptr) *started = true;
  return OkStatus();
}

Status MpsDaemons::Stop(const std::string& gpu_uuid) {
  if (!Running(gpu_uuid)) return OkStatus();
  return RunControl(gpu_uuid, nullptr, "quit\n");
}

}  // namespace fastgpu::agent

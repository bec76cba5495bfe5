#include "server/pool_exec_provider.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace fastgpu::server {

namespace json = boost::json;

namespace {

constexpr size_t kMaxOut = 1 << 20;
constexpr size_t kMaxErr = 2048;

// Closes its file descriptors.
struct Fds {
  int fd[5] = {-1, -1, -1, -1, -1};
  ~Fds() {
    for (int f : fd) {
      if (f >= 0) close(f);
    }
  }
};

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Result<ExecResult> RunCommand(const std::vector<std::string>& argv, const std::string& input,
                              std::chrono::milliseconds timeout) {
  if (argv.empty()) return InvalidArgument("empty command");
  Fds fds;  // 0: stdin (memfd), 1-2: stdout pipe, 3-4: stderr pipe
  fds.fd[0] = memfd_create("fastgpu-pool-stdin", MFD_CLOEXEC);
  if (fds.fd[0] < 0) return Internal(std::string("memfd_create: ") + std::strerror(errno));
  for (size_t off = 0; off < input.size();) {
    ssize_t n = write(fds.fd[0], input.data() + off, input.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Internal(std::string("write: ") + std::strerror(errno));
    off += static_cast<size_t>(n);
  }
  lseek(fds.fd[0], 0, SEEK_SET);
  if (pipe2(&fds.fd[1], O_CLOEXEC) != 0 || pipe2(&fds.fd[3], O_CLOEXEC) != 0) {
    return Internal(std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds.fd[0], 0);
  posix_spawn_file_actions_adddup2(&actions, fds.fd[2], 1);
  posix_spawn_file_actions_adddup2(&actions, fds.fd[4], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Internal("cannot run " + argv[0] + ": " + std::strerror(rc));
  close(fds.fd[2]);
  close(fds.fd[4]);
  fds.fd[2] = fds.fd[4] = -1;

  ExecResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  bool open_out = true, open_err = true;
  char buf[4096];
  while (open_out || open_err) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p[2] = {{open_out ? fds.fd[1] : -1, POLLIN, 0}, {open_err ? fds.fd[3] : -1, POLLIN, 0}};
    int n = poll(p, 2, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2 && n > 0; ++i) {
      if (p[i].revents == 0) continue;
      ssize_t got = read(p[i].fd, buf, sizeof(buf));
      if (got <= 0) {
        (i == 0 ? open_out : open_err) = false;
        continue;
      }
      if (i == 0) {
        if (result.out.size() < kMaxOut) result.out.append(buf, static_cast<size_t>(got));
      } else {
        result.err.append(buf, static_cast<size_t>(got));
        if (result.err.size() > 2 * kMaxErr) result.err.erase(0, result.err.size() - kMaxErr);
      }
    }
  }
  if (result.err.size() > kMaxErr) result.err.erase(0, result.err.size() - kMaxErr);
  if (timed_out) kill(-pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return DeadlineExceeded(argv[0] + " ran past its " + std::to_string(timeout.count() / 1000) +
                            " s limit and was killed" +
                            (result.err.empty() ? "" : "; stderr: " + Trim(result.err)));
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

ExecProvider::ExecProvider(std::map<std::string, ExecProviderConfig> groups)
    : groups_(std::move(groups)) {}

Result<std::string> ExecProvider::Run(const std::string& group, const std::string& verb,
                                      const std::string& input) {
  auto it = groups_.find(group);
  if (it == groups_.end()) return NotFound("no exec settings for group " + group);
  std::vector<std::string> argv = it->second.command;
  argv.push_back(verb);
  auto r = RunCommand(argv, input, it->second.timeout);
  if (!r.ok()) return r.status().WithContext(verb);
  if (r->exit_code != 0) {
    std::string err = Trim(r->err);
    return Unavailable(verb + ": " + argv[0] + " exited with " + std::to_string(r->exit_code) +
                       (err.empty() ? " (no stderr)" : ": " + err));
  }
  return std::move(r->out);
}

Status ExecProvider::Create(const NodeRequest& request) {
  json::object in{{"group", request.group},
                  {"name", request.name},
                  {"shape", json::object{{"gpu_model", request.shape.gpu_model},
                                         {"gpus", request.shape.gpus},
                                         {"cpu_milli", request.shape.cpu_milli},
                                         {"memory_mib", request.shape.memory_mib}}},
                  {"server_url", request.server_url},
                  {"join_token", request.join_token}};
  return Run(request.group, "create", json::serialize(in)).status();
}

Status ExecProvider::Delete(const std::string& group, const std::string& name) {
  json::object in{{"group", group}, {"name", name}};
  return Run(group, "delete", json::serialize(in)).status();
}

Result<std::vector<std::string>> ExecProvider::List(const std::string& group) {
  FASTGPU_ASSIGN_OR_RETURN(std::string out,
                           Run(group, "list", json::serialize(json::object{{"group", group}})));
  boost::system::error_code ec;
  json::value v = json::parse(out, ec);
  const json::value* nodes = (!ec && v.is_object()) ? v.get_object().if_contains("nodes") : nullptr;
  if (nodes == nullptr || !nodes->is_array()) {
    return Unavailable("list: the command's output is not {\"nodes\":[...]}: " +
                       Trim(out.substr(0, 200)));
  }
  std::vector<std::string> names;
  for (const auto& n : nodes->get_array()) {
    if (!n.is_string()) return Unavailable("list: a node name is not a string");
    names.emplace_back(n.get_string());
  }
  return names;
}

}  // namespace fastgpu::server

// The real ProcessLauncher: double fork, setsid, a per-replica shim (see launcher.h).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string_view>

#include "agent/files.h"
#include "agent/launcher.h"
#include "agent/sandbox.h"

namespace fastgpu::agent {
namespace {

// ---- async-signal-safe helpers (used between fork and exec) ----

size_t FormatInt(char* out, int64_t v) {
  char tmp[24];
  size_t n = 0;
  bool neg = v < 0;
  uint64_t u = neg ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
  do {
    tmp[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  size_t len = 0;
  if (neg) out[len++] = '-';
  while (n > 0) out[len++] = tmp[--n];
  return len;
}

void WriteAll(int fd, const char* data, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    len -= static_cast<size_t>(n);
  }
}

void WriteCString(int fd, const char* s) { WriteAll(fd, s, strlen(s)); }

int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void CloseFrom(int first) {
  if (syscall(SYS_close_range, first, ~0U, 0) == 0) return;
  for (int fd = first; fd < 4096; ++fd) close(fd);
}

// Everything the shim needs, prepared before fork so the child allocates nothing.
struct Prepared {
  std::string exe;
  // The command's other matches on PATH, in order: tried when `exe` cannot be run by the
  // replica's user (a PATH entry under /root, say), as execvp does.
  std::vector<std::string> more_exes;
  std::vector<std::string> argv_storage, env_storage;
  std::vector<char*> argv, envp;
  std::string work_dir, log_path, status_path, status_tmp;
  std::vector<std::string> cgroup_procs;
  int64_t log_cap = 0;
  sandbox::Prepared sandbox;
  // A session's stdio (LaunchSpec::stdin_fd/stdout_fd/stderr_fd): in the launcher's
  // process, then at kStdinFd/kStdoutFd/kStderrFd in the shim. -1: none.
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
  bool tty = false;
};

// Where the shim keeps a session's stdio (after the report pipe at 3).
constexpr int kStdinFd = 4;
constexpr int kStdoutFd = 5;
constexpr int kStderrFd = 6;

// What the workload's child tells the shim when it could not exec (nothing when it did).
struct ExecError {
  int32_t err = 0;
  int32_t step = sandbox::kNone;  // a sandbox step, or kNone for chdir/exec
};

// What the shim tells the launcher: its pid, the workload's, and why it did not start.
struct ShimReport {
  int32_t shim_pid = 0;
  int32_t pid = 0;
  int32_t err = 0;
  int32_t step = sandbox::kNone;
};

[[noreturn]] void RunWorkload(const Prepared& p, int out_w, int exec_w) {
  if (p.tty) {
    setsid();  // leads a new session (and process group) with the terminal as its own
    ioctl(kStdinFd, TIOCSCTTY, 0);
  } else {
    setpgid(0, 0);
  }
  for (const std::string& procs : p.cgroup_procs) {
    int fd = open(procs.c_str(), O_WRONLY | O_CLOEXEC);
    char num[24];
    size_t len = FormatInt(num, getpid());
    if (fd < 0 || write(fd, num, len) != static_cast<ssize_t>(len)) {
      WriteCString(out_w, "fastgpu: could not join the replica's cgroup; running without limits\n");
    }
    if (fd >= 0) close(fd);
  }
  if (p.stdin_fd >= 0) {
    dup2(kStdinFd, 0);
    const int out = p.tty ? kStdinFd : (p.stdout_fd >= 0 ? kStdoutFd : out_w);
    dup2(out, 1);
    dup2(!p.tty && p.stderr_fd >= 0 ? kStderrFd : out, 2);
  } else {
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(out_w, 1);
    dup2(out_w, 2);
  }
  for (int sig = 1; sig < NSIG; ++sig) signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  ExecError e;
  auto fail = [&](int err, int32_t step) {
    e.err = err;
    e.step = step;
    WriteAll(exec_w, reinterpret_cast<const char*>(&e), sizeof(e));
    _exit(127);
  };
  // The cgroups are joined above, while still privileged; then namespaces, then the uid.
  if (p.sandbox.namespaces) {
    // No cwd may keep a way under a path about to be hidden.
    if (chdir("/") != 0) fail(errno, sandbox::kNone);
    int32_t step = sandbox::kNone;
    if (int err = sandbox::EnterNamespaces(p.sandbox, &step); err != 0) fail(err, step);
  }
  if (chdir(p.work_dir.c_str()) != 0) fail(errno, sandbox::kNone);
  {
    int32_t step = sandbox::kNone;
    if (int err = sandbox::DropPrivileges(p.sandbox, &step); err != 0) fail(err, step);
  }
  {
    // Every other descriptor closes at exec; the exec-error pipe already is close-on-exec.
    if (syscall(SYS_close_range, 3, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) != 0) {
      for (int fd = 3; fd < 4096; ++fd) {
        if (fd != exec_w) fcntl(fd, F_SETFD, FD_CLOEXEC);
      }
    }
    execve(p.exe.c_str(), p.argv.data(), p.envp.data());
    const int first_err = errno;
    if (first_err == EACCES || first_err == ENOENT || first_err == ENOTDIR) {
      for (const std::string& other : p.more_exes) {
        execve(other.c_str(), p.argv.data(), p.envp.data());
      }
    }
    fail(first_err, sandbox::kNone);
  }
  _exit(127);
}

// pid 1 of the workload's PID namespace: reaps what is re-parented to it, ignores every
// signal it has no handler for (as a namespace's init does), and dies with the shim,
// which ends every process left in the namespace.
[[noreturn]] void RunInit() {
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  prctl(PR_SET_NAME, "fastgpu-init", 0, 0, 0);
  CloseFrom(0);
  for (;;) {
    int st = 0;
    if (waitpid(-1, &st, 0) < 0 && errno == ECHILD) {
      struct timespec ts = {0, 100 * 1000 * 1000};
      nanosleep(&ts, nullptr);
    }
  }
}

void WriteStatus(const Prepared& p, const char* line, size_t len) {
  int fd = open(p.status_tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  WriteAll(fd, line, len);
  fsync(fd);
  close(fd);
  rename(p.status_tmp.c_str(), p.status_path.c_str());
}

// The shim: forks the workload, relays its output with a cap, records its end.
[[noreturn]] void RunShim(const Prepared& p, int report_w) {
  setsid();
  prctl(PR_SET_NAME, "fastgpu-shim", 0, 0, 0);  // the name ps shows (the argv is the agent's)
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  auto report_failure = [&](int err, int32_t step) {
    ShimReport r{getpid(), 0, err != 0 ? err : EIO, step};
    WriteAll(report_w, reinterpret_cast<const char*>(&r), sizeof(r));
    _exit(1);
  };
  // The init is forked before any pipe exists, so it holds none of them.
  pid_t init = 0;
  if (p.sandbox.namespaces) {
    if (unshare(CLONE_NEWPID) != 0) report_failure(errno, sandbox::kUnsharePid);
    init = fork();
    if (init == 0) RunInit();
    if (init < 0) report_failure(errno, sandbox::kForkInit);
  }
  auto end_init = [&] {
    if (init <= 0) return;
    kill(init, SIGKILL);  // and with it whatever is left in the namespace
    int st;
    while (waitpid(init, &st, 0) < 0 && errno == EINTR) {
    }
  };
  int out[2], exec_pipe[2];
  int log_fd = open(p.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(exec_pipe, O_CLOEXEC) != 0) {
    int err = errno;
    end_init();
    report_failure(err, sandbox::kNone);
  }
  pid_t child = fork();
  if (child == 0) RunWorkload(p, out[1], exec_pipe[1]);
  if (p.stdin_fd >= 0) {  // the workload holds them now: its end is the end of the output
    close(kStdinFd);
    // Only those that were given: the numbers of the others may hold the log by now.
    if (p.stdout_fd >= 0) close(kStdoutFd);
    if (p.stderr_fd >= 0) close(kStderrFd);
  }
  close(out[1]);
  close(exec_pipe[1]);
  ExecError exec_err;
  if (child < 0) exec_err.err = errno;
  if (child > 0) {
    ssize_t n;
    do {
      n = read(exec_pipe[0], &exec_err, sizeof(exec_err));
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(sizeof(exec_err))) exec_err = ExecError{};
  }
  ShimReport report{getpid(), child, exec_err.err, exec_err.step};
  WriteAll(report_w, reinterpret_cast<const char*>(&report), sizeof(report));
  close(report_w);
  char line[96];
  size_t len = 0;
  if (child < 0) {
    end_init();
    _exit(1);
  }
  if (exec_err.err != 0) {
    int st;
    waitpid(child, &st, 0);
    end_init();
    _exit(0);  // the agent reports the failure from the report pipe
  }
  struct stat sb;
  int64_t written = fstat(log_fd, &sb) == 0 ? sb.st_size : 0;
  bool capped = false, out_open = true, reaped = false;
  int status = 0;
  char buf[16384];
  // Appends n bytes of buf to the log up to the cap; notes the cap once.
  auto relay = [&](ssize_t n) {
    int64_t room = p.log_cap - written;
    size_t take = room > 0 ? std::min(static_cast<size_t>(n), static_cast<size_t>(room)) : 0;
    if (take > 0) {
      WriteAll(log_fd, buf, take);
      written += static_cast<int64_t>(take);
    }
    if (take < static_cast<size_t>(n) && !capped) {
      capped = true;
      WriteCString(log_fd, "\n[fastgpu: log cap reached; further output dropped]\n");
    }
  };
  while (!reaped) {
    if (out_open) {
      struct pollfd pfd = {out[0], POLLIN, 0};
      if (poll(&pfd, 1, 200) > 0) {
        ssize_t n = read(out[0], buf, sizeof(buf));
        if (n > 0) {
          relay(n);
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
          out_open = false;
        }
      }
      pid_t r = waitpid(child, &status, WNOHANG);
      if (r == child) reaped = true;
    } else {
      if (waitpid(child, &status, 0) == child) reaped = true;
    }
  }
  // Drain what the workload wrote just before it ended, without waiting for leftovers.
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  for (;;) {
    ssize_t n = read(out[0], buf, sizeof(buf));
    if (n <= 0) break;
    relay(n);
  }
  kill(-child, SIGKILL);  // whatever the workload left behind in its process group
  end_init();
  fsync(log_fd);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  const char* prefix = "exit ";
  memcpy(line, prefix, 5);
  len = 5;
  len += FormatInt(line + len, code);
  line[len++] = ' ';
  len += FormatInt(line + len, sig);
  line[len++] = ' ';
  len += FormatInt(line + len, NowMs());
  line[len++] = '\n';
  WriteStatus(p, line, len);
  _exit(0);
}

// Every match of `name` on the replica's PATH that the agent may run, in PATH order (the
// name itself when it has a '/'); empty when there is none. The replica's user may not
// reach the first (the agent runs as root), so the child tries them in turn.
std::vector<std::string> FindExecutables(const std::string& name,
                                         const std::map<std::string, std::string>& env) {
  if (name.find('/') != std::string::npos) return {name};
  auto it = env.find("PATH");
  std::string path = it != env.end() ? it->second : "/usr/local/bin:/usr/bin:/bin";
  std::stringstream dirs(path);
  std::string dir;
  std::vector<std::string> out;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) out.push_back(std::move(candidate));
  }
  return out;
}

class ShimLauncher final : public ProcessLauncher {
 public:
  Result<ProcessHandle> Launch(const LaunchSpec& spec) override {
    if (spec.argv.empty() || spec.argv[0].empty()) return InvalidArgument("empty command");
    Prepared p;
    std::vector<std::string> exes = FindExecutables(spec.argv[0], spec.env);
    if (exes.empty()) {
      return FailedPrecondition("command not found: " + spec.argv[0] + " (searched PATH)");
    }
    p.exe = exes.front();
    p.more_exes.assign(exes.begin() + 1, exes.end());
    p.argv_storage = spec.argv;
    for (const auto& [k, v] : spec.env) p.env_storage.push_back(k + "=" + v);
    for (auto& s : p.argv_storage) p.argv.push_back(s.data());
    p.argv.push_back(nullptr);
    for (auto& s : p.env_storage) p.envp.push_back(s.data());
    p.envp.push_back(nullptr);
    p.work_dir = spec.work_dir;
    if (spec.sandbox.namespaces) {
      std::error_code ec;
      auto abs = std::filesystem::absolute(spec.work_dir, ec);
      if (!ec) p.work_dir = abs.lexically_normal().string();
    }
    p.log_path = spec.log_path;
    p.status_path = spec.status_path;
    p.status_tmp = spec.status_path + ".tmp";
    p.cgroup_procs = spec.cgroup_procs;
    p.log_cap = spec.log_cap_bytes;
    p.stdin_fd = spec.stdin_fd;
    p.stdout_fd = spec.stdout_fd;
    p.stderr_fd = spec.tty ? -1 : spec.stderr_fd;
    p.tty = spec.tty && spec.stdin_fd >= 0;
    auto sandbox = sandbox::Prepare(spec.sandbox);
    if (!sandbox.ok()) return sandbox.status();
    p.sandbox = std::move(sandbox).value();
    if (spec.sandbox.namespaces) {
      std::error_code ec;
      auto exe = std::filesystem::absolute(p.exe, ec);
      if (!ec && sandbox::Hidden(p.sandbox, exe.string())) {
        return FailedPrecondition("cannot start " + spec.argv[0] + ": " + exe.string() +
                                  " is hidden in the sandbox (a private /tmp or a hidden data "
                                  "dir); install the program elsewhere or put it in the work dir");
      }
    }

    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + strerror(errno));
    pid_t first = fork();
    if (first < 0) {
      int err = errno;
      close(report[0]);
      close(report[1]);
      return Internal(std::string("fork: ") + strerror(err));
    }
    if (first == 0) {
      // Intermediate child: fork the shim and leave, so the shim is re-parented to init.
      close(report[0]);
      // A session's stdio moves above the fds being set (to 100+), then to 4 and 5.
      int in = p.stdin_fd >= 0 ? fcntl(p.stdin_fd, F_DUPFD, 100) : -1;
      int out = p.stdout_fd >= 0 ? fcntl(p.stdout_fd, F_DUPFD, 100) : -1;
      int err = p.stderr_fd >= 0 ? fcntl(p.stderr_fd, F_DUPFD, 100) : -1;
      if (dup2(report[1], 3) < 0) _exit(1);
      if (in >= 0 && dup2(in, kStdinFd) < 0) _exit(1);
      if (out >= 0 && dup2(out, kStdoutFd) < 0) _exit(1);
      if (err >= 0 && dup2(err, kStderrFd) < 0) _exit(1);
      CloseFrom(in >= 0 ? kStderrFd + 1 : kStdinFd);
      if (in >= 0 && out < 0) close(kStdoutFd);
      if (in >= 0 && err < 0) close(kStderrFd);
      // The shim keeps none of the agent's terminals or pipes open.
      int devnull = open("/dev/null", O_RDWR);
      if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
        if (devnull > 3) close(devnull);
      }
      pid_t shim = fork();
      if (shim == 0) RunShim(p, 3);
      _exit(shim < 0 ? 1 : 0);
    }
    close(report[1]);
    int st = 0;
    while (waitpid(first, &st, 0) < 0 && errno == EINTR) {
    }
    ShimReport msg;
    size_t got = 0;
    while (got < sizeof(msg)) {
      struct pollfd pfd = {report[0], POLLIN, 0};
      if (poll(&pfd, 1, 10000) <= 0) break;
      ssize_t n = read(report[0], reinterpret_cast<char*>(&msg) + got, sizeof(msg) - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    close(report[0]);
    if (got != sizeof(msg)) return Internal("the replica's shim did not report its start");
    if (msg.err != 0) {
      std::string where = msg.step != sandbox::kNone
                              ? std::string("sandbox: ") + sandbox::StepName(msg.step) + ": "
                              : "";
      return FailedPrecondition("cannot start " + spec.argv[0] + ": " + where + strerror(msg.err));
    }
    ProcessHandle h;
    h.shim_pid = msg.shim_pid;
    h.pid = msg.pid;
    h.shim_start = ProcessStartTime(h.shim_pid);
    h.pid_start = ProcessStartTime(h.pid);
    return h;
  }

  ProcessState Poll(const ProcessHandle& h, const std::string& status_path) override {
    if (auto content = ReadWholeFile(status_path, 4096); content.ok()) {
      return ParseStatusFile(*content);
    }
    ProcessState s;
    if (h.shim_pid > 0 && h.shim_start != 0 && ProcessStartTime(h.shim_pid) == h.shim_start) {
      return s;  // running
    }
    // The shim may have written the file between the two checks.
    if (auto content = ReadWholeFile(status_path, 4096); content.ok()) {
      return ParseStatusFile(*content);
    }
    s.kind = ProcessState::Kind::kLost;
    s.message = "the replica's supervisor (shim pid " + std::to_string(h.shim_pid) +
                ") is gone without recording an exit status";
    return s;
  }

  Status Signal(const ProcessHandle& h, int sig) override {
    if (h.shim_pid <= 0 || ProcessStartTime(h.shim_pid) != h.shim_start) return OkStatus();
    if (h.pid <= 0) return OkStatus();
    if (kill(-h.pid, sig) != 0 && errno != ESRCH) {
      return Internal("kill(-" + std::to_string(h.pid) + "): " + strerror(errno));
    }
    return OkStatus();
  }
};

}  // namespace

std::unique_ptr<ProcessLauncher> MakeShimLauncher() { return std::make_unique<ShimLauncher>(); }

uint64_t ProcessStartTime(int pid) {
  if (pid <= 0) return 0;
  // The process may exit at any moment, even between open() and read() (read() then
  // fails with ESRCH): every failure means "no such process".
  auto content = ReadWholeFile("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!content.ok()) return 0;
  return ParseProcStatStartTime(*content);
}

uint64_t ParseProcStatStartTime(const std::string& content) {
  size_t close_paren = content.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 > content.size()) return 0;
  // Fields after the name start at 3 (state); start time is field 22.
  const char* p = content.c_str() + close_paren + 2;
  char state = *p;
  if (state == 'Z' || state == 'X' || state == 'x' || state == '\0') return 0;
  int field = 3;
  while (*p != '\0' && field < 22) {
    if (*p == ' ') ++field;
    ++p;
  }
  if (field != 22) return 0;
  uint64_t start = 0;
  bool digits = false;
  for (; *p >= '0' && *p <= '9'; ++p) {
    start = start * 10 + static_cast<uint64_t>(*p - '0');
    digits = true;
  }
  return digits ? start : 0;
}

namespace {

// Fields 4 (ppid) and 5 (process group) of a /proc/<pid>/stat line, and the name (2).
bool ParseProcStatParents(const std::string& content, std::string* name, int* ppid, int* pgrp) {
  size_t open_paren = content.find('(');
  size_t close_paren = content.rfind(')');
  if (open_paren == std::string::npos || close_paren == std::string::npos ||
      close_paren < open_paren) {
    return false;
  }
  *name = content.substr(open_paren + 1, close_paren - open_paren - 1);
  char state = 0;
  return std::sscanf(content.c_str() + close_paren + 1, " %c %d %d", &state, ppid, pgrp) == 3;
}

}  // namespace

std::map<std::string, ProcessHandle> FindLaunchedWorkloads(const std::string& replicas_dir) {
  std::map<std::string, ProcessHandle> found;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return found;
  const std::string kId = "FASTGPU_ALLOCATION_ID=", kWork = "FASTGPU_WORK_DIR=";
  while (struct dirent* e = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    std::string base = std::string("/proc/") + e->d_name;
    auto environ = ReadWholeFile(base + "/environ", int64_t{4} << 20);
    if (!environ.ok() || environ->find(kId) == std::string::npos) continue;
    std::string id, work;
    for (size_t at = 0; at < environ->size();) {
      size_t nul = environ->find('\0', at);
      if (nul == std::string::npos) nul = environ->size();
      std::string_view var(environ->data() + at, nul - at);
      if (var.substr(0, kId.size()) == kId) id = var.substr(kId.size());
      if (var.substr(0, kWork.size()) == kWork) work = var.substr(kWork.size());
      at = nul + 1;
    }
    if (id.empty() || work != replicas_dir + "/" + id + "/work") continue;
    auto stat = ReadWholeFile(base + "/stat", 4096);
    std::string name;
    int ppid = 0, pgrp = 0;
    if (!stat.ok() || !ParseProcStatParents(*stat, &name, &ppid, &pgrp) || pgrp != pid) continue;
    auto parent = ReadWholeFile("/proc/" + std::to_string(ppid) + "/stat", 4096);
    std::string parent_name;
    int pp = 0, pg = 0;
    if (!parent.ok() || !ParseProcStatParents(*parent, &parent_name, &pp, &pg) ||
        parent_name != "fastgpu-shim") {
      continue;
    }
    ProcessHandle h;
    h.pid = static_cast<int>(pid);
    h.pid_start = ParseProcStatStartTime(*stat);
    h.shim_pid = ppid;
    h.shim_start = ParseProcStatStartTime(*parent);
    if (h.pid_start == 0 || h.shim_start == 0) continue;
    found[id] = h;
  }
  closedir(proc);
  return found;
}

ProcessState ParseStatusFile(const std::string& content) {
  ProcessState s;
  std::istringstream in(content);
  std::string word;
  int code = 0, sig = 0;
  int64_t ended = 0;
  if (!(in >> word >> code >> sig >> ended) || word != "exit") {
    s.kind = ProcessState::Kind::kLost;
    s.message = "unreadable exit status file";
    return s;
  }
  s.kind = ProcessState::Kind::kExited;
  s.exit_code = code;
  s.signal = sig;
  s.ended_at_ms = ended;
  s.message = sig != 0 ? "killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")"
                       : "exit " + std::to_string(code);
  return s;
}

}  // namespace fastgpu::agent

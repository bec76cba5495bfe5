// Confinement of a workload: prepared before fork, entered between fork and exec.
#include "agent/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

namespace fastgpu::agent {
namespace sandbox {
namespace {

namespace fs = std::filesystem;

constexpr const char* kStepNames[kCount] = {
    "",
    "new PID namespace",
    "fork of the namespace's init",
    "new mount, IPC and UTS namespaces",
    "making mounts private",
    "opening a path to bind",
    "hiding a path (tmpfs)",
    "creating a mount point",
    "binding a folder back",
    "private /dev (tmpfs)",
    "binding a device node",
    "private /dev/shm",
    "setting the host name",
    "mounting /proc",
    "dropping capabilities",
    "setgroups",
    "setresgid",
    "setresuid",
    "no_new_privs",
    "checking the new uid",
};

// "/proc/self/fd/<fd>" into buf (at least 32 bytes); async-signal-safe.
const char* FdPath(char* buf, int fd) {
  static const char kPrefix[] = "/proc/self/fd/";
  memcpy(buf, kPrefix, sizeof(kPrefix) - 1);
  char digits[12];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + fd % 10);
    fd /= 10;
  } while (fd > 0);
  size_t at = sizeof(kPrefix) - 1;
  while (n > 0) buf[at++] = digits[--n];
  buf[at] = '\0';
  return buf;
}

bool IsUnder(const fs::path& path, const fs::path& dir) {
  auto [d, p] = std::mismatch(dir.begin(), dir.end(), path.begin(), path.end());
  return d == dir.end();
}

}  // namespace

const char* StepName(int32_t step) {
  return step > 0 && step < kCount ? kStepNames[step] : "unknown step";
}

Result<Prepared> Prepare(const SandboxSpec& spec) {
  Prepared p;
  p.namespaces = spec.namespaces;
  p.uid = spec.uid;
  p.gid = spec.gid < 0 ? spec.uid : spec.gid;
  if (p.uid == 0) return InvalidArgument("sandbox: uid 0 is not a sandbox (leave uid at -1)");
  p.hostname = spec.hostname.empty() ? "fastgpu" : spec.hostname.substr(0, 63);
  if (!spec.namespaces) return p;
  // Private /tmp, /var/tmp and /run/lock (the host's world-writable folders: shared, they
  // would let replicas pass files, and outlive them) are hides too, so that a data dir
  // under /tmp is covered once and its work dir bound back after.
  std::vector<std::pair<fs::path, std::string>> hides;
  for (const char* tmp : {"/tmp", "/var/tmp", "/run/lock"}) {
    std::error_code ec;
    if (fs::is_directory(tmp, ec)) hides.emplace_back(tmp, "mode=1777");
  }
  for (const std::string& h : spec.hide_paths) {
    fs::path path = fs::path(h).lexically_normal();
    if (!path.is_absolute() || path == "/") {
      return InvalidArgument("sandbox: cannot hide '" + h + "' (an absolute path, not /)");
    }
    std::string s = path.string();
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    std::error_code ec;
    if (fs::is_directory(s, ec)) hides.emplace_back(s, "mode=0755,size=1m");
  }
  // Outermost only: a path inside a hidden one is hidden with it.
  for (const auto& [path, options] : hides) {
    bool inner = std::any_of(hides.begin(), hides.end(), [&](const auto& other) {
      return other.first != path && IsUnder(path, other.first);
    });
    if (!inner) p.hides.push_back({path.string(), options});
  }
  for (const std::string& b : spec.bind_back) {
    fs::path target = fs::path(b).lexically_normal();
    std::string t = target.string();
    while (t.size() > 1 && t.back() == '/') t.pop_back();
    target = t;
    if (!target.is_absolute()) return InvalidArgument("sandbox: bind '" + b + "' is relative");
    auto cover = std::find_if(p.hides.begin(), p.hides.end(),
                              [&](const Prepared::Hide& h) { return IsUnder(target, h.path); });
    if (cover == p.hides.end()) continue;  // visible anyway
    Prepared::Bind bind;
    bind.target = t;
    fs::path at = cover->path;
    auto rel = target.lexically_relative(cover->path);
    for (const fs::path& part : rel) {
      if (part == ".") continue;
      at /= part;
      bind.mkdirs.push_back(at.string());
    }
    p.binds.push_back(std::move(bind));
  }
  if (p.binds.size() > kMaxBinds) return InvalidArgument("sandbox: too many folders to bind");
  for (const std::string& d : spec.devices) {
    fs::path source(d);
    if (!source.is_absolute() || !source.has_filename()) {
      return InvalidArgument("sandbox: device '" + d + "' is not an absolute path");
    }
    std::string target = "/dev/" + source.filename().string();
    bool dup = std::any_of(p.devices.begin(), p.devices.end(),
                           [&](const Prepared::Device& x) { return x.target == target; });
    std::error_code ec;
    if (!dup) p.devices.push_back({d, target, fs::is_directory(d, ec)});
  }
  if (p.devices.size() > kMaxDevices) return InvalidArgument("sandbox: too many devices");
  return p;
}

bool Hidden(const Prepared& p, const std::string& path) {
  if (!p.namespaces) return false;
  fs::path target = fs::path(path).lexically_normal();
  bool covered = std::any_of(p.hides.begin(), p.hides.end(),
                             [&](const Prepared::Hide& h) { return IsUnder(target, h.path); });
  bool bound = std::any_of(p.binds.begin(), p.binds.end(),
                           [&](const Prepared::Bind& b) { return IsUnder(target, b.target); });
  return covered && !bound;
}

int EnterNamespaces(const Prepared& p, int32_t* step) {
  auto fail = [&](int32_t s) {
    *step = s;
    return errno != 0 ? errno : EIO;
  };
  if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS) != 0) return fail(kUnshare);
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return fail(kMountPrivate);
  // Every source is opened before anything covers it.
  int bind_fd[kMaxBinds], dev_fd[kMaxDevices];
  for (size_t i = 0; i < p.binds.size(); ++i) {
    bind_fd[i] = open(p.binds[i].target.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (bind_fd[i] < 0) return fail(kOpenSource);
  }
  for (size_t i = 0; i < p.devices.size(); ++i) {
    dev_fd[i] = open(p.devices[i].source.c_str(), O_PATH | O_CLOEXEC);  // -1: absent, skipped
  }
  for (const Prepared::Hide& h : p.hides) {
    if (mount("tmpfs", h.path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, h.options.c_str()) != 0) {
      return fail(kHide);
    }
  }
  char fd_path[32];
  for (size_t i = 0; i < p.binds.size(); ++i) {
    for (const std::string& dir : p.binds[i].mkdirs) {
      if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return fail(kMkdir);
    }
    if (mount(FdPath(fd_path, bind_fd[i]), p.binds[i].target.c_str(), nullptr, MS_BIND | MS_REC,
              nullptr) != 0) {
      return fail(kBindBack);
    }
    close(bind_fd[i]);
  }
  if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=1m") != 0) {
    return fail(kDev);
  }
  for (size_t i = 0; i < p.devices.size(); ++i) {
    if (dev_fd[i] < 0) continue;
    if (p.devices[i].folder) {
      if (mkdir(p.devices[i].target.c_str(), 0755) != 0) return fail(kDevNode);
    } else {
      int fd = open(p.devices[i].target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0) return fail(kDevNode);
      close(fd);
    }
    if (mount(FdPath(fd_path, dev_fd[i]), p.devices[i].target.c_str(), nullptr, MS_BIND | MS_REC,
              nullptr) != 0) {
      return fail(kDevNode);
    }
    close(dev_fd[i]);
  }
  // Pseudo-terminals of this sandbox only; a kernel without devpts instances gets none.
  if (mkdir("/dev/pts", 0755) == 0 && mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                                            "newinstance,ptmxmode=0666,mode=0620") == 0) {
    symlink("pts/ptmx", "/dev/ptmx");
  }
  if (mkdir("/dev/shm", 0755) != 0 ||
      mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0) {
    return fail(kShm);
  }
  symlink("/proc/self/fd", "/dev/fd");
  symlink("/proc/self/fd/0", "/dev/stdin");
  symlink("/proc/self/fd/1", "/dev/stdout");
  symlink("/proc/self/fd/2", "/dev/stderr");
  if (sethostname(p.hostname.data(), p.hostname.size()) != 0) return fail(kHostname);
  // The /proc of this PID namespace: only its own processes, and of those only the ones
  // of its own uid (hidepid): not the namespace's root-owned init, whose command line is
  // the agent's (which may hold a join token). Kernels before 5.8 take "2" for
  // "invisible"; one without either still gets the namespace's own /proc.
  const unsigned long proc_flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (mount("proc", "/proc", "proc", proc_flags, "hidepid=invisible") != 0 &&
      mount("proc", "/proc", "proc", proc_flags, "hidepid=2") != 0 &&
      mount("proc", "/proc", "proc", proc_flags, nullptr) != 0) {
    return fail(kProc);
  }
  return 0;
}

int DropPrivileges(const Prepared& p, int32_t* step) {
  auto fail = [&](int32_t s) {
    *step = s;
    return errno != 0 ? errno : EPERM;
  };
  if (p.uid < 0) return 0;
  for (int cap = 0; cap < 64; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return fail(kCapabilities);
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);  // EINVAL before Linux 4.3
  // Raw system calls: the child has one thread, and glibc's wrappers would signal others.
  if (syscall(SYS_setgroups, 0, nullptr) != 0) return fail(kSetgroups);
  if (syscall(SYS_setresgid, p.gid, p.gid, p.gid) != 0) return fail(kSetgid);
  if (syscall(SYS_setresuid, p.uid, p.uid, p.uid) != 0) return fail(kSetuid);
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capset, &header, data) != 0) return fail(kCapabilities);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail(kNoNewPrivs);
  // Fail closed: never exec with any id still 0.
  uid_t r, e, s;
  gid_t gr, ge, gs;
  if (syscall(SYS_getresuid, &r, &e, &s) != 0 || syscall(SYS_getresgid, &gr, &ge, &gs) != 0 ||
      r != static_cast<uid_t>(p.uid) || e != r || s != r || gr != static_cast<gid_t>(p.gid) ||
      ge != gr || gs != gr) {
    errno = EPERM;
    return fail(kVerify);
  }
  return 0;
}

}  // namespace sandbox

SandboxSupport ProbeSandbox() {
  SandboxSupport s;
  s.root = geteuid() == 0;
  if (!s.root) {
    s.note = "the agent does not run as root (euid " + std::to_string(geteuid()) +
             "): workloads run as the agent's user in the host's namespaces";
    return s;
  }
  // A throwaway child tries what a sandboxed launch does; its exit code says what failed.
  pid_t child = fork();
  if (child < 0) {
    s.note = std::string("cannot probe namespaces (fork: ") + strerror(errno) + ")";
    return s;
  }
  if (child == 0) {
    if (unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS) != 0) _exit(10);
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(11);
    if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=16k") != 0) _exit(12);
    pid_t inner = fork();
    if (inner < 0) _exit(13);
    if (inner == 0) {
      _exit(mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0 ? 0
                                                                                           : 14);
    }
    int st = 0;
    while (waitpid(inner, &st, 0) < 0 && errno == EINTR) {
    }
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 15);
  }
  int st = 0;
  while (waitpid(child, &st, 0) < 0 && errno == EINTR) {
  }
  int code = WIFEXITED(st) ? WEXITSTATUS(st) : 99;
  s.namespaces = code == 0;
  switch (code) {
    case 0:
      break;
    case 10:
      s.note = "cannot create PID, mount, IPC and UTS namespaces (unshare refused)";
      break;
    case 11:
    case 12:
      s.note = "cannot mount in a new mount namespace";
      break;
    case 14:
      s.note = "cannot mount /proc for a new PID namespace";
      break;
    default:
      s.note = "the namespace probe failed (code " + std::to_string(code) + ")";
  }
  if (!s.namespaces) {
    s.note +=
        ": workloads run as unprivileged users but in the host's namespaces (they see "
        "the host's files, processes and devices)";
  }
  return s;
}

}  // namespace fastgpu::agent

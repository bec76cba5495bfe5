#include "agent/cgroup.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <set>
#include <sstream>
#include <thread>

namespace fastgpu::agent {
namespace {

constexpr int64_t kCpuPeriodUs = 100000;
constexpr int64_t kMinCpuQuotaUs = 1000;  // the kernel refuses less
constexpr const char* kV1Controllers[] = {"cpu", "memory", "pids", "devices", "freezer"};

bool ReadFile(FileEnv& env, const std::string& path, std::string* out) {
  auto text = env.ReadFile(path);
  if (!text.ok()) return false;
  *out = std::move(text).value();
  return true;
}

// Writes `value` in one write() call, as cgroup files expect.
Status Write(FileEnv& env, const std::string& path, const std::string& value) {
  if (Status st = env.WriteFile(path, value, /*sync=*/false); !st.ok()) {
    return Internal("cannot write '" + value + "' to " + path + " (" + st.message() + ")");
  }
  return OkStatus();
}

bool HasWord(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  std::string w;
  while (in >> w) {
    if (w == word) return true;
  }
  return false;
}

// "\040" -> " " (mountinfo escapes spaces, tabs, newlines and backslashes in octal).
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool Under(const std::string& path, const std::string& root) {
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  return path == r || path.rfind(r == "/" ? r : r + "/", 0) == 0;
}

// Controller -> mount point of the v1 hierarchies under `root` listed in `mountinfo`.
std::map<std::string, std::string> FindV1Mounts(FileEnv& env, const std::string& mountinfo,
                                                const std::string& root) {
  std::map<std::string, std::string> found;
  std::string text;
  if (!ReadFile(env, mountinfo, &text)) return found;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream head(line.substr(0, dash)), tail(line.substr(dash + 3));
    std::string id, parent, dev, mroot, mount_point, fstype, source, super_opts;
    if (!(head >> id >> parent >> dev >> mroot >> mount_point)) continue;
    if (!(tail >> fstype >> source >> super_opts) || fstype != "cgroup") continue;
    mount_point = Unescape(mount_point);
    if (!Under(mount_point, root)) continue;
    std::istringstream opts(super_opts);
    std::string opt;
    while (std::getline(opts, opt, ',')) {
      for (const char* c : kV1Controllers) {
        if (opt == c) found.try_emplace(c, mount_point);
      }
    }
  }
  return found;
}

std::vector<int> PidsIn(FileEnv& env, const std::vector<std::string>& dirs) {
  std::set<int> pids;
  for (const std::string& dir : dirs) {
    std::string text;
    if (!ReadFile(env, dir + "/cgroup.procs", &text)) continue;
    std::istringstream in(text);
    int pid = 0;
    while (in >> pid) {
      if (pid > 0) pids.insert(pid);
    }
  }
  return {pids.begin(), pids.end()};
}

// SIGKILLs the pids in `dirs` until none is left or the deadline passes.
void KillUntilEmpty(FileEnv& env, const std::vector<std::string>& dirs,
                    std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    std::vector<int> pids = PidsIn(env, dirs);
    if (pids.empty()) return;
    for (int pid : pids) kill(pid, SIGKILL);
    if (std::chrono::steady_clock::now() > deadline) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int64_t CounterIn(FileEnv& env, const std::string& path, const std::string& key) {
  std::string text;
  if (!ReadFile(env, path, &text)) return -1;
  std::istringstream in(text);
  std::string k;
  int64_t v = 0;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return -1;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

std::string Cgroups::CpuMax(int64_t cpu_milli) {
  if (cpu_milli <= 0) return "max " + std::to_string(kCpuPeriodUs);
  return std::to_string(CpuQuotaUs(cpu_milli)) + " " + std::to_string(kCpuPeriodUs);
}

int64_t Cgroups::CpuQuotaUs(int64_t cpu_milli) {
  if (cpu_milli <= 0) return -1;
  return std::max(kMinCpuQuotaUs, cpu_milli * kCpuPeriodUs / 1000);
}

std::string Cgroups::NameOf(const std::string& persisted) {
  size_t slash = persisted.find_last_of('/');
  return slash == std::string::npos ? persisted : persisted.substr(slash + 1);
}

std::vector<std::string> Cgroups::controllers() const {
  std::vector<std::string> out;
  if (!enabled()) return out;
  out = {"cpu", "memory"};
  if (pids_) out.push_back("pids");
  if (devices_) out.push_back("devices");
  if (version_ == CgroupVersion::kV1 && v1_.count("freezer")) out.push_back("freezer");
  return out;
}

Cgroups Cgroups::Probe(const std::string& root, const std::string& mountinfo) {
  return Probe(PosixFileEnv(), root, mountinfo);
}

Cgroups Cgroups::Probe(FileEnv& env, const std::string& root, const std::string& mountinfo) {
  Cgroups c;
  c.env_ = &env;
  const std::string none = ": replicas run without CPU, memory, process and device limits";
  if (root.empty()) {
    c.note_ = "cgroups turned off" + none;
    return c;
  }
  std::string v2_why;
  std::string controllers;
  if (!ReadFile(env, root + "/cgroup.controllers", &controllers)) {
    v2_why = "no cgroup v2 hierarchy at " + root;
  } else if (!HasWord(controllers, "cpu") || !HasWord(controllers, "memory")) {
    v2_why = "the cgroup v2 hierarchy at " + root + " lacks the cpu or memory controller";
  } else {
    // cgroup v2.
    std::string base = root + "/fastgpu";
    if (Status st = env.CreateDirs(base); !st.ok()) {
      c.note_ = "cgroup v2 not usable (cannot " + st.message() + ")" + none;
      return c;
    }
    // Enables `want` for the root's children and for fastgpu's; "" or what failed.
    auto enable = [&](const std::string& want) -> std::string {
      std::string subtree;
      ReadFile(env, root + "/cgroup.subtree_control", &subtree);
      std::istringstream words(want);
      bool missing = false;
      for (std::string w; words >> w;) missing = missing || !HasWord(subtree, w.substr(1));
      for (const std::string& dir : {missing ? root : std::string(), base}) {
        if (dir.empty()) continue;
        if (Status st = env.WriteFile(dir + "/cgroup.subtree_control", want, false); !st.ok()) {
          return "cannot enable " + want + " in " + dir + ": " + st.message();
        }
      }
      return "";
    };
    bool pids = HasWord(controllers, "pids");
    std::string pids_why;
    if (pids) {
      pids_why = enable("+cpu +memory +pids");
      pids = pids_why.empty();
    }
    if (!pids) {
      if (std::string why = enable("+cpu +memory"); !why.empty()) {
        c.note_ = "cgroup v2 not usable (" + why + ")" + none;
        return c;
      }
    }
    c.version_ = CgroupVersion::kV2;
    c.base_ = base;
    c.pids_ = pids;
    std::string devices_why;
    auto prog = LoadDeviceProgram(BuildDeviceProgram(StandardDeviceRules()));
    if (prog.ok()) {
      close(*prog);
      c.devices_ = true;
    } else {
      devices_why = prog.status().message();
    }
    c.note_ = "cgroup v2 limits (" + Join(c.controllers()) + ") under " + base;
    if (!pids) {
      c.note_ += "; process count not limited (" +
                 (pids_why.empty() ? std::string("no pids controller") : pids_why) + ")";
    }
    if (!devices_why.empty()) c.note_ += "; devices not restricted (" + devices_why + ")";
    return c;
  }
  // cgroup v1: one hierarchy per controller (or a few together), found in the mount table.
  std::map<std::string, std::string> mounts = FindV1Mounts(env, mountinfo, root);
  if (!mounts.count("cpu") || !mounts.count("memory")) {
    c.note_ = "cgroups not usable (" + v2_why +
              ", and no cgroup v1 cpu and memory hierarchies under " + root + " in " + mountinfo +
              ")" + none;
    return c;
  }
  std::vector<std::string> skipped;
  for (const auto& [controller, mount_point] : mounts) {
    std::string base = mount_point + "/fastgpu";
    bool required = controller == "cpu" || controller == "memory";
    if (Status st = env.CreateDirs(base); !st.ok()) {
      std::string why = "cannot " + st.message();
      if (required) {
        c.note_ = "cgroup v1 not usable (" + why + ")" + none;
        return c;
      }
      skipped.push_back(controller + " (" + why + ")");
      continue;
    }
    c.v1_[controller] = base;
  }
  if (!env.Exists(c.v1_["cpu"] + "/cpu.cfs_quota_us")) {
    c.note_ = "cgroup v1 not usable (" + c.v1_["cpu"] + " has no cpu.cfs_quota_us)" + none;
    return c;
  }
  c.version_ = CgroupVersion::kV1;
  c.pids_ = c.v1_.count("pids") > 0;
  c.devices_ = c.v1_.count("devices") > 0;
  c.swap_ = env.Exists(c.v1_["memory"] + "/memory.memsw.limit_in_bytes");
  c.note_ = "cgroup v1 limits (" + Join(c.controllers()) + ") in " + Join(c.Bases());
  for (const char* want : kV1Controllers) {
    if (!mounts.count(want)) skipped.push_back(std::string(want) + " (not mounted)");
  }
  if (!skipped.empty()) c.note_ += "; not used: " + Join(skipped);
  if (!c.swap_) c.note_ += "; no swap accounting (memory.memsw): swap is not limited";
  return c;
}

std::vector<std::string> Cgroups::Bases() const {
  std::vector<std::string> out;
  if (version_ == CgroupVersion::kV2) return {base_};
  for (const auto& [controller, base] : v1_) {
    bool seen = false;
    for (const std::string& b : out) seen = seen || b == base;
    if (!seen) out.push_back(base);
  }
  return out;
}

std::string Cgroups::Dir(const std::string& name, const std::string& controller) const {
  if (version_ == CgroupVersion::kV2) {
    for (const std::string& c : controllers()) {
      if (c == controller) return base_ + "/" + name;
    }
    return "";
  }
  auto it = v1_.find(controller);
  return it == v1_.end() ? "" : it->second + "/" + name;
}

std::vector<std::string> Cgroups::ProcsFiles(const std::string& name) const {
  std::vector<std::string> out;
  if (!enabled() || name.empty()) return out;
  for (const std::string& base : Bases()) out.push_back(base + "/" + name + "/cgroup.procs");
  return out;
}

Result<std::string> Cgroups::Create(const std::string& name, const CgroupLimits& limits) const {
  if (!enabled()) return FailedPrecondition(note_);
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    return InvalidArgument("cgroup name '" + name + "' is not a folder name");
  }
  Result<std::string> made =
      version_ == CgroupVersion::kV2 ? CreateV2(name, limits) : CreateV1(name, limits);
  if (!made.ok()) Remove(name);
  return made;
}

Result<std::string> Cgroups::CreateV2(const std::string& name, const CgroupLimits& limits) const {
  std::string dir = base_ + "/" + name;
  if (Status st = env_->CreateDirs(dir); !st.ok()) return Internal("cannot " + st.message());
  FASTGPU_RETURN_IF_ERROR(Write(*env_, dir + "/cpu.max", CpuMax(limits.cpu_milli)));
  std::string mem = limits.memory_mib > 0 ? std::to_string(limits.memory_mib << 20) : "max";
  FASTGPU_RETURN_IF_ERROR(Write(*env_, dir + "/memory.max", mem));
  if (limits.memory_mib > 0 && env_->Exists(dir + "/memory.swap.max")) {
    FASTGPU_RETURN_IF_ERROR(Write(*env_, dir + "/memory.swap.max", "0"));
  }
  if (pids_) {
    std::string max = limits.pids_max > 0 ? std::to_string(limits.pids_max) : "max";
    FASTGPU_RETURN_IF_ERROR(Write(*env_, dir + "/pids.max", max));
  }
  if (devices_ && limits.devices) {
    FASTGPU_RETURN_IF_ERROR(AttachDeviceProgram(dir, *limits.devices));
  }
  return name;
}

Result<std::string> Cgroups::CreateV1(const std::string& name, const CgroupLimits& limits) const {
  for (const std::string& base : Bases()) {
    std::string dir = base + "/" + name;
    if (Status st = env_->CreateDirs(dir); !st.ok()) return Internal("cannot " + st.message());
  }
  std::string cpu = Dir(name, "cpu");
  FASTGPU_RETURN_IF_ERROR(Write(*env_, cpu + "/cpu.cfs_period_us", std::to_string(kCpuPeriodUs)));
  FASTGPU_RETURN_IF_ERROR(
      Write(*env_, cpu + "/cpu.cfs_quota_us", std::to_string(CpuQuotaUs(limits.cpu_milli))));
  std::string memory = Dir(name, "memory");
  std::string bytes = limits.memory_mib > 0 ? std::to_string(limits.memory_mib << 20) : "-1";
  // memory + swap must stay at least the memory limit: memory first when setting,
  // memory + swap first when lifting.
  if (limits.memory_mib > 0) {
    FASTGPU_RETURN_IF_ERROR(Write(*env_, memory + "/memory.limit_in_bytes", bytes));
    if (swap_)
      FASTGPU_RETURN_IF_ERROR(Write(*env_, memory + "/memory.memsw.limit_in_bytes", bytes));
  } else {
    if (swap_)
      FASTGPU_RETURN_IF_ERROR(Write(*env_, memory + "/memory.memsw.limit_in_bytes", bytes));
    FASTGPU_RETURN_IF_ERROR(Write(*env_, memory + "/memory.limit_in_bytes", bytes));
  }
  if (pids_) {
    std::string max = limits.pids_max > 0 ? std::to_string(limits.pids_max) : "max";
    FASTGPU_RETURN_IF_ERROR(Write(*env_, Dir(name, "pids") + "/pids.max", max));
  }
  if (devices_ && limits.devices) {
    std::string devices = Dir(name, "devices");
    FASTGPU_RETURN_IF_ERROR(Write(*env_, devices + "/devices.deny", "a"));
    for (const DeviceRule& rule : *limits.devices) {
      FASTGPU_RETURN_IF_ERROR(Write(*env_, devices + "/devices.allow", rule.ToV1()));
    }
  }
  return name;
}

void Cgroups::Kill(const std::string& name) const {
  if (!enabled() || name.empty()) return;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  std::vector<std::string> dirs;
  for (const std::string& base : Bases()) dirs.push_back(base + "/" + name);
  if (version_ == CgroupVersion::kV2) {
    env_->WriteFile(dirs[0] + "/cgroup.kill", "1", false).IgnoreError();  // where it exists
    KillUntilEmpty(*env_, dirs, deadline);
    return;
  }
  std::string freezer = Dir(name, "freezer");
  if (!freezer.empty() && !PidsIn(*env_, {freezer}).empty() &&
      env_->WriteFile(freezer + "/freezer.state", "FROZEN", false).ok()) {
    // A frozen group cannot fork while its pids are read and killed.
    auto frozen_by = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    std::string state;
    while (ReadFile(*env_, freezer + "/freezer.state", &state) && state.rfind("FROZEN", 0) != 0 &&
           std::chrono::steady_clock::now() < frozen_by) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (int pid : PidsIn(*env_, dirs)) kill(pid, SIGKILL);
    env_->WriteFile(freezer + "/freezer.state", "THAWED", false).IgnoreError();
  }
  KillUntilEmpty(*env_, dirs, deadline);
}

void Cgroups::Remove(const std::string& name) const {
  if (!enabled() || name.empty()) return;
  for (const std::string& base : Bases()) {
    std::string dir = base + "/" + name;
    // Just-killed processes may take a moment to leave the group.
    for (int i = 0; i < 50 && env_->RemoveDir(dir).code() == StatusCode::kUnavailable; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

std::vector<std::string> Cgroups::RemoveStale(const std::set<std::string>& keep,
                                              std::chrono::seconds min_age, TimePoint now) const {
  std::vector<std::string> removed;
  if (!enabled()) return removed;
  std::set<std::string> names;
  for (const std::string& base : Bases()) {
    auto entries = env_->ListDir(base);
    if (!entries.ok()) continue;
    for (const std::string& entry : *entries) {
      auto info = env_->Stat(base + "/" + entry);
      if (info.ok() && info->is_dir) names.insert(entry);
    }
  }
  for (const std::string& name : names) {
    if (keep.count(name)) continue;
    std::vector<std::string> dirs;
    bool young = false;
    for (const std::string& base : Bases()) {
      std::string dir = base + "/" + name;
      auto info = env_->Stat(dir);
      if (!info.ok()) continue;
      dirs.push_back(dir);
      young = young || now - info->modified < min_age;
    }
    if (young || dirs.empty() || !PidsIn(*env_, dirs).empty()) continue;
    Remove(name);
    // Counted only when it is gone (an agent without the right to remove it logs nothing).
    bool gone = true;
    for (const std::string& dir : dirs) gone = gone && !env_->Exists(dir);
    if (gone) removed.push_back(name);
  }
  return removed;
}

int64_t Cgroups::OomKills(const std::string& name) const {
  if (!enabled() || name.empty()) return -1;
  if (version_ == CgroupVersion::kV2)
    return CounterIn(*env_, base_ + "/" + name + "/memory.events", "oom_kill");
  return CounterIn(*env_, Dir(name, "memory") + "/memory.oom_control", "oom_kill");
}

}  // namespace fastgpu::agent

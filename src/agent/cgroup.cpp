#include "agent/cgroup.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

#include "agent/files.h"

namespace fastgpu {
namespace {

bool ReadFile(const std::string& path, std::string* out) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return false;
  *out = std::move(text).value();
  return true;
}

// Writes `value` in one write() call, as cgroup files expect. Returns errno or 0.
int WriteFile(const std::string& path, const std::string& value) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return errno;
  size_t n = std::fwrite(value.data(), 1, value.size(), f);
  int err = n == value.size() ? 0 : (errno != 0 ? errno : EIO);
  if (std::fclose(f) != 0 && err == 0) err = errno;
  return err;
}

bool HasWord(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  std::string w;
  while (in >> w) {
    if (w == word) return true;
  }
  return false;
}

}  // namespace

std::string Cgroups::CpuMax(int64_t cpu_milli) {
  if (cpu_milli <= 0) return "max 100000";
  return std::to_string(cpu_milli * 100) + " 100000";
}

Cgroups Cgroups::Probe(const std::string& root) {
  Cgroups c;
  if (root.empty()) {
    c.note_ = "cgroups turned off: replicas run without CPU and memory limits";
    return c;
  }
  auto off = [&](const std::string& why) {
    c.note_ = "cgroup v2 not usable (" + why + "): replicas run without CPU and memory limits";
    return c;
  };
  std::string controllers;
  if (!ReadFile(root + "/cgroup.controllers", &controllers)) {
    return off("no cgroup v2 hierarchy at " + root);
  }
  if (!HasWord(controllers, "cpu") || !HasWord(controllers, "memory")) {
    return off(root + " lacks the cpu or memory controller");
  }
  std::string subtree;
  ReadFile(root + "/cgroup.subtree_control", &subtree);
  if (!HasWord(subtree, "cpu") || !HasWord(subtree, "memory")) {
    if (int err = WriteFile(root + "/cgroup.subtree_control", "+cpu +memory"); err != 0) {
      return off("cannot enable cpu and memory in " + root + ": " + strerror(err));
    }
  }
  std::string base = root + "/fastgpu";
  if (mkdir(base.c_str(), 0755) != 0 && errno != EEXIST) {
    return off("cannot create " + base + ": " + strerror(errno));
  }
  if (int err = WriteFile(base + "/cgroup.subtree_control", "+cpu +memory"); err != 0) {
    return off("cannot enable cpu and memory in " + base + ": " + strerror(err));
  }
  c.enabled_ = true;
  c.base_ = base;
  c.note_ = "cgroup v2 limits under " + base;
  return c;
}

Result<std::string> Cgroups::Create(const std::string& name, int64_t cpu_milli,
                                    int64_t memory_mib) const {
  if (!enabled_) return FailedPrecondition(note_);
  std::string dir = base_ + "/" + name;
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Internal("cannot create " + dir + ": " + strerror(errno));
  }
  if (int err = WriteFile(dir + "/cpu.max", CpuMax(cpu_milli)); err != 0) {
    return Internal("cannot write " + dir + "/cpu.max: " + strerror(err));
  }
  std::string mem = memory_mib > 0 ? std::to_string(memory_mib * 1024 * 1024) : "max";
  if (int err = WriteFile(dir + "/memory.max", mem); err != 0) {
    return Internal("cannot write " + dir + "/memory.max: " + strerror(err));
  }
  return dir;
}

void Cgroups::Kill(const std::string& dir) const {
  if (dir.empty()) return;
  if (WriteFile(dir + "/cgroup.kill", "1") == 0) return;
  for (int round = 0; round < 3; ++round) {
    std::string procs;
    if (!ReadFile(dir + "/cgroup.procs", &procs)) return;
    std::istringstream in(procs);
    int pid = 0;
    bool any = false;
    while (in >> pid) {
      if (pid > 0) any = kill(pid, SIGKILL) == 0 || any;
    }
    if (!any) return;
  }
}

void Cgroups::Remove(const std::string& dir) const {
  if (!dir.empty()) rmdir(dir.c_str());
}

}  // namespace fastgpu

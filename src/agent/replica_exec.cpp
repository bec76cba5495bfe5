// ReplicaSet::StartExecs: `fastgpu job exec` inside a running replica (docs/sessions.md).
// The command gets the replica's environment (read from its workload's
// /proc/<pid>/environ), its work dir, its cgroups (so its CPU, memory, pids and device
// limits) and its sandbox user, and is relayed like a session. It does not join the
// replica's PID, mount and IPC namespaces: with the sandbox's namespaces on it gets fresh
// ones of the same shape (its own private /tmp and /dev), so it sees the work dir and the
// GPUs but not the replica's processes or its /tmp.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <optional>

#include "agent/replicas.h"
#include "agent/session_host.h"
#include "common/log.h"

namespace fastgpu::agent {

namespace {

// The environment of process `pid` (/proc is read directly, as file_env.h says), or
// NotFound when it cannot be read.
Result<std::map<std::string, std::string>> ProcessEnvironment(int pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/environ";
  std::ifstream in(path, std::ios::binary);
  std::optional<std::string> text;
  if (in) text = std::string(std::istreambuf_iterator<char>(in), {});
  if (!in.good() && !in.eof()) text.reset();
  if (!text || text->empty())
    return NotFound("cannot read the replica's environment (" + path + ")");
  std::map<std::string, std::string> out;
  size_t at = 0;
  while (at < text->size()) {
    size_t end = text->find('\0', at);
    if (end == std::string::npos) end = text->size();
    std::string entry = text->substr(at, end - at);
    if (size_t eq = entry.find('='); eq != std::string::npos && eq > 0) {
      out[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    at = end + 1;
  }
  return out;
}

}  // namespace

void ReplicaSet::StartExecs(const std::vector<protocol::ExecRequest>& execs,
                            const std::vector<GpuSample>& gpus) {
  if (options_.sessions == nullptr) return;
  for (const protocol::ExecRequest& e : execs) {
    if (!started_execs_.insert(e.exec_id).second) continue;
    if (started_execs_.size() > 10000) started_execs_.clear();  // ids are unique anyway
    auto refuse = [&](const std::string& why) {
      spdlog::warn("exec {} in {}: {}", e.exec_id, e.allocation_id, why);
      options_.sessions->Refuse(e.allocation_id, e.exec_id, why);
    };
    auto rec = std::find_if(state_.replicas.begin(), state_.replicas.end(),
                            [&](const ReplicaRecord& r) { return r.id() == e.allocation_id; });
    if (rec == state_.replicas.end() || rec->state != "running") {
      refuse("the replica is not running on this node");
      continue;
    }
    if (!rec->desired.image.empty()) {
      refuse("job exec into a replica of a job with an image is not supported yet");
      continue;
    }
    if (e.command.empty() || e.command[0].empty()) {
      refuse("no command");
      continue;
    }
    auto environment = ProcessEnvironment(rec->handle.pid);
    if (!environment.ok()) {
      refuse(environment.status().message());
      continue;
    }
    LaunchSpec spec;
    spec.argv = e.command;
    spec.env = *std::move(environment);
    spec.env["FASTGPU_EXEC_ID"] = e.exec_id;
    spec.work_dir = rec->dir + "/work";
    spec.log_path = rec->dir + "/" + e.exec_id + ".log";
    spec.log_cap_bytes = options_.log_cap_bytes;
    spec.status_path = rec->dir + "/" + e.exec_id + ".status";
    spec.cgroup_procs = cgroups_.ProcsFiles(rec->cgroup);
    std::string note;
    spec.sandbox = SandboxFor(*rec, gpus, &note);
    auto io = OpenSessionIo(e.tty);
    if (!io.ok()) {
      refuse("session: " + io.status().message());
      continue;
    }
    spec.stdin_fd = io->workload_in.get();
    spec.stdout_fd = io->workload_out.get();
    spec.stderr_fd = io->workload_err.get();
    spec.tty = e.tty;
    Result<ProcessHandle> handle = launcher_.Launch(spec);
    if (!handle.ok()) {
      refuse(handle.status().message());
      continue;
    }
    io->workload_in.Reset();
    io->workload_out.Reset();
    io->workload_err.Reset();
    spdlog::info("exec {} in replica {}: pid {}", e.exec_id, e.allocation_id, handle->pid);
    options_.sessions->Start(e.allocation_id, *std::move(io), *handle, spec.status_path, e.exec_id);
  }
}

}  // namespace fastgpu::agent

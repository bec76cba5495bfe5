// SessionHost: the node agent's side of interactive sessions (docs/sessions.md).
//
// A session replica is launched like any other (same plan, cgroup, sandbox and shim:
// replicas.cpp), but its stdin and output are not /dev/null and the log: Open() makes a
// pseudo-terminal (tty sessions; the workload becomes the leader of a new session with the
// terminal as its controlling terminal, so Ctrl-C typed by the user, byte 0x03, makes the
// line discipline signal its foreground process group) or three pipes (stdin, stdout and
// stderr), whose workload ends go into LaunchSpec. Once launched, Start() runs one
// thread per session that opens a WebSocket to the control plane
// (GET /v1/nodes/{node}/sessions/{allocation}, with the node token) and relays: output
// frames out (stderr frames apart when the control plane forwards them, else as output),
// input, resize (TIOCSWINSZ) and end-of-input frames in. A session's output (not an
// exec's) is also appended to its replica's log file, which the log shipper sends like a
// batch job's, up to the log cap. The agent cannot be
// dialled by the control plane, so it opens this connection itself as soon as the
// replica starts, and opens it again (every second) whenever it is lost while the command
// runs; meanwhile the command's output waits in the terminal's or pipe's buffer (the
// command blocks when that is full). When the command's output ends, the thread waits for
// the shim's exit status and sends the exit frame (128 + N for a command killed by signal
// N), then closes. StopExecs() kills the execs of a replica that ended; their clients are
// told why before the exit code.
//
// The terminal lives in the agent: sessions do not survive a restart of the agent (the
// command goes on, but nobody can attach to it again).
//
// Thread-safe. The host borrows the launcher; the destructor (or Stop) ends every relay
// thread (the commands keep running).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "agent/launcher.h"
#include "common/result.h"
#include "net/http_client.h"

namespace fastgpu::agent {

// A file descriptor, closed when the holder goes.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.Release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = o.Release();
    }
    return *this;
  }
  int get() const { return fd_; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset();

 private:
  int fd_ = -1;
};

// The two ends of a session's stdio. With a terminal, `agent_in` is the master (also
// read for output: `agent_out` and `agent_err` are empty) and `workload_in` the slave
// (`workload_out`, `workload_err` empty); with pipes each side has all three.
struct SessionIo {
  bool tty = false;
  UniqueFd agent_in, agent_out, agent_err;
  UniqueFd workload_in, workload_out, workload_err;
};

// A terminal (tty) or three pipes, close-on-exec, ready for
// LaunchSpec::stdin_fd/stdout_fd/stderr_fd.
// Internal when the system has no pseudo-terminals or pipes left.
Result<SessionIo> OpenSessionIo(bool tty);

struct SessionHostOptions {
  // The control plane, as for the agent ("http://host:port", "https://..."; several
  // comma-separated replicas: the session's WebSocket goes to the one that serves
  // sessions, the leader). Required.
  std::string server_url;
  // For https: how the control plane's certificate is verified (verify_tls, ca_file,
  // ca_sha256, as the agent's heartbeat client), and connect_timeout per address. The
  // bearer token is the node token, set per connection. Default: HttpClientOptions's.
  net::HttpClientOptions tls;
  // How long the relay waits for the shim's exit status after the output ended. Default
  // 10 s; then it reports exit code 255.
  std::chrono::milliseconds exit_wait{10000};
  // A session's output appended to its log (Start's `log_path`) stops at this size (a
  // line says so). Default 64 MiB, as LaunchSpec::log_cap_bytes.
  int64_t log_cap_bytes = int64_t{64} << 20;
};

class SessionHost {
 public:
  SessionHost(SessionHostOptions options, ProcessLauncher& launcher);
  ~SessionHost();  // Stop()
  SessionHost(const SessionHost&) = delete;
  SessionHost& operator=(const SessionHost&) = delete;

  // The node's id and token, for the WebSocket's route and its bearer (called before
  // every heartbeat: the token changes with each registration).
  void SetCredentials(const std::string& node_id, const std::string& node_token);

  // Relays the launched replica `allocation_id` (its workload `handle`, whose shim writes
  // `status_path`) through `io` (the workload's ends should be closed already). With an
  // `exec_id`, the process is a `job exec` in that replica and the WebSocket names it
  // (?exec=). With a `log_path`, the output is appended to that file too (the replica's
  // log: the job's `logs` then show the session).
  void Start(const std::string& allocation_id, SessionIo io, const ProcessHandle& handle,
             const std::string& status_path, const std::string& exec_id = "",
             const std::string& log_path = "");
  // The replica `allocation_id` ended (`why`): its execs still running are killed
  // (SIGKILL to their process groups), and their clients get `why` before the exit code.
  // Returns how many were running.
  int StopExecs(const std::string& allocation_id, const std::string& why);
  // The exec `exec_id` in `allocation_id` could not start: its client is told `why` and
  // gets exit code 126 (in the background).
  void Refuse(const std::string& allocation_id, const std::string& exec_id, const std::string& why);

  // Ends every relay thread (the commands keep running). Idempotent.
  void Stop();

  // Whether the session of replica `allocation_id` is still being relayed (its output may
  // still go to its log: the log's final shipment waits for the end of the relay).
  bool Relaying(const std::string& allocation_id) const;

  // How many relays run now (for tests).
  int active() const { return active_.load(); }

 private:
  void Relay(const std::string& allocation_id, const std::string& exec_id, SessionIo io,
             ProcessHandle handle, std::string status_path, std::string log_path);
  // Why the exec was stopped ("" when it was not).
  std::string StopReason(const std::string& exec_id) const;

  struct Exec {
    std::string allocation_id;
    ProcessHandle handle;
    std::string stopped;  // why StopExecs stopped it, or ""
  };
  std::string Route(const std::string& allocation_id, const std::string& exec_id) const;
  int ExitCode(const ProcessHandle& handle, const std::string& status_path);

  const SessionHostOptions options_;
  ProcessLauncher& launcher_;
  mutable std::mutex mu_;
  std::string node_id_, node_token_;
  bool stopping_ = false;
  std::map<std::string, std::thread> threads_;  // by allocation id (execs: by exec id)
  std::map<std::string, Exec> execs_;           // running execs, by exec id
  std::set<std::string> relaying_;              // allocations whose session is relayed
  std::atomic<int> active_{0};
};

}  // namespace fastgpu::agent

// SessionRelay: joins the two WebSockets of each interactive session (docs/sessions.md):
// the one the node agent opens for the session's replica and the one the user's CLI opens
// (`fastgpu run -it`, `fastgpu attach`). Frames (protocol/session_frames.h) pass through
// unchanged: input, resizes and end-of-input from the client to the agent, output, stderr
// and the exit code from the agent to the client (stderr as output to a client that did
// not ask for it).
//
// While no client is attached the agent's output is kept, up to `max_buffered_bytes`
// (the oldest bytes are dropped beyond it, and the next client is told how many), and
// given to the next client that attaches, followed by the exit code when the command has
// ended. A second client that attaches replaces the first, which is told so and closed.
// Input that arrives before the agent has connected is kept (up to 64 KiB) and sent once it
// does.
//
// Expired() says which sessions the control plane should end: one whose client has been
// gone longer than `grace`, or that saw no input or output for its idle timeout. Times
// come from the borrowed clock's monotonic reading.
//
// Keyed by job id (a session is a job of one replica). Thread-safe: the connections'
// callbacks run on the HTTP server's I/O threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "server/websocket.h"

namespace fastgpu::server {

struct SessionRelayOptions {
  // Output kept per session while no client is attached. Default 1 MiB.
  size_t max_buffered_bytes = size_t{1} << 20;
  // A session whose client is gone (or never came) this long is ended. Default 5 min.
  std::chrono::milliseconds grace{std::chrono::minutes(5)};
};

// A session the control plane should end, and why (for the job's reason).
struct ExpiredSession {
  std::string job_id;
  std::string reason;
};

class SessionRelay {
 public:
  // `clock` is borrowed and must outlive the relay.
  SessionRelay(const Clock& clock, SessionRelayOptions options);
  ~SessionRelay();
  SessionRelay(const SessionRelay&) = delete;
  SessionRelay& operator=(const SessionRelay&) = delete;

  // Declares a session the control plane has placed, with its idle timeout (0: never
  // idle); the grace period starts now. Called again, it only updates the idle timeout.
  void Open(const std::string& job_id, std::chrono::seconds idle_timeout);
  // Whether the session is known (opened, or attached to).
  bool Known(const std::string& job_id) const;

  // The agent's WebSocket for `job_id` (replacing an earlier one: an agent reconnecting).
  void AttachAgent(const std::string& job_id, std::shared_ptr<WebSocketConn> conn);
  // A client's WebSocket for `job_id`: it gets what was buffered, then the live stream.
  // With `reads_stderr` (the client asked for it: protocol::kStderrQuery) the agent's
  // stderr frames reach it as they are; otherwise their bytes go as output frames, so a
  // client that does not know them still sees everything.
  void AttachClient(const std::string& job_id, std::shared_ptr<WebSocketConn> conn,
                    bool reads_stderr = false);

  // The sessions to end at the clock's current monotonic time. Each is reported once; the
  // caller ends its job and then calls End.
  std::vector<ExpiredSession> Expired();
  // The job ended (its command exited, or it was cancelled): the client is sent
  // `message` (when not empty) and both sides are closed; the session is forgotten.
  void End(const std::string& job_id, const std::string& message);
  // Closes every connection (the control plane is stopping).
  void CloseAll();

 private:
  struct Session;
  void OnAgentFrame(const std::string& job_id, const std::shared_ptr<WebSocketConn>& from,
                    std::string frame);
  void OnClientFrame(const std::string& job_id, const std::shared_ptr<WebSocketConn>& from,
                     std::string frame);
  void OnClientGone(const std::string& job_id, const std::shared_ptr<WebSocketConn>& conn);
  void OnAgentGone(const std::string& job_id, const std::shared_ptr<WebSocketConn>& conn);
  Session& Get(const std::string& job_id);  // mu_ held

  const Clock& clock_;
  const SessionRelayOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Session>> sessions_;
};

}  // namespace fastgpu::server

#include "server/session_relay.h"

#include <deque>

#include "protocol/session_frames.h"

namespace fastgpu::server {

namespace {
constexpr size_t kMaxPendingInput = 64 * 1024;

// `frame` as the client gets it: a stderr frame becomes an output frame for a client that
// did not ask for stderr apart.
std::string ForClient(std::string frame, bool reads_stderr) {
  if (!reads_stderr && !frame.empty() &&
      frame[0] == static_cast<char>(protocol::FrameKind::kStderr)) {
    frame[0] = static_cast<char>(protocol::FrameKind::kOutput);
  }
  return frame;
}
}  // namespace

struct SessionRelay::Session {
  std::shared_ptr<WebSocketConn> agent, client;
  bool client_reads_stderr = false;
  std::deque<std::string> output;  // output frames kept while no client is attached
  size_t output_bytes = 0;
  int64_t dropped_bytes = 0;
  std::deque<std::string> input;  // client frames kept until the agent connects
  size_t input_bytes = 0;
  std::string exit_frame;  // set once the command has ended
  MonoTime last_activity{};
  MonoTime client_gone_since{};  // valid while !client
  std::chrono::seconds idle_timeout{0};
  bool expired = false;
};

SessionRelay::SessionRelay(const Clock& clock, SessionRelayOptions options)
    : clock_(clock), options_(options) {}

SessionRelay::~SessionRelay() { CloseAll(); }

SessionRelay::Session& SessionRelay::Get(const std::string& job_id) {
  auto& s = sessions_[job_id];
  if (!s) {
    s = std::make_unique<Session>();
    s->last_activity = clock_.MonotonicNow();
    s->client_gone_since = s->last_activity;
  }
  return *s;
}

void SessionRelay::Open(const std::string& job_id, std::chrono::seconds idle_timeout) {
  std::lock_guard lock(mu_);
  Get(job_id).idle_timeout = idle_timeout;
}

bool SessionRelay::Known(const std::string& job_id) const {
  std::lock_guard lock(mu_);
  return sessions_.count(job_id) > 0;
}

void SessionRelay::AttachAgent(const std::string& job_id, std::shared_ptr<WebSocketConn> conn) {
  std::shared_ptr<WebSocketConn> old;
  {
    std::lock_guard lock(mu_);
    Session& s = Get(job_id);
    old = std::move(s.agent);
    s.agent = conn;
    for (std::string& f : s.input) conn->Send(std::move(f));
    s.input.clear();
    s.input_bytes = 0;
  }
  if (old) old->Close();
  std::weak_ptr<WebSocketConn> weak = conn;
  conn->Start(
      [this, job_id, weak](std::string frame) {
        if (auto c = weak.lock()) OnAgentFrame(job_id, c, std::move(frame));
      },
      [this, job_id, weak] {
        if (auto c = weak.lock()) OnAgentGone(job_id, c);
      });
}

void SessionRelay::AttachClient(const std::string& job_id, std::shared_ptr<WebSocketConn> conn,
                                bool reads_stderr) {
  std::shared_ptr<WebSocketConn> old;
  bool ended = false;
  {
    std::lock_guard lock(mu_);
    Session& s = Get(job_id);
    old = std::move(s.client);
    s.client = conn;
    s.client_reads_stderr = reads_stderr;
    if (s.dropped_bytes > 0) {
      conn->Send(protocol::EncodeMessage("[fastgpu: " + std::to_string(s.dropped_bytes) +
                                         " bytes of output were dropped while detached]\r\n"));
      s.dropped_bytes = 0;
    }
    for (std::string& f : s.output) conn->Send(ForClient(std::move(f), reads_stderr));
    s.output.clear();
    s.output_bytes = 0;
    if (!s.exit_frame.empty()) {
      conn->Send(s.exit_frame);
      ended = true;
    }
  }
  if (old) {
    old->Send(protocol::EncodeMessage("another client attached to this session"));
    old->Close();
  }
  if (ended) {
    conn->Close();
    std::lock_guard lock(mu_);
    sessions_.erase(job_id);
    return;
  }
  std::weak_ptr<WebSocketConn> weak = conn;
  conn->Start(
      [this, job_id, weak](std::string frame) {
        if (auto c = weak.lock()) OnClientFrame(job_id, c, std::move(frame));
      },
      [this, job_id, weak] {
        if (auto c = weak.lock()) OnClientGone(job_id, c);
      });
}

void SessionRelay::OnAgentFrame(const std::string& job_id,
                                const std::shared_ptr<WebSocketConn>& from, std::string frame) {
  auto f = protocol::DecodeFrame(frame);
  if (!f.ok()) return;  // a malformed frame is dropped
  std::shared_ptr<WebSocketConn> close_client;
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(job_id);
    if (it == sessions_.end() || it->second->agent != from) return;
    Session& s = *it->second;
    s.last_activity = clock_.MonotonicNow();
    if (f->kind == protocol::FrameKind::kExit) {
      s.exit_frame = frame;
      if (s.client) {
        s.client->Send(std::move(frame));
        close_client = std::move(s.client);
        sessions_.erase(it);  // delivered: the session is over
      }
    } else if (f->kind == protocol::FrameKind::kOutput || f->kind == protocol::FrameKind::kStderr ||
               f->kind == protocol::FrameKind::kMessage) {  // the agent's: why it stopped
      if (s.client) {
        s.client->Send(ForClient(std::move(frame), s.client_reads_stderr));
      } else {
        s.output_bytes += frame.size();
        s.output.push_back(std::move(frame));
        while (s.output_bytes > options_.max_buffered_bytes && !s.output.empty()) {
          s.output_bytes -= s.output.front().size();
          s.dropped_bytes += static_cast<int64_t>(s.output.front().size()) - 1;
          s.output.pop_front();
        }
      }
    }
  }
  if (close_client) close_client->Close();
}

void SessionRelay::OnClientFrame(const std::string& job_id,
                                 const std::shared_ptr<WebSocketConn>& from, std::string frame) {
  auto f = protocol::DecodeFrame(frame);
  if (!f.ok()) return;
  using K = protocol::FrameKind;
  if (f->kind != K::kInput && f->kind != K::kResize && f->kind != K::kEof) return;
  std::lock_guard lock(mu_);
  auto it = sessions_.find(job_id);
  if (it == sessions_.end() || it->second->client != from) return;
  Session& s = *it->second;
  if (f->kind == K::kInput) s.last_activity = clock_.MonotonicNow();
  if (s.agent) {
    s.agent->Send(std::move(frame));
  } else if (s.input_bytes + frame.size() <= kMaxPendingInput) {
    s.input_bytes += frame.size();
    s.input.push_back(std::move(frame));
  }
}

void SessionRelay::OnClientGone(const std::string& job_id,
                                const std::shared_ptr<WebSocketConn>& conn) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(job_id);
  if (it == sessions_.end() || it->second->client != conn) return;
  it->second->client.reset();
  it->second->client_gone_since = clock_.MonotonicNow();
}

void SessionRelay::OnAgentGone(const std::string& job_id,
                               const std::shared_ptr<WebSocketConn>& conn) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(job_id);
  if (it == sessions_.end() || it->second->agent != conn) return;
  it->second->agent.reset();  // the agent reconnects while the command runs
}

std::vector<ExpiredSession> SessionRelay::Expired() {
  std::vector<ExpiredSession> out;
  const MonoTime now = clock_.MonotonicNow();
  std::lock_guard lock(mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    // An ended session nobody came back for within the grace period is forgotten.
    if (!it->second->exit_frame.empty() && !it->second->client &&
        now - it->second->client_gone_since >= options_.grace) {
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [id, s] : sessions_) {
    if (s->expired || !s->exit_frame.empty()) continue;
    if (!s->client && now - s->client_gone_since >= options_.grace) {
      s->expired = true;
      out.push_back(
          {id, "session: no client attached for " +
                   std::to_string(
                       std::chrono::duration_cast<std::chrono::seconds>(options_.grace).count()) +
                   " s (grace period)"});
    } else if (s->idle_timeout.count() > 0 && now - s->last_activity >= s->idle_timeout) {
      s->expired = true;
      out.push_back({id, "session: idle for " + std::to_string(s->idle_timeout.count()) +
                             " s without input or output (idle timeout)"});
    }
  }
  return out;
}

void SessionRelay::End(const std::string& job_id, const std::string& message) {
  std::shared_ptr<WebSocketConn> agent, client;
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(job_id);
    if (it == sessions_.end()) return;
    if (!it->second->exit_frame.empty() && !it->second->client) return;  // kept for attach
    agent = std::move(it->second->agent);
    client = std::move(it->second->client);
    sessions_.erase(it);
  }
  if (client) {
    if (!message.empty()) client->Send(protocol::EncodeMessage(message));
    client->Close();
  }
  if (agent) agent->Close();
}

void SessionRelay::CloseAll() {
  std::map<std::string, std::unique_ptr<Session>> all;
  {
    std::lock_guard lock(mu_);
    all.swap(sessions_);
  }
  for (auto& [id, s] : all) {
    if (s->client) s->client->Close();
    if (s->agent) s->agent->Close();
  }
}

}  // namespace fastgpu::server

#include "cli/session_commands.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "cli/api_client.h"
#include "cli/client_commands.h"
#include "cli/command_runner.h"
#include "cli/config.h"
#include "common/url_text.h"
#include "model/json.h"
#include "net/ws_client.h"
#include "protocol/session_frames.h"

namespace fastgpu::cli {

namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

// The exit code of `fastgpu` itself when the connection to the control plane is lost
// (as ssh does, so that it differs from the usual codes of a remote command).
constexpr int kLostExitCode = 255;

std::atomic<bool> g_winch{false};
std::atomic<bool> g_interrupted{false};

void OnWinch(int) { g_winch = true; }
void OnInterrupt(int) { g_interrupted = true; }

// Puts the terminal on fd 0 in raw mode while it lives (with -t on a terminal).
class RawMode {
 public:
  RawMode() {
    if (::isatty(0) == 0 || ::tcgetattr(0, &saved_) != 0) return;
    struct termios raw = saved_;
    ::cfmakeraw(&raw);
    if (::tcsetattr(0, TCSANOW, &raw) == 0) active_ = true;
  }
  ~RawMode() {
    if (active_) ::tcsetattr(0, TCSANOW, &saved_);
  }
  RawMode(const RawMode&) = delete;
  RawMode& operator=(const RawMode&) = delete;
  bool active() const { return active_; }

 private:
  struct termios saved_ {};
  bool active_ = false;
};

bool WindowSize(int* rows, int* cols) {
  struct winsize ws {};
  for (int fd : {0, 1, 2}) {
    if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
      *rows = ws.ws_row;
      *cols = ws.ws_col;
      return true;
    }
  }
  return false;
}

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Connects the terminal to the session `job_id` until its command ends; returns the exit
// code for `fastgpu`.
// `exec_id` (not empty) names a `job exec` of that job instead of the session itself.
int Connect(const ClientConfig& cfg, const std::string& job_id, bool tty,
            const std::string& exec_id = "") {
  std::string path = "/v1/jobs/" + EncodePathSegment(job_id) + "/attach";
  if (!exec_id.empty()) path += "?exec=" + EncodePathSegment(exec_id);
  // Pipes: the command's stderr comes apart, to ours (protocol/session_frames.h).
  if (!tty) path += (exec_id.empty() ? "?" : "&") + std::string(protocol::kStderrQuery) + "=1";
  net::HttpClientOptions http;  // verified as the CLI's other calls (ApiClient)
  http.bearer_token = cfg.token;
  http.ca_file = cfg.ca_cert;
  http.connect_timeout = milliseconds(10000);
  auto ws = net::WsClient::Connect(cfg.server, path, http);
  if (!ws.ok()) {
    std::cerr << "fastgpu: cannot attach to session " << job_id << ": " << ws.status().message()
              << "\n";
    return ws.status().code() == StatusCode::kUnavailable ? kLostExitCode : 1;
  }
  net::WsClient& conn = **ws;
  std::optional<RawMode> raw;
  const std::string nl = tty && ::isatty(0) ? "\r\n" : "\n";
  if (tty) {
    raw.emplace();
    struct sigaction sa {};
    sa.sa_handler = OnWinch;
    ::sigaction(SIGWINCH, &sa, nullptr);
    int rows = 0, cols = 0;
    if (WindowSize(&rows, &cols)) conn.Send(protocol::EncodeResize(rows, cols));
  }
  bool stdin_open = true;
  char buf[16384];
  for (;;) {
    if (g_winch.exchange(false)) {
      int rows = 0, cols = 0;
      if (WindowSize(&rows, &cols)) conn.Send(protocol::EncodeResize(rows, cols));
    }
    if (stdin_open) {
      struct pollfd pfd = {0, POLLIN, 0};
      if (::poll(&pfd, 1, 10) > 0) {
        ssize_t n = ::read(0, buf, sizeof(buf));
        if (n > 0) {
          conn.Send(protocol::EncodeInput(std::string_view(buf, static_cast<size_t>(n))));
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
          stdin_open = false;
          conn.Send(protocol::EncodeEof());
        }
      }
    }
    auto m = conn.Read(milliseconds(stdin_open ? 0 : 50));
    while (m.ok()) {
      auto f = protocol::DecodeFrame(*m);
      if (f.ok()) {
        switch (f->kind) {
          case protocol::FrameKind::kOutput:
            WriteAll(1, f->data);
            break;
          case protocol::FrameKind::kStderr:
            WriteAll(2, f->data);
            break;
          case protocol::FrameKind::kMessage:
            WriteAll(2, nl + "fastgpu: " + f->data + nl);
            break;
          case protocol::FrameKind::kExit:
            raw.reset();
            return f->exit_code;
          default:
            break;
        }
      }
      m = conn.Read(milliseconds(0));
    }
    if (m.status().code() == StatusCode::kDeadlineExceeded) continue;
    raw.reset();
    if (m.status().code() == StatusCode::kCancelled) {
      std::cerr << "\nfastgpu: session " << job_id << " ended without an exit code\n";
      return 1;
    }
    std::cerr << "\nfastgpu: " << m.status().message() << "; session " << job_id
              << " keeps running for the control plane's grace period: fastgpu attach " << job_id
              << "\n";
    return kLostExitCode;
  }
}

// Waits until the session is placed: 0 when it is, else the exit code of a failure.
int WaitPlaced(ApiClient& api, const std::string& id) {
  std::string last_reason;
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  struct sigaction old_int {};
  ::sigaction(SIGINT, &sa, &old_int);
  struct Restore {
    struct sigaction* old;
    ~Restore() { ::sigaction(SIGINT, old, nullptr); }
  } restore{&old_int};
  for (;;) {
    if (g_interrupted.exchange(false)) {
      api.Call("POST", "/v1/jobs/" + EncodePathSegment(id) + "/cancel").status().IgnoreError();
      std::cerr << "fastgpu: interrupted; session " << id << " cancelled\n";
      return 130;
    }
    auto v = api.Call("GET", "/v1/jobs/" + EncodePathSegment(id));
    if (!v.ok()) {
      std::cerr << "fastgpu: " << v.status().message() << "\n";
      return v.status().code() == StatusCode::kUnavailable ? kLostExitCode : 1;
    }
    std::string state, reason;
    model::JsonObjectReader r(*v);
    r.Str("state", state, model::Need::kRequired).Str("reason", reason);
    if (Status st = r.Finish(); !st.ok()) {
      std::cerr << "fastgpu: " << UnexpectedAnswer(st).message() << "\n";
      return 1;
    }
    if (state == "scheduled" || state == "running") return 0;
    if (state != "pending") {
      std::cerr << "fastgpu: session " << id << " " << state << ": " << reason << "\n";
      return 1;
    }
    if (reason != last_reason) {
      std::cerr << "fastgpu: session " << id << " is waiting: " << reason << "\n";
      last_reason = reason;
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
}

struct RunFlags {
  SubmitFlags submit;
  bool interactive = false, tty = false;
  int64_t idle_timeout_s = 0;
};

int RunSession(const ClientFlags& f, const RunFlags& rf) {
  int open_rc = 0;
  std::optional<ClientConnection> conn = OpenClient(f, &open_rc);
  if (!conn) return open_rc;
  const ClientConfig* cfg = &conn->config;
  std::unique_ptr<ApiClient>* api = &conn->api;
  auto body = SubmitBody(rf.submit);
  if (!body.ok()) {
    std::cerr << "fastgpu: " << body.status().message() << "\n";
    return 2;
  }
  auto spec = json::parse(*body).as_object();
  spec["session"] = true;
  spec["tty"] = rf.tty;
  spec["idle_timeout_s"] = rf.idle_timeout_s;
  auto created = (*api)->Call("POST", "/v1/jobs", json::serialize(spec));
  if (!created.ok()) {
    std::cerr << "fastgpu: cannot start the session: " << created.status().message() << "\n";
    return created.status().code() == StatusCode::kUnavailable ? kLostExitCode : 1;
  }
  std::string id;
  model::JsonObjectReader r(*created);
  r.Str("id", id, model::Need::kRequired);
  if (Status st = r.Finish(); !st.ok()) {
    std::cerr << "fastgpu: " << UnexpectedAnswer(st).message() << "\n";
    return 1;
  }
  if (int rc = WaitPlaced(**api, id); rc != 0) return rc;
  return Connect(*cfg, id, rf.tty);
}

int AttachSession(const ClientFlags& f, const std::string& id) {
  int open_rc = 0;
  std::optional<ClientConnection> conn = OpenClient(f, &open_rc);
  if (!conn) return open_rc;
  const ClientConfig* cfg = &conn->config;
  std::unique_ptr<ApiClient>* api = &conn->api;
  auto v = (*api)->Call("GET", "/v1/jobs/" + EncodePathSegment(id));
  if (!v.ok()) {
    std::cerr << "fastgpu: " << v.status().message() << "\n";
    return v.status().code() == StatusCode::kUnavailable ? kLostExitCode : 1;
  }
  std::string job_id;
  model::JsonObjectReader r(*v);
  r.Str("id", job_id, model::Need::kRequired);
  bool tty = false, session = false;
  r.Bool("tty", tty).Bool("session", session);
  if (Status st = r.Finish(); !st.ok()) {
    std::cerr << "fastgpu: " << UnexpectedAnswer(st).message() << "\n";
    return 1;
  }
  if (!session) {
    std::cerr << "fastgpu: job " << job_id << " is not a session (fastgpu run -it starts one)\n";
    return 1;
  }
  return Connect(*cfg, job_id, tty);
}

struct ExecFlags {
  std::string job;
  int replica = 0;
  bool interactive = false, tty = false;
  std::vector<std::string> command;
};

int ExecInJob(const ClientFlags& f, const ExecFlags& ef) {
  int open_rc = 0;
  std::optional<ClientConnection> conn = OpenClient(f, &open_rc);
  if (!conn) return open_rc;
  const ClientConfig* cfg = &conn->config;
  std::unique_ptr<ApiClient>* api = &conn->api;
  json::array cmd;
  for (const std::string& c : ef.command) cmd.emplace_back(c);
  json::object body{{"command", std::move(cmd)}, {"replica", ef.replica}, {"tty", ef.tty}};
  auto created = (*api)->Call("POST", "/v1/jobs/" + EncodePathSegment(ef.job) + "/exec",
                              json::serialize(body));
  if (!created.ok()) {
    std::cerr << "fastgpu: cannot exec in " << ef.job << ": " << created.status().message() << "\n";
    return created.status().code() == StatusCode::kUnavailable ? kLostExitCode : 1;
  }
  std::string id, job_id;
  model::JsonObjectReader r(*created);
  r.Str("id", id, model::Need::kRequired).Str("job_id", job_id, model::Need::kRequired);
  if (Status st = r.Finish(); !st.ok()) {
    std::cerr << "fastgpu: " << UnexpectedAnswer(st).message() << "\n";
    return 1;
  }
  return Connect(*cfg, job_id, ef.tty, id);
}

void AddShapeFlags(CLI::App* cmd, SubmitFlags& s) {
  cmd->add_option("--gpu", s.gpu, "GPUs: 0.5, 500m (a fraction) or 1, 2, 8 (whole)")
      ->capture_default_str();
  cmd->add_option("--gpu-memory", s.gpu_memory, "GPU memory per GPU, e.g. 20GiB");
  cmd->add_option("--gpu-model", s.gpu_models, "Allowed GPU model (repeatable)");
  cmd->add_option("--cpu", s.cpu, "CPU: 2, 500m");
  cmd->add_option("--memory", s.memory, "Memory, e.g. 8GiB");
  cmd->add_option("--isolation", s.isolation, "default, exclusive, mig, mps or shared")
      ->capture_default_str();
  cmd->add_option("--name", s.name, "Session name");
  cmd->add_option("--env", s.env, "Environment variable K=V (repeatable)");
  cmd->add_option("--priority", s.priority, "-1000..1000");
  cmd->add_flag("--root", s.root, "Run as root on the node (the tenant must be allowed to)");
}

}  // namespace

void AddJobExec(CLI::App* job, int* exit_code) {
  auto f = std::make_shared<ClientFlags>();
  auto ef = std::make_shared<ExecFlags>();
  auto* exec = job->add_subcommand(
      "exec", "Run a command inside a running replica: fastgpu job exec JOB [-it] -- CMD...");
  AddClientFlags(exec, f);
  exec->add_option("job", ef->job, "Job id or name")->required();
  exec->add_option("--replica", ef->replica, "Replica index")->capture_default_str();
  exec->add_flag("-i,--interactive", ef->interactive, "Keep stdin open (always on; for habit)");
  exec->add_flag("-t,--tty", ef->tty, "Run the command under a pseudo-terminal");
  exec->add_option("command", ef->command, "The command and its arguments (after --)")->required();
  exec->callback([f, ef, exit_code] { *exit_code = ExecInJob(*f, *ef); });
}

void RegisterSessionCommands(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<ClientFlags>();
  auto rf = std::make_shared<RunFlags>();
  auto* run = app.add_subcommand(
      "run", "Run a command interactively on a GPU share: fastgpu run -it --gpu 0.5 -- bash");
  AddClientFlags(run, f);
  AddShapeFlags(run, rf->submit);
  run->add_flag("-i,--interactive", rf->interactive, "Keep stdin open (always on; for habit)");
  run->add_flag("-t,--tty", rf->tty, "Run the command under a pseudo-terminal");
  run->add_option("--idle-timeout", rf->idle_timeout_s,
                  "End the session after this many seconds without input or output (default: "
                  "the control plane's, 1 h; at most that)");
  run->add_option("command", rf->submit.command, "The command and its arguments (after --)")
      ->required();
  run->callback([f, rf, exit_code] { *exit_code = RunSession(*f, *rf); });

  auto af = std::make_shared<ClientFlags>();
  auto id = std::make_shared<std::string>();
  auto* attach = app.add_subcommand(
      "attach", "Reconnect the terminal to a running session: fastgpu attach SESSION");
  AddClientFlags(attach, af);
  attach->add_option("session", *id, "Session (job) id or name")->required();
  attach->callback([af, id, exit_code] { *exit_code = AttachSession(*af, *id); });
}

}  // namespace fastgpu::cli

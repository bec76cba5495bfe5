#include "common/testing/postgres_server.h"

#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace fastgpu::testing {
namespace {

namespace fs = std::filesystem;

// The folder of the newest installed PostgreSQL's programs, or "".
std::string FindBindir() {
  if (const char* env = std::getenv("FASTGPU_PG_BINDIR"); env != nullptr && *env != '\0') {
    return env;
  }
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    if (fs::exists(e.path() / "bin" / "postgres") && fs::exists(e.path() / "bin" / "initdb")) {
      found.push_back(e.path() / "bin");
    }
  }
  if (found.empty()) return "";
  std::sort(found.begin(), found.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;  // 9.6 < 15 < 16
  });
  return found.back();
}

// A loopback port free right now.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

std::string PostgresServer::Run(const std::string& program) const {
  std::string path = Quote(bindir_ + "/" + program);
  return as_postgres_ ? "runuser -u postgres -- " + path : path;
}

Result<std::unique_ptr<PostgresServer>> PostgresServer::Start(std::chrono::seconds timeout) {
  std::unique_ptr<PostgresServer> s(new PostgresServer());
  s->bindir_ = FindBindir();
  if (s->bindir_.empty()) {
    return Unavailable("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres)");
  }
  s->as_postgres_ = geteuid() == 0;
  if (s->as_postgres_ && getpwnam("postgres") == nullptr) {
    return Unavailable("running as root and there is no user 'postgres' to run PostgreSQL as");
  }
  char tmpl[] = "/tmp/fastgpu-pg-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return Internal("mkdtemp failed");
  s->root_ = tmpl;
  if (s->as_postgres_) {
    const passwd* pw = getpwnam("postgres");
    if (chown(s->root_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return Internal("cannot hand " + s->root_ + " to the user postgres");
    }
  }
  ShellRun init = RunShell(s->Run("initdb") + " -D " + Quote(s->root_ + "/data") +
                           " -U fastgpu --auth=trust --no-sync -E UTF8 --locale=C 2>&1");
  if (init.exit_code != 0) {
    return Unavailable("initdb failed (exit " + std::to_string(init.exit_code) + "): " + init.out);
  }
  FASTGPU_RETURN_IF_ERROR(s->Launch(timeout));
  return s;
}

Status PostgresServer::Launch(std::chrono::seconds timeout) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (port_ == 0 || attempt > 0) port_ = FreePort();
    std::vector<std::string> argv = {bindir_ + "/postgres",
                                     "-D",
                                     root_ + "/data",
                                     "-p",
                                     std::to_string(port_),
                                     "-c",
                                     "listen_addresses=127.0.0.1",
                                     "-c",
                                     "unix_socket_directories=" + root_,
                                     "-c",
                                     "max_connections=200",
                                     "-c",
                                     "log_min_messages=warning"};
    ChildOptions opt;
    opt.log_path = root_ + "/server.log";
    opt.parent_death_signal = SIGKILL;
    opt.stop_at_destruction = StopPolicy{SIGQUIT, std::chrono::seconds(5)};
    uid_t uid = 0;
    gid_t gid = 0;
    if (as_postgres_) {
      const passwd* pw = getpwnam("postgres");
      uid = pw->pw_uid;
      gid = pw->pw_gid;
      opt.before_exec = [uid, gid] {
        if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) _exit(126);
      };
    }
    server_ = ChildProcess(argv, opt);
    if (!server_.ok()) return Internal("cannot start postgres");
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline && server_.Alive()) {
      ShellRun ready = RunShell(Quote(bindir_ + "/pg_isready") + " -q -h 127.0.0.1 -p " +
                                std::to_string(port_) + " -U fastgpu -d postgres");
      if (ready.exit_code == 0) return OkStatus();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (server_.Alive()) {
      server_.Stop({SIGKILL, std::chrono::seconds(1)});
      return Unavailable("PostgreSQL did not accept connections in time; see " + root_ +
                         "/server.log");
    }
    // It exited: most likely the port was taken between FreePort and the bind; try another.
  }
  return Unavailable("PostgreSQL would not start; see " + root_ + "/server.log");
}

PostgresServer::~PostgresServer() {
  server_.Stop({SIGQUIT, std::chrono::seconds(5)});
  std::error_code ec;
  if (!root_.empty()) fs::remove_all(root_, ec);
}

std::string PostgresServer::Url(const std::string& database) const {
  return "postgresql://fastgpu@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

Status PostgresServer::CreateDatabase(const std::string& name) {
  ShellRun r = RunShell(Quote(bindir_ + "/createdb") + " -h 127.0.0.1 -p " + std::to_string(port_) +
                        " -U fastgpu " + Quote(name) + " 2>&1");
  if (r.exit_code != 0) return Internal("createdb " + name + " failed: " + r.out);
  return OkStatus();
}

Result<std::string> PostgresServer::NewDatabaseUrl() {
  const std::string name = "t" + std::to_string(++next_db_);
  FASTGPU_RETURN_IF_ERROR(CreateDatabase(name));
  return Url(name);
}

namespace {

// The processes whose parent is `parent` (PostgreSQL's backends and workers), from /proc.
std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream stat(e.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
    const size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 1));
    char state = 0;
    pid_t ppid = 0;
    if (rest >> state >> ppid && ppid == parent) out.push_back(std::stoi(name));
  }
  return out;
}

// Whether `pid` still runs (a zombie waiting for its reaper does not).
bool Running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

}  // namespace

// The postmaster and every backend at once: a backend left to notice its postmaster's
// death could still answer (and commit) for a moment, which a crashed machine would not.
void PostgresServer::Kill() {
  if (server_.ok()) ::kill(server_.pid(), SIGSTOP);  // no new backend meanwhile
  std::vector<pid_t> backends = server_.ok() ? ChildrenOf(server_.pid()) : std::vector<pid_t>{};
  for (pid_t p : backends) ::kill(p, SIGKILL);
  server_.Stop({SIGKILL, std::chrono::seconds(1)});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline &&
         std::any_of(backends.begin(), backends.end(), Running)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Status PostgresServer::Restart(std::chrono::seconds timeout) {
  // The old postmaster's backends leave within a moment of its death; a stale pid file
  // is fine once they have.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  return Launch(timeout);
}

}  // namespace fastgpu::testing

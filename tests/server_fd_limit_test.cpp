// `fastgpu server` started with few file descriptors (RLIMIT_NOFILE 128) and held by
// more idle connections than that: /healthz must still answer within seconds, the log
// must not flood with accept errors, and the process must not spin a core.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/listening_port.h"
#include "tests/server_process.h"

namespace fastgpu::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int CountLines(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

// utime + stime of `pid` in seconds (from /proc/PID/stat), or -1.
double CpuSeconds(pid_t pid) {
  std::string stat = ReadAll("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream in(stat.substr(paren + 2));
  std::string field;
  long utime = 0, stime = 0;
  // Fields after ")": state(3) ... utime is field 14, stime 15 (1-based over the line).
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int ConnectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// GET /healthz on a new connection; the status line's code, or 0 when none came by
// `deadline`.
int Healthz(int port, Clock::time_point deadline) {
  int fd = ConnectTo(port);
  if (fd < 0) return 0;
  const std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return 0;
  }
  std::string got;
  while (Clock::now() < deadline && got.find("\r\n") == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left.count()))) <= 0) continue;
    char buf[512];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (got.rfind("HTTP/1.1 ", 0) != 0 || got.size() < 12) return 0;
  return std::atoi(got.substr(9, 3).c_str());
}

// A `fastgpu server` whose RLIMIT_NOFILE is `nofile` (soft and hard), logging to a file.
class LimitedServer {
 public:
  LimitedServer(const std::string& dir, rlim_t nofile, std::vector<std::string> extra = {})
      : log_(dir + "/server.log") {
    std::vector<std::string> args = {FASTGPU_BINARY, "server",   "--data-dir",
                                     dir + "/data",  "--listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    ChildOptions options;
    options.log_path = log_;
    options.truncate_log = true;
    options.before_exec = [nofile] {  // in the child: only async-signal-safe calls
      rlimit rl{nofile, nofile};
      if (setrlimit(RLIMIT_NOFILE, &rl) != 0) _exit(126);
    };
    child_ = ChildProcess(std::move(args), options);
    if (child_.ok()) port_ = WaitForListeningPort(child_, log_, std::chrono::seconds(30));
  }
  int port() const { return port_; }
  pid_t pid() const { return child_.pid(); }
  std::string log() const { return ReadAll(log_); }

 private:
  std::string log_;
  ChildProcess child_;  // stopped with SIGTERM, then SIGKILL after 10 s
  int port_ = 0;
};

// Holds 400 idle connections against a server limited to 128 descriptors and checks
// that /healthz answers, the log stays short and the process idles.
void CheckHeldByIdleConnections(const std::vector<std::string>& extra_flags) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  LimitedServer server(dir.path(), 128, extra_flags);
  ASSERT_GT(server.port(), 0) << server.log();
  ASSERT_EQ(Healthz(server.port(), Clock::now() + std::chrono::seconds(5)), 200);

  // This process needs 400 descriptors of its own: raise its soft limit if it can.
  rlimit own{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &own), 0);
  if (own.rlim_cur < 1024 && own.rlim_max > own.rlim_cur) {
    own.rlim_cur = std::min<rlim_t>(own.rlim_max, 1024);
    setrlimit(RLIMIT_NOFILE, &own);
  }
  if (own.rlim_cur < 512)
    GTEST_SKIP() << "needs 512 descriptors, RLIMIT_NOFILE is " << own.rlim_cur;

  // 400 idle connections: far more than the server's 128 descriptors. The kernel
  // completes them all into the listen backlog, whether or not the server accepts.
  std::vector<int> idle;
  for (int i = 0; i < 400; ++i) {
    int fd = ConnectTo(server.port());
    if (fd >= 0) idle.push_back(fd);
  }
  ASSERT_GE(idle.size(), 300u);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // let it work through them

  double cpu_before = CpuSeconds(server.pid());
  ASSERT_GE(cpu_before, 0);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  double cpu_used = CpuSeconds(server.pid()) - cpu_before;

  auto asked = Clock::now();
  int status = Healthz(server.port(), asked + std::chrono::seconds(5));
  double waited = std::chrono::duration<double>(Clock::now() - asked).count();
  EXPECT_EQ(status, 200) << "waited " << waited << " s";
  EXPECT_LT(waited, 3.0);
  // Twice more, on new connections, while the idle ones are still held.
  EXPECT_EQ(Healthz(server.port(), Clock::now() + std::chrono::seconds(5)), 200);
  EXPECT_EQ(Healthz(server.port(), Clock::now() + std::chrono::seconds(5)), 200);

  std::string log = server.log();
  std::printf("healthz answered in %.3f s; server CPU %.3f s over 2 s; %d log lines\n", waited,
              cpu_used, CountLines(log));
  if (CountLines(log) < 40) std::printf("%s", log.c_str());
  // Idle, it does not spin: well under a quarter of a core over 2 s.
  EXPECT_LT(cpu_used, 0.5) << "CPU seconds used in 2 s";
  EXPECT_LT(CountLines(log), 40) << log.substr(0, 4000);
  for (int fd : idle) close(fd);
}

// The default limit (128 less the reserve) keeps the server below EMFILE: each
// connection past it closes the oldest idle one.
TEST(ServerFdLimitTest, HealthzAnswersWithMoreIdleConnectionsThanDescriptors) {
  CheckHeldByIdleConnections({});
}

// A limit set above the descriptors there are: accept fails with EMFILE, and the server
// closes an idle connection and backs off instead of spinning.
TEST(ServerFdLimitTest, HealthzAnswersWhenAcceptRunsOutOfDescriptors) {
  CheckHeldByIdleConnections({"--max-connections", "100000"});
}

}  // namespace
}  // namespace fastgpu::testing

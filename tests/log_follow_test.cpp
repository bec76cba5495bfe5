// `job logs -f` against `fastgpu up --simulate-gpus 2xH100-80GB`: following a job prints
// every byte it wrote (not only what was shipped when the job ended) and exits 0; a job
// writing more than `--log-limit` ends with the dropped-bytes marker and the API reports
// `dropped_bytes`; a line shows up within about a second and a half of being written;
// `?follow=true` answers a chunked stream of the log's bytes as they are stored.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "net/http_client.h"
#include "tests/server_process.h"
#include "tests/test_util.h"
#include "tests/up_process.h"

namespace fastgpu::testing {
namespace {

namespace json = boost::json;

struct Session {
  TempDir dir;
  std::unique_ptr<UpProcess> up;
  std::unique_ptr<net::HttpClient> client;
  std::string flags;

  explicit Session(const std::vector<std::string>& extra) {
    std::vector<std::string> args{"--log-level",     "warn",       "up", "--data-dir", dir.path(),
                                  "--simulate-gpus", "2xH100-80GB"};
    args.insert(args.end(), extra.begin(), extra.end());
    up = std::make_unique<UpProcess>(args, dir.path() + "/up.log");
    if (!up->ok()) return;
    const std::string admin = ReadFirstLine(dir.path() + "/admin.token");
    net::HttpClientOptions o;
    o.bearer_token = admin;
    client = net::HttpClient::Create(up->url(), o).value();
    flags = " --server " + up->url() + " --token " + admin;
  }

  std::string Submit(const std::string& script) {
    const std::string body = json::serialize(
        json::object{{"name", "talker"},
                     {"command", json::array{"sh", "-c", script}},
                     {"shape", json::object{{"gpu_count", 1}, {"gpu_milli", 100}}}});
    auto r = client->Post("/v1/jobs", body);
    EXPECT_TRUE(r.ok() && r->status == 201) << (r.ok() ? r->body : r.status().ToString());
    if (!r.ok() || r->status != 201) return "";
    return std::string(json::parse(r->body).at("id").as_string());
  }
};

// Runs `fastgpu job logs -f` and collects its stdout; `on_bytes` sees each piece with
// the seconds since the start. Returns the exit status.
int Follow(const std::string& args, std::string* out,
           const std::function<void(double)>& on_bytes = nullptr) {
  const std::string cmd =
      "timeout 90 " + std::string(FASTGPU_BINARY) + " job logs -f " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  auto start = std::chrono::steady_clock::now();
  char buf[65536];
  for (;;) {
    ssize_t n = read(fileno(p), buf, sizeof(buf));
    if (n <= 0) break;
    out->append(buf, static_cast<size_t>(n));
    if (on_bytes) {
      on_bytes(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  }
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string Seq(int n) {
  std::string s;
  for (int i = 1; i <= n; ++i) s += std::to_string(i) + "\n";
  return s;
}

TEST(LogFollowTest, FollowPrintsEveryByteOfASixMegabyteJobAndExitsZero) {
  Session s({});
  ASSERT_TRUE(s.up->ok()) << s.up->output();
  constexpr int kLines = 850000;  // 6,337,896 bytes
  const std::string want = Seq(kLines);
  std::string id = s.Submit("seq 1 " + std::to_string(kLines));
  ASSERT_FALSE(id.empty());
  std::string got;
  int rc = Follow(id + s.flags, &got);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(got.size(), want.size());
  EXPECT_EQ(std::hash<std::string>{}(got), std::hash<std::string>{}(want));
  EXPECT_TRUE(got == want);
}

TEST(LogFollowTest, OutputBeyondTheLogLimitEndsWithTheDroppedMarker) {
  Session s({"--log-limit", "1MiB"});
  ASSERT_TRUE(s.up->ok()) << s.up->output();
  constexpr int kLines = 400000;  // 2,888,895 bytes
  const std::string want = Seq(kLines);
  const int64_t limit = int64_t{1} << 20;
  const int64_t dropped = static_cast<int64_t>(want.size()) - limit;
  std::string id = s.Submit("seq 1 " + std::to_string(kLines));
  ASSERT_FALSE(id.empty());
  std::string got;
  EXPECT_EQ(Follow(id + s.flags, &got), 0);
  ASSERT_GE(got.size(), static_cast<size_t>(limit));
  EXPECT_EQ(got.substr(0, limit), want.substr(0, limit));
  std::string grouped = std::to_string(dropped);
  for (int i = static_cast<int>(grouped.size()) - 3; i > 0; i -= 3) grouped.insert(i, ",");
  EXPECT_EQ(got.substr(limit), "\n[fastgpu: " + grouped +
                                   " bytes of output dropped: the log limit is 1 MiB per "
                                   "replica]\n");
  auto r = s.client->Get("/v1/jobs/" + id + "/logs?offset=0");
  ASSERT_TRUE(r.ok() && r->status == 200);
  json::value v = json::parse(r->body);
  EXPECT_EQ(v.at("dropped_bytes").as_int64(), dropped);
  EXPECT_EQ(v.at("log_limit_bytes").as_int64(), limit);
}

TEST(LogFollowTest, ALineAppearsWithinASecondAndAHalf) {
  Session s({});
  ASSERT_TRUE(s.up->ok()) << s.up->output();
  // The job prints the time it wrote each line (same host clock as the reader's).
  std::string id = s.Submit("date +%s.%N; sleep 3; date +%s.%N");
  ASSERT_FALSE(id.empty());
  std::string got;
  std::vector<double> delays;  // per line: seen minus written, in seconds
  size_t seen_lines = 0;
  int rc = Follow(id + s.flags, &got, [&](double) {
    timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    double t = now.tv_sec + now.tv_nsec / 1e9;
    size_t lines = 0, start = 0;
    for (size_t nl; (nl = got.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (++lines > seen_lines) delays.push_back(t - std::stod(got.substr(start, nl - start)));
    }
    seen_lines = lines;
  });
  EXPECT_EQ(rc, 0);
  ASSERT_EQ(delays.size(), 2u) << got;
  EXPECT_LT(delays[0], 1.5);
  EXPECT_LT(delays[1], 1.5);
}

// Reads from `fd` into `got` until `pred(got)` holds or `ms` pass; false on timeout or
// when the server closes first.
bool ReadUntil(int fd, std::string* got, const std::function<bool(const std::string&)>& pred,
               int ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!pred(*got)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return false;
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left)) <= 0) continue;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) return pred(*got);
    got->append(buf, static_cast<size_t>(n));
  }
  return true;
}

TEST(LogFollowTest, FollowAnswersAChunkedStreamThatShowsALineBeforeTheJobEnds) {
  Session s({});
  ASSERT_TRUE(s.up->ok()) << s.up->output();
  std::string id = s.Submit("echo first-line; sleep 4; echo second-line");
  ASSERT_FALSE(id.empty());
  const std::string url = s.up->url();
  const int port = std::stoi(url.substr(url.rfind(':') + 1));
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string token = ReadFirstLine(s.dir.path() + "/admin.token");
  const std::string req = "GET /v1/jobs/" + id +
                          "/logs?replica=0&offset=0&follow=true HTTP/1.1\r\nHost: x\r\n"
                          "Authorization: Bearer " +
                          token + "\r\n\r\n";
  ASSERT_EQ(write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  std::string got;
  // The first line arrives while the job still sleeps.
  ASSERT_TRUE(ReadUntil(
      fd, &got, [](const std::string& g) { return g.find("first-line\n") != std::string::npos; },
      15000))
      << got;
  auto job = s.client->Get("/v1/jobs/" + id);
  ASSERT_TRUE(job.ok() && job->status == 200);
  const std::string state(json::parse(job->body).at("state").as_string());
  EXPECT_TRUE(state == "running" || state == "pending" || state == "scheduled") << state;
  EXPECT_EQ(got.find("second-line"), std::string::npos) << got;
  const std::string head = got.substr(0, got.find("\r\n\r\n"));
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
  std::string lower = head;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_NE(lower.find("transfer-encoding: chunked"), std::string::npos) << head;
  EXPECT_NE(lower.find("x-log-offset: 0"), std::string::npos) << head;
  EXPECT_EQ(lower.find("content-length"), std::string::npos) << head;
  // The rest follows, and the stream ends with the last chunk once the log is done.
  ASSERT_TRUE(ReadUntil(
      fd, &got,
      [](const std::string& g) {
        return g.find("second-line\n") != std::string::npos && g.size() >= 5 &&
               g.compare(g.size() - 5, 5, "0\r\n\r\n") == 0;
      },
      30000))
      << got;
  close(fd);
  // The body, de-chunked, is the log.
  std::string body;
  size_t pos = got.find("\r\n\r\n") + 4;
  for (;;) {
    size_t eol = got.find("\r\n", pos);
    ASSERT_NE(eol, std::string::npos);
    size_t n = std::stoul(got.substr(pos, eol - pos), nullptr, 16);
    if (n == 0) break;
    body += got.substr(eol + 2, n);
    pos = eol + 2 + n + 2;
  }
  EXPECT_EQ(body, "first-line\nsecond-line\n");
}

}  // namespace
}  // namespace fastgpu::testing

// Followed logs over loopback: a stream holds a worker, so at most half the workers
// stream; beyond that `follow=true` gets the plain JSON answer, and a stream ends with
// its last chunk once the job ends even when no bytes come.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "server/server_test_util.h"

namespace fastgpu::server::testing {
namespace {

constexpr char kJob[] = R"({"command":["x"],"shape":{"gpu_count":1,"gpu_milli":500}})";

TEST(LogStreamTest, StreamsAreBoundedAndEndWhenTheJobEnds) {
  ServerOptions o;
  o.allow_unplaceable = true;
  TestControlPlane cp(nullptr, o);  // 4 workers: at most 2 streams
  constexpr int kStreams = 2;
  const std::string alice = cp.NewTenantToken("alice");
  Reply job = cp.Do("POST", "/v1/jobs", alice, kJob);
  ASSERT_EQ(job.status, 201) << job.raw;
  const std::string id = job.Str("id");
  const std::string path = "/v1/jobs/" + id + "/logs?follow=true";

  std::atomic<int> streaming{0};
  std::vector<Result<fastgpu::net::HttpResponse>> streamed(kStreams, Internal("not run"));
  std::vector<std::thread> followers;
  for (int i = 0; i < kStreams; ++i) {
    followers.emplace_back([&, i] {
      net::HttpClientOptions co;
      co.bearer_token = alice;
      auto client = net::HttpClient::Create(cp.url(), co).value();
      streamed[i] = client->GetStream(
          path, [](std::string_view) { return true; }, {},
          [&](const fastgpu::net::HttpResponse& h) {
            if (!h.Header("X-Log-Offset").empty()) ++streaming;
            return true;
          });
    });
  }
  for (int i = 0; i < 200 && streaming < kStreams; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_EQ(streaming.load(), kStreams);

  // Every stream slot is taken: the plain answer.
  Reply plain = cp.Do("GET", path, alice);
  EXPECT_EQ(plain.status, 200) << plain.raw;
  EXPECT_TRUE(plain.body.is_object() && !plain.body.at("done").as_bool()) << plain.raw;

  // The job ends without a byte: the streams notice within their re-check and end.
  auto cancelled_at = std::chrono::steady_clock::now();
  EXPECT_EQ(cp.Do("POST", "/v1/jobs/" + id + "/cancel", alice).status, 200);
  for (auto& t : followers) t.join();
  EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, std::chrono::seconds(10));
  for (const auto& r : streamed) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->Header("Transfer-Encoding"), "chunked");
  }

  // The ended job's log is done: `follow=true` gets the plain answer.
  Reply done = cp.Do("GET", path, alice);
  EXPECT_TRUE(done.body.is_object() && done.body.at("done").as_bool()) << done.raw;
}

// Sends a GET over a fresh connection, reads the answer's header and hangs up.
std::string HeaderThenHangUp(const std::string& url, const std::string& path,
                             const std::string& token) {
  namespace net = boost::asio;
  net::io_context io;
  net::ip::tcp::socket sock(io);
  const auto port = static_cast<unsigned short>(std::stoi(url.substr(url.rfind(':') + 1)));
  sock.connect({net::ip::make_address("127.0.0.1"), port});
  std::string req =
      "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token + "\r\n\r\n";
  net::write(sock, net::buffer(req));
  std::string head;
  char buf[512];
  while (head.find("\r\n\r\n") == std::string::npos) {
    boost::system::error_code ec;
    size_t n = sock.read_some(net::buffer(buf), ec);
    if (ec) break;
    head.append(buf, n);
  }
  return head.substr(0, head.find("\r\n\r\n"));
}

// Followers that hang up while their job is quiet give their stream slots back within
// the stream's one-second re-check, not after the stream's lifetime.
TEST(LogStreamTest, AStreamWhoseClientHungUpFreesItsSlot) {
  ServerOptions o;
  o.allow_unplaceable = true;
  TestControlPlane cp(nullptr, o);  // 4 workers: at most 2 streams
  const std::string alice = cp.NewTenantToken("alice");
  Reply job = cp.Do("POST", "/v1/jobs", alice, kJob);
  ASSERT_EQ(job.status, 201) << job.raw;
  const std::string path = "/v1/jobs/" + job.Str("id") + "/logs?follow=true";
  auto chunked = [](const std::string& head) { return head.find("chunked") != std::string::npos; };
  // Both slots taken by followers that then hang up.
  for (int i = 0; i < 2; ++i) {
    std::string head = HeaderThenHangUp(cp.url(), path, alice);
    EXPECT_TRUE(chunked(head)) << head;
  }
  // Within a few re-checks a follower streams again.
  bool streams_again = false;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!streams_again && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    streams_again = chunked(HeaderThenHangUp(cp.url(), path, alice));
  }
  EXPECT_TRUE(streams_again) << "the stream slots stayed taken after their clients hung up";
  EXPECT_EQ(cp.Do("POST", "/v1/jobs/" + job.Str("id") + "/cancel", alice).status, 200);
}

}  // namespace
}  // namespace fastgpu::server::testing

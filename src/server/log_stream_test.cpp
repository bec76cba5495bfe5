// Followed logs over loopback: a stream holds a worker, so at most half the workers
// stream; beyond that `follow=true` gets the plain JSON answer, and a stream ends with
// its last chunk once the job ends even when no bytes come.
#include <gtest/gtest.h>

#include <atomic>
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
  std::vector<Result<fastgpu::HttpResponse>> streamed(kStreams, Internal("not run"));
  std::vector<std::thread> followers;
  for (int i = 0; i < kStreams; ++i) {
    followers.emplace_back([&, i] {
      HttpClientOptions co;
      co.bearer_token = alice;
      auto client = HttpClient::Create(cp.url(), co).value();
      streamed[i] = client->GetStream(
          path, [](std::string_view) { return true; }, {},
          [&](const fastgpu::HttpResponse& h) {
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

}  // namespace
}  // namespace fastgpu::server::testing

#include "net/http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "common/testing/temp_dir.h"
#include "net/testing/test_http_server.h"

namespace fastgpu::net {
namespace {

using testing::TestHttpServer;
using testing::TestRequest;
using testing::TestResponse;

std::unique_ptr<TestHttpServer> StartServer(testing::TestHandler handler) {
  auto server = TestHttpServer::Start(std::move(handler));
  EXPECT_TRUE(server.ok()) << server.status();
  return std::move(server).value();
}

std::unique_ptr<HttpClient> MakeClient(const std::string& url, HttpClientOptions options = {}) {
  auto client = HttpClient::Create(url, std::move(options));
  EXPECT_TRUE(client.ok()) << client.status();
  return std::move(client).value();
}

TEST(HttpClientTest, SendsMethodPathBodyAndHeaders) {
  std::mutex mu;
  TestRequest seen;
  auto server = StartServer([&](const TestRequest& r) {
    std::lock_guard lock(mu);
    seen = r;
    return testing::Reply(201, R"({"ok":true})");
  });
  HttpClientOptions options;
  options.bearer_token = "secret";
  auto client = MakeClient(server->url() + "/api/", options);
  auto res = client->Post("/v1/jobs?x=1", R"({"a":1})", {{"X-Request-Id", "r1"}});
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(res->body, R"({"ok":true})");
  EXPECT_EQ(res->Header("content-type"), "application/json");
  std::lock_guard lock(mu);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/api/v1/jobs?x=1");
  EXPECT_EQ(seen.body, R"({"a":1})");
  EXPECT_EQ(seen.Header("authorization"), "Bearer secret");
  EXPECT_EQ(seen.Header("x-request-id"), "r1");
  EXPECT_EQ(seen.Header("content-type"), "application/json");
  EXPECT_EQ(seen.Header("host"), "127.0.0.1:" + std::to_string(server->port()));
}

TEST(HttpClientTest, ReusesOneConnectionAcrossCalls) {
  auto server = StartServer([](const TestRequest&) { return testing::Reply(200, "{}"); });
  auto client = MakeClient(server->url());
  for (int i = 0; i < 5; ++i) {
    auto res = client->Get("/v1/x");
    ASSERT_TRUE(res.ok()) << res.status();
  }
  EXPECT_EQ(client->connections_opened(), 1);
  EXPECT_EQ(server->connections_accepted(), 1);
}

TEST(HttpClientTest, ReconnectsWhenTheServerClosedTheConnection) {
  auto server = StartServer([](const TestRequest&) { return testing::Reply(200, "{}"); });
  auto client = MakeClient(server->url());
  ASSERT_TRUE(client->Get("/a").ok());
  server->DropConnections();
  auto res = client->Get("/b");
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(client->connections_opened(), 2);
}

TEST(HttpClientTest, ServerThatClosesAfterEachAnswerStillWorks) {
  auto server = StartServer([](const TestRequest&) {
    TestResponse r = testing::Reply(200, "x");
    r.close = true;
    return r;
  });
  auto client = MakeClient(server->url());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client->Get("/a").ok());
  EXPECT_EQ(client->connections_opened(), 3);
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailableWithTheAddress) {
  int port;
  {
    auto server = StartServer([](const TestRequest&) { return TestResponse{}; });
    port = server->port();
  }
  auto client = MakeClient("http://127.0.0.1:" + std::to_string(port));
  auto res = client->Get("/v1/x");
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(res.status().message().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << res.status();
}

// Several replicas: a dead address and one answering 503 (its database is gone) are
// skipped, the client stays with the one that answered, and moves on when that one dies.
TEST(HttpClientTest, SeveralAddressesFailOverToOneThatAnswers) {
  int dead_port;
  {
    auto gone = StartServer([](const TestRequest&) { return TestResponse{}; });
    dead_port = gone->port();
  }
  std::atomic<int> sick_calls{0}, good_calls{0}, spare_calls{0};
  auto sick = StartServer([&](const TestRequest&) {
    ++sick_calls;
    return testing::Reply(503, R"({"code":"UNAVAILABLE","message":"no database"})");
  });
  auto good = StartServer([&](const TestRequest&) {
    ++good_calls;
    return testing::Reply(200, R"({"who":"good"})");
  });
  auto spare = StartServer([&](const TestRequest&) {
    ++spare_calls;
    return testing::Reply(200, R"({"who":"spare"})");
  });
  auto client = MakeClient("http://127.0.0.1:" + std::to_string(dead_port) + ", " + sick->url() +
                           "," + good->url() + "," + spare->url());
  EXPECT_EQ(client->addresses(), 4u);
  auto first = client->Post("/v1/jobs", "{}");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->body, R"({"who":"good"})");
  EXPECT_EQ(sick_calls.load(), 1);
  for (int i = 0; i < 3; ++i) {
    auto again = client->Get("/v1/jobs");
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->body, R"({"who":"good"})");
  }
  EXPECT_EQ(sick_calls.load(), 1);  // stays with the address that answered
  EXPECT_EQ(client->origin(), good->url());
  good->Stop();
  auto moved = client->Get("/v1/jobs");
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->body, R"({"who":"spare"})");
  EXPECT_EQ(spare_calls.load(), 1);
  // Every address down or sick: the last answer (or failure) is returned.
  spare->Stop();
  auto none = client->Get("/v1/jobs");
  ASSERT_TRUE(none.ok());  // the sick one still answers 503
  EXPECT_EQ(none->status, 503);
  EXPECT_FALSE(HttpClient::Create(" , ").ok());
}

TEST(HttpClientTest, ReadTimeoutIsUnavailable) {
  auto server = StartServer([](const TestRequest&) {
    TestResponse r = testing::Reply(200, "{}");
    r.delay = std::chrono::milliseconds(600);
    return r;
  });
  HttpClientOptions options;
  options.read_timeout = std::chrono::milliseconds(100);
  auto client = MakeClient(server->url(), options);
  auto res = client->Get("/slow");
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(res.status().message().find("timed out"), std::string::npos) << res.status();
}

TEST(HttpClientTest, StreamsChunksToTheCallback) {
  auto server = StartServer([](const TestRequest&) {
    TestResponse r;
    r.content_type = "text/plain";
    r.chunks = {"line 1\n", "line 2\n", "line 3\n"};
    return r;
  });
  auto client = MakeClient(server->url());
  std::string got;
  int calls = 0;
  auto res = client->GetStream("/logs", [&](std::string_view chunk) {
    got += chunk;
    ++calls;
    return true;
  });
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(got, "line 1\nline 2\nline 3\n");
  EXPECT_GE(calls, 1);
  // The connection is still usable afterwards.
  ASSERT_TRUE(client->Get("/logs").ok());
}

TEST(HttpClientTest, StreamCanStopEarly) {
  auto server = StartServer([](const TestRequest&) {
    TestResponse r;
    r.chunks = {"a", "b", "c"};
    return r;
  });
  auto client = MakeClient(server->url());
  std::string got;
  auto res = client->GetStream("/logs", [&](std::string_view chunk) {
    got += chunk;
    return false;
  });
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_FALSE(got.empty());
  EXPECT_LT(got.size(), 3u + 1);
}

TEST(HttpClientTest, StreamCollectsTheBodyOfAnError) {
  auto server = StartServer([](const TestRequest&) {
    return testing::Reply(404, R"({"code":"NOT_FOUND","message":"no job"})");
  });
  auto client = MakeClient(server->url());
  bool called = false;
  auto res = client->GetStream("/logs", [&](std::string_view) { return called = true; });
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_FALSE(called);
  EXPECT_EQ(ApiStatus(*res), NotFound("no job"));
}

TEST(HttpClientTest, BodyLargerThanTheLimitIsRefused) {
  auto server =
      StartServer([](const TestRequest&) { return testing::Reply(200, std::string(5000, 'x')); });
  HttpClientOptions options;
  options.max_body_bytes = 1000;
  auto client = MakeClient(server->url(), options);
  auto res = client->Get("/big");
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kResourceExhausted);
}

TEST(HttpClientTest, RefusesBadUrlsAndPaths) {
  EXPECT_EQ(HttpClient::Create("ftp://x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HttpClient::Create("not a url").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HttpClient::Create("http://h:1/?q=1").status().code(), StatusCode::kInvalidArgument);
  auto client = MakeClient("http://127.0.0.1:1");
  EXPECT_EQ(client->Get("v1/x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(client->Do("FROB", "/").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(client->origin(), "http://127.0.0.1:1");
}

TEST(HttpClientTest, HttpsAgainstAPlainServerFailsCleanly) {
  auto server = StartServer([](const TestRequest&) { return TestResponse{}; });
  HttpClientOptions options;
  options.verify_tls = false;
  options.connect_timeout = std::chrono::milliseconds(2000);
  auto client = MakeClient("https://127.0.0.1:" + std::to_string(server->port()), options);
  auto res = client->Get("/");
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable) << res.status();
  EXPECT_NE(res.status().message().find("TLS"), std::string::npos) << res.status();
}

TEST(ApiStatusTest, MapsErrorBodiesAndStatuses) {
  EXPECT_TRUE(ApiStatus(HttpResponse{204, {}, ""}).ok());
  EXPECT_EQ(ApiStatus(HttpResponse{400, {}, R"({"code":"INVALID_ARGUMENT","message":"bad"})"}),
            InvalidArgument("bad"));
  EXPECT_EQ(ApiStatus(HttpResponse{401, {}, "nope"}).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(ApiStatus(HttpResponse{503, {}, ""}).code(), StatusCode::kUnavailable);
  EXPECT_EQ(ApiStatus(HttpResponse{502, {}, ""}).code(), StatusCode::kInternal);
  EXPECT_EQ(StatusCodeFromName("RESOURCE_EXHAUSTED"), StatusCode::kResourceExhausted);
  EXPECT_EQ(StatusCodeFromName("nonsense"), StatusCode::kUnknown);
}

}  // namespace
}  // namespace fastgpu::net

namespace fastgpu::net {
namespace {

// https against a TLS test server whose self-signed certificate is made here with the
// openssl command (skipped where it is missing).
class HttpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v openssl > /dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl";
    ASSERT_FALSE(tmp_.path().empty());
    dir_ = tmp_.path();
    std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
        "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
        dir_ + "/key.pem -out " + dir_ + "/cert.pem > /dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    auto server = testing::TestHttpServer::StartTls(
        [](const TestRequest& r) { return testing::Reply(200, "secure " + r.target); },
        dir_ + "/cert.pem", dir_ + "/key.pem");
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
  }
  void TearDown() override { server_.reset(); }
  fastgpu::testing::TempDir tmp_;
  std::string dir_;
  std::unique_ptr<TestHttpServer> server_;
};

TEST_F(HttpsTest, TalksToAServerItTrusts) {
  HttpClientOptions options;
  options.ca_file = dir_ + "/cert.pem";
  auto client = MakeClient(server_->url(), options);
  ASSERT_EQ(client->origin().rfind("https://", 0), 0u);
  for (int i = 0; i < 3; ++i) {
    auto res = client->Get("/v1/x");
    ASSERT_TRUE(res.ok()) << res.status();
    EXPECT_EQ(res->body, "secure /v1/x");
  }
  EXPECT_EQ(client->connections_opened(), 1);
}

TEST_F(HttpsTest, RefusesACertificateItDoesNotTrust) {
  auto client = MakeClient(server_->url());
  auto res = client->Get("/v1/x");
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(res.status().message().find("TLS handshake"), std::string::npos) << res.status();
  HttpClientOptions insecure;
  insecure.verify_tls = false;
  EXPECT_TRUE(MakeClient(server_->url(), insecure)->Get("/").ok());
}

}  // namespace
}  // namespace fastgpu::net

namespace fastgpu::net {
namespace {

TEST(RedactedUrl, HidesCredentialsInAUrl) {
  EXPECT_EQ(RedactedUrl("https://admin:s3cret@cp.example.com:8443/x"),
            "https://***@cp.example.com:8443/x");
  EXPECT_EQ(RedactedUrl("http://tok@127.0.0.1"), "http://***@127.0.0.1");
  EXPECT_EQ(RedactedUrl("https://cp.example.com/a@b"), "https://cp.example.com/a@b");
  EXPECT_EQ(RedactedUrl("127.0.0.1:8080"), "127.0.0.1:8080");
  auto refused = HttpClient::Create("https://admin:s3cret@cp.example.com/");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message().find("s3cret"), std::string::npos) << refused.status();
}

}  // namespace
}  // namespace fastgpu::net

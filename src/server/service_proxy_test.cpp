// The service proxy's forwarding core (service_proxy.h) against small HTTP backends on
// 127.0.0.1 port 0: round robin, what is forwarded and what is not, a dead endpoint, a
// request held until a replica is ready (scale from zero), and the cold-start timeout.
#include "server/service_proxy.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

#include "common/text.h"
#include "net/testing/test_http_server.h"

namespace fastgpu::server {
namespace {

using ::fastgpu::testing::TestHttpServer;
using ::fastgpu::testing::TestRequest;
using ::fastgpu::testing::TestResponse;
using std::chrono::milliseconds;

// The backends of one request: the endpoints `ready` gives, and how often the hold began
// and ended.
class FakeBackends : public ServiceBackends {
 public:
  explicit FakeBackends(std::function<std::vector<std::string>()> ready)
      : ready_(std::move(ready)) {}
  Result<std::vector<std::string>> ReadyEndpoints() override {
    ++asked;
    return ready_();
  }
  void HoldBegins() override { ++begins; }
  void HoldEnds() override { ++ends; }
  std::atomic<int> asked{0};
  std::atomic<int> begins{0};
  std::atomic<int> ends{0};

 private:
  std::function<std::vector<std::string>()> ready_;
};

std::string Endpoint(const TestHttpServer& s) { return "127.0.0.1:" + std::to_string(s.port()); }

// A backend that answers "<name> <method> <target>" and records the last request.
struct Backend {
  explicit Backend(std::string name) {
    auto started = TestHttpServer::Start([this, name](const TestRequest& r) {
      {
        std::lock_guard lock(mu);
        last = r;
      }
      TestResponse resp = ::fastgpu::testing::Reply(200, name + " " + r.method + " " + r.target);
      resp.content_type = "text/plain";
      return resp;
    });
    EXPECT_TRUE(started.ok()) << started.status().ToString();
    server = std::move(*started);
  }
  TestRequest Last() {
    std::lock_guard lock(mu);
    return last;
  }
  std::mutex mu;
  TestRequest last;
  std::unique_ptr<TestHttpServer> server;
};

ProxyRequest Get(std::string path, std::string query = "") {
  ProxyRequest r;
  r.method = "GET";
  r.path = std::move(path);
  r.query = std::move(query);
  return r;
}

TEST(ServiceProxyTest, ForwardsRoundRobinOverTheReadyEndpoints) {
  Backend a("a"), b("b");
  ServiceProxy proxy(SystemClock::Default(), {});
  FakeBackends backends([&] {
    return std::vector<std::string>{Endpoint(*a.server), Endpoint(*b.server)};
  });
  std::vector<std::string> bodies;
  for (int i = 0; i < 4; ++i) {
    Result<ProxyResponse> r = proxy.Forward("t/svc", Get("/v1/x", "q=1&r=a%20b"), backends);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->held, milliseconds(0));
    bodies.push_back(r->body);
  }
  EXPECT_EQ(bodies[0].substr(2), "GET /v1/x?q=1&r=a%20b");
  EXPECT_NE(bodies[0][0], bodies[1][0]);
  EXPECT_EQ(bodies[0], bodies[2]);
  EXPECT_EQ(bodies[1], bodies[3]);
  EXPECT_EQ(backends.begins, 0);
}

TEST(ServiceProxyTest, ForwardsTheBodyAndHeadersButNotTheTokenNorHopByHopOnes) {
  Backend a("a");
  ServiceProxy proxy(SystemClock::Default(), {});
  FakeBackends backends([&] { return std::vector<std::string>{Endpoint(*a.server)}; });
  ProxyRequest req;
  req.method = "POST";
  req.path = "/generate";
  req.body = "{\"prompt\":\"hi\"}";
  req.headers = {{"Authorization", "Bearer tenant-secret"},
                 {"Content-Type", "application/json"},
                 {"X-Request-Id", "r-1"},
                 {"Connection", "keep-alive, X-Hop"},
                 {"X-Hop", "drop me"},
                 {"Proxy-Authorization", "Basic xyz"},
                 {"Host", "control-plane:8080"}};
  Result<ProxyResponse> r = proxy.Forward("t/svc", req, backends);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "a POST /generate");
  EXPECT_EQ(r->endpoint, Endpoint(*a.server));
  TestRequest got = a.Last();
  EXPECT_EQ(got.body, req.body);
  EXPECT_EQ(got.Header("content-type"), "application/json");
  EXPECT_EQ(got.Header("x-request-id"), "r-1");
  EXPECT_EQ(got.Header("authorization"), "");
  EXPECT_EQ(got.Header("x-hop"), "");
  EXPECT_EQ(got.Header("proxy-authorization"), "");
  EXPECT_EQ(got.Header("host"), Endpoint(*a.server));
  bool content_type = false;
  for (const auto& [k, v] : r->headers) {
    EXPECT_NE(AsciiLower(k), "content-length");
    if (k == "Content-Type") content_type = v == "text/plain";
  }
  EXPECT_TRUE(content_type);
}

TEST(ServiceProxyTest, AnEndpointThatLeavesHasItsIdleConnectionsClosed) {
  Backend a("a"), b("b");
  ServiceProxy proxy(SystemClock::Default(), {});
  std::vector<std::string> ready = {Endpoint(*a.server), Endpoint(*b.server)};
  FakeBackends backends([&] { return ready; });
  ASSERT_TRUE(proxy.Forward("t/svc", Get("/"), backends).ok());
  ASSERT_TRUE(proxy.Forward("t/svc", Get("/"), backends).ok());
  EXPECT_EQ(proxy.idle_connections(), 2u);  // one kept alive to each
  ASSERT_TRUE(proxy.Forward("t/svc", Get("/"), backends).ok());
  EXPECT_EQ(proxy.idle_connections(), 2u);  // reused, not a third
  ready = {Endpoint(*a.server)};            // b's replica is gone
  ASSERT_TRUE(proxy.Forward("t/svc", Get("/"), backends).ok());
  EXPECT_EQ(proxy.idle_connections(), 1u);
  EXPECT_EQ(a.server->connections_accepted() + b.server->connections_accepted(), 2);
}

TEST(ServiceProxyTest, PassesAReplicasErrorStatusBack) {
  auto started = TestHttpServer::Start(
      [](const TestRequest&) { return ::fastgpu::testing::Reply(404, "{\"detail\":\"no\"}"); });
  ASSERT_TRUE(started.ok());
  ServiceProxy proxy(SystemClock::Default(), {});
  FakeBackends backends([&] { return std::vector<std::string>{Endpoint(**started)}; });
  Result<ProxyResponse> r = proxy.Forward("t/svc", Get("/missing"), backends);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "{\"detail\":\"no\"}");
}

TEST(ServiceProxyTest, AnEndpointThatRefusesConnectionsIsSkipped) {
  Backend a("a");
  std::string dead;
  {
    Backend gone("gone");
    dead = Endpoint(*gone.server);
    gone.server->Stop();
  }
  ServiceProxy proxy(SystemClock::Default(), {});
  FakeBackends backends([&] { return std::vector<std::string>{dead, Endpoint(*a.server)}; });
  for (int i = 0; i < 4; ++i) {
    ProxyRequest req = Get("/");
    req.method = i % 2 == 0 ? "GET" : "POST";  // a refused connection is safe to resend
    Result<ProxyResponse> r = proxy.Forward("t/svc", req, backends);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->body[0], 'a');
  }
  FakeBackends none_alive([&] { return std::vector<std::string>{dead}; });
  Result<ProxyResponse> r = proxy.Forward("t/svc", Get("/"), none_alive);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("no ready replica answered"), std::string::npos);
}

TEST(ServiceProxyTest, ANonIdempotentRequestWithoutAnswerIsNotSentAgain) {
  std::atomic<int> slow_calls{0};
  auto slow = TestHttpServer::Start([&](const TestRequest&) {
    ++slow_calls;
    TestResponse r = ::fastgpu::testing::Reply(200, "slow");
    r.delay = milliseconds(1500);
    return r;
  });
  ASSERT_TRUE(slow.ok());
  Backend fast("fast");
  ServiceProxyOptions options;
  options.read_timeout = milliseconds(300);
  ServiceProxy proxy(SystemClock::Default(), options);
  FakeBackends only_slow([&] { return std::vector<std::string>{Endpoint(**slow)}; });
  ProxyRequest post = Get("/");
  post.method = "POST";
  Result<ProxyResponse> r = proxy.Forward("t/post", post, only_slow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not sent again"), std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(slow_calls, 1);
  // A GET that timed out goes to the next endpoint: whichever comes first in the
  // round-robin order, both calls are answered by the fast one.
  FakeBackends both([&] {
    return std::vector<std::string>{Endpoint(**slow), Endpoint(*fast.server)};
  });
  int fast_answers = 0;
  for (int i = 0; i < 2; ++i) {
    Result<ProxyResponse> g = proxy.Forward("t/get", Get("/"), both);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    if (g->body.rfind("fast", 0) == 0) ++fast_answers;
  }
  EXPECT_EQ(fast_answers, 2);
}

TEST(ServiceProxyTest, HoldsARequestUntilAReplicaIsReady) {
  Backend a("a");
  std::atomic<bool> started{false};
  FakeBackends backends([&] {
    return started ? std::vector<std::string>{Endpoint(*a.server)} : std::vector<std::string>{};
  });
  ServiceProxyOptions options;
  options.poll_interval = milliseconds(20);
  options.cold_start_timeout = milliseconds(10000);
  ServiceProxy proxy(SystemClock::Default(), options);
  std::thread starter([&] {
    while (backends.begins == 0) std::this_thread::sleep_for(milliseconds(5));
    EXPECT_EQ(proxy.held(), 1);
    std::this_thread::sleep_for(milliseconds(300));  // the replica's cold start
    started = true;
  });
  Result<ProxyResponse> r = proxy.Forward("t/svc", Get("/hello"), backends);
  starter.join();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "a GET /hello");
  EXPECT_GE(r->held, milliseconds(300));
  EXPECT_LT(r->held, milliseconds(5000));
  EXPECT_EQ(backends.begins, 1);
  EXPECT_EQ(backends.ends, 1);
  EXPECT_EQ(proxy.held(), 0);
}

TEST(ServiceProxyTest, NoReadyReplicaWithinTheColdStartTimeoutIs503) {
  FakeBackends backends([] { return std::vector<std::string>{}; });
  ServiceProxyOptions options;
  options.poll_interval = milliseconds(20);
  options.cold_start_timeout = milliseconds(200);
  ServiceProxy proxy(SystemClock::Default(), options);
  const auto start = std::chrono::steady_clock::now();
  Result<ProxyResponse> r = proxy.Forward("t/svc", Get("/"), backends);
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("no ready replica after 0.2 s"), std::string::npos)
      << r.status().message();
  EXPECT_GE(waited, milliseconds(200));
  EXPECT_LT(waited, milliseconds(3000));
  EXPECT_EQ(backends.begins, 1);
  EXPECT_EQ(backends.ends, 1);
  EXPECT_GE(backends.asked, 3);
}

TEST(ServiceProxyTest, HoldsAtMostMaxHeldRequests) {
  ServiceProxyOptions options;
  options.poll_interval = milliseconds(10);
  options.cold_start_timeout = milliseconds(2000);
  options.max_held = 1;
  ServiceProxy proxy(SystemClock::Default(), options);
  std::atomic<bool> ready{false};
  Backend a("a");
  FakeBackends first([&] {
    return ready ? std::vector<std::string>{Endpoint(*a.server)} : std::vector<std::string>{};
  });
  std::thread held([&] { EXPECT_TRUE(proxy.Forward("t/svc", Get("/"), first).ok()); });
  while (first.begins == 0) std::this_thread::sleep_for(milliseconds(5));
  FakeBackends second([] { return std::vector<std::string>{}; });
  Result<ProxyResponse> r = proxy.Forward("t/svc", Get("/"), second);
  ready = true;
  held.join();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("already waiting"), std::string::npos);
  EXPECT_EQ(second.begins, 0);
}

TEST(ServiceProxyTest, RefusesMethodsItDoesNotForwardAndBackendErrorsPassThrough) {
  ServiceProxy proxy(SystemClock::Default(), {});
  FakeBackends backends([] { return std::vector<std::string>{"127.0.0.1:1"}; });
  ProxyRequest req = Get("/");
  req.method = "TRACE";
  Result<ProxyResponse> r = proxy.Forward("t/svc", req, backends);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("method"), std::string::npos);

  class Gone : public ServiceBackends {
   public:
    Result<std::vector<std::string>> ReadyEndpoints() override {
      return NotFound("no service 'svc'");
    }
    void HoldBegins() override {}
    void HoldEnds() override {}
  } gone;
  Result<ProxyResponse> g = proxy.Forward("t/svc", Get("/"), gone);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kNotFound);
}

TEST(ServiceProxyTest, ForwardedRequestHeaderDropsHopByHopAndCredentials) {
  EXPECT_TRUE(ForwardedRequestHeader("Content-Type", ""));
  EXPECT_TRUE(ForwardedRequestHeader("X-Custom", "close"));
  EXPECT_FALSE(ForwardedRequestHeader("AUTHORIZATION", ""));
  EXPECT_FALSE(ForwardedRequestHeader("Transfer-Encoding", ""));
  EXPECT_FALSE(ForwardedRequestHeader("Upgrade", ""));
  EXPECT_FALSE(ForwardedRequestHeader("X-Custom", "keep-alive, x-custom"));
}

}  // namespace
}  // namespace fastgpu::server

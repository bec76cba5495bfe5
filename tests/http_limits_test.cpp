// The control plane's HTTP surface under hostile input, in process: methods it does not
// serve are refused with 405 and an Allow header, and /metrics stays small however many
// distinct methods and paths clients send (every label from a bounded set).
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <atomic>
#include <functional>
#include <future>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "server/http_server.h"
#include "server/log_limiter.h"
#include "server/metrics.h"
#include "server/server_test_util.h"
#include "tests/http_raw_client.h"

namespace fastgpu::server::testing {
namespace {

using fastgpu::testing::RawHttpClient;

uint16_t PortOf(const TestControlPlane& cp) {
  return static_cast<uint16_t>(std::stoi(cp.url().substr(cp.url().rfind(':') + 1)));
}

// Lines of the exposition that carry a sample of `metric` (not HELP/TYPE).
int CountSamples(const std::string& text, const std::string& metric) {
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (line.rfind(metric + "{", 0) == 0 || line.rfind(metric + " ", 0) == 0) ++n;
  }
  return n;
}

TEST(HttpLimitsTest, WrongAndUnknownMethodsAre405WithAllow) {
  TestControlPlane cp;
  RawHttpClient c(PortOf(cp));
  struct Case {
    std::string method, path, allow;
  };
  const std::vector<Case> cases = {
      {"POST", "/metrics", "GET"},
      {"DELETE", "/healthz", "GET"},
      {"PUT", "/", "GET"},
      {"FROBNICATE", "/healthz", "GET"},
      {"DELETE", "/v1/jobs", "GET, POST"},
      {"GET", "/v1/nodes/register", "POST"},
      {"PATCH", "/v1/jobs/job-1", "GET"},
      {"GET", "/v1/tenants/t/quota", "PUT"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.method + " " + k.path);
    auto a = c.Send(k.method, k.path);
    EXPECT_EQ(a.status, 405) << a.body;
    EXPECT_EQ(a.allow, k.allow);
    json::value body = json::parse(a.body);
    EXPECT_EQ(body.at("code").as_string(), "INVALID_ARGUMENT");
    EXPECT_TRUE(body.at("message").is_string());
  }
  EXPECT_EQ(c.Send("GET", "/healthz").status, 200);
  EXPECT_EQ(c.Send("GET", "/metrics").status, 200);
  EXPECT_EQ(c.Send("GET", "/no/such/thing").status, 404);
}

TEST(HttpLimitsTest, EveryRouteInTheTableIsServed) {
  TestControlPlane cp;
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"GET", "/"},
      {"GET", "/healthz"},
      {"GET", "/metrics"},
      {"POST", "/v1/nodes/register"},
      {"POST", "/v1/nodes/x/heartbeat"},
      {"POST", "/v1/nodes/x/logs"},
      {"GET", "/v1/jobs"},
      {"POST", "/v1/jobs"},
      {"GET", "/v1/jobs/x"},
      {"POST", "/v1/jobs/x/cancel"},
      {"GET", "/v1/jobs/x/logs"},
      {"GET", "/v1/allocations"},
      {"GET", "/v1/allocations/x"},
      {"GET", "/v1/nodes"},
      {"POST", "/v1/nodes/x/drain"},
      {"POST", "/v1/nodes/x/undrain"},
      {"GET", "/v1/prices"},
      {"PUT", "/v1/prices"},
      {"GET", "/v1/usage"},
      {"GET", "/v1/tenants"},
      {"POST", "/v1/tenants"},
      {"GET", "/v1/tenants/x"},
      {"GET", "/v1/tenants/x/tokens"},
      {"POST", "/v1/tenants/x/tokens"},
      {"PUT", "/v1/tenants/x/quota"},
      {"POST", "/v1/tokens/x/revoke"},
  };
  for (const auto& [method, path] : routes) {
    SCOPED_TRACE(method + " " + path);
    Reply r = cp.Do(method, path, cp.admin(), "{}");
    EXPECT_NE(r.status, 405) << r.raw;
    EXPECT_EQ(r.raw.find("no such endpoint"), std::string::npos) << r.raw;
  }
}

TEST(HttpLimitsTest, MetricsStayBoundedUnderDistinctMethodsAndPaths) {
  TestControlPlane cp;
  RawHttpClient c(PortOf(cp));
  const int kRequests = 3000;
  for (int i = 0; i < kRequests; ++i) {
    std::string method = "M" + std::to_string(i) + "X";
    ASSERT_EQ(c.Send(method, "/healthz").status, 405) << method;
    ASSERT_EQ(c.Send("GET", "/junk/" + std::to_string(i)).status, 404);
    ASSERT_EQ(c.Send(method, "/v1/jobs/job-" + std::to_string(i)).status, 405);
  }
  auto m = c.Send("GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  // 9000 requests of thousands of distinct methods and paths: a handful of series.
  int series = CountSamples(m.body, "fastgpu_api_requests_total");
  EXPECT_LE(series, 10) << m.body;
  EXPECT_LT(m.body.size(), 16u * 1024) << m.body.size() << " bytes";
  EXPECT_NE(m.body.find("fastgpu_api_requests_total{route=\"/healthz\",method=\"other\","
                        "status=\"405\"} 3000"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("route=\"unmatched\",method=\"GET\",status=\"404\"} 3000"),
            std::string::npos);
  EXPECT_NE(m.body.find("route=\"/v1/jobs/{id}\",method=\"other\",status=\"405\"} 3000"),
            std::string::npos);
  EXPECT_EQ(m.body.find("M17X"), std::string::npos);
  EXPECT_EQ(m.body.find("/junk"), std::string::npos);
}

TEST(HttpLimitsTest, MetricsFoldUnknownRoutesPastTheirBound) {
  Metrics metrics;
  for (int i = 0; i < 1000; ++i) {
    metrics.ObserveRequest("/r" + std::to_string(i), "M" + std::to_string(i), 200, 0.001);
  }
  metrics.ObserveRequest("/r0", "GET", 1234, 0.001);
  std::string text = metrics.Render({});
  // 64 routes kept, the rest as "other", every method "other" but one.
  EXPECT_LE(CountSamples(text, "fastgpu_api_requests_total"), 64 + 1 + 1);
  EXPECT_EQ(text.find("method=\"M1\""), std::string::npos);
  EXPECT_NE(text.find("route=\"other\",method=\"other\",status=\"200\"} 936"), std::string::npos)
      << text;
  EXPECT_NE(text.find("route=\"/r0\",method=\"GET\",status=\"0\"} 1"), std::string::npos);
  EXPECT_EQ(MethodLabel("GET"), "GET");
  EXPECT_EQ(MethodLabel("get"), "other");
  EXPECT_EQ(MethodLabel(std::string(100000, 'A')), "other");
}

TEST(HttpLimitsTest, HandlerThatThrowsIs500AndTheServerGoesOn) {
  HttpServer server({}, [](const HttpRequest& r) -> HttpResponse {
    if (r.path == "/runtime") throw std::runtime_error("boom");
    if (r.path == "/bad_alloc") throw std::bad_alloc();
    if (r.path == "/json") {
      json::value v = json::parse(r.body);
      return {200, "application/json", std::string(v.as_object().at("k").as_string())};
    }
    return {200, "application/json", "{}"};
  });
  auto port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  RawHttpClient c(*port);
  for (int i = 0; i < 3; ++i) {
    for (std::string path : {"/runtime", "/bad_alloc"}) {
      auto a = c.Send("GET", path);
      EXPECT_EQ(a.status, 500) << path;
      EXPECT_EQ(json::parse(a.body).at("code").as_string(), "INTERNAL");
    }
    EXPECT_EQ(c.Send("POST", "/json", "[1]").status, 500);        // as_object on an array
    EXPECT_EQ(c.Send("POST", "/json", "{\"k\":1}").status, 500);  // as_string on a number
    EXPECT_EQ(c.Send("POST", "/json", "{\"k\":\"v\"}").status, 200);
    EXPECT_EQ(c.Send("GET", "/ok").status, 200);
  }
}

// A raw TCP connection to 127.0.0.1:`port` (blocking), for tests of connection limits.
class RawSocket {
 public:
  explicit RawSocket(uint16_t port) : socket_(ioc_) {
    boost::system::error_code ec;
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    EXPECT_FALSE(ec) << ec.message();
  }
  void Send(const std::string& bytes) {
    boost::system::error_code ec;
    boost::asio::write(socket_, boost::asio::buffer(bytes), ec);
  }
  // Everything the server sends until it closes, or nullopt when it has not closed
  // within `timeout`.
  std::optional<std::string> ReadUntilClosed(std::chrono::milliseconds timeout) {
    std::string got;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{socket_.native_handle(), POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      char buf[4096];
      ssize_t n = ::recv(socket_.native_handle(), buf, sizeof buf, 0);
      if (n <= 0) return got;
      got.append(buf, static_cast<size_t>(n));
    }
    return std::nullopt;
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
};

bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 500 && !done(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

HttpResponse Ok(const HttpRequest&) { return {200, "application/json", "{}"}; }

TEST(HttpLimitsTest, AtTheLimitTheOldestIdleConnectionMakesRoom) {
  HttpServerOptions o;
  o.max_connections = 2;
  HttpServer server(o, Ok);
  auto port = server.Start();
  ASSERT_TRUE(port.ok());
  RawHttpClient a(*port), b(*port), c(*port);
  ASSERT_EQ(a.Send("GET", "/").status, 200);
  ASSERT_EQ(b.Send("GET", "/").status, 200);
  ASSERT_TRUE(WaitFor([&] { return server.open_connections() == 2; }));
  for (int i = 0; i < 5; ++i) {
    // A third client is served; the oldest idle connection (a's) is closed for it.
    ASSERT_EQ(c.Send("GET", "/healthz").status, 200);
    EXPECT_TRUE(WaitFor([&] { return server.open_connections() <= 2; }));
    EXPECT_EQ(server.open_connections(), 2);
  }
  EXPECT_EQ(a.Send("GET", "/").status, 0);  // closed by the server
  EXPECT_EQ(c.Send("GET", "/").status, 200);
}

TEST(HttpLimitsTest, AtTheLimitWithEveryConnectionBusyNewOnesGet503) {
  HttpServerOptions o;
  o.max_connections = 1;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> entered{false};
  HttpServer server(o, [&](const HttpRequest&) -> HttpResponse {
    entered = true;
    released.wait();
    return {200, "application/json", "{}"};
  });
  auto port = server.Start();
  ASSERT_TRUE(port.ok());
  std::thread busy([&] {
    RawHttpClient a(*port);
    EXPECT_EQ(a.Send("GET", "/slow").status, 200);
  });
  ASSERT_TRUE(WaitFor([&] { return entered.load(); }));
  RawSocket late(*port);
  auto got = late.ReadUntilClosed(std::chrono::seconds(5));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->rfind("HTTP/1.1 503", 0), 0u) << *got;
  EXPECT_NE(got->find("\"code\":\"UNAVAILABLE\""), std::string::npos) << *got;
  release.set_value();
  busy.join();
}

TEST(HttpLimitsTest, IdleConnectionIsClosedAfterTheIdleTimeout) {
  HttpServerOptions o;
  o.idle_timeout_ms = 200;
  HttpServer server(o, Ok);
  auto port = server.Start();
  ASSERT_TRUE(port.ok());
  RawSocket silent(*port);
  auto got = silent.ReadUntilClosed(std::chrono::seconds(5));
  ASSERT_TRUE(got.has_value()) << "still open after 5 s";
  EXPECT_EQ(*got, "");
  EXPECT_TRUE(WaitFor([&] { return server.open_connections() == 0; }));
}

TEST(HttpLimitsTest, RequestTricklingInIsClosedAfterTheRequestTimeout) {
  HttpServerOptions o;
  o.idle_timeout_ms = 60000;
  o.request_timeout_ms = 300;
  HttpServer server(o, Ok);
  auto port = server.Start();
  ASSERT_TRUE(port.ok());
  RawSocket slow(*port);
  slow.Send("GET / HTTP/1.1\r\n");
  auto start = std::chrono::steady_clock::now();
  bool closed = false;
  for (int i = 0; i < 50 && !closed; ++i) {  // a header line every 100 ms, for up to 5 s
    slow.Send("X-Slow-" + std::to_string(i) + ": 1\r\n");
    closed = slow.ReadUntilClosed(std::chrono::milliseconds(100)).has_value();
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(HttpLimitsTest, DefaultConnectionLimitFollowsTheDescriptorLimit) {
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
  auto with_soft = [&](rlim_t soft) {
    rlimit rl = old;
    rl.rlim_cur = std::min(soft, old.rlim_max);
    EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
    int n = DefaultMaxConnections();
    EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
    return n;
  };
  if (old.rlim_max >= 1024) EXPECT_EQ(with_soft(1024), 960);
  EXPECT_EQ(with_soft(128), 64);
  EXPECT_EQ(with_soft(100), 50);
  EXPECT_EQ(with_soft(10), 8);
}

TEST(HttpLimitsTest, LogLimiterLetsOneLineThroughPerInterval) {
  auto t = std::chrono::steady_clock::time_point{};
  LogLimiter limiter(std::chrono::seconds(10), [&t] { return t; });
  EXPECT_EQ(limiter.Allow(), 0u);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(limiter.Allow().has_value());
  t += std::chrono::seconds(9);
  EXPECT_FALSE(limiter.Allow().has_value());
  t += std::chrono::seconds(1);
  EXPECT_EQ(limiter.Allow(), 1001u);
  EXPECT_FALSE(limiter.Allow().has_value());
  t += std::chrono::seconds(60);
  EXPECT_EQ(limiter.Allow(), 1u);
  EXPECT_EQ(SuppressedSuffix(0), "");
  EXPECT_EQ(SuppressedSuffix(3), " (3 similar suppressed)");
}

}  // namespace
}  // namespace fastgpu::server::testing

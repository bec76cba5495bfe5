// The control plane's HTTP surface under hostile input, in process: methods it does not
// serve are refused with 405 and an Allow header, and /metrics stays small however many
// distinct methods and paths clients send (every label from a bounded set).
#include <gtest/gtest.h>

#include <sstream>
#include <stdexcept>

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

// Replica ports, the advertise address and readiness probes, against real sockets on
// 127.0.0.1 (port 0 wherever a listener is needed).
#include "agent/endpoints.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "agent/readiness.h"
#include "agent/testing/tcp_listener.h"
#include "net/testing/test_http_server.h"

namespace fastgpu::agent {
namespace {

using std::chrono::milliseconds;

using testing::ClosedPort;
using Listener = testing::TcpListener;

TEST(PortRangeTest, Parses) {
  auto empty = ParsePortRange("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto r = ParsePortRange("30000-32767");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->first, 30000);
  EXPECT_EQ(r->last, 32767);
  for (const char* bad : {"30000", "0-10", "10-70000", "20-10", "a-b", "10-", "-10", "10-20x"}) {
    auto b = ParsePortRange(bad);
    EXPECT_FALSE(b.ok()) << bad;
    EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(b.status().message().find("port range"), std::string::npos) << b.status();
  }
}

TEST(PickPortTest, TheKernelPicksAFreePortNotHeld) {
  auto port = PickPort("127.0.0.1", {}, {});
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_GT(*port, 0);
  Listener again(*port);  // it is free: it can be bound
  EXPECT_TRUE(again.ok());
  auto other = PickPort("127.0.0.1", {}, {*port});
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_NE(*other, *port);
  EXPECT_EQ(PickPort("not-an-ip", {}, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(PickPortTest, ARangeGivesItsLowestFreePort) {
  int base = 0;
  {
    Listener probe;  // a port that is free once the listener closes
    base = probe.port();
  }
  ASSERT_GT(base, 0);
  ASSERT_LT(base, 65535);
  auto first = PickPort("127.0.0.1", {base, base}, {});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, base);
  // Held by a replica of this agent: skipped, and the range is used up.
  auto none = PickPort("127.0.0.1", {base, base}, {base});
  EXPECT_EQ(none.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(none.status().message().find("no free port in"), std::string::npos);
  // Bound by another process: skipped too.
  Listener busy(base);
  ASSERT_TRUE(busy.ok());
  EXPECT_EQ(PickPort("127.0.0.1", {base, base}, {}).status().code(),
            StatusCode::kResourceExhausted);
  auto next = PickPort("127.0.0.1", {base, base + 1}, {});
  if (next.ok()) EXPECT_EQ(*next, base + 1);  // unless someone else holds base + 1
}

TEST(AdvertiseHostTest, TheLocalAddressTowardTheControlPlane) {
  auto local = LocalAddressToward("http://127.0.0.1:8080");
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_EQ(*local, "127.0.0.1");
  local = LocalAddressToward("https://127.0.0.1/prefix,http://10.9.9.9:1");  // the first
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_EQ(*local, "127.0.0.1");
  EXPECT_EQ(LocalAddressToward("ftp://x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LocalAddressToward("http://:80").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsIpAddress("10.0.0.7"));
  EXPECT_TRUE(IsIpAddress("::1"));
  EXPECT_FALSE(IsIpAddress("gpu-node-1"));
  EXPECT_EQ(JoinHostPort("10.0.0.7", 8000), "10.0.0.7:8000");
  EXPECT_EQ(JoinHostPort("::1", 8000), "[::1]:8000");
}

TEST(ReadinessTest, TcpProbeBothWays) {
  const model::ReadinessProbe tcp{model::ReadinessProbe::Kind::kTcp, ""};
  Listener up;
  ASSERT_TRUE(up.ok());
  EXPECT_TRUE(ProbeOnce("127.0.0.1", up.port(), tcp, milliseconds(1000)).ready);
  ProbeResult down = ProbeOnce("127.0.0.1", ClosedPort(), tcp, milliseconds(1000));
  EXPECT_FALSE(down.ready);
  EXPECT_NE(down.detail.find("refused"), std::string::npos) << down.detail;
  // No probe: ready.
  EXPECT_TRUE(ProbeOnce("127.0.0.1", ClosedPort(), {}, milliseconds(1000)).ready);
}

TEST(ReadinessTest, HttpProbeBothWays) {
  std::atomic<int> status{503};
  std::atomic<bool> slow{false};
  auto server = testing::TestHttpServer::Start([&](const testing::TestRequest& req) {
    testing::TestResponse r =
        testing::Reply(req.target == "/ready?deep=1" ? status.load() : 404, "");
    if (slow) r.delay = milliseconds(2000);
    return r;
  });
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  const model::ReadinessProbe http{model::ReadinessProbe::Kind::kHttp, "/ready?deep=1"};
  ProbeResult r = ProbeOnce("127.0.0.1", port, http, milliseconds(1000));
  EXPECT_FALSE(r.ready);
  EXPECT_EQ(r.detail, "HTTP 503");
  status = 200;
  EXPECT_TRUE(ProbeOnce("127.0.0.1", port, http, milliseconds(1000)).ready);
  status = 302;  // a redirect counts as ready
  EXPECT_TRUE(ProbeOnce("127.0.0.1", port, http, milliseconds(1000)).ready);
  EXPECT_FALSE(ProbeOnce("127.0.0.1", port, {model::ReadinessProbe::Kind::kHttp, "/other"},
                         milliseconds(1000))
                   .ready);  // 404
  // A server that does not answer in time: not ready, and the probe comes back.
  slow = true;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(ProbeOnce("127.0.0.1", port, http, milliseconds(300)).ready);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1900));
  slow = false;
  EXPECT_FALSE(ProbeOnce("127.0.0.1", ClosedPort(), http, milliseconds(1000)).ready);
}

TEST(ReadinessTest, TheProberFollowsItsTargets) {
  ReadinessProber prober(milliseconds(20), milliseconds(500));
  auto listener = std::make_unique<Listener>();
  ASSERT_TRUE(listener->ok());
  const int port = listener->port();
  const model::ReadinessProbe tcp{model::ReadinessProbe::Kind::kTcp, ""};
  auto wait_for = [&](bool want) {
    for (int i = 0; i < 250; ++i) {
      if (prober.Ready("alloc-1") == want) return true;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return false;
  };
  EXPECT_FALSE(prober.Ready("alloc-1"));  // not a target
  prober.SetTargets({{"alloc-1", "127.0.0.1", port, tcp}});
  EXPECT_TRUE(wait_for(true));
  listener.reset();  // the replica stops listening
  EXPECT_TRUE(wait_for(false));
  Listener back(port);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(wait_for(true));
  prober.SetTargets({});  // no longer watched: no verdict
  EXPECT_FALSE(prober.Ready("alloc-1"));
  prober.Stop();
  prober.Stop();  // idempotent
}

}  // namespace
}  // namespace fastgpu::agent

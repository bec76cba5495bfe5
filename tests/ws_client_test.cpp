// The sessions' WebSocket client (net/ws_client.h) against the control plane's own HTTP
// server (server::HttpServer with a WebSocket echo route), on 127.0.0.1 port 0 only:
//   - wss: a client with the server's CA, or pinning it, connects and echoes; one without
//     it, with another CA, with another pin, or for a host name the certificate does not
//     cover is refused during the handshake with a message that says why (before the
//     upgrade request and its token leave);
//   - several addresses (control-plane replicas, docs/ha.md): a closed port and a replica
//     answering 503 (a follower: sessions are served by the leader) are skipped, and the
//     client connects to the next; any other refusal is returned at once.
#include "net/ws_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/testing/temp_dir.h"
#include "server/http_server.h"
#include "server/tls_certs.h"

namespace fastgpu {
namespace {

using namespace std::chrono_literals;
using fastgpu::testing::TempDir;

// An HttpServer whose /ws echoes every message (and answers with a header), /follower
// answers 503, /missing 404.
struct EchoServer {
  std::unique_ptr<server::HttpServer> http;
  uint16_t port = 0;
  std::string url(const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(port);
  }
};

Result<EchoServer> StartEcho(const server::TlsFiles* tls, int status_for_ws = 0) {
  server::HttpServerOptions o;
  if (tls != nullptr) {
    o.tls_cert_file = tls->cert_file;
    o.tls_key_file = tls->key_file;
  }
  o.worker_threads = 2;
  EchoServer s;
  s.http = std::make_unique<server::HttpServer>(o, [status_for_ws](const server::HttpRequest& r) {
    server::HttpResponse res;
    if (r.path == "/ws" && status_for_ws == 0) {
      if (r.Header("authorization") != "Bearer secret") {
        res.status = 401;
        res.body = R"({"code":"UNAUTHENTICATED","message":"no token"})";
        return res;
      }
      res.websocket = [](std::shared_ptr<server::WebSocketConn> conn) {
        std::weak_ptr<server::WebSocketConn> weak = conn;
        conn->Start(
            [weak](std::string m) {
              if (auto c = weak.lock()) c->Send("echo:" + m);
            },
            [] {});
      };
      return res;
    }
    res.status = status_for_ws != 0 ? status_for_ws : 404;
    res.body = status_for_ws == 503
                   ? R"({"code":"UNAVAILABLE","message":"this replica does not lead"})"
                   : R"({"code":"NOT_FOUND","message":"no such route"})";
    return res;
  });
  FASTGPU_ASSIGN_OR_RETURN(s.port, s.http->Start());
  return s;
}

net::HttpClientOptions Options() {
  net::HttpClientOptions o;
  o.bearer_token = "secret";
  o.connect_timeout = 5s;
  return o;
}

// Connects, sends "hi" and returns what came back.
Result<std::string> EchoOnce(const std::string& urls, const net::HttpClientOptions& o) {
  FASTGPU_ASSIGN_OR_RETURN(auto ws, net::WsClient::Connect(urls, "/ws", o));
  if (!ws->Send("hi")) return Internal("send failed");
  return ws->Read(5s);
}

class WsTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto files = server::EnsureAutoTls(dir_.path(), {"127.0.0.1", "localhost"});
    ASSERT_TRUE(files.ok()) << files.status();
    files_ = *files;
    auto other = server::EnsureAutoTls(other_.path(), {"127.0.0.1", "localhost"});
    ASSERT_TRUE(other.ok()) << other.status();
    other_files_ = *other;
    auto s = StartEcho(&files_);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(s).value();
  }
  TempDir dir_, other_;
  server::TlsFiles files_, other_files_;
  EchoServer server_;
};

TEST_F(WsTlsTest, WssWithTheCaOrItsPinEchoes) {
  net::HttpClientOptions o = Options();
  o.ca_file = files_.ca_file;
  auto got = EchoOnce(server_.url("https"), o);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "echo:hi");
  auto by_name = EchoOnce("https://localhost:" + std::to_string(server_.port), o);
  ASSERT_TRUE(by_name.ok()) << by_name.status();

  net::HttpClientOptions pinned = Options();
  pinned.ca_sha256 = "sha256:" + files_.ca_sha256;
  auto via_pin = EchoOnce(server_.url("https"), pinned);
  ASSERT_TRUE(via_pin.ok()) << via_pin.status();
  EXPECT_EQ(*via_pin, "echo:hi");

  // The upgrade answer's headers are readable (the relay's stderr negotiation uses them).
  auto ws = net::WsClient::Connect(server_.url("https"), "/ws", o);
  ASSERT_TRUE(ws.ok()) << ws.status();
  EXPECT_EQ((*ws)->Header("UPGRADE"), "websocket");
  EXPECT_EQ((*ws)->address(), server_.url("https"));
}

TEST_F(WsTlsTest, AnUntrustedServerIsRefusedWithTheReason) {
  auto system_store = EchoOnce(server_.url("https"), Options());
  ASSERT_FALSE(system_store.ok());
  EXPECT_EQ(system_store.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(system_store.status().message().find("certificate is not trusted"), std::string::npos)
      << system_store.status();
  EXPECT_NE(system_store.status().message().find("--ca-cert"), std::string::npos)
      << system_store.status();

  net::HttpClientOptions wrong = Options();
  wrong.ca_file = other_files_.ca_file;
  auto other_ca = EchoOnce(server_.url("https"), wrong);
  ASSERT_FALSE(other_ca.ok());
  EXPECT_NE(other_ca.status().message().find("not trusted"), std::string::npos)
      << other_ca.status();
  EXPECT_NE(other_ca.status().message().find(other_files_.ca_file), std::string::npos)
      << other_ca.status();

  net::HttpClientOptions wrong_pin = Options();
  wrong_pin.ca_sha256 = other_files_.ca_sha256;
  auto pin = EchoOnce(server_.url("https"), wrong_pin);
  ASSERT_FALSE(pin.ok());
  EXPECT_NE(pin.status().message().find("no CA certificate with the pinned hash"),
            std::string::npos)
      << pin.status();

  net::HttpClientOptions malformed = Options();
  malformed.ca_sha256 = "sha256:12";
  auto bad = EchoOnce(server_.url("https"), malformed);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);

  // Plain ws:// to the TLS port gets the server's 400 answer as the reason.
  auto plain = EchoOnce(server_.url("http"), Options());
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.status().message().find("speaks HTTPS"), std::string::npos) << plain.status();
}

TEST(WsTlsHostName, ACertificateForAnotherNameIsRefused) {
  TempDir dir;
  auto files = server::EnsureAutoTls(dir.path(), {"cp.example.com"});
  ASSERT_TRUE(files.ok()) << files.status();
  auto s = StartEcho(&*files);
  ASSERT_TRUE(s.ok()) << s.status();
  net::HttpClientOptions o = Options();
  o.ca_file = files->ca_file;
  auto got = EchoOnce(s->url("https"), o);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("not trusted"), std::string::npos) << got.status();
}

TEST(WsFailover, SkipsAClosedPortAndAFollowerAndStopsAtAnyOtherRefusal) {
  auto follower = StartEcho(nullptr, 503);
  ASSERT_TRUE(follower.ok()) << follower.status();
  auto leader = StartEcho(nullptr);
  ASSERT_TRUE(leader.ok()) << leader.status();
  uint16_t closed_port = 0;
  {
    auto gone = StartEcho(nullptr);
    ASSERT_TRUE(gone.ok()) << gone.status();
    closed_port = gone->port;
    gone->http->Stop();
  }
  const std::string closed = "http://127.0.0.1:" + std::to_string(closed_port);
  const std::string list = closed + "," + follower->url() + "," + leader->url();
  auto ws = net::WsClient::Connect(list, "/ws", Options());
  ASSERT_TRUE(ws.ok()) << ws.status();
  EXPECT_EQ((*ws)->address(), leader->url());
  ASSERT_TRUE((*ws)->Send("x"));
  auto got = (*ws)->Read(5s);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "echo:x");

  // Only followers: the last answer says why.
  auto none = net::WsClient::Connect(follower->url() + "," + closed, "/ws", Options());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kUnavailable);
  auto only_follower = net::WsClient::Connect(follower->url(), "/ws", Options());
  ASSERT_FALSE(only_follower.ok());
  EXPECT_EQ(only_follower.status().message(), "this replica does not lead");

  // A refusal that is not about the address (a wrong token) is not retried elsewhere.
  net::HttpClientOptions bad_token = Options();
  bad_token.bearer_token = "wrong";
  auto refused = net::WsClient::Connect(leader->url() + "," + leader->url(), "/ws", bad_token);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated);
  auto missing = net::WsClient::Connect(leader->url(), "/nothing", Options());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace fastgpu

// TLS for the control plane (docs/security.md), on 127.0.0.1 only:
//   - in process: the HTTPS server with made certificates answers a client that has the
//     CA, and refuses clients without it, with another CA, or whose host name the
//     certificate does not cover; a CA pin accepts the right CA and refuses another;
//     plain HTTP off loopback is refused unless the operator opts in;
//   - the binary: `fastgpu server --tls on` makes its files (keys 0600), prints the CA's
//     fingerprint, pins it in join.token, and reuses everything at restart; an agent with
//     that join token registers, one pinning another CA refuses to connect; `server
//     --listen 0.0.0.0:0 --tls off` is refused; `fastgpu up --tls` runs its local agent and
//     the CLI over HTTPS.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "cli/config.h"
#include "common/join_token.h"
#include "common/testing/child_process.h"
#include "common/testing/temp_dir.h"
#include "net/http_client.h"
#include "server/http_server.h"
#include "server/server.h"
#include "server/tls_certs.h"
#include "tests/test_util.h"

extern char** environ;

namespace fastgpu {
namespace {

using namespace std::chrono_literals;
using fastgpu::testing::FileMode;
using fastgpu::testing::ReadFile;
using fastgpu::testing::TempDir;

// An HTTPS server::HttpServer on 127.0.0.1 port 0 that answers /healthz.
struct HttpsServer {
  std::unique_ptr<server::HttpServer> http;
  uint16_t port = 0;
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port); }
};

Result<HttpsServer> StartHttps(const server::TlsFiles& files) {
  server::HttpServerOptions o;
  o.tls_cert_file = files.cert_file;
  o.tls_key_file = files.key_file;
  o.worker_threads = 2;
  HttpsServer s;
  s.http = std::make_unique<server::HttpServer>(o, [](const server::HttpRequest& r) {
    server::HttpResponse res;
    if (r.path == "/stream") {  // three chunks, as `job logs -f` gets them
      res.content_type = "text/plain";
      res.stream = [](const server::StreamWriter& write) {
        for (const char* piece : {"one\n", "two\n", "three\n"}) {
          if (!write(piece)) return;
        }
      };
      return res;
    }
    res.body = r.path == "/healthz" ? R"({"status":"ok"})" : R"({"path":")" + r.path + "\"}";
    return res;
  });
  FASTGPU_ASSIGN_OR_RETURN(s.port, s.http->Start());
  return s;
}

Result<net::HttpResponse> GetHealthz(const std::string& url, net::HttpClientOptions options) {
  options.connect_timeout = 5s;
  options.read_timeout = 5s;
  FASTGPU_ASSIGN_OR_RETURN(auto client, net::HttpClient::Create(url, options));
  return client->Get("/healthz");
}

class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto files = server::EnsureAutoTls(dir_.path(), {"127.0.0.1", "localhost"});
    ASSERT_TRUE(files.ok()) << files.status();
    files_ = *files;
    auto other = server::EnsureAutoTls(other_.path(), {"127.0.0.1", "localhost"});
    ASSERT_TRUE(other.ok()) << other.status();
    other_files_ = *other;
    auto s = StartHttps(files_);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(s).value();
  }
  TempDir dir_, other_;
  server::TlsFiles files_, other_files_;
  HttpsServer server_;
};

TEST_F(TlsServerTest, AnswersHealthzOverHttpsToAClientWithTheCa) {
  net::HttpClientOptions o;
  o.ca_file = files_.ca_file;
  auto client = net::HttpClient::Create(server_.url(), o);
  ASSERT_TRUE(client.ok()) << client.status();
  for (int i = 0; i < 3; ++i) {
    auto res = (*client)->Get("/healthz");
    ASSERT_TRUE(res.ok()) << res.status();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, R"({"status":"ok"})");
  }
  EXPECT_EQ((*client)->connections_opened(), 1);  // keep-alive works under TLS
  auto by_name = GetHealthz("https://localhost:" + std::to_string(server_.port), o);
  ASSERT_TRUE(by_name.ok()) << by_name.status();
}

TEST_F(TlsServerTest, StreamsAChunkedAnswerOverHttps) {
  net::HttpClientOptions o;
  o.ca_file = files_.ca_file;
  auto client = net::HttpClient::Create(server_.url(), o);
  ASSERT_TRUE(client.ok()) << client.status();
  for (int i = 0; i < 2; ++i) {  // and the connection serves the next one
    std::string got;
    auto res = (*client)->GetStream("/stream", [&got](std::string_view piece) {
      got.append(piece);
      return true;
    });
    ASSERT_TRUE(res.ok()) << res.status();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(got, "one\ntwo\nthree\n");
  }
  auto after = (*client)->Get("/healthz");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->body, R"({"status":"ok"})");
}

TEST_F(TlsServerTest, RefusesClientsWithoutTheCaOrWithAnotherCa) {
  auto system_store = GetHealthz(server_.url(), {});
  ASSERT_FALSE(system_store.ok());
  EXPECT_EQ(system_store.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(system_store.status().message().find("not trusted"), std::string::npos)
      << system_store.status();
  net::HttpClientOptions wrong;
  wrong.ca_file = other_files_.ca_file;
  auto other_ca = GetHealthz(server_.url(), wrong);
  ASSERT_FALSE(other_ca.ok());
  EXPECT_NE(other_ca.status().message().find("not trusted"), std::string::npos)
      << other_ca.status();
  EXPECT_NE(other_ca.status().message().find(other_files_.ca_file), std::string::npos);
  // Plain HTTP to the HTTPS port is told so (and never reaches the handler).
  auto plain = GetHealthz("http://127.0.0.1:" + std::to_string(server_.port), {});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->status, 400);
  EXPECT_EQ(net::ApiStatus(*plain).message(), "this server speaks HTTPS: use an https:// URL");
  // The server still serves a good client after those.
  net::HttpClientOptions good;
  good.ca_file = files_.ca_file;
  EXPECT_TRUE(GetHealthz(server_.url(), good).ok());
}

TEST_F(TlsServerTest, APinAcceptsTheRightCaAndRefusesAnother) {
  net::HttpClientOptions pinned;
  pinned.ca_sha256 = "sha256:" + files_.ca_sha256;
  auto ok = GetHealthz(server_.url(), pinned);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->status, 200);

  net::HttpClientOptions wrong;
  wrong.ca_sha256 = other_files_.ca_sha256;
  auto refused = GetHealthz(server_.url(), wrong);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  const std::string& m = refused.status().message();
  EXPECT_NE(m.find("no CA certificate with the pinned hash sha256:" + other_files_.ca_sha256),
            std::string::npos)
      << m;
  EXPECT_NE(m.find(files_.ca_sha256), std::string::npos) << m;  // names what it did see
  // A pin wins over a CA file that would have been trusted.
  wrong.ca_file = files_.ca_file;
  EXPECT_FALSE(GetHealthz(server_.url(), wrong).ok());

  net::HttpClientOptions malformed;
  malformed.ca_sha256 = "sha256:1234";
  auto bad = net::HttpClient::Create(server_.url(), malformed);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(TlsHostName, ACertificateForAnotherNameIsRefusedWithTheCaAndWithAPin) {
  TempDir dir;
  auto files = server::EnsureAutoTls(dir.path(), {"cp.example.com"});
  ASSERT_TRUE(files.ok()) << files.status();
  auto s = StartHttps(*files);
  ASSERT_TRUE(s.ok()) << s.status();
  net::HttpClientOptions with_ca;
  with_ca.ca_file = files->ca_file;
  auto by_ca = GetHealthz(s->url(), with_ca);
  ASSERT_FALSE(by_ca.ok());
  EXPECT_NE(by_ca.status().message().find("mismatch"), std::string::npos) << by_ca.status();
  net::HttpClientOptions with_pin;
  with_pin.ca_sha256 = files->ca_sha256;
  auto by_pin = GetHealthz(s->url(), with_pin);
  ASSERT_FALSE(by_pin.ok());
  EXPECT_NE(by_pin.status().message().find("mismatch"), std::string::npos) << by_pin.status();
}

TEST(TlsServerFiles, AKeyOfAnotherCertificateIsRefusedAtStart) {
  TempDir a, b;
  auto fa = server::EnsureAutoTls(a.path(), {"127.0.0.1"});
  auto fb = server::EnsureAutoTls(b.path(), {"127.0.0.1"});
  ASSERT_TRUE(fa.ok() && fb.ok());
  server::HttpServerOptions o;
  o.tls_cert_file = fa->cert_file;
  o.tls_key_file = fb->key_file;
  server::HttpServer http(o, [](const server::HttpRequest&) { return server::HttpResponse{}; });
  auto port = http.Start();
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(port.status().message().find(fb->key_file), std::string::npos) << port.status();
}

TEST(PlainHttpPolicy, RefusedOffLoopbackUnlessTheOperatorSaysSo) {
  server::ServerOptions o;
  o.listen = "0.0.0.0:8080";
  Status refused = server::CheckPlainHttpAllowed(o);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("--insecure-http"), std::string::npos);
  o.listen = "10.0.0.5:8080";
  EXPECT_FALSE(server::CheckPlainHttpAllowed(o).ok());
  o.insecure_http = true;
  EXPECT_TRUE(server::CheckPlainHttpAllowed(o).ok());
  o.insecure_http = false;
  o.tls_cert_file = "server.crt";
  o.tls_key_file = "server.key";
  EXPECT_TRUE(server::CheckPlainHttpAllowed(o).ok());
  server::ServerOptions loopback;
  for (const char* listen : {"127.0.0.1:0", "[::1]:0", "localhost:0"}) {
    loopback.listen = listen;
    EXPECT_TRUE(server::CheckPlainHttpAllowed(loopback).ok()) << listen;
  }
}

// ---- the binary ----

// A `fastgpu` child process with its output in a file (a ChildProcess: stopped with
// SIGTERM, then SIGKILL after 10 s).
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::string& log_path) : log_(log_path) {
    std::vector<std::string> all = {FASTGPU_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    testing::ChildOptions options;
    options.log_path = log_;
    options.truncate_log = true;
    child_ = testing::ChildProcess(std::move(all), options);
  }
  // Waits up to `timeout` for `pattern` in the output; its first group, or "" on timeout.
  std::string WaitFor(const std::string& pattern, std::chrono::seconds timeout) {
    std::regex re(pattern);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::smatch m;
      std::string out = output();
      if (std::regex_search(out, m, re)) return m.size() > 1 ? m[1].str() : m[0].str();
      if (!Alive()) return "";
      std::this_thread::sleep_for(50ms);
    }
    return "";
  }
  bool Alive() { return child_.Alive(); }
  void Stop(int sig = SIGTERM) { child_.Stop({sig}); }
  std::string output() const { return ReadFile(log_); }

 private:
  std::string log_;
  testing::ChildProcess child_;
};

// The nodes the control plane at `url` knows, through the admin API over HTTPS.
int CountNodes(const std::string& url, const std::string& ca_file, const std::string& token) {
  net::HttpClientOptions o;
  o.ca_file = ca_file;
  o.bearer_token = token;
  auto client = net::HttpClient::Create(url, o);
  if (!client.ok()) return -1;
  auto res = (*client)->Get("/v1/nodes");
  if (!res.ok() || !res->ok()) return -1;
  boost::system::error_code ec;
  auto v = boost::json::parse(res->body, ec);
  if (ec) return -1;
  const boost::json::array* items = v.is_array() ? &v.as_array() : nullptr;
  if (items == nullptr && v.is_object()) {
    for (const char* key : {"nodes", "items"}) {
      if (auto* a = v.as_object().if_contains(key); a != nullptr && a->is_array()) {
        items = &a->as_array();
      }
    }
  }
  return items == nullptr ? -1 : static_cast<int>(items->size());
}

// True when the first certificate in `pem_file` names `host`.
bool CoversName(const std::string& pem_file, const std::string& host) {
  FILE* f = std::fopen(pem_file.c_str(), "r");
  if (f == nullptr) return false;
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (cert == nullptr) return false;
  bool ok = X509_check_host(cert, host.c_str(), host.size(), 0, nullptr) == 1;
  X509_free(cert);
  return ok;
}

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

TEST(TlsBinary, ServerMakesReusesAndPinsItsCaAndAgentsCheckThePin) {
  TempDir dir;
  const std::string data = dir.path() + "/cp";
  const std::string listening = R"(listening on https://127.0.0.1:(\d+))";
  const std::string fingerprint = R"(TLS CA fingerprint: SHA256:([0-9A-F:]+))";
  std::string port, printed;
  {
    Child server({"server", "--listen", "127.0.0.1:0", "--tls", "on", "--data-dir", data,
                  "--heartbeat-interval", "0.5"},
                 dir.path() + "/server1.log");
    port = server.WaitFor(listening, 30s);
    ASSERT_FALSE(port.empty()) << server.output();
    printed = server.WaitFor(fingerprint, 5s);
    ASSERT_FALSE(printed.empty()) << server.output();
    EXPECT_NE(server.output().find("(made now)"), std::string::npos) << server.output();
    EXPECT_EQ(FileMode(data + "/ca.key"), 0600);
    EXPECT_EQ(FileMode(data + "/server.key"), 0600);
    EXPECT_EQ(FileMode(data + "/join.token"), 0600);
    auto ca_hash = server::CertificateFileSha256(data + "/ca.crt");
    ASSERT_TRUE(ca_hash.ok()) << ca_hash.status();
    EXPECT_EQ(printed, server::ColonFingerprint(*ca_hash));
    auto join = ParseJoinToken(FirstLine(data + "/join.token"));
    ASSERT_TRUE(join.ok()) << join.status();
    EXPECT_EQ(join->ca_sha256, *ca_hash);

    const std::string url = "https://127.0.0.1:" + port;
    net::HttpClientOptions with_ca;
    with_ca.ca_file = data + "/ca.crt";
    auto health = GetHealthz(url, with_ca);
    ASSERT_TRUE(health.ok()) << health.status();
    EXPECT_EQ(health->status, 200);
    EXPECT_FALSE(GetHealthz(url, {}).ok());

    // An agent with the join token as written pins the right CA and registers.
    Child good({"agent", "--server", url, "--join-token", FirstLine(data + "/join.token"),
                "--simulate-gpus", "1xH100-80GB", "--data-dir", dir.path() + "/agent1",
                "--cgroup-root", "", "--name", "good"},
               dir.path() + "/agent1.log");
    EXPECT_FALSE(good.WaitFor("registered as node", 20s).empty()) << good.output();
    // One pinning another CA refuses the server, says why, and never registers.
    TempDir other;
    auto other_files = server::EnsureAutoTls(other.path(), {"127.0.0.1"});
    ASSERT_TRUE(other_files.ok());
    Child bad(
        {"agent", "--server", url, "--join-token",
         FormatJoinToken({join->secret, other_files->ca_sha256}), "--simulate-gpus", "1xH100-80GB",
         "--data-dir", dir.path() + "/agent2", "--cgroup-root", "", "--name", "bad"},
        dir.path() + "/agent2.log");
    EXPECT_FALSE(bad.WaitFor("no CA certificate with the pinned hash", 15s).empty())
        << bad.output();
    EXPECT_EQ(bad.output().find("registered as node"), std::string::npos) << bad.output();
    EXPECT_EQ(bad.output().find(join->secret), std::string::npos);  // never logged
    EXPECT_EQ(good.output().find(join->secret), std::string::npos);
    EXPECT_EQ(CountNodes(url, data + "/ca.crt", FirstLine(data + "/admin.token")), 1);

    // A join token without a pin: the agent verifies against --ca-cert, and without it
    // against the system store, which does not know this CA.
    Child by_file({"agent", "--server", url, "--join-token", join->secret, "--ca-cert",
                   data + "/ca.crt", "--simulate-gpus", "1xH100-80GB", "--data-dir",
                   dir.path() + "/agent4", "--cgroup-root", "", "--name", "by-file"},
                  dir.path() + "/agent4.log");
    EXPECT_FALSE(by_file.WaitFor("registered as node", 20s).empty()) << by_file.output();
    Child no_ca(
        {"agent", "--server", url, "--join-token", join->secret, "--simulate-gpus", "1xH100-80GB",
         "--data-dir", dir.path() + "/agent5", "--cgroup-root", "", "--name", "no-ca"},
        dir.path() + "/agent5.log");
    EXPECT_FALSE(no_ca.WaitFor("not trusted: .*certificate", 15s).empty()) << no_ca.output();
    EXPECT_EQ(no_ca.output().find("registered as node"), std::string::npos) << no_ca.output();
    EXPECT_EQ(CountNodes(url, data + "/ca.crt", FirstLine(data + "/admin.token")), 2);
    no_ca.Stop();
    by_file.Stop();
    // A pinning join token with an http:// URL is refused before anything is sent.
    auto plain = testing::RunFastgpu("agent --server http://127.0.0.1:" + port + " --join-token " +
                                     FirstLine(data + "/join.token") +
                                     " --simulate-gpus 1xH100-80GB --cgroup-root '' --data-dir " +
                                     dir.path() + "/agent3");
    EXPECT_EQ(plain.exit_code, 2) << plain.output;
    EXPECT_NE(plain.output.find("must be https://"), std::string::npos) << plain.output;
    EXPECT_EQ(plain.output.find(join->secret), std::string::npos) << plain.output;
    bad.Stop();
    good.Stop();
    server.Stop();
    EXPECT_EQ(server.output().find(join->secret), std::string::npos);
  }
  // Restart: the same CA, certificate, keys and join token.
  const std::string ca = ReadFile(data + "/ca.crt"), crt = ReadFile(data + "/server.crt");
  const std::string key = ReadFile(data + "/server.key"), join = ReadFile(data + "/join.token");
  Child again({"server", "--listen", "127.0.0.1:0", "--tls", "on", "--data-dir", data},
              dir.path() + "/server2.log");
  ASSERT_FALSE(again.WaitFor(listening, 30s).empty()) << again.output();
  EXPECT_EQ(again.WaitFor(fingerprint, 5s), printed);
  EXPECT_EQ(again.output().find("(made now)"), std::string::npos) << again.output();
  EXPECT_EQ(ReadFile(data + "/ca.crt"), ca);
  EXPECT_EQ(ReadFile(data + "/server.crt"), crt);
  EXPECT_EQ(ReadFile(data + "/server.key"), key);
  EXPECT_EQ(ReadFile(data + "/join.token"), join);
  EXPECT_EQ(FileMode(data + "/server.key"), 0600);
  again.Stop();

  // A new name for the certificate: a new server certificate from the same CA.
  Child renamed({"server", "--listen", "127.0.0.1:0", "--tls", "on", "--data-dir", data,
                 "--tls-san", "cp.fastgpu.test"},
                dir.path() + "/server3.log");
  ASSERT_FALSE(renamed.WaitFor(listening, 30s).empty()) << renamed.output();
  EXPECT_EQ(renamed.WaitFor(fingerprint, 5s), printed);
  EXPECT_EQ(ReadFile(data + "/ca.crt"), ca);
  EXPECT_NE(ReadFile(data + "/server.crt"), crt);
  EXPECT_EQ(ReadFile(data + "/join.token"), join);
  EXPECT_NE(ReadFile(data + "/server.crt").find(ca), std::string::npos);  // the chain ends in it
  EXPECT_TRUE(CoversName(data + "/server.crt", "cp.fastgpu.test"));
  EXPECT_FALSE(CoversName(data + "/server.crt", "other.fastgpu.test"));
}

TEST(TlsBinary, ServerWithTheOperatorsOwnCertificate) {
  TempDir own, dir;
  auto files = server::EnsureAutoTls(own.path(), {"127.0.0.1"});  // "the operator's"
  ASSERT_TRUE(files.ok()) << files.status();
  const std::string data = dir.path() + "/cp";
  Child server({"server", "--listen", "127.0.0.1:0", "--tls-cert", files->cert_file, "--tls-key",
                files->key_file, "--data-dir", data},
               dir.path() + "/server.log");
  std::string port = server.WaitFor(R"(listening on https://127.0.0.1:(\d+))", 30s);
  ASSERT_FALSE(port.empty()) << server.output();
  EXPECT_EQ(server.WaitFor(R"(TLS CA fingerprint: SHA256:([0-9A-F:]+))", 5s),
            server::ColonFingerprint(files->ca_sha256));
  auto join = ParseJoinToken(FirstLine(data + "/join.token"));
  ASSERT_TRUE(join.ok()) << join.status();
  EXPECT_EQ(join->ca_sha256, files->ca_sha256);
  EXPECT_FALSE(std::filesystem::exists(data + "/ca.key"));  // nothing made
  net::HttpClientOptions with_ca;
  with_ca.ca_file = files->ca_file;
  auto health = GetHealthz("https://127.0.0.1:" + port, with_ca);
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status, 200);

  TempDir other;
  auto other_files = server::EnsureAutoTls(other.path(), {"127.0.0.1"});
  ASSERT_TRUE(other_files.ok());
  auto mismatch = testing::RunFastgpu("server --listen 127.0.0.1:0 --tls-cert " + files->cert_file +
                                      " --tls-key " + other_files->key_file + " --data-dir " +
                                      dir.path() + "/cp2");
  EXPECT_EQ(mismatch.exit_code, 1) << mismatch.output;
  EXPECT_NE(mismatch.output.find("is not the key of"), std::string::npos) << mismatch.output;
}

TEST(ClientConfigTls, CaCertComesFromTheFlagTheEnvironmentOrTheFile) {
  TempDir dir;
  const std::string path = dir.path() + "/config.json";
  ::unsetenv("FASTGPU_CA_CERT");
  ::unsetenv("FASTGPU_SERVER");
  ::unsetenv("FASTGPU_TOKEN");
  cli::ClientConfig saved{"https://cp.example.com:8443", "tok", "relative/ca.crt"};
  ASSERT_TRUE(cli::SaveConfig(path, saved).ok());
  EXPECT_EQ(FileMode(path), 0600);
  auto loaded = cli::LoadConfig(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  // Saved as an absolute path, so that it works from any directory.
  EXPECT_EQ(loaded->ca_cert,
            (std::filesystem::current_path() / "relative/ca.crt").lexically_normal().string());
  auto from_file = cli::ResolveConfig("", "", path);
  ASSERT_TRUE(from_file.ok());
  EXPECT_EQ(from_file->ca_cert, loaded->ca_cert);
  ::setenv("FASTGPU_CA_CERT", "/env/ca.crt", 1);
  EXPECT_EQ(cli::ResolveConfig("", "", path)->ca_cert, "/env/ca.crt");
  EXPECT_EQ(cli::ResolveConfig("", "", path, "/flag/ca.crt")->ca_cert, "/flag/ca.crt");
  ::unsetenv("FASTGPU_CA_CERT");
  // A config without the entry (written before TLS support) still loads.
  std::ofstream(path) << R"({"server": "http://127.0.0.1:8080", "token": "t"})";
  auto old = cli::ResolveConfig("", "", path);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->ca_cert, "");
}

TEST(TlsBinary, PlainHttpOnAWildcardAddressIsRefused) {
  TempDir dir;
  const std::string data = dir.path() + "/cp";
  auto r = testing::RunFastgpu("server --listen 0.0.0.0:0 --tls off --data-dir " + data);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("refusing plain HTTP on 0.0.0.0:0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--insecure-http"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(data));  // refused before anything was made
  auto up = testing::RunFastgpu("up --listen 0.0.0.0:0 --tls off --data-dir " + data);
  EXPECT_EQ(up.exit_code, 1) << up.output;
  EXPECT_NE(up.output.find("--insecure-http"), std::string::npos) << up.output;
}

TEST(TlsBinary, UpWithTlsRunsItsAgentAndTheCliOverHttps) {
  TempDir dir;
  const std::string data = dir.path() + "/up";
  Child up({"up", "--listen", "127.0.0.1:0", "--tls", "--data-dir", data, "--simulate-gpus",
            "1xH100-80GB", "--heartbeat-interval", "0.5"},
           dir.path() + "/up.log");
  std::string port = up.WaitFor(R"(listening on https://127.0.0.1:(\d+))", 30s);
  ASSERT_FALSE(port.empty()) << up.output();
  const std::string url = "https://127.0.0.1:" + port;
  EXPECT_FALSE(up.WaitFor("FASTGPU_SERVER=" + url + " FASTGPU_CA_CERT=", 5s).empty())
      << up.output();
  EXPECT_FALSE(up.WaitFor("registered as node", 20s).empty()) << up.output();
  const std::string token = FirstLine(data + "/admin.token");
  const std::string ca = data + "/ca.crt";
  auto list = testing::RunFastgpu("node list -o json --server " + url + " --ca-cert " + ca +
                                  " --token " + token);
  EXPECT_EQ(list.exit_code, 0) << list.output;
  EXPECT_NE(list.output.find("H100-80GB"), std::string::npos) << list.output;
  // A job's log followed over HTTPS (chunked) to its end.
  const std::string flags = " --server " + url + " --ca-cert " + ca + " --token " + token;
  auto submit = testing::RunFastgpu("job submit --gpu 0.5 --name hello-tls" + flags +
                                    " -- echo hello over tls");
  ASSERT_EQ(submit.exit_code, 0) << submit.output;
  auto logs = testing::RunFastgpu("job logs hello-tls -f" + flags);
  EXPECT_EQ(logs.exit_code, 0) << logs.output;
  EXPECT_NE(logs.output.find("hello over tls"), std::string::npos) << logs.output;
  auto no_ca = testing::RunFastgpu("node list --server " + url + " --token " + token);
  EXPECT_EQ(no_ca.exit_code, 1) << no_ca.output;
  EXPECT_NE(no_ca.output.find("not trusted"), std::string::npos) << no_ca.output;
  EXPECT_EQ(no_ca.output.find(token), std::string::npos) << no_ca.output;
  up.Stop();
  EXPECT_EQ(up.output().find(token), std::string::npos);
}

}  // namespace
}  // namespace fastgpu

// The service proxy and autoscaler end to end with the real binary: `fastgpu up` with two
// simulated H100s, services of a small Python HTTP server, requests through
// /v1/services/NAME/proxy/... with net::HttpClient. A service with --min 0 goes to zero
// when idle and the next request is held while a replica starts, then answered (its
// cold-start time printed); requests are forwarded as sent, without the tenant's token,
// round-robin over ready replicas; a burst of requests scales a service up and silence
// back down; a replica's reported GPU utilisation scales a service by utilisation.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <set>
#include <string>

#include "net/http_client.h"
#include "tests/json_output.h"
#include "tests/service_up.h"

namespace fastgpu::testing {
namespace {

namespace json = boost::json;
using std::chrono::seconds;

// Answers every method with what it got and which replica (its port) answered.
// Its first line is a comment naming the test process, so that its replicas are found.
constexpr char kServer[] = R"py(import http.server, os
port = int(os.environ["PORT"])
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        out = ("port=%d method=%s path=%s auth=%s body=%s" % (port, self.command, self.path,
               self.headers.get("Authorization", "-"), body)).encode()
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("X-Replica", str(port))
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = answer
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
)py";

struct ProxyUp : Up {
  std::string script;

  std::string marker = "fastgpu-proxy-test-" + std::to_string(getpid());

  ProxyUp() : Up({"--service-cold-start-timeout", "90"}) {
    script = dir.path() + "/serve.py";
    std::ofstream(script) << "# " << marker << "\n" << kServer;
  }
  // Deletes the service and waits until none of this test's replicas runs any more (the
  // agent stops them at its next heartbeat; `fastgpu up` leaves running replicas to a
  // later start to re-adopt).
  void DeleteAndWait(const std::string& name) {
    EXPECT_EQ(Cli("service delete " + name).exit_code, 0);
    // "[f]astgpu-..." matches the replicas but not the shell that runs pgrep.
    const std::string pattern = "[f]" + marker.substr(1);
    EXPECT_TRUE(WaitFor([&] { return RunShell("pgrep -f '" + pattern + "' || true").out.empty(); }))
        << "replicas of " << name << " still run";
  }
  // `fastgpu service create NAME FLAGS -- python3 -c <the server>`.
  CommandResult CreateServer(const std::string& name, const std::string& flags) {
    return Cli("service create " + name + " --gpu 0.25 --port --ready-http /healthz " + flags +
               " -- python3 -c \"$(cat " + script + ")\"");
  }
  std::unique_ptr<net::HttpClient> Client(const std::string& token) {
    net::HttpClientOptions o;
    o.bearer_token = token;
    o.read_timeout = std::chrono::milliseconds(120000);
    auto c = net::HttpClient::Create(up->url(), o);
    return c.ok() ? std::move(*c) : nullptr;
  }
  int Wanted(const std::string& name) {
    json::value v = Get(name);
    return v.is_object() ? static_cast<int>(v.at("replicas").as_int64()) : -1;
  }
  int Ready(const std::string& name) {
    json::value v = Get(name);
    if (!v.is_object()) return -1;
    int n = 0;
    for (const json::value& r : v.at("replica_status").as_array()) n += r.at("ready") == true;
    return n;
  }
};

TEST(ServiceProxyE2eTest, ScalesFromZeroOnARequestAndForwardsItAsSent) {
  ProxyUp s;
  ASSERT_TRUE(s.up->ok()) << s.up->output();
  CommandResult created = s.CreateServer("echo", "--min 0 --max 2 --idle-timeout 3");
  ASSERT_EQ(created.exit_code, 0) << created.output;
  // No request within 3 s of its creation: down to zero replicas.
  ASSERT_TRUE(WaitFor([&] {
    json::value v = s.Get("echo");
    return v.is_object() && v.at("state") == "idle" && v.at("replica_jobs").as_array().empty();
  }, seconds(60))) << json::serialize(s.Get("echo")) << s.up->output();

  auto admin = s.Client(s.admin_token);
  ASSERT_NE(admin, nullptr);
  const auto start = std::chrono::steady_clock::now();
  auto cold = admin->Do("POST", "/v1/services/echo/proxy/hello/world?x=1&y=%2F", "ping",
                        {{"Content-Type", "text/plain"}});
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(cold.ok()) << cold.status().ToString();
  EXPECT_EQ(cold->status, 201) << cold->body;
  EXPECT_NE(cold->body.find("method=POST path=/hello/world?x=1&y=%2F auth=- body=ping"),
            std::string::npos)
      << cold->body;
  EXPECT_EQ(cold->Header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_FALSE(cold->Header("X-Replica").empty());
  const std::string held = cold->Header("Fastgpu-Cold-Start-Ms");
  ASSERT_FALSE(held.empty()) << "the request found a ready replica: no cold start";
  std::cout << "cold start through fastgpu up: the request waited " << held
            << " ms for a replica (" << took << " s end to end)\n";
  RecordProperty("cold_start_ms", held);

  // Warm now: answered at once, and the service is running with one replica.
  auto warm = admin->Get("/v1/services/echo/proxy/");
  ASSERT_TRUE(warm.ok());
  EXPECT_EQ(warm->status, 200);
  EXPECT_TRUE(warm->Header("Fastgpu-Cold-Start-Ms").empty());
  EXPECT_NE(warm->body.find("method=GET path=/ auth=-"), std::string::npos) << warm->body;
  EXPECT_EQ(s.Wanted("echo"), 1);

  // Who may call it: no token 401; another tenant's 404 (it is not theirs); an unknown
  // service 404; a service without a port refused with the reason.
  auto anon = s.Client("");
  ASSERT_TRUE(anon->Get("/v1/services/echo/proxy/").ok());
  EXPECT_EQ(anon->Get("/v1/services/echo/proxy/")->status, 401);
  ASSERT_EQ(s.Cli("tenant create other").exit_code, 0);
  CommandResult tok = s.Cli("token create --tenant other --name t -o json");
  ASSERT_EQ(tok.exit_code, 0) << tok.output;
  auto other = s.Client(std::string(JsonOutput(tok).at("token").as_string()));
  EXPECT_EQ(other->Get("/v1/services/echo/proxy/")->status, 404);
  EXPECT_EQ(admin->Get("/v1/services/nope/proxy/x")->status, 404);
  ASSERT_EQ(s.Cli("service create portless --gpu 0.1 -- sleep 600").exit_code, 0);
  auto portless = admin->Get("/v1/services/portless/proxy/");
  EXPECT_GE(portless->status, 400);
  EXPECT_NE(portless->body.find("has no port"), std::string::npos) << portless->body;
  EXPECT_EQ(s.Cli("service delete portless").exit_code, 0);

  // The cold start is in /metrics; with no request for 3 s the service is idle again.
  auto metrics = admin->Get("/metrics");
  EXPECT_NE(metrics->body.find("fastgpu_service_cold_start_seconds_count 1"), std::string::npos);
  EXPECT_TRUE(WaitFor([&] { return s.Wanted("echo") == 0; }, seconds(30)))
      << json::serialize(s.Get("echo"));
  s.DeleteAndWait("echo");
}

TEST(ServiceProxyE2eTest, ScalesUpOnRequestsAndBackDownWhenTheyStop) {
  ProxyUp s;
  ASSERT_TRUE(s.up->ok()) << s.up->output();
  ASSERT_EQ(s.CreateServer("load", "--min 1 --max 3 --target-rps 1 --scale-down-delay 5")
                .exit_code,
            0);
  ASSERT_TRUE(WaitFor([&] { return s.Ready("load") == 1; }, seconds(60)))
      << json::serialize(s.Get("load"));
  auto admin = s.Client(s.admin_token);
  // 120 requests within a few seconds: 4 per second over the 30 s window, 1 per replica
  // wanted: up to the maximum, 3.
  for (int i = 0; i < 120; ++i) {
    auto r = admin->Get("/v1/services/load/proxy/req");
    ASSERT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
  }
  ASSERT_TRUE(WaitFor([&] { return s.Ready("load") == 3; }, seconds(60)))
      << json::serialize(s.Get("load"));
  json::value v = s.Get("load");
  ASSERT_TRUE(v.as_object().contains("autoscaler")) << json::serialize(v);
  EXPECT_NE(std::string(v.at("autoscaler").at("reason").as_string()).find("rps"),
            std::string::npos);
  // Round robin over the ready replicas.
  std::set<std::string> replicas;
  for (int i = 0; i < 9; ++i) replicas.insert(admin->Get("/v1/services/load/proxy/")->Header("X-Replica"));
  EXPECT_EQ(replicas.size(), 3u);
  CommandResult got = s.Cli("service get load");
  EXPECT_NE(got.output.find("autoscaler:  rps"), std::string::npos) << got.output;
  EXPECT_NE(got.output.find("proxy:       /v1/services/load/proxy/"), std::string::npos);
  // No more requests: once they leave the window and the 5 s delay, back to the minimum.
  EXPECT_TRUE(WaitFor([&] { return s.Wanted("load") == 1; }, seconds(75)))
      << json::serialize(s.Get("load"));
  s.DeleteAndWait("load");
}

TEST(ServiceProxyE2eTest, ScalesOnTheGpuUtilisationItsReplicasReport) {
  ProxyUp s;
  ASSERT_TRUE(s.up->ok()) << s.up->output();
  const std::string sleep_cmd = "sleep " + std::to_string(46000 + getpid() % 9000);
  // Each replica reports its simulated GPU 95% busy; the target is 50%.
  CommandResult created = s.Cli(
      "service create busy --gpu 0.5 --min 1 --max 2 --target-gpu-util 50 -- sh -c 'echo 95 > "
      "\"$FASTGPU_SIMULATED_GPU_UTIL_FILE\"; exec " + sleep_cmd + "'");
  ASSERT_EQ(created.exit_code, 0) << created.output;
  ASSERT_TRUE(WaitFor([&] { return s.Wanted("busy") == 2; }, seconds(60)))
      << json::serialize(s.Get("busy"));
  json::value v = s.Get("busy");
  EXPECT_NE(std::string(v.at("autoscaler").at("reason").as_string()).find("gpu util 95%"),
            std::string::npos)
      << json::serialize(v);
  EXPECT_EQ(s.Cli("service delete busy").exit_code, 0);
  EXPECT_TRUE(WaitFor([&] { return Pids(sleep_cmd).empty(); })) << Pids(sleep_cmd).size();
}

}  // namespace
}  // namespace fastgpu::testing

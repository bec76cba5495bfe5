// Churn: thousands of short jobs through `fastgpu up` with simulated GPUs, submitted over
// the HTTP API from several client threads. Workloads exit while the agent looks at
// them (/proc files vanish between open and read); the process must stay up and every
// job must succeed. FASTGPU_CHURN_JOBS overrides the job count (default 2000).
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <map>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "tests/server_process.h"
#include "tests/up_process.h"

namespace fastgpu::testing {
namespace {

namespace json = boost::json;

// fastgpu_jobs{state="..."} gauges from GET /metrics.
std::map<std::string, int64_t> JobGauges(net::HttpClient& client) {
  std::map<std::string, int64_t> out;
  auto r = client.Get("/metrics");
  if (!r.ok() || r->status != 200) return out;
  const std::string prefix = "fastgpu_jobs{state=\"";
  for (size_t at = r->body.find(prefix); at != std::string::npos;
       at = r->body.find(prefix, at + 1)) {
    size_t q = r->body.find('"', at + prefix.size());
    size_t sp = r->body.find(' ', q);
    if (q == std::string::npos || sp == std::string::npos) break;
    out[r->body.substr(at + prefix.size(), q - at - prefix.size())] =
        std::atoll(r->body.c_str() + sp + 1);
  }
  return out;
}

TEST(AgentChurnTest, ThousandsOfShortJobsNeverEndUpAndAllSucceed) {
  const char* env_jobs = std::getenv("FASTGPU_CHURN_JOBS");
  const int jobs = env_jobs != nullptr ? std::atoi(env_jobs) : 2000;
  constexpr int kThreads = 8;
  // 2,000 jobs took 117 s alone on a 2-core machine (about 17 jobs/s, the control plane at
  // a quarter of a core); the budget leaves room for the other tests ctest runs beside it.
  constexpr auto kBudget = std::chrono::seconds(240);
  TempDir dir;
  UpProcess up({"--log-level", "warn", "up", "--data-dir", dir.path(), "--simulate-gpus",
                "4xH100-80GB", "--heartbeat-interval", "0.2"},
               dir.path() + "/up.log");
  ASSERT_TRUE(up.ok()) << up.output();
  const std::string admin = ReadFirstLine(dir.path() + "/admin.token");
  ASSERT_FALSE(admin.empty());
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + kBudget;

  const std::string body =
      json::serialize(json::object{{"name", "churn"},
                                   {"command", json::array{"true"}},
                                   {"shape", json::object{{"gpu_count", 1}, {"gpu_milli", 10}}}});
  std::atomic<int> next{0}, submitted{0}, refused{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&] {
      net::HttpClientOptions o;
      o.bearer_token = admin;
      auto client = net::HttpClient::Create(up.url(), o);
      if (!client.ok()) return;
      while (next.fetch_add(1) < jobs && std::chrono::steady_clock::now() < deadline) {
        auto r = (*client)->Post("/v1/jobs", body);
        if (r.ok() && r->status == 201) {
          submitted.fetch_add(1);
        } else {
          refused.fetch_add(1);
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  ASSERT_EQ(submitted.load(), jobs) << refused.load() << " refused\n"
                                    << up.output().substr(0, 4000);

  net::HttpClientOptions o;
  o.bearer_token = admin;
  auto client = net::HttpClient::Create(up.url(), o);
  ASSERT_TRUE(client.ok());
  std::map<std::string, int64_t> gauges;
  while (std::chrono::steady_clock::now() < deadline && up.Alive()) {
    gauges = JobGauges(**client);
    if (gauges["succeeded"] + gauges["failed"] + gauges["cancelled"] >= jobs) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const bool alive = up.Alive();
  std::string out = up.output();
  std::printf("churn: %d jobs submitted, %lld succeeded, %lld failed in %.1f s; up alive: %s\n",
              jobs, static_cast<long long>(gauges["succeeded"]),
              static_cast<long long>(gauges["failed"]), seconds, alive ? "yes" : "no");
  EXPECT_TRUE(alive) << "fastgpu up died:\n"
                     << out.substr(out.size() > 8000 ? out.size() - 8000 : 0);
  EXPECT_EQ(out.find("terminate called"), std::string::npos) << out;
  EXPECT_EQ(gauges["succeeded"], jobs) << "failed " << gauges["failed"] << " pending "
                                       << gauges["pending"] << " running " << gauges["running"];
  EXPECT_EQ(gauges["failed"], 0);
  EXPECT_EQ(up.Stop(SIGTERM), 0) << out.substr(out.size() > 8000 ? out.size() - 8000 : 0);
}

}  // namespace
}  // namespace fastgpu::testing

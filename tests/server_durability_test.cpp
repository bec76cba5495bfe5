// `fastgpu server` killed with SIGKILL during a stream of submissions keeps every job it
// acknowledged, and stops cleanly on SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <boost/json.hpp>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "net/http_client.h"
#include "tests/server_process.h"

namespace fastgpu::testing {
namespace {

namespace json = boost::json;

constexpr char kJob[] =
    R"({"command":["true"],"shape":{"gpu_count":1,"gpu_milli":250,"cpu_milli":500}})";

std::unique_ptr<net::HttpClient> Client(const std::string& url, const std::string& token) {
  net::HttpClientOptions o;
  o.bearer_token = token;
  o.connect_timeout = std::chrono::seconds(2);
  o.read_timeout = std::chrono::seconds(5);
  auto c = net::HttpClient::Create(url, o);
  EXPECT_TRUE(c.ok()) << c.status();
  return std::move(c).value();
}

std::set<std::string> AllJobIds(const std::string& url, const std::string& token) {
  auto c = Client(url, token);
  std::set<std::string> ids;
  std::string cursor;
  do {
    auto r = c->Get("/v1/jobs?limit=1000" + (cursor.empty() ? "" : "&cursor=" + cursor));
    EXPECT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
    if (!r.ok() || r->status != 200) break;
    json::value v = json::parse(r->body);
    for (const auto& j : v.at("jobs").as_array()) ids.emplace(j.at("id").as_string());
    cursor = std::string(v.at("next_cursor").as_string());
  } while (!cursor.empty());
  return ids;
}

TEST(ServerDurabilityTest, EveryAcknowledgedJobSurvivesSigkill) {
  TempDir dir;
  ServerProcess first({"server", "--data-dir", dir.path()});
  ASSERT_TRUE(first.ok()) << first.output();
  const std::string token = ReadFirstLine(dir.path() + "/admin.token");
  ASSERT_EQ(token.size(), 64u);

  std::mutex mu;
  std::map<std::string, std::string> acked;  // idempotency key -> job id
  std::atomic<bool> killed{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      auto c = Client(first.url(), token);
      for (int i = 0; !killed; ++i) {
        std::string key = "c" + std::to_string(t) + "-" + std::to_string(i);
        auto r = c->Post("/v1/jobs", kJob, {{"Idempotency-Key", key}});
        if (!r.ok()) continue;  // the server is gone (or going): not acknowledged
        if (r->status != 201) continue;
        std::string id(json::parse(r->body).at("id").as_string());
        std::lock_guard lock(mu);
        acked[key] = id;
      }
    });
  }
  // Kill while submissions stream in.
  for (int i = 0; i < 600; ++i) {
    {
      std::lock_guard lock(mu);
      if (acked.size() >= 300) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(first.Signal(SIGKILL), 128 + SIGKILL);
  killed = true;
  for (auto& c : clients) c.join();
  ASSERT_GE(acked.size(), 50u) << first.output();

  ServerProcess second({"server", "--data-dir", dir.path()});
  ASSERT_TRUE(second.ok()) << second.output();
  EXPECT_EQ(ReadFirstLine(dir.path() + "/admin.token"), token);  // reused
  std::set<std::string> stored = AllJobIds(second.url(), token);
  size_t missing = 0;
  for (const auto& [key, id] : acked) missing += stored.count(id) == 0;
  EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged jobs";
  std::cout << "acknowledged before SIGKILL: " << acked.size()
            << ", stored after restart: " << stored.size() << ", missing: " << missing << "\n";
  // A client retrying an acknowledged submission gets the same job, not a second one.
  const auto& [key, id] = *acked.begin();
  auto c = Client(second.url(), token);
  auto again = c->Post("/v1/jobs", kJob, {{"Idempotency-Key", key}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(std::string(json::parse(again->body).at("id").as_string()), id);
  EXPECT_EQ(AllJobIds(second.url(), token).size(), stored.size());
  EXPECT_EQ(second.Signal(SIGTERM), 0) << second.output();
}

}  // namespace
}  // namespace fastgpu::testing

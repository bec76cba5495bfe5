// The node pool end to end: `fastgpu up --pool FILE` with a simulated group of min 0. A job
// that fits only the group's node shape is accepted, a node boots (an agent in the process
// after the boot delay), the job runs on it and succeeds, and the node is given back after
// scale_down_after; `fastgpu pool status` shows the group. A bad pool file stops
// `fastgpu server` at start with the field named. Waits are bounded polls of the API.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/testing/temp_dir.h"
#include "net/http_client.h"
#include "tests/server_process.h"
#include "tests/test_util.h"
#include "tests/up_process.h"

namespace fastgpu::testing {
namespace {

namespace json = boost::json;

// Polls `done` every 100 ms for up to `limit`; true when it held.
bool WaitFor(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

json::value Get(net::HttpClient& c, const std::string& path) {
  auto r = c.Get(path);
  if (!r.ok() || r->status != 200) return json::value();
  return json::parse(r->body);
}

TEST(PoolUpE2eTest, BootsANodeForAJobAndGivesItBack) {
  TempDir dir;
  const std::string pool_file = dir.path() + "/pool.json";
  std::ofstream(pool_file) << R"({"groups":[{"name":"burst","provider":"simulated",
    "min_nodes":0,"max_nodes":2,
    "shape":{"gpu_model":"A100-80GB","gpus":2,"cpu":"8","memory":"32GiB"},
    "price_per_hour":3.5,"boot_timeout_s":60,"scale_down_after_s":2,
    "simulated":{"boot_delay_s":1}}]})";
  // The local node has an L4 only: the job, which asks for an A100, fits only the group.
  UpProcess up({"--log-level", "warn", "up", "--data-dir", dir.path() + "/data", "--simulate-gpus",
                "1xL4", "--pool", pool_file},
               dir.path() + "/up.log");
  ASSERT_TRUE(up.ok()) << up.output();
  const std::string admin = ReadFirstLine(dir.path() + "/data/admin.token");
  net::HttpClientOptions o;
  o.bearer_token = admin;
  auto client = net::HttpClient::Create(up.url(), o).value();

  json::value before = Get(*client, "/v1/pool");
  ASSERT_TRUE(before.is_object()) << up.output();
  EXPECT_TRUE(before.at("enabled").as_bool());
  EXPECT_TRUE(before.at("groups").at(0).at("nodes").as_array().empty());

  const std::string body = json::serialize(json::object{
      {"command", json::array{"true"}},
      {"shape",
       json::object{
           {"gpu_count", 1}, {"gpu_milli", 1000}, {"gpu_models", json::array{"A100-80GB"}}}}});
  auto submitted = client->Post("/v1/jobs", body);
  ASSERT_TRUE(submitted.ok());
  ASSERT_EQ(submitted->status, 201) << submitted->body;
  const std::string id(json::parse(submitted->body).at("id").as_string());

  bool booted = WaitFor(
      [&] {
        json::value p = Get(*client, "/v1/pool");
        return p.is_object() && !p.at("groups").at(0).at("nodes").as_array().empty();
      },
      std::chrono::seconds(20));
  EXPECT_TRUE(booted) << up.output();
  std::string state;
  bool ended = WaitFor(
      [&] {
        json::value j = Get(*client, "/v1/jobs/" + id);
        state = j.is_object() ? std::string(j.at("state").as_string()) : "";
        return state == "succeeded" || state == "failed";
      },
      std::chrono::seconds(60));
  ASSERT_TRUE(ended) << state << "\n" << up.output();
  EXPECT_EQ(state, "succeeded") << up.output();

  // The CLI shows the group while its node is there (or just given back).
  CommandResult cli =
      RunFastgpu("pool status -o json --server " + up.url() + " --token " + admin + " 2>&1");
  EXPECT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_NE(cli.output.find("\"burst\""), std::string::npos) << cli.output;
  CommandResult table =
      RunFastgpu("pool status --server " + up.url() + " --token " + admin + " 2>&1");
  EXPECT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("2xA100-80GB"), std::string::npos) << table.output;

  // Empty for scale_down_after (2 s): drained, then given back.
  json::value after;
  bool given_back = WaitFor(
      [&] {
        after = Get(*client, "/v1/pool");
        return after.is_object() && after.at("groups").at(0).at("nodes").as_array().empty() &&
               after.at("groups").at(0).at("deleted").as_int64() == 1;
      },
      std::chrono::seconds(30));
  EXPECT_TRUE(given_back) << json::serialize(after) << "\n" << up.output();
  EXPECT_EQ(after.at("groups").at(0).at("created").as_int64(), 1);
  EXPECT_EQ(up.Stop(SIGTERM), 0) << up.output();
}

TEST(PoolUpE2eTest, BadPoolFileStopsTheServerNamingTheField) {
  TempDir dir;
  const std::string pool_file = dir.path() + "/pool.json";
  std::ofstream(pool_file) << R"({"groups":[{"name":"g","provider":"simulated","min_nodes":3,
    "max_nodes":1,"shape":{"cpu":"8","memory":"32GiB"}}]})";
  CommandResult r = RunFastgpu("server --listen 127.0.0.1:0 --data-dir " + dir.path() +
                               "/data --pool " + pool_file + " 2>&1");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("groups[0].min_nodes: min_nodes (3) is above max_nodes (1)"),
            std::string::npos)
      << r.output;
  std::ofstream(pool_file, std::ios::trunc) << R"({"groups":[{"name":"g","provider":"gce",
    "shape":{"cpu":"8","memory":"32GiB"}}]})";
  r = RunFastgpu("server --listen 127.0.0.1:0 --data-dir " + dir.path() + "/data --pool " +
                 pool_file + " 2>&1");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("groups[0].provider: unknown provider \"gce\""), std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace fastgpu::testing

// Several control-plane replicas on one PostgreSQL (label "postgres"): three `fastgpu
// server` processes share a database; two agents (`fastgpu agent --simulate-gpus`) and a
// stream of submissions use all three addresses. The leader is killed (SIGKILL) while
// submissions arrive and jobs are placed and run. A follower must lead within the lease;
// no acknowledged submission may be lost, no job placed or run twice, the job running
// across the failover must not be disturbed, and the bill of what ran before must not
// change. A second test takes the database away from a replica and gives it back: the
// replica answers 503 and stops leading meanwhile, then goes on by itself with nothing
// acknowledged lost. Skips where PostgreSQL is not installed.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/testing/postgres_server.h"
#include "common/testing/temp_dir.h"
#include "net/http_client.h"
#include "tests/fault_process.h"
#include "tests/server_process.h"

namespace fastgpu::testing {
namespace {

constexpr double kLeaseSeconds = 2;
constexpr int kSubmissions = 40;

int Lines(const std::string& path) {
  std::string s = ReadText(path);
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

std::string Leading(const std::string& url) {
  JsonClient c(url, "");
  auto r = c.Do("GET", "/healthz");
  if (r.status != 200 || !r.body.is_object()) return "";
  return r.body.at("leading").as_bool() ? r.body.at("replica").as_string().c_str() : "";
}

TEST(HaFailoverTest, AFollowerLeadsWithinTheLeaseAndNothingIsLostOrDoneTwice) {
  auto pg = PostgresServer::Start();
  if (!pg.ok()) GTEST_SKIP() << pg.status();
  auto db = (*pg)->NewDatabaseUrl();
  ASSERT_TRUE(db.ok()) << db.status();
  TempDir dir;
  const std::string lease = std::to_string(kLeaseSeconds);
  std::vector<ChildProcess> replicas;
  std::vector<std::string> urls, logs;
  auto start_replica = [&](int i) {
    const std::string data = dir.path() + "/r" + std::to_string(i);
    logs.push_back(data + ".log");
    replicas.push_back(
        StartFastgpu({"server", "--listen", "127.0.0.1:0", "--data-dir", data, "--store", *db,
                      "--replica-id", "r" + std::to_string(i), "--leader-lease", lease,
                      "--node-timeout", "10", "--heartbeat-interval", "0.2"},
                     logs.back()));
    EXPECT_TRUE(WaitUntil([&] { return !ListeningUrl(logs.back()).empty(); }))
        << ReadText(logs.back());
    urls.push_back(ListeningUrl(logs.back()));
  };
  start_replica(1);
  ASSERT_FALSE(urls[0].empty());
  // The first replica made the tokens; the others are given the same files.
  for (int i : {2, 3}) {
    const std::string data = dir.path() + "/r" + std::to_string(i);
    std::filesystem::create_directories(data);
    for (const char* f : {"/admin.token", "/join.token"}) {
      std::filesystem::copy_file(dir.path() + "/r1" + f, data + f);
    }
    start_replica(i);
  }
  ASSERT_EQ(urls.size(), 3u);
  const std::string all = urls[0] + "," + urls[1] + "," + urls[2];
  const std::string token = ReadFirstLine(dir.path() + "/r1/admin.token");
  JsonClient api(all, token);
  ASSERT_TRUE(WaitUntil([&] { return Leading(urls[0]) == "r1"; })) << ReadText(logs[0]);
  EXPECT_EQ(Leading(urls[1]), "");
  EXPECT_EQ(Leading(urls[2]), "");

  std::vector<ChildProcess> agents;
  for (int i : {1, 2}) {
    const std::string name = "n" + std::to_string(i);
    agents.push_back(StartFastgpu(
        {"agent", "--server", all, "--join-token", ReadFirstLine(dir.path() + "/r1/join.token"),
         "--data-dir", dir.path() + "/" + name, "--simulate-gpus", "4xH100-80GB", "--name", name,
         "--cgroup-root", "", "--stop-grace", "1", "--kill-workloads-on-exit", "--no-sandbox"},
        dir.path() + "/" + name + ".log"));
  }
  ASSERT_TRUE(WaitUntil([&] {
    auto r = api.Do("GET", "/v1/nodes");
    return r.status == 200 && r.body.at("nodes").as_array().size() == 2;
  })) << ReadText(dir.path() + "/n1.log");

  // A job that runs across the failover; it appends to its marker each time it starts.
  const std::string long_marker = dir.path() + "/long.runs", release = dir.path() + "/long.go";
  auto body = [](const std::string& script, int gpu_milli) {
    boost::json::object shape{{"gpu_count", 1}};
    if (gpu_milli < 1000) shape["gpu_milli"] = gpu_milli;
    return boost::json::serialize(
        boost::json::object{{"command", boost::json::array{"sh", "-c", script}}, {"shape", shape}});
  };
  auto long_reply = api.Do(
      "POST", "/v1/jobs",
      body("echo run >> " + long_marker + "; while [ ! -f " + release + " ]; do sleep 0.05; done",
           1000));
  ASSERT_EQ(long_reply.status, 201) << long_reply.raw;
  const std::string long_job = long_reply.Str("id");
  auto state = [&](const std::string& id) { return api.Do("GET", "/v1/jobs/" + id).Str("state"); };
  ASSERT_TRUE(WaitUntil([&] { return state(long_job) == "running"; })) << state(long_job);

  // A short job that ends before the failover: its bill is read before and after.
  auto first = api.Do("POST", "/v1/jobs", body("echo done", 500));
  ASSERT_EQ(first.status, 201) << first.raw;
  ASSERT_TRUE(WaitUntil([&] { return state(first.Str("id")) == "succeeded"; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const int64_t bill_to = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count() -
                          100;
  const std::string bill_query = "/v1/usage?from=0&to=" + std::to_string(bill_to) + "&format=csv";
  auto bill_before = api.Do("GET", bill_query);
  ASSERT_EQ(bill_before.status, 200) << bill_before.raw;

  // The stream of submissions, each with its own idempotency key, through all addresses.
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<int> submitted{0};
  std::thread submitter([&] {
    net::HttpClientOptions o;
    o.bearer_token = token;
    o.read_timeout = std::chrono::seconds(10);
    auto client = net::HttpClient::Create(all, o);
    ASSERT_TRUE(client.ok());
    for (int i = 0; i < kSubmissions; ++i) {
      const std::string marker = dir.path() + "/job" + std::to_string(i) + ".runs";
      const std::string b = body("echo run >> " + marker + "; sleep 0.3", 250);
      // Retried with the same key until acknowledged (at most 30 s): the failover window.
      for (int attempt = 0; attempt < 300; ++attempt) {
        auto r = (*client)->Post("/v1/jobs", b, {{"Idempotency-Key", "sub-" + std::to_string(i)}});
        if (r.ok() && (r->status == 201 || r->status == 200)) {
          auto v = boost::json::parse(r->body);
          std::lock_guard lock(mu);
          acknowledged.push_back(v.at("id").as_string().c_str());
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      ++submitted;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });

  // The leader dies in the middle of the stream.
  ASSERT_TRUE(WaitUntil([&] { return submitted.load() >= kSubmissions / 3; }));
  const auto killed_at = std::chrono::steady_clock::now();
  replicas[0].Stop({SIGKILL});
  std::string new_leader;
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (int i : {1, 2}) {
          new_leader = Leading(urls[i]);
          if (!new_leader.empty()) return true;
        }
        return false;
      },
      std::chrono::seconds(30)))
      << ReadText(logs[1]) << ReadText(logs[2]);
  const double failover_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  std::cout << "failover: " << new_leader << " leads " << failover_s << " s after the kill\n";
  // Within the lease plus one renewal period of the follower (a quarter of the lease), with
  // 1.5 s to spare for a loaded machine.
  EXPECT_LE(failover_s, kLeaseSeconds * 1.25 + 1.5);

  submitter.join();
  ASSERT_EQ(acknowledged.size(), static_cast<size_t>(kSubmissions)) << "submissions went missing";
  std::ofstream(release) << "go";
  for (const std::string& id : acknowledged) {
    EXPECT_TRUE(WaitUntil([&] { return state(id) == "succeeded"; }, std::chrono::seconds(60)))
        << id << " is " << state(id);
  }
  EXPECT_TRUE(WaitUntil([&] { return state(long_job) == "succeeded"; })) << state(long_job);

  // Nothing lost, nothing twice: every acknowledged job exists once, was placed once and
  // ran once; the long job was not disturbed.
  std::vector<std::string> unique = acknowledged;
  std::sort(unique.begin(), unique.end());
  EXPECT_EQ(std::unique(unique.begin(), unique.end()), unique.end())
      << "a job id acknowledged twice";
  for (int i = 0; i < kSubmissions; ++i) {
    EXPECT_EQ(Lines(dir.path() + "/job" + std::to_string(i) + ".runs"), 1) << "job " << i;
  }
  for (const std::string& id : acknowledged) {
    auto r = api.Do("GET", "/v1/jobs/" + id);
    EXPECT_EQ(r.body.at("allocations").as_array().size(), 1u) << r.raw;
  }
  auto jobs = api.Do("GET", "/v1/jobs?limit=1000");
  EXPECT_EQ(jobs.body.at("jobs").as_array().size(), static_cast<size_t>(kSubmissions) + 2)
      << jobs.raw;
  auto long_after = api.Do("GET", "/v1/jobs/" + long_job);
  EXPECT_EQ(long_after.body.at("allocations").as_array().size(), 1u) << long_after.raw;
  EXPECT_EQ(long_after.body.at("attempts").as_int64(), 1) << long_after.raw;
  EXPECT_EQ(Lines(long_marker), 1) << "the long job was started again";

  // The bill of what ran before the failover, to the cent.
  auto bill_after = api.Do("GET", bill_query);
  ASSERT_EQ(bill_after.status, 200) << bill_after.raw;
  EXPECT_EQ(bill_after.raw, bill_before.raw);
}

TEST(HaFailoverTest, AReplicaThatLosesItsDatabaseAnswers503AndGoesOnWhenItIsBack) {
  auto pg = PostgresServer::Start();
  if (!pg.ok()) GTEST_SKIP() << pg.status();
  auto db = (*pg)->NewDatabaseUrl();
  ASSERT_TRUE(db.ok()) << db.status();
  TempDir dir;
  const std::string log = dir.path() + "/r1.log";
  ChildProcess replica = StartFastgpu(
      {"server", "--listen", "127.0.0.1:0", "--data-dir", dir.path() + "/r1", "--store", *db,
       "--replica-id", "r1", "--leader-lease", std::to_string(kLeaseSeconds)},
      log);
  ASSERT_TRUE(WaitUntil([&] { return !ListeningUrl(log).empty(); })) << ReadText(log);
  const std::string url = ListeningUrl(log);
  ASSERT_TRUE(WaitUntil([&] { return Leading(url) == "r1"; })) << ReadText(log);
  net::HttpClientOptions o;
  o.bearer_token = ReadFirstLine(dir.path() + "/r1/admin.token");
  o.read_timeout = std::chrono::seconds(10);
  auto client = net::HttpClient::Create(url, o);
  ASSERT_TRUE(client.ok()) << client.status();
  auto submit = [&](const std::string& key) {
    return (*client)->Post("/v1/jobs", R"({"command":["true"],"shape":{"gpu_count":1}})",
                           {{"Idempotency-Key", key}});
  };
  auto before = submit("before");
  ASSERT_TRUE(before.ok() && before->status == 201) << (before.ok() ? before->body : "");
  const std::string before_id = boost::json::parse(before->body).at("id").as_string().c_str();

  (*pg)->Kill();
  JsonClient api(url, o.bearer_token);
  // The health check reads the store: 503 at once; a write is refused with 503 and a
  // reason; the replica stops leading once its lease cannot be renewed.
  ASSERT_TRUE(WaitUntil([&] { return api.Do("GET", "/healthz").status == 503; }))
      << api.Do("GET", "/healthz").raw;
  auto refused = submit("during");
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 503) << refused->body;
  EXPECT_NE(refused->body.find("PostgreSQL"), std::string::npos) << refused->body;
  EXPECT_TRUE(WaitUntil([&] { return ReadText(log).find("stops leading") != std::string::npos; },
                        std::chrono::seconds(10)))
      << ReadText(log);

  ASSERT_TRUE((*pg)->Restart().ok());
  // Back by itself: healthy, leading again, the acknowledged job kept, the refused one
  // absent until it is sent again, and a replay of the first key answers the same job.
  ASSERT_TRUE(WaitUntil([&] { return Leading(url) == "r1"; }, std::chrono::seconds(30)))
      << ReadText(log);
  EXPECT_EQ(api.Do("GET", "/v1/jobs/" + before_id).status, 200);
  auto jobs = api.Do("GET", "/v1/jobs");
  ASSERT_EQ(jobs.status, 200) << jobs.raw;
  EXPECT_EQ(jobs.body.at("jobs").as_array().size(), 1u) << jobs.raw;
  auto replay = submit("before");
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->status, 200) << replay->body;
  EXPECT_EQ(boost::json::parse(replay->body).at("id").as_string(), before_id);
  auto again = submit("during");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 201) << again->body;
  EXPECT_TRUE(WaitUntil([&] { return api.Do("GET", "/healthz").status == 200; }));
}

}  // namespace
}  // namespace fastgpu::testing

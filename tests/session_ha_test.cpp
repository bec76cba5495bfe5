// Interactive sessions with two control-plane replicas on one PostgreSQL (label
// "postgres"; skips where PostgreSQL is not installed; docs/sessions.md, docs/ha.md).
// Sessions meet on the leader: the agent and the CLI are both given the follower's address
// first. The follower refuses the session routes with 503 naming the leader; a pipe
// session started through "follower,leader" runs, with its stdout, stderr and exit code;
// a job exec reaches the agent although its heartbeats go to the follower;
// then the leader is killed while a session runs: the client ends with 255, the agent
// reconnects to the new leader, and `fastgpu attach` through the same list gets the output
// the command wrote meanwhile and its exit code.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/testing/postgres_server.h"
#include "common/testing/temp_dir.h"
#include "net/ws_client.h"
#include "tests/fastgpu_child.h"
#include "tests/fault_process.h"
#include "tests/server_process.h"

namespace fastgpu::testing {
namespace {

std::string Leading(const std::string& url) {
  JsonClient c(url, "");
  auto r = c.Do("GET", "/healthz");
  if (r.status != 200 || !r.body.is_object()) return "";
  return r.body.at("leading").as_bool() ? r.body.at("replica").as_string().c_str() : "";
}

// The exit status of `child` once it has exited within `timeout`; -1 when it has not.
int ExitWithin(ChildProcess& child, std::chrono::seconds timeout) {
  if (!WaitUntil([&] { return !child.Alive(); }, timeout)) return -1;
  return child.Wait();
}

TEST(SessionHaTest, SessionsMeetOnTheLeaderAndSurviveItsLoss) {
  auto pg = PostgresServer::Start();
  if (!pg.ok()) GTEST_SKIP() << pg.status();
  auto db = (*pg)->NewDatabaseUrl();
  ASSERT_TRUE(db.ok()) << db.status();
  TempDir dir;
  std::vector<ChildProcess> replicas;
  std::vector<std::string> urls, logs;
  auto start_replica = [&](int i) {
    const std::string data = dir.path() + "/r" + std::to_string(i);
    logs.push_back(data + ".log");
    replicas.push_back(StartFastgpu(
        {"server", "--listen", "127.0.0.1:0", "--data-dir", data, "--store", *db, "--replica-id",
         "r" + std::to_string(i), "--leader-lease", "2", "--node-timeout", "20",
         "--heartbeat-interval", "0.2", "--session-grace", "60"},
        logs.back()));
    EXPECT_TRUE(WaitUntil([&] { return !ListeningUrl(logs.back()).empty(); }))
        << ReadText(logs.back());
    urls.push_back(ListeningUrl(logs.back()));
  };
  start_replica(1);
  ASSERT_FALSE(urls[0].empty());
  const std::string data2 = dir.path() + "/r2";
  std::filesystem::create_directories(data2);
  for (const char* f : {"/admin.token", "/join.token"}) {
    std::filesystem::copy_file(dir.path() + "/r1" + f, data2 + f);
  }
  start_replica(2);
  ASSERT_EQ(urls.size(), 2u);
  ASSERT_TRUE(WaitUntil([&] { return Leading(urls[0]) == "r1"; })) << ReadText(logs[0]);
  const std::string token = ReadFirstLine(dir.path() + "/r1/admin.token");
  const std::string follower_first = urls[1] + "," + urls[0];

  ChildProcess agent =
      StartFastgpu({"agent", "--server", follower_first, "--join-token",
                    ReadFirstLine(dir.path() + "/r1/join.token"), "--data-dir", dir.path() + "/n1",
                    "--simulate-gpus", "2xH100-80GB", "--name", "n1", "--cgroup-root", "",
                    "--stop-grace", "1", "--kill-workloads-on-exit", "--no-sandbox"},
                   dir.path() + "/n1.log");
  JsonClient api(follower_first, token);
  ASSERT_TRUE(WaitUntil([&] {
    auto r = api.Do("GET", "/v1/nodes");
    return r.status == 200 && r.body.at("nodes").as_array().size() == 1;
  })) << ReadText(dir.path() + "/n1.log");

  // The follower does not serve sessions, and says who does.
  net::HttpClientOptions o;
  o.bearer_token = token;
  auto at_follower = net::WsClient::Connect(urls[1], "/v1/jobs/none/attach", o);
  ASSERT_FALSE(at_follower.ok());
  EXPECT_EQ(at_follower.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(at_follower.status().message().find("served by the leader (r1)"), std::string::npos)
      << at_follower.status();

  // A pipe session through "follower,leader": both sides end up on the leader.
  const std::string first_log = dir.path() + "/first.log";
  ChildProcess first =
      StartFastgpu({"run", "--server", follower_first, "--token", token, "--gpu", "0.5", "--", "sh",
                    "-c", "echo ha-$((6*7)); echo ha-err >&2; exit 4"},
                   first_log);
  EXPECT_EQ(ExitWithin(first, std::chrono::seconds(60)), 4) << ReadText(first_log);
  EXPECT_NE(ReadText(first_log).find("ha-42"), std::string::npos) << ReadText(first_log);
  EXPECT_NE(ReadText(first_log).find("ha-err"), std::string::npos) << ReadText(first_log);

  // A job exec: the agent heartbeats to the follower (its first address) and learns of the
  // exec from the leader.
  auto batch =
      api.Do("POST", "/v1/jobs",
             R"({"command": ["sleep", "120"], "shape": {"gpu_count": 1, "gpu_milli": 250}})");
  ASSERT_EQ(batch.status, 201) << batch.raw;
  const std::string batch_id = batch.Str("id");
  ASSERT_TRUE(
      WaitUntil([&] { return api.Do("GET", "/v1/jobs/" + batch_id).Str("state") == "running"; }));
  const std::string exec_log = dir.path() + "/exec.log";
  ChildProcess exec = StartFastgpu({"job", "exec", batch_id, "--server", follower_first, "--token",
                                    token, "--", "sh", "-c", "echo in-$((3+4)); exit 2"},
                                   exec_log);
  EXPECT_EQ(ExitWithin(exec, std::chrono::seconds(60)), 2) << ReadText(exec_log);
  EXPECT_NE(ReadText(exec_log).find("in-7"), std::string::npos) << ReadText(exec_log);
  api.Do("POST", "/v1/jobs/" + batch_id + "/cancel");

  // The leader dies while a session runs; the command's later output is not lost.
  const std::string go = dir.path() + "/go";
  const std::string second_log = dir.path() + "/second.log";
  ChildProcess second = StartFastgpu({"run", "--server", follower_first, "--token", token, "--gpu",
                                      "0.5", "--name", "across", "--", "sh", "-c",
                                      "echo before-$((1+1)); while [ ! -f " + go +
                                          " ]; do sleep 0.1; done; "
                                          "echo after-$((2+2)); exit 6"},
                                     second_log);
  ASSERT_TRUE(WaitUntil([&] { return ReadText(second_log).find("before-2") != std::string::npos; },
                        std::chrono::seconds(60)))
      << ReadText(second_log);
  replicas[0].Stop({SIGKILL});
  EXPECT_EQ(ExitWithin(second, std::chrono::seconds(60)), 255) << ReadText(second_log);
  ASSERT_TRUE(WaitUntil([&] { return Leading(urls[1]) == "r2"; }, std::chrono::seconds(30)))
      << ReadText(logs[1]);
  // The agent retries every second; the command writes the rest once it is back (output of
  // a command that ends before its agent reconnects is lost: docs/sessions.md, Limits).
  std::this_thread::sleep_for(std::chrono::seconds(3));
  { std::ofstream(go) << "go\n"; }
  const std::string attach_log = dir.path() + "/attach.log";
  int code = -1;
  // The agent reconnects within about a second; an attach before it finds the session
  // unknown to the new leader's relay only until then.
  for (int attempt = 0; attempt < 10 && code != 6; ++attempt) {
    ChildProcess again = StartFastgpu(
        {"attach", "across", "--server", follower_first, "--token", token}, attach_log);
    code = ExitWithin(again, std::chrono::seconds(30));
  }
  EXPECT_EQ(code, 6) << ReadText(attach_log) << ReadText(dir.path() + "/n1.log");
  EXPECT_NE(ReadText(attach_log).find("after-4"), std::string::npos) << ReadText(attach_log);
}

}  // namespace
}  // namespace fastgpu::testing

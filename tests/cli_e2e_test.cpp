// The API client commands against a real `fastgpu server` process over loopback, with a
// simulated agent speaking the agent protocol; and `fastgpu up` with its local agent.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "net/http_client.h"
#include "tests/json_output.h"
#include "tests/server_process.h"
#include "tests/test_util.h"

namespace fastgpu::testing {
namespace {

namespace json = boost::json;

// Polls `fastgpu job get` until the job reaches `state` (the server's reconciler runs
// on its own thread); returns the last output.
std::string WaitForState(const std::string& flags, const std::string& id,
                         const std::string& state) {
  std::string last;
  for (int i = 0; i < 100; ++i) {
    CommandResult r = RunFastgpu("job get " + id + " -o json " + flags);
    last = r.output;
    if (r.exit_code == 0 && JsonOutput(r).at("state").as_string() == state) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << id << " never reached " << state << ": " << last;
  return last;
}

class SimulatedAgent {
 public:
  SimulatedAgent(const std::string& url, const std::string& join_token) {
    net::HttpClientOptions join;
    join.bearer_token = join_token;
    auto c = net::HttpClient::Create(url, join);
    json::array gpus;
    for (int i = 0; i < 2; ++i) {
      gpus.push_back(json::object{{"index", i},
                                  {"uuid", "SIM-" + std::to_string(i)},
                                  {"model", "H100-80GB"},
                                  {"memory_mib", 81559},
                                  {"simulated", true}});
    }
    json::object body{{"name", "sim-1"},      {"agent_id", "sim-1"}, {"cpu_milli", 32000},
                      {"memory_mib", 262144}, {"simulated", true},   {"gpus", gpus}};
    auto r = (*c)->Post("/v1/nodes/register", json::serialize(body));
    EXPECT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
    json::value v = json::parse(r->body);
    node_id_ = v.at("node_id").as_string();
    net::HttpClientOptions node;
    node.bearer_token = std::string(v.at("node_token").as_string());
    client_ = net::HttpClient::Create(url, node).value();
  }
  // One heartbeat reporting every desired allocation in `state`; returns their ids.
  std::vector<std::string> Beat(const std::string& state) {
    json::object body{{"gpus", json::array()}, {"replicas", reports_}};
    auto r = client_->Post("/v1/nodes/" + node_id_ + "/heartbeat", json::serialize(body));
    EXPECT_TRUE(r.ok() && r->status == 200);
    std::vector<std::string> ids;
    reports_.clear();
    json::value answer = json::parse(r->body);
    for (const auto& a : answer.at("allocations").as_array()) {
      std::string id(a.at("allocation_id").as_string());
      ids.push_back(id);
      json::object rep{{"allocation_id", id}, {"state", state}};
      if (state == "exited") rep["exit_code"] = 0;
      reports_.push_back(rep);
      auto l = client_->Post("/v1/nodes/" + node_id_ + "/logs",
                             json::serialize(json::object{{"allocation_id", id},
                                                          {"offset", 0},
                                                          {"data", "hello from " + id + "\n"},
                                                          {"final", state == "exited"}}));
      EXPECT_TRUE(l.ok() && l->status == 200);
    }
    return ids;
  }
  const std::string& node_id() const { return node_id_; }

 private:
  std::string node_id_;
  std::unique_ptr<net::HttpClient> client_;
  json::array reports_;
};

TEST(CliE2eTest, SubmitRunSucceedAndEveryCommand) {
  TempDir dir;
  ServerProcess server({"server", "--data-dir", dir.path(), "--heartbeat-interval", "0.2"});
  ASSERT_TRUE(server.ok()) << server.output();
  const std::string admin = ReadFirstLine(dir.path() + "/admin.token");
  const std::string as_admin = "--server " + server.url() + " --token " + admin;
  const std::string config = dir.path() + "/config.json";

  // Tenants and tokens (admin).
  CommandResult t = RunFastgpu("tenant create alice " + as_admin);
  ASSERT_EQ(t.exit_code, 0) << t.output;
  CommandResult tok = RunFastgpu("token create --tenant alice --name ci -o json " + as_admin);
  ASSERT_EQ(tok.exit_code, 0) << tok.output;
  std::string secret(JsonOutput(tok).at("token").as_string());
  EXPECT_NE(RunFastgpu("tenant list " + as_admin).output.find("alice"), std::string::npos);

  // login writes the config file; later commands need no flags but --config.
  CommandResult login =
      RunFastgpu("login --config " + config + " --server " + server.url() + " --token " + secret);
  ASSERT_EQ(login.exit_code, 0) << login.output;
  EXPECT_EQ(ReadFirstLine(config).find(secret) != std::string::npos, true);
  const std::string as_alice = "--config " + config;

  CommandResult sub =
      RunFastgpu("job submit " + as_alice +
                 " --gpu 0.5 --gpu-memory 20GiB --cpu 2 --memory 8GiB --replicas 2 --retries 1"
                 " --isolation mps --name demo --env K=V -o json -- python train.py --epochs 1");
  ASSERT_EQ(sub.exit_code, 0) << sub.output;
  json::value job = JsonOutput(sub);
  std::string id(job.at("id").as_string());
  EXPECT_EQ(job.at("shape").at("gpu_milli").as_int64(), 500);
  EXPECT_EQ(job.at("shape").at("gpu_memory_mib").as_int64(), 20480);
  EXPECT_EQ(job.at("shape").at("cpu_milli").as_int64(), 2000);
  EXPECT_EQ(job.at("env").at("K").as_string(), "V");
  EXPECT_EQ(job.at("command").as_array().size(), 4u);

  SimulatedAgent agent(server.url(), ReadFirstLine(dir.path() + "/join.token"));
  WaitForState(as_alice, id, "scheduled");
  ASSERT_EQ(agent.Beat("running").size(), 2u);
  agent.Beat("running");
  WaitForState(as_alice, id, "running");
  CommandResult table = RunFastgpu("job list " + as_alice);
  EXPECT_NE(table.output.find("STATE"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find(id), std::string::npos);
  EXPECT_NE(table.output.find("running"), std::string::npos);
  agent.Beat("exited");
  agent.Beat("exited");
  WaitForState(as_alice, id, "succeeded");
  CommandResult get = RunFastgpu("job get " + id + " " + as_alice);
  EXPECT_NE(get.output.find("succeeded"), std::string::npos) << get.output;
  EXPECT_NE(get.output.find("(simulated GPUs)"), std::string::npos) << get.output;
  EXPECT_NE(get.output.find("all 2 replica(s) exited 0"), std::string::npos) << get.output;
  CommandResult logs = RunFastgpu("job logs " + id + " -f " + as_alice);
  EXPECT_EQ(logs.exit_code, 0);
  EXPECT_NE(logs.output.find("hello from alloc-"), std::string::npos) << logs.output;

  // Nodes (admin), simulated GPUs marked.
  CommandResult nodes = RunFastgpu("node list " + as_admin);
  EXPECT_NE(nodes.output.find("2x H100-80GB (simulated)"), std::string::npos) << nodes.output;
  EXPECT_EQ(RunFastgpu("node drain " + agent.node_id() + " " + as_admin).exit_code, 0);
  EXPECT_NE(RunFastgpu("node list " + as_admin).output.find("draining"), std::string::npos);

  // Cancel a pending job (the only node is drained).
  CommandResult second = RunFastgpu("job submit -o json " + as_alice + " --gpu 1 -- sleep 9");
  std::string id2(JsonOutput(second).at("id").as_string());
  EXPECT_EQ(RunFastgpu("job cancel " + id2 + " " + as_alice).exit_code, 0);
  EXPECT_NE(RunFastgpu("job get " + id2 + " " + as_alice).output.find("cancelled"),
            std::string::npos);

  // Errors: a wrong token, a tenant on an admin command, a missing job, bad usage,
  // an unreachable server; each with a clear message and a non-zero exit code.
  CommandResult bad = RunFastgpu("job list --server " + server.url() + " --token nope");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("UNAUTHENTICATED"), std::string::npos) << bad.output;
  CommandResult denied = RunFastgpu("node list " + as_alice);
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_NE(denied.output.find("PERMISSION_DENIED"), std::string::npos) << denied.output;
  CommandResult missing = RunFastgpu("job get job-00000000000000ff " + as_alice);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("NOT_FOUND"), std::string::npos) << missing.output;
  CommandResult usage = RunFastgpu("job submit --gpu 1.5 " + as_alice + " -- x");
  EXPECT_EQ(usage.exit_code, 2) << usage.output;
  EXPECT_NE(usage.output.find("--gpu"), std::string::npos) << usage.output;
  CommandResult down = RunFastgpu("job list --server http://127.0.0.1:1 --token x");
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_NE(down.output.find("cannot reach the control plane"), std::string::npos) << down.output;
  // Revoked tokens stop working.
  std::string tok_id(JsonOutput(tok).at("id").as_string());
  EXPECT_EQ(RunFastgpu("token revoke " + tok_id + " " + as_admin).exit_code, 0);
  EXPECT_EQ(RunFastgpu("job list " + as_alice).exit_code, 1);

  EXPECT_EQ(server.Signal(SIGTERM), 0) << server.output();
}

TEST(CliE2eTest, EnvironmentOverridesTheConfigFile) {
  TempDir dir;
  ServerProcess server({"server", "--data-dir", dir.path()});
  ASSERT_TRUE(server.ok()) << server.output();
  const std::string admin = ReadFirstLine(dir.path() + "/admin.token");
  const std::string config = dir.path() + "/config.json";
  // The config file points nowhere; the environment wins.
  ASSERT_EQ(
      RunFastgpu("login --config " + config + " --server " + server.url() + " --token " + admin)
          .exit_code,
      0);
  std::string env = "FASTGPU_SERVER=" + server.url() + " FASTGPU_TOKEN=" + admin + " ";
  CommandResult r = RunFastgpu("tenant list --config /nonexistent/config.json");
  EXPECT_EQ(r.exit_code, 1);  // default server, no token: nothing listens on :8080 here
  setenv("FASTGPU_SERVER", server.url().c_str(), 1);
  setenv("FASTGPU_TOKEN", admin.c_str(), 1);
  CommandResult ok = RunFastgpu("tenant list --config /nonexistent/config.json");
  unsetenv("FASTGPU_SERVER");
  unsetenv("FASTGPU_TOKEN");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("admin"), std::string::npos);
  EXPECT_EQ(server.Signal(SIGTERM), 0);
}

TEST(CliE2eTest, UpRunsAJobOnItsLocalSimulatedAgent) {
  TempDir dir;
  ServerProcess up({"up", "--data-dir", dir.path(), "--simulate-gpus", "2xH100-80GB"});
  ASSERT_TRUE(up.ok()) << up.output();
  EXPECT_NE(up.output().find("admin token: " + dir.path() + "/admin.token"), std::string::npos)
      << up.output();
  const std::string admin = ReadFirstLine(dir.path() + "/admin.token");
  const std::string flags = "--server " + up.url() + " --token " + admin;
  CommandResult sub =
      RunFastgpu("job submit -o json --gpu 0.5 --name hello " + flags + " -- echo hello-from-up");
  ASSERT_EQ(sub.exit_code, 0) << sub.output;
  std::string id(JsonOutput(sub).at("id").as_string());
  WaitForState(flags, id, "succeeded");
  std::string logs;
  for (int i = 0; i < 50 && logs.find("hello-from-up") == std::string::npos; ++i) {
    logs = RunFastgpu("job logs " + id + " " + flags).output;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(logs.find("hello-from-up"), std::string::npos) << logs;
  CommandResult nodes = RunFastgpu("node list " + flags);
  EXPECT_NE(nodes.output.find("(simulated)"), std::string::npos) << nodes.output;
  EXPECT_EQ(up.Signal(SIGTERM), 0) << up.output();
}

// "Run and wait" can be scripted: the exit code says how the job ended.
TEST(CliE2eTest, WaitSubmitWaitAndFollowExitWithTheJobsOutcome) {
  TempDir dir;
  ServerProcess up({"up", "--data-dir", dir.path(), "--simulate-gpus", "2xH100-80GB"});
  ASSERT_TRUE(up.ok()) << up.output();
  const std::string admin = ReadFirstLine(dir.path() + "/admin.token");
  // No scheme in the address: plain HTTP.
  std::string host_port = up.url().substr(up.url().find("://") + 3);
  const std::string flags = "--server " + host_port + " --token " + admin;

  CommandResult ok = RunFastgpu("job submit --wait --priority 5 --gpu 0.1 " + flags + " -- true");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("succeeded"), std::string::npos) << ok.output;

  CommandResult bad =
      RunFastgpu("job submit --wait -o json --gpu 0.1 " + flags + " -- sh -c 'echo oops; exit 3'");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("failed"), std::string::npos) << bad.output;

  CommandResult failed = RunFastgpu("job submit -o json --gpu 0.1 " + flags + " -- false");
  ASSERT_EQ(failed.exit_code, 0) << failed.output;
  std::string failed_id(JsonOutput(failed).at("id").as_string());
  CommandResult follow = RunFastgpu("job logs -f " + failed_id + " " + flags);
  EXPECT_EQ(follow.exit_code, 1) << follow.output;
  EXPECT_EQ(RunFastgpu("job wait " + failed_id + " " + flags).exit_code, 1);

  std::vector<std::string> sleepers;
  for (int i = 0; i < 2; ++i) {
    CommandResult r = RunFastgpu("job submit -o json --gpu 0.1 " + flags + " -- sleep 60");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    sleepers.emplace_back(JsonOutput(r).at("id").as_string());
  }
  CommandResult timed_out = RunFastgpu("job wait --timeout 1 " + sleepers[0] + " " + flags);
  EXPECT_EQ(timed_out.exit_code, 1) << timed_out.output;
  EXPECT_NE(timed_out.output.find("still"), std::string::npos) << timed_out.output;
  CommandResult cancel = RunFastgpu("job cancel " + sleepers[0] + " " + sleepers[1] + " " + flags);
  EXPECT_EQ(cancel.exit_code, 0) << cancel.output;
  for (const std::string& id : sleepers) {
    CommandResult w = RunFastgpu("job wait " + id + " " + flags);
    EXPECT_EQ(w.exit_code, 1) << w.output;
    EXPECT_NE(w.output.find("cancelled"), std::string::npos) << w.output;
  }
  CommandResult missing = RunFastgpu("job cancel job-nosuch " + flags);
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_EQ(up.Signal(SIGTERM), 0) << up.output();
}

// Quotas are shown without flags and spoken of in GPUs.
TEST(CliE2eTest, QuotaIsShownAndItsErrorsSpeakInGpus) {
  TempDir dir;
  ServerProcess up({"up", "--data-dir", dir.path(), "--simulate-gpus", "2xH100-80GB"});
  ASSERT_TRUE(up.ok()) << up.output();
  const std::string admin = ReadFirstLine(dir.path() + "/admin.token");
  const std::string flags = "--server " + up.url() + " --token " + admin;
  ASSERT_EQ(RunFastgpu("tenant create team-q --max-gpu 1.5 " + flags).exit_code, 0);
  CommandResult shown = RunFastgpu("tenant quota team-q " + flags);
  EXPECT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_NE(shown.output.find("max 1.5 GPU held at once"), std::string::npos) << shown.output;
  CommandResult token = RunFastgpu("token create --tenant team-q -o json " + flags);
  ASSERT_EQ(token.exit_code, 0) << token.output;
  const std::string tenant_flags =
      "--server " + up.url() + " --token " + std::string(JsonOutput(token).at("token").as_string());
  CommandResult over = RunFastgpu("job submit --gpu 2 " + tenant_flags + " -- true");
  EXPECT_EQ(over.exit_code, 1) << over.output;
  EXPECT_NE(over.output.find("may hold 1.5 GPU at once"), std::string::npos) << over.output;
  EXPECT_NE(over.output.find("asks for 2 GPU"), std::string::npos) << over.output;
  EXPECT_EQ(up.Signal(SIGTERM), 0) << up.output();
}

TEST(CliE2eTest, UsageHasHelp) { EXPECT_EQ(RunFastgpu("usage --help").exit_code, 0); }

}  // namespace
}  // namespace fastgpu::testing

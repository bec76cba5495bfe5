// Names and ids are interchangeable: `job get|logs|cancel|wait NAME`, `node drain NAME`,
// `job list --tenant NAME`, resolved by the control plane (`fastgpu up` on loopback).
#include <gtest/gtest.h>
#include <signal.h>

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

std::string Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) == std::string::npos ? "missing '" + needle + "' in:\n" + haystack
                                                    : "";
}

std::string TokenFor(const std::string& tenant, const std::string& admin_flags) {
  EXPECT_EQ(RunFastgpu("tenant create " + tenant + " " + admin_flags).exit_code, 0);
  CommandResult tok = RunFastgpu("token create --tenant " + tenant + " -o json " + admin_flags);
  EXPECT_EQ(tok.exit_code, 0) << tok.output;
  return std::string(JsonOutput(tok).at("token").as_string());
}

std::string Submit(const std::string& flags, const std::string& name, const std::string& cmd) {
  CommandResult r =
      RunFastgpu("job submit -o json --gpu 0.1 --name " + name + " " + flags + " -- " + cmd);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return std::string(JsonOutput(r).at("id").as_string());
}

TEST(CliNamesE2eTest, JobsNodesAndTenantsByName) {
  TempDir dir;
  // --allow-unplaceable: a job that asks more than the pool has waits (it is cancelled below).
  ServerProcess up(
      {"up", "--data-dir", dir.path(), "--simulate-gpus", "2xH100-80GB", "--allow-unplaceable"});
  ASSERT_TRUE(up.ok()) << up.output();
  const std::string admin =
      "--server " + up.url() + " --token " + ReadFirstLine(dir.path() + "/admin.token");
  const std::string as_a = "--server " + up.url() + " --token " + TokenFor("team-a", admin);
  const std::string as_b = "--server " + up.url() + " --token " + TokenFor("team-b", admin);

  // Each tenant has a job named hello; a tenant's name finds its own job only.
  const std::string a_hello = Submit(as_a, "hello", "echo hello-from-a");
  const std::string b_hello = Submit(as_b, "hello", "true");
  CommandResult get_a = RunFastgpu("job get hello -o json " + as_a);
  ASSERT_EQ(get_a.exit_code, 0) << get_a.output;
  EXPECT_EQ(JsonOutput(get_a).at("id").as_string(), a_hello);
  CommandResult get_b = RunFastgpu("job get hello -o json " + as_b);
  ASSERT_EQ(get_b.exit_code, 0) << get_b.output;
  EXPECT_EQ(JsonOutput(get_b).at("id").as_string(), b_hello);
  // Another tenant's job id stays hidden.
  CommandResult hidden = RunFastgpu("job get " + a_hello + " " + as_b);
  EXPECT_EQ(hidden.exit_code, 1);
  EXPECT_EQ(Contains(hidden.output, "NOT_FOUND"), "");

  // Logs by name.
  std::string logs;
  for (int i = 0; i < 100 && logs.find("hello-from-a") == std::string::npos; ++i) {
    logs = RunFastgpu("job logs hello " + as_a).output;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(Contains(logs, "hello-from-a"), "");

  // The admin sees every tenant's jobs: the name is ambiguous, and the error lists both.
  CommandResult ambiguous = RunFastgpu("job get hello " + admin);
  EXPECT_EQ(ambiguous.exit_code, 1);
  EXPECT_EQ(Contains(ambiguous.output, "job name 'hello' matches 2 jobs: " + a_hello + ", " +
                                           b_hello + "; use an id"),
            "");
  // Within one tenant too.
  const std::string d1 = Submit(as_a, "dup", "true");
  const std::string d2 = Submit(as_a, "dup", "true");
  CommandResult dup = RunFastgpu("job logs dup " + as_a);
  EXPECT_EQ(dup.exit_code, 1);
  EXPECT_EQ(Contains(dup.output, "job name 'dup' matches 2 jobs: " + d1 + ", " + d2), "");
  CommandResult none = RunFastgpu("job get no-such-job " + as_a);
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_EQ(Contains(none.output, "no job 'no-such-job'"), "");

  // job list --tenant NAME (admin).
  CommandResult list = RunFastgpu("job list --tenant team-b -o json " + admin);
  ASSERT_EQ(list.exit_code, 0) << list.output;
  const json::value listed = JsonOutput(list);
  const json::array& jobs = listed.at("jobs").as_array();
  ASSERT_EQ(jobs.size(), 1u) << list.output;
  EXPECT_EQ(jobs[0].at("id").as_string(), b_hello);
  CommandResult unknown = RunFastgpu("job list --tenant team-z " + admin);
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(Contains(unknown.output, "no tenant 'team-z'"), "");

  // Cancel and wait by name: a job that waits for 8 GPUs (the pool has 2) starts nothing.
  CommandResult big =
      RunFastgpu("job submit -o json --gpu 8 --name waiting " + as_a + " -- sleep 1");
  ASSERT_EQ(big.exit_code, 0) << big.output;
  const std::string waiting(JsonOutput(big).at("id").as_string());
  CommandResult cancel = RunFastgpu("job cancel waiting " + as_a);
  EXPECT_EQ(cancel.exit_code, 0) << cancel.output;
  EXPECT_EQ(Contains(cancel.output, "cancelled " + waiting + " (waiting)"), "");
  CommandResult wait = RunFastgpu("job wait waiting " + as_a);
  EXPECT_EQ(wait.exit_code, 1) << wait.output;  // it was cancelled
  EXPECT_EQ(Contains(wait.output, "cancelled"), "");
  CommandResult waited = RunFastgpu("job wait hello " + as_b);  // b's hello runs `true`
  EXPECT_EQ(waited.exit_code, 0) << waited.output;

  // Nodes by name (admin).
  CommandResult nodes = RunFastgpu("node list -o json " + admin);
  ASSERT_EQ(nodes.exit_code, 0) << nodes.output;
  const json::value node = JsonOutput(nodes).at("nodes").as_array().at(0);
  const std::string node_name(node.at("name").as_string()), node_id(node.at("id").as_string());
  ASSERT_NE(node_name, node_id);
  CommandResult drain = RunFastgpu("node drain '" + node_name + "' " + admin);
  EXPECT_EQ(drain.exit_code, 0) << drain.output;
  EXPECT_EQ(Contains(drain.output, "node " + node_name + " (" + node_id + ") is draining"), "");
  CommandResult undrain = RunFastgpu("node drain --undo '" + node_name + "' " + admin);
  EXPECT_EQ(Contains(undrain.output, "is ready"), "");

  // Two nodes of one name: the name is refused, each id still works.
  net::HttpClientOptions join_options;
  join_options.bearer_token = ReadFirstLine(dir.path() + "/join.token");
  auto join = net::HttpClient::Create(up.url(), join_options);
  ASSERT_TRUE(join.ok());
  std::vector<std::string> twins;
  for (const char* agent : {"twin-a", "twin-b"}) {
    json::object body{{"name", "twin"},     {"agent_id", agent}, {"cpu_milli", 1000},
                      {"memory_mib", 1024}, {"simulated", true}, {"gpus", json::array()}};
    auto r = (*join)->Post("/v1/nodes/register", json::serialize(body));
    ASSERT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
    twins.emplace_back(json::parse(r->body).at("node_id").as_string());
  }
  CommandResult twin = RunFastgpu("node drain twin " + admin);
  EXPECT_EQ(twin.exit_code, 1);
  EXPECT_EQ(Contains(twin.output, "node name 'twin' matches 2 nodes: " + twins[0] + ", " +
                                      twins[1] + "; use an id"),
            "");
  EXPECT_EQ(RunFastgpu("node drain " + twins[1] + " " + admin).exit_code, 0);
  CommandResult missing = RunFastgpu("node drain gpu-host-9 " + admin);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(Contains(missing.output, "no node 'gpu-host-9'"), "");

  EXPECT_EQ(up.Signal(SIGTERM), 0) << up.output();
}

}  // namespace
}  // namespace fastgpu::testing

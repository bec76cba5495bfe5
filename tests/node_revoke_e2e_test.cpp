// `fastgpu node revoke` against `fastgpu up` and its in-process agent: a tenant may not
// revoke; the admin's revoke refuses the node's token, after which the agent registers
// again with the join token under the same node id and runs work; a restart of `up` on
// the same data dir keeps the one node (the agent keeps its node secret in its state).
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "tests/json_output.h"
#include "tests/server_process.h"
#include "tests/test_util.h"

namespace fastgpu::testing {
namespace {

namespace json = boost::json;

// The nodes of `fastgpu node list -o json` (empty when the call fails).
json::array Nodes(const std::string& flags) {
  json::value v = JsonOutput(RunFastgpu("node list -o json " + flags));
  if (!v.is_object() || !v.as_object().contains("nodes")) return {};
  return v.at("nodes").as_array();
}

// Polls until `done` holds (at most ~20 s).
bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 200; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

bool JobSucceeds(const std::string& flags) {
  CommandResult sub = RunFastgpu("job submit -o json --gpu 0.5 " + flags + " -- echo hi");
  EXPECT_EQ(sub.exit_code, 0) << sub.output;
  if (sub.exit_code != 0) return false;
  std::string id(JsonOutput(sub).at("id").as_string());
  return WaitFor([&] {
    CommandResult r = RunFastgpu("job get -o json " + id + " " + flags);
    return r.exit_code == 0 && JsonOutput(r).at("state").as_string() == "succeeded";
  });
}

TEST(NodeRevokeE2eTest, RevokedNodeIsRefusedThenItsAgentRegistersAgain) {
  TempDir dir;
  std::string node_id, last_registered;
  {
    ServerProcess up({"up", "--data-dir", dir.path(), "--simulate-gpus", "1xH100-80GB",
                      "--heartbeat-interval", "0.2"});
    ASSERT_TRUE(up.ok()) << up.output();
    const std::string admin = ReadFirstLine(dir.path() + "/admin.token");
    const std::string flags = "--server " + up.url() + " --token " + admin;
    ASSERT_TRUE(WaitFor([&] { return Nodes(flags).size() == 1; }));
    node_id = std::string(Nodes(flags)[0].at("id").as_string());
    const int64_t registered_at = Nodes(flags)[0].at("registered_at").as_int64();

    // A tenant may not revoke.
    ASSERT_EQ(RunFastgpu("tenant create bob " + flags).exit_code, 0);
    CommandResult tok = RunFastgpu("token create --tenant bob -o json " + flags);
    ASSERT_EQ(tok.exit_code, 0) << tok.output;
    const std::string as_bob =
        "--server " + up.url() + " --token " + std::string(JsonOutput(tok).at("token").as_string());
    CommandResult denied = RunFastgpu("node revoke " + node_id + " " + as_bob);
    EXPECT_EQ(denied.exit_code, 1) << denied.output;
    EXPECT_NE(denied.output.find("PERMISSION_DENIED"), std::string::npos) << denied.output;

    // The admin revokes: the agent's token is refused, it registers again with the join
    // token (its secret was cleared) and keeps the node id; work runs on it.
    CommandResult revoked = RunFastgpu("node revoke " + node_id + " " + flags);
    ASSERT_EQ(revoked.exit_code, 0) << revoked.output;
    EXPECT_NE(revoked.output.find("revoked"), std::string::npos) << revoked.output;
    EXPECT_TRUE(JobSucceeds(flags));
    json::array nodes = Nodes(flags);
    ASSERT_EQ(nodes.size(), 1u);
    EXPECT_EQ(nodes[0].at("id").as_string(), node_id);
    EXPECT_EQ(nodes[0].at("registered_at").as_int64(), registered_at);
    EXPECT_EQ(RunFastgpu("node revoke node-ffffffffffffffff " + flags).exit_code, 1);
    EXPECT_EQ(up.Signal(SIGTERM), 0) << up.output();
    const std::string out = up.output();
    EXPECT_NE(out.find("answered 401"), std::string::npos) << out;
    const std::string reg = "registered as node " + node_id;
    ASSERT_NE(out.find(reg), std::string::npos) << out;
    EXPECT_NE(out.find(reg), out.rfind(reg)) << "registered only once: " << out;
  }
  // A restart on the same data dir: still one node, the same, and it runs work.
  ServerProcess up({"up", "--data-dir", dir.path(), "--simulate-gpus", "1xH100-80GB",
                    "--heartbeat-interval", "0.2"});
  ASSERT_TRUE(up.ok()) << up.output();
  const std::string flags =
      "--server " + up.url() + " --token " + ReadFirstLine(dir.path() + "/admin.token");
  EXPECT_TRUE(JobSucceeds(flags)) << up.output();
  json::array nodes = Nodes(flags);
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].at("id").as_string(), node_id);
  EXPECT_EQ(up.output().find("register refused"), std::string::npos) << up.output();
  EXPECT_EQ(up.Signal(SIGTERM), 0) << up.output();
}

}  // namespace
}  // namespace fastgpu::testing

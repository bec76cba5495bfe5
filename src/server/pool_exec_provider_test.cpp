// The exec provider (pool_exec_provider.h) against small scripts the tests write.
#include "server/pool_exec_provider.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "common/testing/temp_dir.h"
#include "server/pool_sim_provider.h"
#include "server/reconciler_test_util.h"
#include "server/server_test_util.h"

namespace fastgpu::server {
namespace {

using fastgpu::testing::ReadFile;
using fastgpu::testing::TempDir;

// Writes an executable shell script; returns its path.
std::string Script(const TempDir& dir, const std::string& name, const std::string& body) {
  std::string path = dir.path() + "/" + name;
  std::ofstream(path) << "#!/bin/sh\n" << body;
  chmod(path.c_str(), 0755);
  return path;
}

// Keeps one file per node under <dir>/nodes: what a cloud would hold.
std::string FakeCloud(const TempDir& dir) {
  return Script(dir, "cloud.sh", "state='" + dir.path() + R"sh(/nodes'
mkdir -p "$state"
in=$(cat)
name=$(printf '%s' "$in" | sed -n 's/.*"name":"\([^"]*\)".*/\1/p')
case "$1" in
  create) printf '%s' "$in" > "$state/$name"; echo '{"id":"i-123"}' ;;
  delete) rm -f "$state/$name" ;;
  list) printf '{"nodes":['; ls "$state" | sed 's/.*/"&"/' | paste -sd, -; printf ']}' ;;
  *) echo "unknown verb $1" >&2; exit 2 ;;
esac
)sh");
}

ExecProvider Provider(const std::string& script, int timeout_s = 10) {
  ExecProviderConfig c;
  c.command = {script};
  c.timeout = std::chrono::seconds(timeout_s);
  return ExecProvider({{"cloud", c}});
}

NodeRequest Request(const std::string& name) {
  NodeRequest r;
  r.group = "cloud";
  r.name = name;
  r.shape = {"H100-80GB", 8, 64000, 524288};
  r.server_url = "https://cp.example:8443";
  r.join_token = "join-secret";
  return r;
}

TEST(ExecProviderTest, CreateListDelete) {
  TempDir dir;
  ExecProvider p = Provider(FakeCloud(dir));
  ASSERT_TRUE(p.Create(Request("cloud-1")).ok());
  ASSERT_TRUE(p.Create(Request("cloud-2")).ok());
  std::string sent = ReadFile(dir.path() + "/nodes/cloud-1");
  EXPECT_NE(sent.find(R"("shape":{"gpu_model":"H100-80GB","gpus":8,"cpu_milli":64000,)"),
            std::string::npos)
      << sent;
  EXPECT_NE(sent.find(R"("join_token":"join-secret")"), std::string::npos) << sent;
  EXPECT_NE(sent.find(R"("server_url":"https://cp.example:8443")"), std::string::npos) << sent;
  auto listed = p.List("cloud");
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(*listed, (std::vector<std::string>{"cloud-1", "cloud-2"}));
  ASSERT_TRUE(p.Delete("cloud", "cloud-1").ok());
  listed = p.List("cloud");
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(*listed, (std::vector<std::string>{"cloud-2"}));
}

TEST(ExecProviderTest, FailureCarriesStderr) {
  TempDir dir;
  ExecProvider p = Provider(Script(
      dir, "bad.sh", "cat >/dev/null; echo 'QuotaExceeded: 0 of 8 GPUs left' >&2; exit 3\n"));
  Status st = p.Create(Request("cloud-1"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("create: "), std::string::npos) << st;
  EXPECT_NE(st.message().find("exited with 3: QuotaExceeded: 0 of 8 GPUs left"), std::string::npos)
      << st;
  // A list whose output is not the expected JSON is an error too, never a crash.
  ExecProvider garbled = Provider(Script(dir, "garbled.sh", "cat >/dev/null; echo hello\n"));
  auto listed = garbled.List("cloud");
  ASSERT_FALSE(listed.ok());
  EXPECT_NE(listed.status().message().find("not {\"nodes\":[...]}"), std::string::npos);
  // A command that does not exist.
  ExecProvider missing = Provider(dir.path() + "/no-such-command");
  EXPECT_FALSE(missing.Create(Request("cloud-1")).ok());
}

TEST(ExecProviderTest, TimeLimitKillsTheCommand) {
  TempDir dir;
  ExecProvider p = Provider(Script(dir, "slow.sh", "echo starting >&2; sleep 30\n"), 1);
  const auto start = std::chrono::steady_clock::now();
  Status st = p.Delete("cloud", "cloud-1");
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kDeadlineExceeded) << st;
  EXPECT_NE(st.message().find("ran past its 1 s limit"), std::string::npos) << st;
  EXPECT_NE(st.message().find("starting"), std::string::npos) << st;
  EXPECT_LT(took, std::chrono::seconds(10));
}

// Through the pool: the failing script's stderr becomes the group's reason; nothing crashes
// and the job keeps waiting.
TEST(ExecProviderTest, FailingScriptIsTheGroupsReason) {
  using namespace fastgpu::server::testing;
  TempDir dir;
  const std::string script =
      Script(dir, "bad.sh", "cat >/dev/null; echo 'gcloud: permission denied' >&2; exit 1\n");
  auto config = ParsePoolConfig(R"({"groups":[{"name":"cloud","provider":"exec","max_nodes":2,
    "shape":{"gpu_model":"H100-80GB","gpus":1,"cpu":"8","memory":"32GiB"},
    "exec":{"command":[")" + script +
                                R"("],"timeout_s":5}}]})");
  ASSERT_TRUE(config.ok()) << config.status();
  std::map<std::string, std::unique_ptr<NodeProvider>> providers;
  providers["exec"] = std::make_unique<ExecProvider>(
      std::map<std::string, ExecProviderConfig>{{"cloud", config->groups[0].exec}});
  ManualClock clock;
  auto pool = NodePool::Create(*config, std::move(providers), clock);
  ASSERT_TRUE(pool.ok()) << pool.status();
  ServerOptions options;
  options.pool = std::shared_ptr<NodePool>(std::move(pool).value());
  TestControlPlane cp(nullptr, options);
  std::string id = Submit(cp, JobBody(1, 0, "\"gpu_count\":1"));
  Pass(cp);
  auto snap = options.pool->Snapshot();
  ASSERT_EQ(snap.groups.size(), 1u);
  EXPECT_TRUE(snap.groups[0].nodes.empty());
  EXPECT_NE(snap.groups[0].reason.find("exited with 1: gcloud: permission denied"),
            std::string::npos)
      << snap.groups[0].reason;
  EXPECT_EQ(GetJob(cp, id).Str("state"), "pending");
}

}  // namespace
}  // namespace fastgpu::server

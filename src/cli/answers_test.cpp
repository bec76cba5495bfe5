// The client commands against a control plane whose answers have an unexpected shape: each
// command ends with exit 1 and a message naming the field, never an abort or a throw; and
// `job submit` sends the model's JobSpec form.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <mutex>

#include "cli/client_commands.h"
#include "model/json.h"
#include "net/testing/test_http_server.h"

namespace fastgpu::cli {
namespace {

using fastgpu::testing::Reply;
using fastgpu::testing::TestHttpServer;
using fastgpu::testing::TestRequest;
using fastgpu::testing::TestResponse;

struct CliRun {
  int exit_code = -1;
  std::string err;
};

// Runs `fastgpu <args>` against `url` (CLI11 takes the arguments in reverse order).
CliRun RunCli(const std::string& url, std::vector<std::string> args) {
  // The command's words and flags, then the shared flags with their values; "--" and the
  // workload's command go last.
  std::vector<std::string> ordered;
  std::vector<std::string> tail;
  bool after_dashes = false;
  for (std::string& a : args) {
    after_dashes = after_dashes || a == "--";
    (after_dashes ? tail : ordered).push_back(std::move(a));
  }
  ordered.insert(ordered.end(),
                 {"--server", url, "--token", "t", "--config", "/nonexistent/fastgpu.json"});
  ordered.insert(ordered.end(), tail.begin(), tail.end());
  std::vector<std::string> reversed(ordered.rbegin(), ordered.rend());
  CLI::App app;
  CliRun run;
  RegisterClientCommands(app, &run.exit_code);
  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  app.parse(reversed);
  ::testing::internal::GetCapturedStdout();
  run.err = ::testing::internal::GetCapturedStderr();
  return run;
}

TEST(CliAnswersTest, AnswersOfAnUnexpectedShapeNameTheField) {
  auto server = TestHttpServer::Start([](const TestRequest& r) -> TestResponse {
    const std::string path = r.Path();
    if (path == "/v1/jobs/job-1") return Reply(200, R"({"id":"job-1","state":7})");
    if (path == "/v1/jobs/job-1/logs") return Reply(200, R"({"data":"x","next_offset":"far"})");
    if (path == "/v1/nodes/n1/drain") return Reply(200, R"({"id":"n1","state":"draining"})");
    if (path == "/v1/jobs") return Reply(201, R"(["not","an","object"])");
    if (path == "/v1/usage") return Reply(200, R"({"rows":[{"gpu_hours":"many"}]})");
    return Reply(404, R"({"code":"NOT_FOUND","message":"no"})");
  });
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string url = (*server)->url();
  struct Case {
    std::vector<std::string> args;
    std::string field;
  };
  const std::vector<Case> cases = {
      {{"job", "wait", "job-1"}, "state: must be a string"},
      {{"job", "logs", "job-1"}, "next_offset: must be an integer"},
      {{"node", "drain", "n1"}, "name: is required"},
      {{"job", "submit", "--", "true"}, "value: must be an object"},
      {{"usage"}, "rows[0].gpu_hours: must be a number"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args[0] + " " + (c.args.size() > 1 ? c.args[1] : ""));
    CliRun run = RunCli(url, c.args);
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_NE(run.err.find("unexpected answer from the control plane: " + c.field),
              std::string::npos)
        << run.err;
  }
}

TEST(CliAnswersTest, SubmitSendsTheModelJobSpec) {
  std::mutex mu;
  std::string body;
  auto server = TestHttpServer::Start([&](const TestRequest& r) -> TestResponse {
    std::lock_guard lock(mu);
    body = r.body;
    return Reply(201, R"({"id":"job-1","state":"pending"})");
  });
  ASSERT_TRUE(server.ok()) << server.status();
  CliRun run = RunCli((*server)->url(),
                      {"job", "submit", "--gpu", "0.5", "--memory", "8GiB", "--isolation", "mps",
                       "--env", "K=V", "--name", "demo", "--", "python", "train.py"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  std::lock_guard lock(mu);
  Result<model::JobSpec> spec =
      model::FromJsonText<model::JobSpec>(body, model::UnknownFields::kRefuse);
  ASSERT_TRUE(spec.ok()) << spec.status() << " in " << body;
  EXPECT_EQ(spec->name, "demo");
  EXPECT_EQ(spec->command, (std::vector<std::string>{"python", "train.py"}));
  EXPECT_EQ(spec->env.at("K"), "V");
  EXPECT_EQ(spec->shape.gpu_count, 1);
  EXPECT_EQ(spec->shape.gpu_milli, 500);
  EXPECT_EQ(spec->shape.memory_mib, 8192);
  EXPECT_EQ(spec->shape.isolation, model::Isolation::kMps);
  EXPECT_EQ(body.find("image"), std::string::npos);  // only when given
  CliRun bad = RunCli((*server)->url(), {"job", "submit", "--isolation", "magic", "--", "true"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("--isolation"), std::string::npos) << bad.err;
}

// Several control-plane replicas as repeated --server flags (or one comma-separated list):
// the command moves past the one that does not answer.
TEST(CliAnswersTest, RepeatedServerFlagsFormOneListOfReplicas) {
  int dead_port = 0;
  {
    auto gone = TestHttpServer::Start([](const TestRequest&) { return Reply(200, "{}"); });
    ASSERT_TRUE(gone.ok());
    dead_port = (*gone)->port();
  }
  auto server = TestHttpServer::Start([](const TestRequest& r) -> TestResponse {
    if (r.Path() == "/v1/jobs/job-1") {
      return Reply(200, R"({"id":"job-1","state":"succeeded","reason":"done"})");
    }
    return Reply(404, R"({"code":"NOT_FOUND","message":"no"})");
  });
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string dead = "http://127.0.0.1:" + std::to_string(dead_port);
  // RunCli adds the live address as the last --server flag.
  CliRun repeated = RunCli((*server)->url(), {"job", "wait", "job-1", "--server", dead});
  EXPECT_EQ(repeated.exit_code, 0) << repeated.err;
  CliRun listed = RunCli(dead + "," + (*server)->url(), {"job", "wait", "job-1"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  CliRun only_dead = RunCli(dead, {"job", "wait", "job-1"});
  EXPECT_NE(only_dead.exit_code, 0);
}

}  // namespace
}  // namespace fastgpu::cli

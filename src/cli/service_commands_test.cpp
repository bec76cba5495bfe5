// `fastgpu service`: durations as flags take them, and the tables of the API's answers.
#include <gtest/gtest.h>

#include "cli/service_commands.h"

namespace fastgpu::cli {
namespace {

TEST(ServiceCommandsTest, Durations) {
  EXPECT_EQ(ParseDurationSeconds("300", "--idle-timeout").value_or(-1), 300);
  EXPECT_EQ(ParseDurationSeconds("45s", "--idle-timeout").value_or(-1), 45);
  EXPECT_EQ(ParseDurationSeconds("5m", "--idle-timeout").value_or(-1), 300);
  EXPECT_EQ(ParseDurationSeconds("2h", "--idle-timeout").value_or(-1), 7200);
  for (const char* bad : {"", "5x", "-1", "m", "1.5m", "999999h"}) {
    auto r = ParseDurationSeconds(bad, "--idle-timeout");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message().rfind("usage: --idle-timeout:", 0), 0u) << r.status();
  }
}

TEST(ServiceCommandsTest, ListAndDetail) {
  const boost::json::value svc = boost::json::parse(R"({
    "id": "svc-1", "name": "chat", "state": "running", "reason": "2 of 2 replicas ready",
    "replicas": 2, "generation": 3,
    "spec": {"command": ["python", "serve.py"], "min_replicas": 1, "max_replicas": 4,
             "shape": {"description": "0.5 GPU"}, "port": true, "readiness": {"http": "/healthz"},
             "target_rps": 20, "target_gpu_util": 0, "image": ""},
    "replica_status": [
      {"job_id": "job-a", "state": "running", "generation": 3, "ready": true, "reason": "r"},
      {"job_id": "job-b", "state": "running", "generation": 3, "ready": true, "reason": "r"}]})");
  const std::string list = RenderServiceList(boost::json::object{{"services", {svc}}});
  EXPECT_NE(list.find("chat"), std::string::npos) << list;
  EXPECT_NE(list.find("2/2"), std::string::npos) << list;
  EXPECT_NE(list.find("1-4"), std::string::npos) << list;
  const std::string detail = RenderService(svc);
  EXPECT_NE(detail.find("2 ready of 2 wanted (1..4)"), std::string::npos) << detail;
  EXPECT_NE(detail.find("HTTP GET /healthz"), std::string::npos) << detail;
  EXPECT_NE(detail.find("20 requests/s per replica"), std::string::npos) << detail;
  EXPECT_NE(detail.find("job-b"), std::string::npos) << detail;
  // An answer without the expected fields renders empty cells, not a crash.
  EXPECT_NE(RenderService(boost::json::value(nullptr)).find("state:"), std::string::npos);
}

}  // namespace
}  // namespace fastgpu::cli

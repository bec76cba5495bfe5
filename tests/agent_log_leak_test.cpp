// Leaks: a log-heavy `fastgpu up` session under valgrind loses no memory. A few jobs each
// print ~100 KB that the local agent ships to the control plane; after SIGTERM valgrind
// must find no definite leak (a type defined twice with different layouts in one
// namespace once made the binary free shipped log chunks with the wrong destructor).
// Skips when valgrind is not installed.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "net/http_client.h"
#include "tests/server_process.h"
#include "tests/up_process.h"

namespace fastgpu::testing {
namespace {

namespace json = boost::json;

bool HaveValgrind() { return std::system("valgrind --version >/dev/null 2>&1") == 0; }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(AgentLogLeakTest, LogHeavyUpSessionHasNoDefiniteLeakUnderValgrind) {
  if (!HaveValgrind()) GTEST_SKIP() << "valgrind is not installed (scripts/deps.sh installs it)";
  constexpr int kJobs = 3;
  constexpr int kBytesPerJob = 100000;
  constexpr int kLeakExit = 99;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(150);
  TempDir dir;
  const std::string vg_log = dir.path() + "/valgrind.log";
  UpProcess up({"--log-level", "warn", "up", "--data-dir", dir.path(), "--simulate-gpus",
                "1xH100-80GB", "--heartbeat-interval", "0.2"},
               dir.path() + "/up.log",
               {"valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite",
                "--show-leak-kinds=definite", "--error-exitcode=" + std::to_string(kLeakExit),
                "--child-silent-after-fork=yes", "--log-file=" + vg_log},
               std::chrono::seconds(90));
  ASSERT_TRUE(up.ok()) << up.output() << ReadAll(vg_log);
  const std::string admin = ReadFirstLine(dir.path() + "/admin.token");
  net::HttpClientOptions o;
  o.bearer_token = admin;
  o.read_timeout = std::chrono::seconds(30);
  auto client = net::HttpClient::Create(up.url(), o);
  ASSERT_TRUE(client.ok());

  const std::string script =
      "head -c " + std::to_string(kBytesPerJob) + " /dev/zero | tr '\\0' x; echo";
  const std::string body =
      json::serialize(json::object{{"name", "chatty"},
                                   {"command", json::array{"sh", "-c", script}},
                                   {"shape", json::object{{"gpu_count", 1}, {"gpu_milli", 100}}}});
  std::vector<std::string> ids;
  for (int i = 0; i < kJobs; ++i) {
    auto r = (*client)->Post("/v1/jobs", body);
    ASSERT_TRUE(r.ok() && r->status == 201) << (r.ok() ? r->body : r.status().ToString());
    ids.emplace_back(json::parse(r->body).at("id").as_string());
  }
  // Every job succeeded and its whole output reached the control plane.
  for (const std::string& id : ids) {
    int64_t stored = 0;
    std::string state;
    while (std::chrono::steady_clock::now() < deadline) {
      auto job = (*client)->Get("/v1/jobs/" + id);
      if (job.ok() && job->status == 200) state = json::parse(job->body).at("state").as_string();
      auto logs = (*client)->Get("/v1/jobs/" + id + "/logs?offset=0");
      if (logs.ok() && logs->status == 200) {
        stored = json::parse(logs->body).at("next_offset").as_int64();
      }
      if (state == "succeeded" && stored > kBytesPerJob) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ASSERT_EQ(state, "succeeded") << id << "\n" << up.output();
    ASSERT_GT(stored, kBytesPerJob) << id;
  }
  int code = up.Stop(SIGTERM, std::chrono::seconds(60));
  std::string report = ReadAll(vg_log);
  size_t summary = report.find("LEAK SUMMARY");
  std::printf("%s\n",
              summary == std::string::npos ? report.c_str() : report.substr(summary).c_str());
  EXPECT_NE(report.find("ERROR SUMMARY"), std::string::npos) << "valgrind did not finish:\n"
                                                             << report;
  EXPECT_EQ(report.find("definitely lost in"), std::string::npos) << report;
  EXPECT_EQ(code, 0) << "exit " << code << " (" << kLeakExit << ": valgrind found errors)\n"
                     << report;
}

}  // namespace
}  // namespace fastgpu::testing

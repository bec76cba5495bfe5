// Services end to end with the real binary: `fastgpu up --simulate-gpus 2xH100-80GB` on
// 127.0.0.1 port 0 and the `fastgpu service` commands. A service of a `sleep` command with
// --min 2 keeps two replicas running; a replica whose process is killed, or whose job is
// cancelled, is replaced; `service update` rolls the replicas to the new generation;
// `service delete` leaves nothing running; `usage --by service` bills the replicas.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/testing/child_process.h"
#include "tests/service_up.h"

namespace fastgpu::testing {
namespace {

namespace json = boost::json;

TEST(ServiceE2eTest, KeepsReplacesRollsAndDeletes) {
  Up s;
  ASSERT_TRUE(s.up->ok()) << s.up->output();
  // A duration of its own, so that this test's replicas are told apart from other sleeps.
  const std::string sleep_cmd = "sleep " + std::to_string(36000 + getpid() % 9000);

  CommandResult created =
      s.Cli("service create sleeper --gpu 0.25 --min 2 -o json -- " + sleep_cmd);
  ASSERT_EQ(created.exit_code, 0) << created.output;
  ASSERT_TRUE(WaitFor([&] { return s.Running("sleeper").size() == 2; }))
      << json::serialize(s.Get("sleeper"));
  ASSERT_TRUE(WaitFor([&] { return Pids(sleep_cmd).size() == 2; })) << Pids(sleep_cmd).size();
  CommandResult listed = s.Cli("service list");
  EXPECT_EQ(listed.exit_code, 0);
  EXPECT_NE(listed.output.find("sleeper"), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find("2/2"), std::string::npos) << listed.output;

  // A replica's process killed: its job fails and a new replica takes its place.
  auto before = s.Running("sleeper");
  ASSERT_EQ(before.size(), 2u);
  const std::vector<pid_t> pids = Pids(sleep_cmd);
  ASSERT_EQ(pids.size(), 2u);
  ASSERT_EQ(kill(pids[0], SIGKILL), 0);
  ASSERT_TRUE(WaitFor([&] {
    auto now = s.Running("sleeper");
    std::set<std::string> ids;
    for (auto& [id, gen] : now) ids.insert(id);
    return now.size() == 2 && !(ids.count(before[0].first) && ids.count(before[1].first));
  })) << json::serialize(s.Get("sleeper"));

  // A replica's job cancelled by hand: replaced too.
  auto second = s.Running("sleeper");
  ASSERT_EQ(second.size(), 2u);
  CommandResult cancel = s.Cli("job cancel " + second[0].first);
  ASSERT_EQ(cancel.exit_code, 0) << cancel.output;
  ASSERT_TRUE(WaitFor([&] {
    auto now = s.Running("sleeper");
    return now.size() == 2 && now[0].first != second[0].first && now[1].first != second[0].first;
  })) << json::serialize(s.Get("sleeper"));

  // An update rolls both replicas to generation 2.
  CommandResult updated = s.Cli("service update sleeper --env VERSION=2");
  ASSERT_EQ(updated.exit_code, 0) << updated.output;
  ASSERT_TRUE(WaitFor([&] {
    auto now = s.Running("sleeper");
    json::value v = s.Get("sleeper");
    return now.size() == 2 && now[0].second == 2 && now[1].second == 2 && v.is_object() &&
           v.at("replica_jobs").as_array().size() == 2 && v.at("state") == "running";
  })) << json::serialize(s.Get("sleeper"));
  ASSERT_TRUE(WaitFor([&] { return Pids(sleep_cmd).size() == 2; })) << Pids(sleep_cmd).size();

  // Usage by service: the replicas' time is billed under the service's name.
  CommandResult usage = s.Cli("usage --by service -o json");
  ASSERT_EQ(usage.exit_code, 0) << usage.output;
  EXPECT_NE(usage.output.find("\"key\":\"sleeper\""), std::string::npos) << usage.output;

  // Delete: nothing of it runs afterwards.
  CommandResult deleted = s.Cli("service delete sleeper");
  ASSERT_EQ(deleted.exit_code, 0) << deleted.output;
  EXPECT_NE(deleted.output.find("cancelled 2 replicas"), std::string::npos) << deleted.output;
  EXPECT_NE(s.Cli("service get sleeper").exit_code, 0);
  EXPECT_TRUE(WaitFor([&] { return Pids(sleep_cmd).empty(); })) << Pids(sleep_cmd).size();
  CommandResult jobs = s.Cli("job list --state running -o json");
  EXPECT_EQ(jobs.output.find("sleeper"), std::string::npos) << jobs.output;
}

}  // namespace
}  // namespace fastgpu::testing

// The service pass on a ManualClock with a simulated agent: replicas kept at the count and
// replaced when they end or their node is lost, the crash loop's back-off growing, a rolling
// update one replica at a time, scaling up and down.
#include <algorithm>

#include "server/service_test_util.h"

namespace fastgpu::server::testing {
namespace {

using ServicePassTest = ServiceFixture;

int LiveCount(ServiceFixture& f, const std::vector<std::string>& jobs) {
  int n = 0;
  for (const std::string& j : jobs) {
    const std::string state = f.JobField(j, "state");
    n += state == "pending" || state == "scheduled" || state == "running";
  }
  return n;
}

TEST_F(ServicePassTest, KeepsTheCountAndReplacesWhatEnds) {
  ASSERT_EQ(Create(Body("chat", R"("min_replicas":2)")).status, 201);
  RunAll("chat");
  std::vector<std::string> jobs = Replicas("chat");
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(State("chat"), "running");

  // A replica that ran a good while and exited is replaced at once (no back-off).
  Advance(60);
  Report(jobs[0], "exited", 0);
  cp_.Reconcile();
  std::vector<std::string> now = Replicas("chat");
  ASSERT_EQ(now.size(), 2u);
  EXPECT_EQ(now[0], jobs[1]);
  EXPECT_NE(now[1], jobs[0]);
  EXPECT_EQ(JobField(jobs[0], "state"), "succeeded");

  // A replica cancelled by hand is replaced too.
  ASSERT_EQ(cp_.Do("POST", "/v1/jobs/" + now[1] + "/cancel", token_).status, 200);
  cp_.Reconcile();
  std::vector<std::string> after_cancel = Replicas("chat");
  ASSERT_EQ(after_cancel.size(), 2u);
  EXPECT_EQ(std::count(after_cancel.begin(), after_cancel.end(), now[1]), 0);
  EXPECT_NE(State("chat"), "backoff");
}

TEST_F(ServicePassTest, ReplicasOfALostNodeAreReplaced) {
  ASSERT_EQ(Create(Body("chat", R"("min_replicas":2)")).status, 201);
  RunAll("chat");
  std::vector<std::string> jobs = Replicas("chat");
  ASSERT_EQ(jobs.size(), 2u);
  Advance(30);  // they ran long enough not to count as crashes
  // The node falls silent; a second node takes over.
  SimAgent second(cp_, "node-b", 4);
  for (int i = 0; i < 4; ++i) {
    cp_.clock().Advance(std::chrono::seconds(5));
    ASSERT_EQ(second.Heartbeat().status, 200);
  }
  cp_.Reconcile();
  for (const std::string& j : jobs) EXPECT_EQ(JobField(j, "state"), "failed");
  std::vector<std::string> now = Replicas("chat");
  ASSERT_EQ(now.size(), 2u);
  for (const std::string& j : now) {
    EXPECT_EQ(std::count(jobs.begin(), jobs.end(), j), 0);
    EXPECT_EQ(JobField(j, "state"), "scheduled") << j;
  }
}

TEST_F(ServicePassTest, ACrashLoopBacksOffLongerEachTime) {
  ASSERT_EQ(Create(Body("chat")).status, 201);
  RunAll("chat");
  std::string job = Replicas("chat").at(0);
  std::vector<std::string> seen = {job};
  // Each replica exits 1 two seconds after it starts: the wait doubles, 1 s, 2 s, 4 s.
  for (int delay : {1, 2, 4}) {
    SCOPED_TRACE("delay " + std::to_string(delay));
    cp_.clock().Advance(std::chrono::seconds(2));
    Report(job, "exited", 1);
    cp_.Reconcile();
    EXPECT_EQ(State("chat"), "backoff");
    EXPECT_EQ(Reason("chat"), "crash loop: replica exited 1 within 2s; next start in " +
                                  std::to_string(delay) + "s");
    EXPECT_TRUE(Replicas("chat").empty());  // nothing starts during the wait
    cp_.clock().Advance(std::chrono::milliseconds(delay * 1000 - 100));
    cp_.Reconcile();
    EXPECT_TRUE(Replicas("chat").empty());
    cp_.clock().Advance(std::chrono::milliseconds(100));
    RunAll("chat");
    ASSERT_EQ(Replicas("chat").size(), 1u);
    job = Replicas("chat")[0];
    EXPECT_EQ(std::count(seen.begin(), seen.end(), job), 0);
    seen.push_back(job);
  }
  // A replica that ran past the crash window ends the loop: it is replaced at once, and the
  // next crash waits 1 s again.
  Advance(15);
  cp_.Reconcile();
  EXPECT_EQ(State("chat"), "running");
  Report(job, "exited", 1);
  RunAll("chat");
  ASSERT_EQ(Replicas("chat").size(), 1u);
  job = Replicas("chat")[0];
  cp_.clock().Advance(std::chrono::seconds(1));
  Report(job, "exited", 1);
  cp_.Reconcile();
  EXPECT_EQ(Reason("chat"), "crash loop: replica exited 1 within 1s; next start in 1s");
}

TEST_F(ServicePassTest, AnUpdateRollsOneReplicaAtATime) {
  ASSERT_EQ(Create(Body("chat", R"("min_replicas":2)")).status, 201);
  RunAll("chat");
  const std::vector<std::string> old = Replicas("chat");
  ASSERT_EQ(old.size(), 2u);
  Advance(20);
  ASSERT_EQ(cp_.Do("PATCH", "/v1/services/chat", token_, R"({"env":{"V":"2"}})").status, 200);

  std::vector<std::string> all = old;
  int steps = 0;
  while (steps++ < 10) {
    cp_.Reconcile();
    std::vector<std::string> jobs = Replicas("chat");
    for (const std::string& j : jobs) {
      if (std::count(all.begin(), all.end(), j) == 0) all.push_back(j);
    }
    const int live = LiveCount(*this, all);
    EXPECT_GE(live, 2) << "never fewer than wanted while rolling";
    EXPECT_LE(live, 3) << "at most one extra while rolling";
    int new_pending = 0, old_live = 0;
    for (const std::string& j : jobs) {
      const bool is_old = std::count(old.begin(), old.end(), j) > 0;
      old_live += is_old;
      if (!is_old && JobField(j, "state") != "running") ++new_pending;
    }
    EXPECT_LE(new_pending, 1) << "one new replica starts at a time";
    if (old_live == 0 && new_pending == 0) break;
    // The new replica becomes ready; the pass then stops one old one.
    for (const std::string& j : jobs) {
      if (JobField(j, "state") == "scheduled") Report(j, "running");
    }
  }
  EXPECT_EQ(State("chat"), "running") << Reason("chat");
  std::vector<std::string> now = Replicas("chat");
  ASSERT_EQ(now.size(), 2u);
  for (const std::string& j : now) {
    EXPECT_EQ(cp_.Do("GET", "/v1/jobs/" + j, token_).body.at("service_generation").as_int64(), 2);
    EXPECT_EQ(cp_.Do("GET", "/v1/jobs/" + j, token_).body.at("env").at("V").as_string(), "2");
  }
  for (const std::string& j : old) EXPECT_EQ(JobField(j, "state"), "cancelled");
}

TEST_F(ServicePassTest, ScalesUpAndDownNewestFirst) {
  ASSERT_EQ(Create(Body("chat", R"("min_replicas":1,"max_replicas":4)")).status, 201);
  RunAll("chat");
  ASSERT_EQ(Replicas("chat").size(), 1u);
  ASSERT_EQ(Scale("chat", 3).status, 200);
  RunAll("chat");
  std::vector<std::string> three = Replicas("chat");
  ASSERT_EQ(three.size(), 3u);
  EXPECT_EQ(State("chat"), "running");
  ASSERT_EQ(Scale("chat", 1).status, 200);
  cp_.Reconcile();
  std::vector<std::string> one = Replicas("chat");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0], three[0]);  // the oldest stays
  EXPECT_EQ(JobField(three[2], "state"), "cancelled");
  EXPECT_EQ(JobField(three[1], "state"), "cancelled");
  // Scaled to zero (min 0): nothing runs, the service is idle.
  ASSERT_EQ(cp_.Do("PATCH", "/v1/services/chat", token_, R"({"min_replicas":0})").status, 200);
  ASSERT_EQ(Scale("chat", 0).status, 200);
  cp_.Reconcile();
  EXPECT_TRUE(Replicas("chat").empty());
  EXPECT_EQ(State("chat"), "idle");
}

TEST_F(ServicePassTest, TheAutoscalerHookClampsAndSaysWhy) {
  ASSERT_EQ(Create(Body("chat", R"("min_replicas":1,"max_replicas":3)")).status, 201);
  const std::string id = Get("chat").Str("id");
  Result<ScaleOutcome> out = Internal("not run");
  ASSERT_TRUE(cp_.store()
                  .Write([&](store::WriteTx& tx) -> Status {
                    out = SetServiceReplicas(tx, id, 9, "autoscaler: 90 rps", cp_.clock().Now());
                    return out.status();
                  })
                  .ok());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->service.replicas, 3);
  EXPECT_TRUE(out->clamped);
  EXPECT_EQ(Reason("chat"), "autoscaler: 90 rps: 3 replicas wanted (clamped to max_replicas 3)");
  RunAll("chat");
  EXPECT_EQ(Replicas("chat").size(), 3u);
}

}  // namespace
}  // namespace fastgpu::server::testing

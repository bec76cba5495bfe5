// A node's loss never hides what its replicas reported: a replica that exited with code 7
// before the loss fails the job with code 7 (not "node lost", not a retry), even when the
// report and the expired lease are seen in the same reconciler pass.
#include <gtest/gtest.h>

#include "server/server_test_util.h"

namespace fastgpu::server::testing {
namespace {

TEST(NodeLossTest, AnExitReportedBeforeTheLossIsKept) {
  TestControlPlane cp;  // lease: the default 15 s
  SimAgent a(cp, "a", 1), b(cp, "b", 1);
  Reply r =
      cp.Do("POST", "/v1/jobs", cp.admin(),
            R"({"command":["sleep","9"],"shape":{"gpu_count":1},"replicas":2,"max_retries":3})");
  ASSERT_EQ(r.status, 201) << r.raw;
  const std::string id = r.Str("id");
  cp.Reconcile();
  auto on_a = a.Allocations(a.Heartbeat());
  auto on_b = b.Allocations(b.Heartbeat());
  ASSERT_EQ(on_a.size() + on_b.size(), 2u);
  json::array ra, rb;
  for (const auto& x : on_a) ra.push_back(ReplicaReportJson(x, "running"));
  for (const auto& x : on_b) rb.push_back(ReplicaReportJson(x, "running"));
  a.Heartbeat(ra);
  b.Heartbeat(rb);
  cp.Reconcile();
  ASSERT_EQ(cp.Do("GET", "/v1/jobs/" + id, cp.admin()).Str("state"), "running");

  // b goes silent past its lease; a's replica exits 7 just before the next pass.
  cp.clock().Advance(std::chrono::seconds(16));
  json::array exited;
  for (const auto& x : on_a) exited.push_back(ReplicaReportJson(x, "exited", 7));
  ASSERT_EQ(a.Heartbeat(exited).status, 200);
  auto pass = cp.server().reconciler().RunOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->nodes_lost, 1);
  Reply job = cp.Do("GET", "/v1/jobs/" + id, cp.admin());
  EXPECT_EQ(job.Str("state"), "failed") << job.raw;
  EXPECT_NE(job.Str("reason").find("exited with code 7"), std::string::npos) << job.raw;
  EXPECT_EQ(job.body.at("attempts").as_int64(), 1) << job.raw;
  for (const auto& alloc : job.body.at("allocations").as_array()) {
    if (alloc.at("node_id").as_string() == a.node_id()) {
      EXPECT_EQ(alloc.at("exit_code").as_int64(), 7) << job.raw;
    }
  }
}

}  // namespace
}  // namespace fastgpu::server::testing

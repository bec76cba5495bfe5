// The conformance suite, part 2: jobs, allocations and job logs.
#include <gtest/gtest.h>

#include "store/store_test_util.h"

namespace fastgpu::testing {
namespace {

void ExpectSameJob(const model::Job& a, const model::Job& b, bool events = true) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.tenant_id, b.tenant_id);
  EXPECT_EQ(a.spec.name, b.spec.name);
  EXPECT_EQ(a.spec.command, b.spec.command);
  EXPECT_EQ(a.spec.env, b.spec.env);
  EXPECT_EQ(a.spec.shape, b.spec.shape);
  EXPECT_EQ(a.spec.replicas, b.spec.replicas);
  EXPECT_EQ(a.spec.max_retries, b.spec.max_retries);
  EXPECT_EQ(a.spec.priority, b.spec.priority);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.attempts, b.attempts);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
  if (!events) return;
  ASSERT_EQ(a.events.size(), b.events.size());
  for (size_t i = 0; i < a.events.size(); ++i) {
    EXPECT_EQ(a.events[i].at, b.events[i].at);
    EXPECT_EQ(a.events[i].from, b.events[i].from);
    EXPECT_EQ(a.events[i].to, b.events[i].to);
    EXPECT_EQ(a.events[i].reason, b.events[i].reason);
  }
}

class JobsTest : public StoreConformanceTest {
 protected:
  void SetUp() override {
    StoreConformanceTest::SetUp();
    ASSERT_TRUE(W([](store::WriteTx& tx) {
                  FASTGPU_RETURN_IF_ERROR(tx.CreateTenant(MakeTenant("tenant-1", "alpha")));
                  FASTGPU_RETURN_IF_ERROR(tx.CreateTenant(MakeTenant("tenant-2", "bravo")));
                  FASTGPU_RETURN_IF_ERROR(tx.UpsertNode(MakeNode("node-1", "a1", 2)).status());
                  return tx.UpsertNode(MakeNode("node-2", "a2", 2)).status();
                }).ok());
  }
  Result<store::CreateJobResult> Create(const model::Job& job, std::string key = "",
                                        std::string hash = "") {
    Result<store::CreateJobResult> out = Internal("not run");
    Status s = W([&](store::WriteTx& tx) -> Status {
      out = tx.CreateJob(job, key, hash);
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  }
  Result<store::JobPage> List(const store::JobFilter& f) {
    Result<store::JobPage> out = Internal("not run");
    Status s = R([&](store::ReadTx& tx) -> Status {
      out = tx.ListJobs(f);
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  }
  Result<store::AllocationRecord> Update(const std::string& id, store::AllocationState st,
                                         int64_t at_ms) {
    Result<store::AllocationRecord> out = Internal("not run");
    store::AllocationUpdate u;
    u.state = st;
    u.at = T(at_ms);
    u.exit_code = 3;
    u.signal = 9;
    u.message = "now " + std::string(store::AllocationStateName(st));
    Status s = W([&](store::WriteTx& tx) -> Status {
      out = tx.UpdateAllocation(id, u);
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  }
};

TEST_P(JobsTest, CreateGetAndErrors) {
  model::Job job = MakeJob("job-1", "tenant-1");
  job.events.push_back(
      model::JobEvent{T(1000), model::JobState::kPending, model::JobState::kPending, "submitted"});
  auto created = Create(job);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_FALSE(created->existed);
  ExpectSameJob(created->job, job);
  EXPECT_EQ(Create(job).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Create(MakeJob("job-2", "tenant-x")).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(R([&](store::ReadTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(model::Job got, tx.GetJob("job-1"));
                ExpectSameJob(got, job);
                EXPECT_EQ(tx.GetJob("job-x").status().code(), StatusCode::kNotFound);
                return OkStatus();
              }).ok());
}

TEST_P(JobsTest, FindJobsByNameOfOneTenantOrAll) {
  auto named = [](const std::string& id, const std::string& tenant, const std::string& name,
                  int64_t at) {
    model::Job j = MakeJob(id, tenant, at);
    j.spec.name = name;
    j.events.push_back(
        model::JobEvent{T(at), model::JobState::kPending, model::JobState::kPending, "submitted"});
    return j;
  };
  ASSERT_TRUE(Create(named("job-1", "tenant-1", "hello", 1000)).ok());
  ASSERT_TRUE(Create(named("job-2", "tenant-1", "other", 2000)).ok());
  ASSERT_TRUE(Create(named("job-3", "tenant-2", "hello", 3000)).ok());
  ASSERT_TRUE(Create(named("job-4", "tenant-1", "hello", 4000)).ok());
  ASSERT_TRUE(Create(named("job-5", "tenant-1", "", 5000)).ok());
  auto ids = [](const std::vector<model::Job>& jobs) {
    std::vector<std::string> out;
    for (const model::Job& j : jobs) out.push_back(j.id);
    return out;
  };
  using V = std::vector<std::string>;
  ASSERT_TRUE(R([&](store::ReadTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(auto mine, tx.FindJobsByName("tenant-1", "hello", 10));
                EXPECT_EQ(ids(mine), (V{"job-1", "job-4"}));
                EXPECT_TRUE(mine[0].events.empty());  // without events, as ListJobs
                EXPECT_EQ(mine[0].spec.name, "hello");
                FASTGPU_ASSIGN_OR_RETURN(auto all, tx.FindJobsByName("", "hello", 10));
                EXPECT_EQ(ids(all), (V{"job-1", "job-3", "job-4"}));
                FASTGPU_ASSIGN_OR_RETURN(auto first, tx.FindJobsByName("", "hello", 2));
                EXPECT_EQ(ids(first), (V{"job-1", "job-3"}));
                FASTGPU_ASSIGN_OR_RETURN(auto theirs, tx.FindJobsByName("tenant-2", "other", 10));
                EXPECT_TRUE(theirs.empty());
                FASTGPU_ASSIGN_OR_RETURN(auto none, tx.FindJobsByName("tenant-1", "", 10));
                EXPECT_TRUE(none.empty());  // an unnamed job is never found by name
                FASTGPU_ASSIGN_OR_RETURN(auto prefix, tx.FindJobsByName("tenant-1", "hell", 10));
                EXPECT_TRUE(prefix.empty());
                return OkStatus();
              }).ok());
}

TEST_P(JobsTest, IdempotencyKeyKeepsTheFirstRequestHash) {
  const std::string h1(64, '1'), h2(64, '2');
  auto first = Create(MakeJob("job-1", "tenant-1"), "req-1", h1);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->existed);
  EXPECT_EQ(first->request_sha256_hex, "");
  // A second call answers the first job and the first call's hash, whatever it brings.
  auto second = Create(MakeJob("job-2", "tenant-1"), "req-1", h2);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->existed);
  EXPECT_EQ(second->job.id, "job-1");
  EXPECT_EQ(second->request_sha256_hex, h1);
  // Another tenant's key of the same name is its own, with its own hash.
  auto other = Create(MakeJob("job-3", "tenant-2"), "req-1", h2);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->existed);
  auto other_again = Create(MakeJob("job-4", "tenant-2"), "req-1", h1);
  ASSERT_TRUE(other_again.ok());
  EXPECT_EQ(other_again->job.id, "job-3");
  EXPECT_EQ(other_again->request_sha256_hex, h2);
  // A key stored without a hash answers an empty one.
  ASSERT_TRUE(Create(MakeJob("job-5", "tenant-1"), "req-2").ok());
  auto unhashed = Create(MakeJob("job-6", "tenant-1"), "req-2", h1);
  ASSERT_TRUE(unhashed.ok());
  EXPECT_TRUE(unhashed->existed);
  EXPECT_EQ(unhashed->request_sha256_hex, "");
}

TEST_P(JobsTest, IdempotencyKeyReturnsTheFirstJob) {
  auto first = Create(MakeJob("job-1", "tenant-1"), "req-1");
  ASSERT_TRUE(first.ok());
  auto second = Create(MakeJob("job-2", "tenant-1"), "req-1");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->existed);
  EXPECT_EQ(second->job.id, "job-1");
  // The same key from another tenant is another request.
  auto other = Create(MakeJob("job-3", "tenant-2"), "req-1");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->existed);
  auto page = List(store::JobFilter{});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->jobs.size(), 2u);
}

TEST_P(JobsTest, UpdateAppendsEvents) {
  model::Job job = MakeJob("job-1", "tenant-1");
  ASSERT_TRUE(Create(job).ok());
  ASSERT_TRUE(model::TransitionJob(job, model::JobState::kScheduled, "placed", T(2000)).ok());
  ASSERT_TRUE(W([&](store::WriteTx& tx) { return tx.UpdateJob(job); }).ok());
  ASSERT_TRUE(model::TransitionJob(job, model::JobState::kRunning, "started", T(3000)).ok());
  ASSERT_TRUE(W([&](store::WriteTx& tx) { return tx.UpdateJob(job); }).ok());
  model::Job fewer = job;
  fewer.events.pop_back();
  EXPECT_EQ(W([&](store::WriteTx& tx) { return tx.UpdateJob(fewer); }).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      W([&](store::WriteTx& tx) { return tx.UpdateJob(MakeJob("job-x", "tenant-1")); }).code(),
      StatusCode::kNotFound);
  ASSERT_TRUE(R([&](store::ReadTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(model::Job got, tx.GetJob("job-1"));
                ExpectSameJob(got, job);
                EXPECT_EQ(got.attempts, 1);
                EXPECT_EQ(got.events.size(), 2u);
                return OkStatus();
              }).ok());
}

TEST_P(JobsTest, SetPendingReasonChangesOnlyThePendingJobsReason) {
  model::Job waiting = MakeJob("job-1", "tenant-1");
  ASSERT_TRUE(Create(waiting).ok());
  model::Job placed = MakeJob("job-2", "tenant-1");
  ASSERT_TRUE(Create(placed).ok());
  ASSERT_TRUE(model::TransitionJob(placed, model::JobState::kScheduled, "placed", T(2000)).ok());
  ASSERT_TRUE(W([&](store::WriteTx& tx) { return tx.UpdateJob(placed); }).ok());
  int64_t before = 0;
  ASSERT_TRUE(R([&](store::ReadTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(before, tx.LatestChangeSeq());
                return OkStatus();
              }).ok());
  std::vector<bool> changed;
  ASSERT_TRUE(W([&](store::WriteTx& tx) -> Status {
                for (const auto& [id, why] : std::vector<std::pair<std::string, std::string>>{
                         {"job-1", "waiting: no room"},
                         {"job-1", "waiting: no room"},  // the same reason again
                         {"job-2", "waiting: no room"},  // not pending
                         {"job-x", "waiting: no room"}}) {
                  FASTGPU_ASSIGN_OR_RETURN(bool c, tx.SetPendingReason(id, why));
                  changed.push_back(c);
                }
                return OkStatus();
              }).ok());
  EXPECT_EQ(changed, (std::vector<bool>{true, false, false, false}));
  ASSERT_TRUE(R([&](store::ReadTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(model::Job got, tx.GetJob("job-1"));
                model::Job want = waiting;
                want.reason = "waiting: no room";  // and nothing else
                ExpectSameJob(got, want);
                FASTGPU_ASSIGN_OR_RETURN(model::Job other, tx.GetJob("job-2"));
                ExpectSameJob(other, placed);
                // One change-feed entry: job-1's.
                FASTGPU_ASSIGN_OR_RETURN(auto changes, tx.ListChangesSince(before, 10));
                EXPECT_EQ(changes.size(), 1u);
                if (!changes.empty()) EXPECT_EQ(changes[0].id, "job-1");
                return OkStatus();
              }).ok());
}

TEST_P(JobsTest, ListFiltersPagesAndCursors) {
  for (int i = 0; i < 7; ++i) {
    model::Job j = MakeJob("job-" + std::to_string(i), i % 2 ? "tenant-2" : "tenant-1", 1000 + i);
    if (i % 3 == 0) j.state = model::JobState::kRunning;
    j.events.push_back(model::JobEvent{T(1000), model::JobState::kPending, j.state, "x"});
    ASSERT_TRUE(Create(j).ok());
  }
  // Everything, in pages of 3.
  std::vector<std::string> seen;
  store::JobFilter f;
  f.limit = 3;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = List(f);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->jobs.size(), 3u);
    for (const model::Job& j : page->jobs) {
      seen.push_back(j.id);
      EXPECT_TRUE(j.events.empty());  // include_events is false
    }
    if (page->next_cursor.empty()) break;
    f.cursor = page->next_cursor;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"job-0", "job-1", "job-2", "job-3", "job-4", "job-5",
                                            "job-6"}));
  // By tenant and state, with events.
  store::JobFilter g;
  g.tenant_id = "tenant-1";
  g.states = {model::JobState::kRunning};
  g.include_events = true;
  auto page = List(g);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->jobs.size(), 2u);  // job-0, job-6
  EXPECT_EQ(page->jobs[0].id, "job-0");
  EXPECT_EQ(page->jobs[1].id, "job-6");
  EXPECT_EQ(page->jobs[1].events.size(), 1u);
  EXPECT_TRUE(page->next_cursor.empty());
  // Several states.
  store::JobFilter h;
  h.states = {model::JobState::kRunning, model::JobState::kPending};
  h.limit = 1000;
  page = List(h);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->jobs.size(), 7u);
  // A page that ends exactly at the last match has no cursor.
  store::JobFilter exact;
  exact.tenant_id = "tenant-2";
  exact.limit = 3;
  page = List(exact);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->jobs.size(), 3u);
  EXPECT_TRUE(page->next_cursor.empty());
  store::JobFilter bad;
  bad.cursor = "not-a-cursor";
  EXPECT_EQ(List(bad).status().code(), StatusCode::kInvalidArgument);
}

void ExpectSameAlloc(const store::AllocationRecord& a, const store::AllocationRecord& b) {
  EXPECT_EQ(a.alloc.id, b.alloc.id);
  EXPECT_EQ(a.alloc.job_id, b.alloc.job_id);
  EXPECT_EQ(a.alloc.replica, b.alloc.replica);
  EXPECT_EQ(a.alloc.node_id, b.alloc.node_id);
  EXPECT_EQ(a.alloc.gpu_model, b.alloc.gpu_model);
  EXPECT_EQ(a.alloc.slices, b.alloc.slices);
  EXPECT_EQ(a.alloc.cpu_milli, b.alloc.cpu_milli);
  EXPECT_EQ(a.alloc.memory_mib, b.alloc.memory_mib);
  EXPECT_EQ(a.alloc.created_at, b.alloc.created_at);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.exit_code, b.exit_code);
  EXPECT_EQ(a.signal, b.signal);
  EXPECT_EQ(a.started_at_ms, b.started_at_ms);
  EXPECT_EQ(a.ended_at_ms, b.ended_at_ms);
  EXPECT_EQ(a.message, b.message);
}

TEST_P(JobsTest, AllocationsCreateListAndErrors) {
  ASSERT_TRUE(Create(MakeJob("job-1", "tenant-1")).ok());
  ASSERT_TRUE(Create(MakeJob("job-2", "tenant-1")).ok());
  store::AllocationRecord a0 = MakeAlloc("alloc-0", "job-1", "node-1", 0);
  store::AllocationRecord a1 = MakeAlloc("alloc-1", "job-1", "node-2", 1);
  store::AllocationRecord b0 = MakeAlloc("alloc-2", "job-2", "node-1", 0);
  ASSERT_TRUE(W([&](store::WriteTx& tx) { return tx.CreateAllocations({a0, a1}); }).ok());
  ASSERT_TRUE(W([&](store::WriteTx& tx) { return tx.CreateAllocations({b0}); }).ok());
  // A gang is all or nothing: one bad member stores none.
  EXPECT_EQ(W([&](store::WriteTx& tx) {
              return tx.CreateAllocations({MakeAlloc("alloc-3", "job-2", "node-2"), a0});
            }).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(W([&](store::WriteTx& tx) {
              return tx.CreateAllocations({MakeAlloc("alloc-4", "job-x", "node-2")});
            }).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(W([&](store::WriteTx& tx) {
              return tx.CreateAllocations({MakeAlloc("alloc-5", "job-1", "node-x")});
            }).code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(R([&](store::ReadTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(store::AllocationRecord got, tx.GetAllocation("alloc-1"));
                ExpectSameAlloc(got, a1);
                EXPECT_EQ(tx.GetAllocation("alloc-3").status().code(), StatusCode::kNotFound);
                FASTGPU_ASSIGN_OR_RETURN(auto by_node, tx.ListAllocationsByNode("node-1"));
                EXPECT_EQ(by_node.size(), 2u);
                if (by_node.size() == 2) {
                  EXPECT_EQ(by_node[0].alloc.id, "alloc-0");
                  EXPECT_EQ(by_node[1].alloc.id, "alloc-2");
                }
                FASTGPU_ASSIGN_OR_RETURN(auto by_job, tx.ListAllocationsByJob("job-1"));
                EXPECT_EQ(by_job.size(), 2u);
                FASTGPU_ASSIGN_OR_RETURN(auto none, tx.ListAllocationsByJob("job-x"));
                EXPECT_TRUE(none.empty());
                FASTGPU_ASSIGN_OR_RETURN(auto live, tx.ListLiveAllocations());
                EXPECT_EQ(live.size(), 3u);
                return OkStatus();
              }).ok());
}

TEST_P(JobsTest, AllocationStatesAreMonotone) {
  ASSERT_TRUE(Create(MakeJob("job-1", "tenant-1")).ok());
  ASSERT_TRUE(W([&](store::WriteTx& tx) {
                return tx.CreateAllocations({MakeAlloc("alloc-0", "job-1", "node-1", 0),
                                             MakeAlloc("alloc-1", "job-1", "node-1", 1)});
              }).ok());
  ASSERT_TRUE(Update("alloc-0", store::AllocationState::kStarting, 10'000).ok());
  auto running = Update("alloc-0", store::AllocationState::kRunning, 10'250);
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(running->started_at_ms, 10'250);
  EXPECT_EQ(running->ended_at_ms, 0);
  // Repeating the state is OK and keeps the start time.
  auto again = Update("alloc-0", store::AllocationState::kRunning, 11'000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->started_at_ms, 10'250);
  EXPECT_EQ(Update("alloc-0", store::AllocationState::kStarting, 11'000).status().code(),
            StatusCode::kFailedPrecondition);
  auto exited = Update("alloc-0", store::AllocationState::kExited, 12'345);
  ASSERT_TRUE(exited.ok());
  EXPECT_EQ(exited->ended_at_ms, 12'345);
  EXPECT_EQ(exited->exit_code, 3);
  EXPECT_EQ(exited->signal, 9);
  EXPECT_EQ(exited->message, "now exited");
  EXPECT_EQ(Update("alloc-0", store::AllocationState::kRunning, 13'000).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(Update("alloc-0", store::AllocationState::kFailed, 13'000).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(Update("alloc-x", store::AllocationState::kRunning, 13'000).status().code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(
      W([](store::WriteTx& tx) { return tx.ReleaseAllocation("alloc-0", T(14'000)); }).ok());
  ASSERT_TRUE(
      W([](store::WriteTx& tx) { return tx.ReleaseAllocation("alloc-0", T(15'000)); }).ok());
  // A pending allocation released without running: ended, never started.
  ASSERT_TRUE(
      W([](store::WriteTx& tx) { return tx.ReleaseAllocation("alloc-1", T(16'000)); }).ok());
  EXPECT_EQ(W([](store::WriteTx& tx) { return tx.ReleaseAllocation("alloc-x", T(1)); }).code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(R([](store::ReadTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(store::AllocationRecord a0, tx.GetAllocation("alloc-0"));
                EXPECT_EQ(a0.state, store::AllocationState::kReleased);
                EXPECT_EQ(a0.started_at_ms, 10'250);
                EXPECT_EQ(a0.ended_at_ms, 12'345);
                FASTGPU_ASSIGN_OR_RETURN(store::AllocationRecord a1, tx.GetAllocation("alloc-1"));
                EXPECT_EQ(a1.started_at_ms, 0);
                EXPECT_EQ(a1.ended_at_ms, 16'000);
                FASTGPU_ASSIGN_OR_RETURN(auto live, tx.ListLiveAllocations());
                EXPECT_TRUE(live.empty());
                return OkStatus();
              }).ok());
}

TEST_P(JobsTest, LogsAppendIdempotentlyAndRefuseGaps) {
  ASSERT_TRUE(Create(MakeJob("job-1", "tenant-1")).ok());
  ASSERT_TRUE(W([&](store::WriteTx& tx) {
                return tx.CreateAllocations({MakeAlloc("alloc-0", "job-1", "node-1")});
              }).ok());
  auto append = [&](int64_t offset, std::string data) -> Result<int64_t> {
    Result<int64_t> out = Internal("not run");
    Status s = W([&](store::WriteTx& tx) -> Status {
      out = tx.AppendLog("alloc-0", offset, data);
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  };
  EXPECT_EQ(append(0, "hello ").value_or(-1), 6);
  EXPECT_EQ(append(0, "hello ").value_or(-1), 6);     // repeated: no-op
  EXPECT_EQ(append(3, "lo world").value_or(-1), 11);  // overlap trimmed
  EXPECT_EQ(append(11, "").value_or(-1), 11);
  Result<int64_t> gap = append(20, "late");
  EXPECT_EQ(gap.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(gap.status().message().find("expected offset 11"), std::string::npos);
  EXPECT_EQ(append(-1, "x").status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(R([](store::ReadTx& tx) -> Status {
                FASTGPU_ASSIGN_OR_RETURN(store::LogChunk all, tx.ReadLog("alloc-0", 0, 1 << 20));
                EXPECT_EQ(all.data, "hello world");
                EXPECT_EQ(all.next_offset, 11);
                EXPECT_EQ(all.size_bytes, 11);
                FASTGPU_ASSIGN_OR_RETURN(store::LogChunk mid, tx.ReadLog("alloc-0", 4, 3));
                EXPECT_EQ(mid.data, "o w");
                EXPECT_EQ(mid.next_offset, 7);
                FASTGPU_ASSIGN_OR_RETURN(store::LogChunk past, tx.ReadLog("alloc-0", 50, 3));
                EXPECT_EQ(past.data, "");
                EXPECT_EQ(past.next_offset, 50);
                FASTGPU_ASSIGN_OR_RETURN(int64_t size, tx.LogSize("alloc-0"));
                EXPECT_EQ(size, 11);
                EXPECT_EQ(tx.ReadLog("alloc-x", 0, 1).status().code(), StatusCode::kNotFound);
                EXPECT_EQ(tx.LogSize("alloc-x").status().code(), StatusCode::kNotFound);
                EXPECT_EQ(tx.ReadLog("alloc-0", -1, 1).status().code(),
                          StatusCode::kInvalidArgument);
                return OkStatus();
              }).ok());
  EXPECT_EQ(W([](store::WriteTx& tx) { return tx.AppendLog("alloc-x", 0, "x").status(); }).code(),
            StatusCode::kNotFound);
}

TEST_P(JobsTest, LogsManyChunksReadAcrossBoundaries) {
  ASSERT_TRUE(Create(MakeJob("job-1", "tenant-1")).ok());
  ASSERT_TRUE(W([&](store::WriteTx& tx) {
                return tx.CreateAllocations({MakeAlloc("alloc-0", "job-1", "node-1")});
              }).ok());
  std::string expected;
  for (int i = 0; i < 50; ++i) {
    std::string line = "line " + std::to_string(i) + "\n";
    const int64_t offset = static_cast<int64_t>(expected.size());
    expected += line;
    ASSERT_TRUE(
        W([&](store::WriteTx& tx) { return tx.AppendLog("alloc-0", offset, line).status(); }).ok());
  }
  std::string got;
  int64_t offset = 0;
  ASSERT_TRUE(R([&](store::ReadTx& tx) -> Status {
                for (int guard = 0; guard < 1000; ++guard) {
                  FASTGPU_ASSIGN_OR_RETURN(store::LogChunk c, tx.ReadLog("alloc-0", offset, 13));
                  if (c.data.empty()) break;
                  EXPECT_LE(c.data.size(), 13u);
                  got += c.data;
                  offset = c.next_offset;
                }
                return OkStatus();
              }).ok());
  EXPECT_EQ(got, expected);
}

TEST_P(JobsTest, LogCapKeepsOldestBytesAndRefusesNewer) {
  TempDir dir;
  std::unique_ptr<store::Store> small = GetParam().open(dir.path(), 10);
  ASSERT_NE(small, nullptr);
  ASSERT_TRUE(small
                  ->Write([](store::WriteTx& tx) {
                    FASTGPU_RETURN_IF_ERROR(tx.CreateTenant(MakeTenant("tenant-1", "alpha")));
                    FASTGPU_RETURN_IF_ERROR(tx.UpsertNode(MakeNode("node-1", "a1", 2)).status());
                    FASTGPU_RETURN_IF_ERROR(tx.CreateJob(MakeJob("job-1", "tenant-1")).status());
                    return tx.CreateAllocations({MakeAlloc("alloc-0", "job-1", "node-1")});
                  })
                  .ok());
  auto append = [&](int64_t offset, std::string data) -> Result<int64_t> {
    Result<int64_t> out = Internal("not run");
    Status s = small->Write([&](store::WriteTx& tx) -> Status {
      out = tx.AppendLog("alloc-0", offset, data);
      return out.status();
    });
    if (!s.ok()) return s;
    return out;
  };
  EXPECT_EQ(append(0, "0123456").value_or(-1), 7);
  EXPECT_EQ(append(7, "789abc").value_or(-1), 10);  // cut at the cap
  EXPECT_EQ(append(10, "d").status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(append(5, "5678").value_or(-1), 10);  // nothing new: still OK
  std::string data;
  ASSERT_TRUE(small
                  ->Read([&](store::ReadTx& tx) -> Status {
                    FASTGPU_ASSIGN_OR_RETURN(store::LogChunk c, tx.ReadLog("alloc-0", 0, 100));
                    data = c.data;
                    return OkStatus();
                  })
                  .ok());
  EXPECT_EQ(data, "0123456789");
}

INSTANTIATE_TEST_SUITE_P(AllStores, JobsTest, ::testing::ValuesIn(AllStoreFactories()),
                         [](const ::testing::TestParamInfo<StoreFactory>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace fastgpu::testing

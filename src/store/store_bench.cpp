// Store throughput on a temp file. Writes: durable job creations per second through the
// SQLite store (WAL, synchronous=FULL) with 1 and 64 concurrent writer threads, one job
// per Write as the server's POST /v1/jobs does; `items_per_second` (all threads
// together) is the figure to report, and `jobs_per_commit` shows how many Write calls
// group commit folded into one fsync. Reads: GetJob and a page of pending jobs.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "store/store.h"

namespace fastgpu::store {
namespace {

std::unique_ptr<Store> g_store;
std::filesystem::path g_dir;
std::atomic<int64_t> g_next_id{0};

model::Job BenchJob(const std::string& id) {
  model::Job j;
  j.id = id;
  j.tenant_id = "tenant-bench";
  j.spec.name = "bench";
  j.spec.command = {"python", "train.py", "--epochs=10"};
  j.spec.env = {{"SEED", "7"}};
  j.spec.shape.gpu_count = 1;
  j.spec.shape.gpu_milli = 500;
  j.spec.shape.gpu_memory_mib = 20480;
  j.spec.shape.cpu_milli = 2000;
  j.spec.shape.memory_mib = 8192;
  j.created_at = FromUnixMillis(1'700'000'000'000);
  j.updated_at = j.created_at;
  j.events.push_back(model::JobEvent{j.created_at, model::JobState::kPending,
                                     model::JobState::kPending, "submitted"});
  return j;
}

void SetUpStore() {
  std::random_device rd;
  g_dir = std::filesystem::temp_directory_path() / ("fastgpu-store-bench-" + std::to_string(rd()));
  std::filesystem::create_directories(g_dir);
  SqliteOptions opt;
  opt.path = (g_dir / "state.db").string();
  auto store = OpenSqliteStore(opt);
  if (!store.ok()) return;
  g_store = std::move(*store);
  model::Tenant t;
  t.id = "tenant-bench";
  t.name = "bench";
  g_store->Write([&](WriteTx& tx) { return tx.CreateTenant(t); }).IgnoreError();
}

void TearDownStore() {
  g_store.reset();
  std::error_code ec;
  std::filesystem::remove_all(g_dir, ec);
}

void BM_DurableJobCreate(benchmark::State& state) {
  if (state.thread_index() == 0) SetUpStore();
  // Threads meet at the start of the loop, so the store exists from here on.
  for (auto _ : state) {
    if (g_store == nullptr) {
      state.SkipWithError("cannot open the store");
      break;
    }
    const std::string id = "job-" + std::to_string(g_next_id.fetch_add(1));
    Status s = g_store->Write([&](WriteTx& tx) {
      // Idempotency key per request, as the server sends one.
      return tx.CreateJob(BenchJob(id), id).status();
    });
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0 && g_store != nullptr) {
    StoreStats stats = g_store->Stats();
    // Minus the tenant's write and commit made at set-up.
    state.counters["jobs_per_commit"] =
        static_cast<double>(stats.writes_ok - 1) /
        static_cast<double>(std::max<int64_t>(stats.commits - 1, 1));
    state.counters["max_batch"] = static_cast<double>(stats.max_batch);
  }
  if (state.thread_index() == 0) TearDownStore();
}

// Reads beside the writer: GetJob by id, and the reconciler's page of pending jobs,
// over 10,000 stored jobs of which every tenth is pending.
void FillForReads() {
  std::vector<model::Job> jobs;
  for (int i = 0; i < 10'000; ++i) {
    model::Job j = BenchJob("job-r" + std::to_string(i));
    j.state = i % 10 == 0 ? model::JobState::kPending : model::JobState::kSucceeded;
    jobs.push_back(std::move(j));
  }
  g_store
      ->Write([&](WriteTx& tx) -> Status {
        for (const model::Job& j : jobs) FASTGPU_RETURN_IF_ERROR(tx.CreateJob(j).status());
        return OkStatus();
      })
      .IgnoreError();
}

void BM_GetJob(benchmark::State& state) {
  if (state.thread_index() == 0) {
    SetUpStore();
    if (g_store != nullptr) FillForReads();
  }
  int64_t i = state.thread_index();
  for (auto _ : state) {
    if (g_store == nullptr) {
      state.SkipWithError("cannot open the store");
      break;
    }
    const std::string id = "job-r" + std::to_string((i++ * 7919) % 10'000);
    Status s = g_store->Read([&](ReadTx& tx) { return tx.GetJob(id).status(); });
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) TearDownStore();
}

void BM_ListPendingJobs(benchmark::State& state) {
  SetUpStore();
  if (g_store != nullptr) FillForReads();
  JobFilter filter;
  filter.states = {model::JobState::kPending};
  filter.limit = 100;
  for (auto _ : state) {
    if (g_store == nullptr) {
      state.SkipWithError("cannot open the store");
      break;
    }
    size_t n = 0;
    Status s = g_store->Read([&](ReadTx& tx) -> Status {
      FASTGPU_ASSIGN_OR_RETURN(JobPage page, tx.ListJobs(filter));
      n = page.jobs.size();
      return OkStatus();
    });
    if (!s.ok() || n != 100) {
      state.SkipWithError("listing failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  TearDownStore();
}

BENCHMARK(BM_DurableJobCreate)->Threads(1)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_DurableJobCreate)->Threads(64)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_GetJob)->Threads(1)->UseRealTime();
BENCHMARK(BM_GetJob)->Threads(4)->UseRealTime();
BENCHMARK(BM_ListPendingJobs)->UseRealTime();

}  // namespace
}  // namespace fastgpu::store

BENCHMARK_MAIN();

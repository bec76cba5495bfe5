// What the pool metrics cost a placing pass (pool_metrics.h) on the Alibaba trace's 1,213
// GPU nodes: the default pod list shuffled and placed by the engine until the arrived GPU
// milli reaches `fill` percent of capacity; the live allocations and the tasks left
// waiting (up to 2,000) are the work. Cases:
// see BM_ObservePool's modes.
//   build/bin/pool_metrics_bench --benchmark_min_time=0.05
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "scheduler/engine.h"
#include "server/metrics.h"
#include "server/pool_metrics.h"
#include "sim/trace.h"

namespace fastgpu::server {
namespace {

template <typename T>
T OrExit(Result<T> r) {
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

struct Pool {
  std::unique_ptr<sched::Engine> engine;
  std::vector<store::NodeRecord> nodes;
  std::vector<store::AllocationRecord> live;
  std::vector<model::Job> pending;
};

Pool MakePool(int fill_percent) {
  const std::string dir = FASTGPU_TRACE_DIR;
  std::vector<sim::TraceNode> rows =
      OrExit(sim::ReadNodeList(dir + "/openb_node_list_gpu_node.csv"));
  std::vector<sim::TracePod> pods = OrExit(sim::ReadPodList(dir + "/openb_pod_list_default.csv"));
  Pool pool;
  pool.engine = OrExit(sched::Engine::Create({}));
  int64_t capacity = 0;
  for (const sim::TraceNode& row : rows) {
    sched::EngineNode n;
    n.spec = {row.name, row.model, row.gpu_count, 0, row.cpu_milli, row.memory_mib};
    if (!pool.engine->UpsertNode(n).ok()) std::exit(1);
    store::NodeRecord rec;
    rec.node.id = row.name;
    rec.state = store::NodeState::kReady;
    pool.nodes.push_back(rec);
    capacity += int64_t{row.gpu_count} * 1000;
  }
  std::mt19937_64 rng(1);
  std::shuffle(pods.begin(), pods.end(), rng);
  int64_t arrived = 0;
  for (const sim::TracePod& pod : pods) {
    if (arrived * 100 >= capacity * fill_percent) break;
    arrived += pod.shape.TotalGpuMilli();
    pool.engine->Observe(pod.shape);
    Result<std::vector<sched::NodePlacement>> placed = pool.engine->Place({pod.name, pod.shape, 1});
    if (!placed.ok()) {
      if (pool.pending.size() < 2000) {
        model::Job job;
        job.id = pod.name;
        job.tenant_id = "t";
        job.spec.shape = pod.shape;
        pool.pending.push_back(job);
      }
      continue;
    }
    store::AllocationRecord a;
    a.alloc.id = pod.name;
    a.alloc.node_id = pool.engine->cluster().node((*placed)[0].node).id;
    for (const sched::GpuSlot& slot : (*placed)[0].gpus) {
      a.alloc.slices.push_back({slot.gpu_index, "", slot.milli, 0, model::Isolation::kMps});
    }
    pool.live.push_back(std::move(a));
  }
  std::printf("fill %d%%: %zu nodes, %zu live allocations, %zu waiting tasks\n", fill_percent,
              pool.nodes.size(), pool.live.size(), pool.pending.size());
  return pool;
}

// Mode 0: nothing changed since the last pass (the gauges are kept); 1: one node changed
// (the gauges are rebuilt); 2: one node changed, a minute passed and the work changed
// (gauges, fragmentation and the LP bound all computed).
void BM_ObservePool(benchmark::State& state) {
  const int mode = static_cast<int>(state.range(1));
  Pool pool = MakePool(static_cast<int>(state.range(0)));
  Metrics metrics;
  PoolObserver observer(metrics);
  TimePoint now{};
  observer.ObservePool(*pool.engine, pool.nodes, pool.pending, now);
  model::Job extra;  // toggled in and out so that the work changes each time
  extra.spec.shape.gpu_count = 1;
  extra.spec.shape.gpu_milli = 1000;
  bool with_extra = false;
  model::Shape small;  // placed and given back: bumps one node's version
  small.cpu_milli = 1;
  for (auto _ : state) {
    if (mode >= 1) {
      state.PauseTiming();
      Result<std::vector<sched::NodePlacement>> placed = pool.engine->Place({"x", small, 1});
      if (placed.ok()) pool.engine->Unplace(*placed);
      state.ResumeTiming();
    }
    if (mode == 2) {
      now += std::chrono::seconds(61);
      with_extra = !with_extra;
      if (with_extra) {
        pool.pending.push_back(extra);
      } else {
        pool.pending.pop_back();
      }
    }
    observer.ObservePool(*pool.engine, pool.nodes, pool.pending, now);
  }
}
BENCHMARK(BM_ObservePool)
    ->ArgsProduct({{50, 90, 100}, {0, 1, 2}})
    ->ArgNames({"fill", "mode"})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace fastgpu::server

BENCHMARK_MAIN();

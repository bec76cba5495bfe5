// Benchmarks of the batch optimiser and the configuration LP on the Alibaba trace's
// 1,213 GPU nodes: a batch of 64 default-list tasks on a pool filled (best fit) to a
// given share, solved exactly (all nodes) or with 48 candidate nodes per request.
//   build-opt/bin/optimizer_bench --benchmark_min_time=0.01s  (prints counters per case)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "optimizer/batch_ilp.h"
#include "optimizer/config_lp.h"
#include "sim/trace.h"

namespace fastgpu::opt {
namespace {

// The trace's GPU nodes and its default pod list, read by the simulator's reader (the
// benchmark stops at once when the trace is absent or malformed).
std::vector<IlpNode> TraceNodes() {
  Result<std::vector<sim::TraceNode>> rows =
      sim::ReadNodeList(std::string(FASTGPU_TRACE_DIR) + "/openb_node_list_gpu_node.csv");
  if (!rows.ok()) {
    std::fprintf(stderr, "%s\n", rows.status().ToString().c_str());
    std::exit(1);
  }
  std::vector<IlpNode> nodes;
  for (const sim::TraceNode& row : *rows) {
    IlpNode n;
    n.name = row.name;
    n.free_cpu_milli = row.cpu_milli;
    n.free_memory_mib = row.memory_mib;
    n.model = row.model;
    n.gpus.assign(row.gpu_count, IlpGpu{1000, 0, true});
    nodes.push_back(std::move(n));
  }
  return nodes;
}

std::vector<IlpRequest> TracePods(uint64_t seed) {
  Result<std::vector<sim::TracePod>> rows =
      sim::ReadPodList(std::string(FASTGPU_TRACE_DIR) + "/openb_pod_list_default.csv");
  if (!rows.ok()) {
    std::fprintf(stderr, "%s\n", rows.status().ToString().c_str());
    std::exit(1);
  }
  std::vector<IlpRequest> pods;
  for (const sim::TracePod& row : *rows) {
    IlpRequest r;
    r.shape = row.shape;
    pods.push_back(r);
  }
  std::mt19937_64 rng(seed);
  std::shuffle(pods.begin(), pods.end(), rng);
  // Then draws with replacement, so that a nearly full pool still has tasks to come.
  const size_t listed = pods.size();
  for (size_t i = 0; i < listed; ++i) pods.push_back(pods[rng() % listed]);
  return pods;
}

void Apply(std::vector<IlpNode>& nodes, const IlpRequest& request,
           const IlpRequestPlacement& placement) {
  for (const IlpReplicaPlacement& rep : placement.replicas) {
    IlpNode& node = nodes[rep.node];
    node.free_cpu_milli -= request.shape.cpu_milli;
    node.free_memory_mib -= request.shape.memory_mib;
    for (const IlpSlice& s : rep.slices) node.gpus[s.gpu].free_milli -= s.milli;
  }
}

// The pool filled by greedy batches of 64 until `fill_percent` of its GPU milli is
// allocated, and the next 64 tasks as the batch to solve.
IlpProblem FilledProblem(int fill_percent, double* filled_percent = nullptr) {
  IlpProblem p;
  p.nodes = TraceNodes();
  std::vector<IlpRequest> pods = TracePods(1);
  int64_t capacity = 0;
  for (const IlpNode& n : p.nodes) capacity += 1000 * static_cast<int64_t>(n.gpus.size());
  int64_t allocated = 0;
  size_t next = 0;
  while (allocated * 100 < capacity * fill_percent && next + 128 <= pods.size()) {
    IlpProblem batch{p.nodes, {pods.begin() + next, pods.begin() + next + 64}};
    next += 64;
    auto placement = GreedyPlacement(batch);
    for (size_t r = 0; r < placement.size(); ++r) Apply(p.nodes, batch.requests[r], placement[r]);
    allocated += AllocatedGpuMilli(batch, placement);
  }
  p.requests.assign(pods.begin() + next, pods.begin() + next + 64);
  if (filled_percent != nullptr) *filled_percent = 100.0 * allocated / capacity;
  return p;
}

void BM_SolveBatch(benchmark::State& state) {
  double filled = 0;
  const IlpProblem p = FilledProblem(static_cast<int>(state.range(0)), &filled);
  IlpOptions options;
  options.time_limit_s = 1;
  options.max_candidate_nodes = static_cast<int>(state.range(1));
  IlpSolution last;
  for (auto _ : state) {
    Result<IlpSolution> s = SolveBatch(p, options);
    if (!s.ok()) state.SkipWithError(s.status().ToString().c_str());
    if (s.ok()) last = *s;
  }
  state.counters["filled_percent"] = filled;
  state.counters["columns"] = last.columns;
  state.counters["rows"] = last.rows;
  state.counters["objective"] = static_cast<double>(last.objective);
  state.counters["greedy"] = static_cast<double>(AllocatedGpuMilli(p, GreedyPlacement(p)));
  state.counters["bound"] = last.best_bound;
  state.counters["gap"] = last.relative_gap;
  state.counters["optimal"] = last.status == IlpStatus::kOptimal ? 1 : 0;
}
// Args: fill percent, candidate nodes per request (0 = all).
BENCHMARK(BM_SolveBatch)
    ->Args({50, 0})
    ->Args({50, 48})
    ->Args({90, 0})
    ->Args({90, 48})
    ->Args({92, 0})
    ->Args({92, 48})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

void BM_LpUpperBoundOfBatch(benchmark::State& state) {
  const IlpProblem p = FilledProblem(static_cast<int>(state.range(0)));
  double bound = 0;
  for (auto _ : state) bound = LpUpperBound(p).value_or(-1);
  state.counters["bound"] = bound;
}
BENCHMARK(BM_LpUpperBoundOfBatch)->Arg(50)->Arg(90)->Unit(benchmark::kMillisecond);

void BM_ConfigLpBound(benchmark::State& state) {
  std::map<int, int64_t> items;
  int64_t gpus = 0;
  for (const IlpNode& n : TraceNodes()) gpus += static_cast<int64_t>(n.gpus.size());
  std::vector<IlpRequest> pods = TracePods(1);
  pods.resize(pods.size() / 2);  // the listed tasks only
  for (const IlpRequest& r : pods) {
    if (r.shape.gpu_count == 0) continue;
    items[std::min(r.shape.gpu_milli, 1000)] += r.shape.gpu_milli >= 1000 ? r.shape.gpu_count : 1;
  }
  ConfigLpBound bound;
  for (auto _ : state) bound = GpuConfigLpBound(gpus, items).value_or(ConfigLpBound{});
  state.counters["bound_percent"] = 100 * bound.UpperBoundShare();
  state.counters["iterations"] = bound.iterations;
}
BENCHMARK(BM_ConfigLpBound)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace fastgpu::opt

BENCHMARK_MAIN();

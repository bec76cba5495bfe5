// Placement speed on the Alibaba trace's 1,213-node cluster and on replicas of it: the
// benchmark's argument is the number of nodes (1,213 = the trace; 2,426, 4,852 and 9,704 =
// 2x, 4x and 8x; 10,000 = the trace's nodes repeated until there are 10,000). In BM_Place each
// iteration places one task of the default pod list (arrival order of seed 0) and applies
// it; when the arrivals run out (130% of the cluster's GPUs) it starts over empty, outside
// the timed region. BM_Run times whole runs instead (see there), and BM_RunLearn whole runs
// in learning mode.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>

#include "scheduler/engine.h"
#include "scheduler/fragmentation.h"
#include "scheduler/policy.h"
#include "sim/simulator.h"
#include "sim/trace.h"

namespace fastgpu::sim {
namespace {

struct Trace {
  std::vector<TraceNode> nodes;
  std::vector<TracePod> pods;  // sorted by name
  bool ok = false;
};

const Trace& LoadTrace() {
  static const Trace trace = [] {
    Trace t;
    std::string dir = FASTGPU_TRACE_DIR;
    auto nodes = ReadNodeList(dir + "/openb_node_list_gpu_node.csv");
    auto pods = ReadPodList(dir + "/openb_pod_list_default.csv");
    if (!nodes.ok() || !pods.ok()) return t;
    t.nodes = *nodes;
    t.pods = *pods;
    std::stable_sort(t.pods.begin(), t.pods.end(),
                     [](const TracePod& a, const TracePod& b) { return a.name < b.name; });
    t.ok = true;
    return t;
  }();
  return trace;
}

// The trace's nodes repeated (renamed) up to `count` nodes, as an empty cluster.
sched::Cluster ScaledCluster(const Trace& trace, size_t count) {
  std::vector<TraceNode> nodes;
  for (size_t i = 0; i < count && !trace.nodes.empty(); ++i) {
    TraceNode n = trace.nodes[i % trace.nodes.size()];
    n.name += "-" + std::to_string(i / trace.nodes.size());
    nodes.push_back(n);
  }
  return BuildCluster(nodes);
}

void BM_Place(benchmark::State& state, const char* policy_name) {
  const Trace& trace = LoadTrace();
  if (!trace.ok) {
    state.SkipWithError("trace not found");
    return;
  }
  const sched::Cluster empty = ScaledCluster(trace, static_cast<size_t>(state.range(0)));
  std::vector<model::Shape> shapes;
  for (const TracePod& p : trace.pods) shapes.push_back(p.shape);
  sched::PolicyOptions options;
  options.target_workload = sched::BuildTargetWorkload(shapes, 1.0);
  // Arrivals up to 130% of this cluster, drawn from the pod list.
  std::vector<int> order = DrawArrivals(trace.pods, empty.TotalGpuMilli(), 1.3, 0);
  sched::Cluster cluster = empty;
  std::unique_ptr<sched::Policy> policy = std::move(*sched::MakePolicy(policy_name, options));
  size_t next = 0;
  int64_t placed = 0;
  for (auto _ : state) {
    if (next == order.size()) {
      state.PauseTiming();
      cluster = empty;
      policy = std::move(*sched::MakePolicy(policy_name, options));
      next = 0;
      state.ResumeTiming();
    }
    Result<sched::NodePlacement> p = policy->Place(cluster, trace.pods[order[next++]].shape);
    if (p.ok()) {
      benchmark::DoNotOptimize(cluster.Apply(*p));
      ++placed;
    }
  }
  state.counters["placements_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["nodes"] = static_cast<double>(empty.size());
}

// One whole run per iteration: from the empty cluster to arrivals of 130% of its GPUs,
// failures included (the last 30% mostly fail once the cluster is full). Resetting the
// cluster and making the policy are not timed.
void BM_Run(benchmark::State& state, const char* policy_name) {
  const Trace& trace = LoadTrace();
  if (!trace.ok) {
    state.SkipWithError("trace not found");
    return;
  }
  const sched::Cluster empty = ScaledCluster(trace, static_cast<size_t>(state.range(0)));
  std::vector<model::Shape> shapes;
  for (const TracePod& p : trace.pods) shapes.push_back(p.shape);
  sched::PolicyOptions options;
  options.target_workload = sched::BuildTargetWorkload(shapes, 1.0);
  std::vector<int> order = DrawArrivals(trace.pods, empty.TotalGpuMilli(), 1.3, 0);
  int64_t arrivals = 0, failures = 0;
  for (auto _ : state) {
    state.PauseTiming();
    sched::Cluster cluster = empty;
    std::unique_ptr<sched::Policy> policy = std::move(*sched::MakePolicy(policy_name, options));
    state.ResumeTiming();
    for (int idx : order) {
      Result<sched::NodePlacement> p = policy->Place(cluster, trace.pods[idx].shape);
      if (p.ok()) {
        benchmark::DoNotOptimize(cluster.Apply(*p));
      } else {
        ++failures;
      }
      ++arrivals;
    }
  }
  state.counters["placements_per_second"] =
      benchmark::Counter(static_cast<double>(arrivals), benchmark::Counter::kIsRate);
  state.counters["us_per_placement"] = benchmark::Counter(
      static_cast<double>(arrivals), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["failed_share"] =
      arrivals > 0 ? static_cast<double>(failures) / static_cast<double>(arrivals) : 0;
  state.counters["nodes"] = static_cast<double>(empty.size());
}

// BM_Run in learning mode (`fastgpu sim --target learn`, the default): the policy has no
// target workload up front; an Engine learns it from the arrivals (Observe, then Place,
// as the simulator and the control plane do), and each refresh of the learned target
// (about 40 in a run) changes every score. Making the engine is not timed.
void BM_RunLearn(benchmark::State& state, const char* policy_name) {
  const Trace& trace = LoadTrace();
  if (!trace.ok) {
    state.SkipWithError("trace not found");
    return;
  }
  const sched::Cluster empty = ScaledCluster(trace, static_cast<size_t>(state.range(0)));
  std::vector<int> order = DrawArrivals(trace.pods, empty.TotalGpuMilli(), 1.3, 0);
  sched::EngineOptions options;
  options.policy = policy_name;
  int64_t arrivals = 0, failures = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::unique_ptr<sched::Engine> engine = std::move(*sched::Engine::Create(options));
    for (const sched::NodeState& n : empty.nodes()) {
      benchmark::DoNotOptimize(engine->UpsertNode(EngineNodeOf(n)));
    }
    state.ResumeTiming();
    for (int idx : order) {
      const TracePod& pod = trace.pods[idx];
      engine->Observe(pod.shape);
      Result<std::vector<sched::NodePlacement>> p = engine->Place({pod.name, pod.shape, 1});
      if (!p.ok()) ++failures;
      ++arrivals;
    }
  }
  state.counters["placements_per_second"] =
      benchmark::Counter(static_cast<double>(arrivals), benchmark::Counter::kIsRate);
  state.counters["us_per_placement"] = benchmark::Counter(
      static_cast<double>(arrivals), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["failed_share"] =
      arrivals > 0 ? static_cast<double>(failures) / static_cast<double>(arrivals) : 0;
  state.counters["nodes"] = static_cast<double>(empty.size());
}

// Node counts: the trace (1,213 nodes), 2x, 4x, 8x, and 10,000.
void NodeCounts(benchmark::internal::Benchmark* b) {
  for (int64_t nodes : {1213, 2426, 4852, 9704, 10000}) b->Arg(nodes);
  b->Unit(benchmark::kMicrosecond);
}

BENCHMARK_CAPTURE(BM_Place, fastgpu, "fastgpu")->Apply(NodeCounts);
BENCHMARK_CAPTURE(BM_Place, fgd, "fgd")->Apply(NodeCounts);
BENCHMARK_CAPTURE(BM_Place, best_fit, "best-fit")->Apply(NodeCounts);
BENCHMARK_CAPTURE(BM_Run, fastgpu, "fastgpu")->Apply(NodeCounts)->Iterations(1);
BENCHMARK_CAPTURE(BM_Run, fgd, "fgd")->Apply(NodeCounts)->Iterations(1);
BENCHMARK_CAPTURE(BM_Run, best_fit, "best-fit")->Apply(NodeCounts)->Iterations(1);
BENCHMARK_CAPTURE(BM_RunLearn, fastgpu, "fastgpu")->Apply(NodeCounts)->Iterations(1);
BENCHMARK_CAPTURE(BM_RunLearn, fgd, "fgd")->Apply(NodeCounts)->Iterations(1);

}  // namespace
}  // namespace fastgpu::sim

BENCHMARK_MAIN();

// Placement speed on the Alibaba trace's 1,213-node cluster (and a 10x replica of it):
// each iteration places one task of the default pod list (arrival order of seed 0) and
// applies it; when the cluster fills up (the arrivals run out) it starts over empty,
// outside the timed region.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>

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

void BM_Place(benchmark::State& state, const char* policy_name) {
  const Trace& trace = LoadTrace();
  if (!trace.ok) {
    state.SkipWithError("trace not found");
    return;
  }
  const int copies = static_cast<int>(state.range(0));
  std::vector<TraceNode> nodes;
  for (int c = 0; c < copies; ++c) {
    for (TraceNode n : trace.nodes) {
      n.name += "-" + std::to_string(c);
      nodes.push_back(n);
    }
  }
  const sched::Cluster empty = BuildCluster(nodes);
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

BENCHMARK_CAPTURE(BM_Place, fastgpu, "fastgpu")->Arg(1)->Arg(8)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Place, fgd, "fgd")->Arg(1)->Arg(8)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Place, best_fit, "best-fit")->Arg(1)->Arg(8)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace fastgpu::sim

BENCHMARK_MAIN();

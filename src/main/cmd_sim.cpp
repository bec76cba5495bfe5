// `fastgpu sim`: replay the Alibaba GPU trace through placement policies.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "main/commands.h"
#include "metering/json_text.h"
#include "placer/batch_placers.h"
#include "scheduler/policy.h"
#include "sim/cost_report.h"
#include "sim/report.h"
#include "sim/simulator.h"
#include "sim/timeline.h"
#include "sim/trace.h"

namespace fastgpu::main {
namespace {

struct SimFlags {
  std::string nodes;
  std::string pods;
  std::string policies = "fgd,best-fit,fastgpu";
  std::string output = "table";
  std::string plot;
  std::string prices;  // price table JSON: also report the trace's cost (sim/cost_report.h)
  std::string arrivals = "drawn";
  bool progress = false;
  std::string target = "learn";
  sim::SimOptions options;
  bool timeline = false;  // replay in time on an elastic pool (sim/timeline.h)
  sim::TimelineOptions timeline_options;
};

std::vector<std::string> SplitNames(const std::string& list) {
  std::vector<std::string> names;
  std::stringstream in(list);
  std::string name;
  while (std::getline(in, name, ',')) {
    if (!name.empty()) names.push_back(name);
  }
  return names;
}

// `fastgpu sim --timeline`: each scheduler policy replays the pod list in time on an
// elastic pool of the node list's types (sim/timeline.h).
int RunTimeline(const SimFlags& flags, const std::vector<sim::TraceNode>& nodes,
                const std::vector<sim::TracePod>& pods) {
  auto fail = [](const Status& st) {
    std::cerr << "fastgpu sim: " << st.message() << "\n";
    return st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kNotFound ? 2 : 1;
  };
  Result<std::map<std::string, sim::PodLifetime>> lifetimes = sim::ReadPodLifetimes(flags.pods);
  if (!lifetimes.ok()) return fail(lifetimes.status());
  sim::TimelineOptions options = flags.timeline_options;
  if (!flags.prices.empty()) {
    Result<metering::PriceTable> prices = sim::ReadPriceTableFile(flags.prices);
    if (!prices.ok()) return fail(prices.status());
    options.prices = *prices;
  }
  const std::vector<std::string> known = sched::PolicyNames();
  std::vector<sim::TimelineResult> results;
  for (const std::string& policy : SplitNames(flags.policies)) {
    if (std::find(known.begin(), known.end(), policy) == known.end()) {
      if (placer::IsBatchPlacer(policy)) {
        std::cerr << "fastgpu sim: --timeline places online; skipping the batch placer " << policy
                  << "\n";
        continue;
      }
      return fail(InvalidArgument("unknown policy '" + policy + "'"));
    }
    options.policy = policy;
    if (flags.progress || ::isatty(STDERR_FILENO)) {
      const int seeds = flags.options.seeds;
      const uint64_t base = flags.options.seed_base;
      options.on_progress = [policy, seeds, base, &options](double done) {
        std::cerr << "\rfastgpu sim: timeline " << policy << ", seed " << options.seed - base + 1
                  << "/" << seeds << ": " << static_cast<int>(done * 100) << "%   " << std::flush;
        if (done >= 1 && options.seed - base + 1 == static_cast<uint64_t>(seeds)) std::cerr << "\n";
      };
    }
    std::vector<sim::TimelineResult> runs;
    for (int i = 0; i < flags.options.seeds; ++i) {
      options.seed = flags.options.seed_base + static_cast<uint64_t>(i);
      Result<sim::TimelineResult> r = sim::RunTimeline(nodes, pods, *lifetimes, options);
      if (!r.ok()) return fail(r.status());
      runs.push_back(std::move(*r));
    }
    Result<sim::TimelineResult> mean = sim::MeanOverSeeds(runs);
    if (!mean.ok()) return fail(mean.status());
    results.push_back(std::move(*mean));
  }
  if (flags.output == "json") {
    boost::json::object policies;
    for (const sim::TimelineResult& r : results)
      policies[r.policy] = sim::TimelineToJson(r, options);
    boost::json::object out{{"nodes", static_cast<int64_t>(nodes.size())},
                            {"pods", static_cast<int64_t>(pods.size())},
                            {"seeds", flags.options.seeds},
                            {"seed_base", flags.options.seed_base},
                            {"policies", std::move(policies)}};
    std::cout << metering::JsonText(out) << "\n";
  } else {
    std::cout << sim::TimelineToTable(results, options);
  }
  if (!flags.plot.empty()) {
    std::string title =
        "Demand and provisioned GPUs: " + std::filesystem::path(flags.pods).filename().string() +
        ", boot delay " + std::to_string(options.boot_delay_s) + " s";
    Status st = sim::WriteTimelinePlot(results, flags.plot, title);
    if (!st.ok()) return fail(st);
  }
  return 0;
}

int RunSim(const SimFlags& flags) {
  Result<std::vector<sim::TraceNode>> nodes = sim::ReadNodeList(flags.nodes);
  if (!nodes.ok()) {
    std::cerr << "fastgpu sim: " << nodes.status().message() << "\n";
    return nodes.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  Result<std::vector<sim::TracePod>> pods = sim::ReadPodList(flags.pods);
  if (!pods.ok()) {
    std::cerr << "fastgpu sim: " << pods.status().message() << "\n";
    return pods.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  if (flags.timeline) return RunTimeline(flags, *nodes, *pods);
  sim::SimOptions options = flags.options;
  options.learn_workload = flags.target == "learn";
  Result<sim::ArrivalOrder> arrivals = sim::ParseArrivalOrder(flags.arrivals);
  if (!arrivals.ok()) {
    std::cerr << "fastgpu sim: " << arrivals.status().message() << "\n";
    return 2;
  }
  options.arrivals = *arrivals;
  if (flags.progress || ::isatty(STDERR_FILENO)) {
    options.on_progress = [](int done, int total) {
      std::cerr << "\rfastgpu sim: " << done << "/" << total << " runs done" << std::flush;
      if (done == total) std::cerr << "\n";
    };
  }
  Result<sim::SimReport> report = sim::Simulate(*nodes, *pods, SplitNames(flags.policies), options);
  if (!report.ok()) {
    std::cerr << "fastgpu sim: " << report.status().message() << "\n";
    return report.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  Result<std::vector<sim::TraceCost>> costs = std::vector<sim::TraceCost>();
  if (!flags.prices.empty()) {
    costs =
        sim::CostOfTraceFiles(*nodes, *pods, flags.pods, SplitNames(flags.policies), flags.prices);
    if (!costs.ok()) {
      std::cerr << "fastgpu sim: " << costs.status().message() << "\n";
      return 2;
    }
  }
  if (flags.output == "json") {
    boost::json::object out = sim::ReportToJson(*report);
    if (!flags.prices.empty()) out["cost"] = sim::TraceCostsToJson(*costs);
    std::cout << metering::JsonText(out) << "\n";
  } else {
    std::cout << sim::ReportToTable(*report);
    if (!flags.prices.empty()) std::cout << "\n" << sim::TraceCostsToTable(*costs);
  }
  if (!flags.plot.empty()) {
    std::string title = "Unallocated GPUs vs arrived demand: " +
                        std::filesystem::path(flags.pods).filename().string() + ", " +
                        std::to_string(options.seeds) + " seeds";
    Status st = sim::WritePlot(*report, flags.plot, title);
    if (!st.ok()) {
      std::cerr << "fastgpu sim: " << st.message() << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace

void RegisterSimCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<SimFlags>();
  std::string policy_list;
  for (const std::string& name : sched::PolicyNames()) {
    policy_list += (policy_list.empty() ? "" : ", ") + name;
  }
  std::string batch_list;
  for (const std::string& name : placer::BatchPlacerNames()) {
    batch_list += (batch_list.empty() ? "" : ", ") + name;
  }
  auto* cmd = app.add_subcommand(
      "sim",
      "Replay a cluster trace through the placement policies.\n"
      "The Alibaba GPU trace (cluster-trace-gpu-v2023) has the node list\n"
      "  openb_node_list_gpu_node.csv and pod lists openb_pod_list_<name>.csv\n"
      "  (default, gpushare40, gpushare80, multigpu20, multigpu50, gpuspec10, cpu050);\n"
      "  in this project they sit in ../shared/traces/alibaba-gpu-2023/.");
  cmd->add_option("--nodes", flags->nodes, "Node list CSV (sn,cpu_milli,memory_mib,gpu,model)")
      ->required();
  cmd->add_option("--pods", flags->pods,
                  "Pod list CSV (name,cpu_milli,memory_mib,num_gpu,gpu_milli[,gpu_spec])")
      ->required();
  cmd->add_option(
         "--policies", flags->policies,
         "Comma-separated policies (" + policy_list + "; batch placers: " + batch_list + ")")
      ->capture_default_str();
  cmd->add_option("--seeds", flags->options.seeds, "Runs per policy, averaged")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--seed-base", flags->options.seed_base, "First seed")->capture_default_str();
  cmd->add_option("--arrivals", flags->arrivals,
                  "How pods arrive: drawn (the whole list shuffled with the seed, then draws\n"
                  "with replacement up to --max-arrival; the paper's method) or as-listed\n"
                  "(each pod once, in the file's order; --max-arrival then only bounds the curve)")
      ->capture_default_str()
      ->check(CLI::IsMember({"drawn", "as-listed"}));
  cmd->add_option("--max-arrival", flags->options.max_arrival,
                  "Stop drawing when arrived GPU demand reaches this multiple of capacity")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 10.0));
  cmd->add_option("--jobs,-j", flags->options.jobs, "Threads running policies and seeds")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--batch-size", flags->options.batch_size, "Requests per batch placer call")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--batch-time-limit", flags->options.batch_time_limit_seconds,
                  "Seconds a batch placer may spend per call")
      ->capture_default_str();
  cmd->add_option("--target", flags->target,
                  "Workload the online policies place against: learn (from the arrivals, as\n"
                  "the control plane does) or trace (the whole pod list, given up front)")
      ->capture_default_str()
      ->check(CLI::IsMember({"learn", "trace"}));
  cmd->add_option("-o,--output", flags->output, "table or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json"}));
  cmd->add_option("--plot", flags->plot, "Draw the curves of all policies into this SVG (gnuplot)");
  cmd->add_option("--prices", flags->prices,
                  "Price table JSON (as PUT /v1/prices): also report what the trace costs,\n"
                  "pooled against dedicated whole GPUs (pods live creation_time..deletion_time)");
  cmd->add_flag("--timeline", flags->timeline,
                "Replay the pod list in time (creation_time..deletion_time) on an elastic pool\n"
                "of the node list's types (each up to its count), growing and shrinking it;\n"
                "report demand, provisioned, static and dedicated GPU-hours and boot waits");
  cmd->add_option("--boot-delay", flags->timeline_options.boot_delay_s,
                  "With --timeline: seconds a new node takes to join")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{86400}));
  cmd->add_option("--scale-down-after", flags->timeline_options.scale_down_after_s,
                  "With --timeline: seconds a node stays empty before it is given back")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{30 * 86400}));
  cmd->add_flag("--progress", flags->progress,
                "Show progress on stderr (default: only when stderr is a terminal)");
  cmd->callback([flags, exit_code] { *exit_code = RunSim(*flags); });
}

}  // namespace fastgpu::main

#include "sim/report.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fastgpu::sim {
namespace {

std::string Percent(double share, int decimals = 2) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, share * 100);
  return buf;
}

}  // namespace

boost::json::object ReportToJson(const SimReport& report) {
  boost::json::object out;
  out["nodes"] = report.nodes;
  out["capacity_gpus"] = report.capacity_gpus;
  out["pods"] = report.pods;
  out["target_kinds"] = report.target_kinds;
  out["seeds"] = report.options.seeds;
  out["seed_base"] = report.options.seed_base;
  out["max_arrival"] = report.options.max_arrival;
  out["target"] = report.options.learn_workload ? "learn" : "trace";
  out["arrival_order"] = std::string(ArrivalOrderName(report.options.arrivals));
  boost::json::object policies;
  for (const PolicyResult& r : report.policies) {
    boost::json::object p;
    p["alloc_share_at_100"] = r.alloc_share_at_100;
    boost::json::array per_seed;
    for (double v : r.alloc_share_at_100_per_seed) per_seed.push_back(v);
    p["alloc_share_at_100_per_seed"] = std::move(per_seed);
    p["alloc_share_at_max"] = r.alloc_share_at_max;
    p["alloc_share_final"] = r.alloc_share_final;
    if (r.first_failure_arrival) {
      p["first_failure_arrival"] = *r.first_failure_arrival;
    } else {
      p["first_failure_arrival"] = nullptr;
    }
    p["frag_share_at_100"] = r.frag_share_at_100;
    p["placements_per_second"] = r.placements_per_second;
    p["arrivals"] = r.arrivals;
    p["failures"] = r.failures;
    boost::json::array arrived, allocated, unallocated, fragmented;
    for (const CurvePoint& c : r.curve) {
      arrived.push_back(c.arrived_pct / 100.0);
      allocated.push_back(c.allocated);
      unallocated.push_back(c.unallocated);
      fragmented.push_back(c.fragmented);
    }
    boost::json::object curve;
    curve["arrived"] = std::move(arrived);
    curve["allocated"] = std::move(allocated);
    curve["unallocated"] = std::move(unallocated);
    curve["fragmented"] = std::move(fragmented);
    p["curve"] = std::move(curve);
    policies[r.policy] = std::move(p);
  }
  out["policies"] = std::move(policies);
  if (report.lp_upper_bound) out["lp_upper_bound"] = *report.lp_upper_bound;
  return out;
}

std::string ReportToTable(const SimReport& report) {
  std::ostringstream out;
  int max_pct = static_cast<int>(report.options.max_arrival * 100 + 0.5);
  out << report.nodes << " nodes, " << report.capacity_gpus << " GPUs, " << report.pods << " pods ("
      << ArrivalOrderName(report.options.arrivals) << "), " << report.options.seeds
      << " seeds from " << report.options.seed_base << ", target workload "
      << (report.options.learn_workload ? "learned from the arrivals" : "the whole pod list")
      << "\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-16s %9s %9s %9s %10s %9s %12s\n", "POLICY", "ALLOC@100",
                ("ALLOC@" + std::to_string(max_pct)).c_str(), "FINAL", "1ST-FAIL", "FRAG@100",
                "PLACEMENTS/S");
  out << line;
  for (const PolicyResult& r : report.policies) {
    std::string ff = r.first_failure_arrival ? Percent(*r.first_failure_arrival) + "%" : "-";
    std::snprintf(line, sizeof line, "%-16s %8s%% %8s%% %8s%% %10s %8s%% %12.0f\n",
                  r.policy.c_str(), Percent(r.alloc_share_at_100).c_str(),
                  Percent(r.alloc_share_at_max).c_str(), Percent(r.alloc_share_final).c_str(),
                  ff.c_str(), Percent(r.frag_share_at_100).c_str(), r.placements_per_second);
    out << line;
  }
  if (report.lp_upper_bound) {
    out << "LP upper bound at 100%: " << Percent(*report.lp_upper_bound) << "%\n";
  }
  return out.str();
}

Status DrawSvg(const std::function<Result<std::string>(const std::string& dir)>& write_inputs,
               const std::string& svg_path, const std::string& gnuplot) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path dir = fs::temp_directory_path(ec) / ("fastgpu-plot-" + std::to_string(::getpid()));
  fs::create_directories(dir, ec);
  if (ec) return Internal("cannot create " + dir.string() + ": " + ec.message());
  Result<std::string> plot = write_inputs(dir.string());
  if (!plot.ok()) {
    fs::remove_all(dir, ec);
    return plot.status();
  }
  fs::path script_path = dir / "plot.gp";
  {
    std::ofstream f(script_path);
    f << "set terminal svg size 900,560 dynamic enhanced font 'sans,12' background 'white'\n"
      << "set output '" << svg_path << "'\n"
      << *plot;
    if (!f) return Internal("cannot write " + script_path.string());
  }
  pid_t pid = ::fork();
  if (pid < 0) return Internal("fork failed");
  if (pid == 0) {
    ::execlp(gnuplot.c_str(), gnuplot.c_str(), script_path.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  fs::remove_all(dir, ec);
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 127) {
    return FailedPrecondition("cannot run '" + gnuplot +
                              "' (install gnuplot, e.g. apt-get install gnuplot-nox)");
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    return Internal("gnuplot failed drawing " + svg_path);
  }
  return OkStatus();
}

Status WritePlot(const SimReport& report, const std::string& svg_path, const std::string& title,
                 const std::string& gnuplot) {
  auto inputs = [&](const std::string& dir) -> Result<std::string> {
    std::ostringstream script;
    script << "set title '" << title << "' noenhanced\n"
           << "set xlabel 'arrived GPU demand (% of capacity)'\n"
           << "set ylabel 'unallocated GPUs (% of capacity)'\n"
           << "set key top left\nset grid\nset xrange [50:*]\nset yrange [0:*]\n";
    script << "plot ";
    for (size_t i = 0; i < report.policies.size(); ++i) {
      const PolicyResult& r = report.policies[i];
      const std::string data = dir + "/policy" + std::to_string(i) + ".dat";
      std::ofstream f(data);
      for (const CurvePoint& c : r.curve) f << c.arrived_pct << " " << c.unallocated * 100 << "\n";
      if (!f) return Internal("cannot write " + data);
      script << (i ? ", " : "") << "'" << data << "' using 1:2 with lines lw 2 title '" << r.policy
             << "' noenhanced";
    }
    script << "\n";
    return script.str();
  };
  return DrawSvg(inputs, svg_path, gnuplot);
}

}  // namespace fastgpu::sim

// The timeline's output: JSON, a table for people, and a plot of demand and provisioned GPUs.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "metering/pricing.h"
#include "sim/report.h"
#include "sim/timeline.h"

namespace fastgpu::sim {
namespace {

double Round(double v, double unit = 1000) { return std::round(v * unit) / unit; }

}  // namespace

Result<TimelineResult> MeanOverSeeds(const std::vector<TimelineResult>& runs) {
  if (runs.empty()) return InvalidArgument("no timeline runs to average");
  TimelineResult m = runs[0];
  const double n = static_cast<double>(runs.size());
  auto mean = [&](auto field) {
    double sum = 0;
    for (const TimelineResult& r : runs) sum += static_cast<double>(r.*field);
    return sum / n;
  };
  auto mean_count = [&](auto field) { return std::llround(mean(field)); };
  m.pods_placed = mean_count(&TimelineResult::pods_placed);
  m.pods_waited = mean_count(&TimelineResult::pods_waited);
  m.pods_never_ran = mean_count(&TimelineResult::pods_never_ran);
  m.pods_unplaceable = mean_count(&TimelineResult::pods_unplaceable);
  m.provisioned_gpu_hours = mean(&TimelineResult::provisioned_gpu_hours);
  m.placed_demand_gpu_hours = mean(&TimelineResult::placed_demand_gpu_hours);
  m.wait_p50_s = mean(&TimelineResult::wait_p50_s);
  m.wait_p99_s = mean(&TimelineResult::wait_p99_s);
  m.wait_max_s = mean(&TimelineResult::wait_max_s);
  m.peak_provisioned_gpus = static_cast<int>(mean_count(&TimelineResult::peak_provisioned_gpus));
  m.boots = mean_count(&TimelineResult::boots);
  m.scale_downs = mean_count(&TimelineResult::scale_downs);
  m.cancelled_boots = mean_count(&TimelineResult::cancelled_boots);
  if (m.provisioned_cents) {
    double cents = 0, demand = 0;
    for (const TimelineResult& r : runs) {
      cents += static_cast<double>(r.provisioned_cents.value_or(0));
      demand += static_cast<double>(r.demand_cents.value_or(0));
    }
    m.provisioned_cents = std::llround(cents / n);
    m.demand_cents = std::llround(demand / n);
  }
  m.per_seed_ratio.clear();
  for (const TimelineResult& r : runs) m.per_seed_ratio.push_back(r.ProvisionedOverDemand());
  return m;
}

boost::json::object TimelineToJson(const TimelineResult& r, const TimelineOptions& options) {
  boost::json::object o{
      {"policy", r.policy},
      {"boot_delay_s", options.boot_delay_s},
      {"scale_down_after_s", options.scale_down_after_s},
      {"pods", r.pods},
      {"pods_skipped", r.pods_skipped},
      {"pods_placed", r.pods_placed},
      {"pods_waited", r.pods_waited},
      {"pods_never_ran", r.pods_never_ran},
      {"pods_unplaceable", r.pods_unplaceable},
      {"span_s", r.span_s},
      {"demand_gpu_hours", Round(r.demand_gpu_hours)},
      {"provisioned_gpu_hours", Round(r.provisioned_gpu_hours)},
      {"static_gpu_hours", Round(r.static_gpu_hours)},
      {"dedicated_gpu_hours", Round(r.dedicated_gpu_hours)},
      {"placed_demand_gpu_hours", Round(r.placed_demand_gpu_hours)},
      {"provisioned_over_demand", Round(r.ProvisionedOverDemand(), 1e4)},
      {"static_idle_share",
       Round(r.static_gpu_hours > 0 ? 1 - r.demand_gpu_hours / r.static_gpu_hours : 0, 1e6)},
      {"wait_p50_s", r.wait_p50_s},
      {"wait_p99_s", r.wait_p99_s},
      {"wait_max_s", r.wait_max_s},
      {"peak_provisioned_gpus", r.peak_provisioned_gpus},
      {"peak_demand_gpus", Round(r.peak_demand_gpus)},
      {"boots", r.boots},
      {"scale_downs", r.scale_downs},
      {"cancelled_boots", r.cancelled_boots},
  };
  boost::json::array groups;
  for (const NodeGroupResult& g : r.groups) {
    groups.push_back({{"name", g.name},
                      {"gpu_model", g.gpu_model},
                      {"gpus", g.gpus},
                      {"max_nodes", g.max_nodes},
                      {"peak_nodes", g.peak_nodes},
                      {"boots", g.boots},
                      {"provisioned_gpu_hours", Round(g.provisioned_gpu_hours)},
                      {"used_gpu_hours", Round(g.used_gpu_hours)}});
  }
  o["groups"] = std::move(groups);
  if (!r.per_seed_ratio.empty()) {
    boost::json::array ratios;
    for (double x : r.per_seed_ratio) ratios.push_back(Round(x, 1e4));
    o["provisioned_over_demand_per_seed"] = std::move(ratios);
  }
  if (r.provisioned_cents) {
    o["cost"] = {{"provisioned_cents", *r.provisioned_cents},
                 {"provisioned", metering::FormatCents(*r.provisioned_cents)},
                 {"static_cents", *r.static_cents},
                 {"static", metering::FormatCents(*r.static_cents)},
                 {"demand_cents", *r.demand_cents},
                 {"demand", metering::FormatCents(*r.demand_cents)}};
  }
  boost::json::array t, demand, provisioned;
  for (const TimelinePoint& p : r.series) {
    t.push_back(p.t_s);
    demand.push_back(Round(p.demand_gpus));
    provisioned.push_back(p.provisioned_gpus);
  }
  o["series"] = {{"t_s", std::move(t)},
                 {"demand_gpus", std::move(demand)},
                 {"provisioned_gpus", std::move(provisioned)}};
  return o;
}

std::string TimelineToTable(const std::vector<TimelineResult>& results,
                            const TimelineOptions& options) {
  std::ostringstream out;
  out << "Elastic pool, boot delay " << options.boot_delay_s << " s, scale down after "
      << options.scale_down_after_s << " s (GPU-hours; x = provisioned / demand):\n";
  out << "policy            demand  provisioned      x      static  dedicated  wait p50/p99 s"
         "   boots  waited  never ran  unplaceable\n";
  for (const TimelineResult& r : results) {
    char line[320];
    std::snprintf(
        line, sizeof line,
        "%-14s  %8.1f  %11.1f  %5.3f  %10.0f  %9.1f  %6.0f / %-6.0f  %6lld  %6lld  %9lld  "
        "%11lld\n",
        r.policy.c_str(), r.demand_gpu_hours, r.provisioned_gpu_hours, r.ProvisionedOverDemand(),
        r.static_gpu_hours, r.dedicated_gpu_hours, r.wait_p50_s, r.wait_p99_s,
        static_cast<long long>(r.boots), static_cast<long long>(r.pods_waited),
        static_cast<long long>(r.pods_never_ran), static_cast<long long>(r.pods_unplaceable));
    out << line;
  }
  for (const TimelineResult& r : results) {
    if (!r.provisioned_cents) continue;
    out << r.policy << ": cost provisioned " << metering::FormatCents(*r.provisioned_cents)
        << ", static cluster " << metering::FormatCents(*r.static_cents) << ", pods' own "
        << metering::FormatCents(*r.demand_cents) << "\n";
  }
  return out.str();
}

Status WriteTimelinePlot(const std::vector<TimelineResult>& results, const std::string& svg_path,
                         const std::string& title, const std::string& gnuplot) {
  auto inputs = [&](const std::string& dir) -> Result<std::string> {
    std::ostringstream script;
    script << "set title '" << title << "' noenhanced\n"
           << "set xlabel 'time (days since the first arrival)'\n"
           << "set ylabel 'GPUs'\n"
           << "set key top left\nset grid\nset yrange [0:*]\n";
    script << "plot ";
    for (size_t i = 0; i < results.size(); ++i) {
      const std::string data = dir + "/timeline" + std::to_string(i) + ".dat";
      std::ofstream f(data);
      for (const TimelinePoint& p : results[i].series) {
        f << p.t_s / 86400.0 << " " << p.demand_gpus << " " << p.provisioned_gpus << "\n";
      }
      if (!f) return Internal("cannot write " + data);
      if (i == 0) {
        script << "'" << data << "' using 1:2 with steps lw 1 title 'demand (fractional GPUs)'";
      }
      script << ", '" << data
             << "' using 1:3 with steps lw 1 title 'provisioned: " << results[i].policy
             << "' noenhanced";
    }
    script << "\n";
    return script.str();
  };
  return DrawSvg(inputs, svg_path, gnuplot);
}

}  // namespace fastgpu::sim

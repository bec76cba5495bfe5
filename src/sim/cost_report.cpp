#include "sim/cost_report.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <queue>
#include <sstream>

#include "metering/price_json.h"
#include "scheduler/policy.h"

namespace fastgpu::sim {

namespace {

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::stringstream in(line);
  while (std::getline(in, cell, ',')) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

}  // namespace

Result<std::map<std::string, PodLifetime>> ParsePodLifetimes(const std::string& text,
                                                             const std::string& source) {
  std::stringstream in(text);
  std::string line;
  if (!std::getline(in, line)) return InvalidArgument(source + ": empty file");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string> header = SplitCsv(line);
  auto col = [&](const std::string& name) -> int {
    auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : static_cast<int>(it - header.begin());
  };
  const int name = col("name"), created = col("creation_time"), deleted = col("deletion_time");
  if (name < 0 || created < 0 || deleted < 0) {
    return InvalidArgument(source + ":1: needs the columns name, creation_time, deletion_time");
  }
  std::map<std::string, PodLifetime> out;
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> cells = SplitCsv(line);
    const int need = std::max({name, created, deleted});
    if (static_cast<int>(cells.size()) <= need) {
      cells.resize(need + 1);
    }
    auto number = [&](const std::string& s, int64_t& v, int64_t missing) -> Status {
      if (s.empty()) {
        v = missing;
        return OkStatus();
      }
      auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec != std::errc() || ptr != s.data() + s.size() || v < 0) {
        return InvalidArgument(source + ":" + std::to_string(line_no) + ": bad time '" + s + "'");
      }
      return OkStatus();
    };
    PodLifetime l;
    FASTGPU_RETURN_IF_ERROR(number(cells[created], l.creation_s, 0));
    FASTGPU_RETURN_IF_ERROR(number(cells[deleted], l.deletion_s, -1));
    out[cells[name]] = l;
  }
  return out;
}

Result<std::map<std::string, PodLifetime>> ReadPodLifetimes(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  return ParsePodLifetimes(buf.str(), path);
}

Result<TraceCost> CostOfTrace(const std::vector<TraceNode>& nodes,
                              const std::vector<TracePod>& pods,
                              const std::map<std::string, PodLifetime>& lifetimes,
                              const std::string& policy_name, const metering::PriceTable& prices) {
  FASTGPU_RETURN_IF_ERROR(metering::ValidatePriceTable(prices));
  FASTGPU_ASSIGN_OR_RETURN(std::unique_ptr<sched::Policy> policy,
                           sched::MakePolicy(policy_name, {}));
  TraceCost out;
  out.policy = policy_name;
  struct Arrival {
    int64_t at, until;
    const TracePod* pod;
  };
  std::vector<Arrival> arrivals;
  for (const TracePod& p : pods) {
    auto it = lifetimes.find(p.name);
    if (it == lifetimes.end() || it->second.deletion_s <= it->second.creation_s) {
      ++out.pods_skipped;
      continue;
    }
    arrivals.push_back({it->second.creation_s, it->second.deletion_s, &p});
  }
  std::stable_sort(arrivals.begin(), arrivals.end(),
                   [](const Arrival& a, const Arrival& b) { return a.at < b.at; });
  sched::Cluster cluster = BuildCluster(nodes);
  using Departure = std::pair<int64_t, sched::NodePlacement>;
  auto later = [](const Departure& a, const Departure& b) { return a.first > b.first; };
  std::priority_queue<Departure, std::vector<Departure>, decltype(later)> leaving(later);
  std::vector<metering::PlacedTask> tasks;
  for (const Arrival& a : arrivals) {
    while (!leaving.empty() && leaving.top().first <= a.at) {
      FASTGPU_RETURN_IF_ERROR(cluster.Release(leaving.top().second));
      policy->OnNodeChanged(cluster, leaving.top().second.node);
      leaving.pop();
    }
    auto placed = policy->Place(cluster, a.pod->shape);
    if (!placed.ok()) {
      if (placed.status().code() != StatusCode::kResourceExhausted) return placed.status();
      ++out.pods_unplaced;
      continue;
    }
    FASTGPU_RETURN_IF_ERROR(cluster.Apply(*placed));
    policy->OnNodeChanged(cluster, placed->node);
    metering::PlacedTask t;
    t.gpu_model = a.pod->shape.NeedsGpu() ? nodes[placed->node].model : "";
    t.gpu_count = a.pod->shape.gpu_count;
    t.gpu_milli = a.pod->shape.gpu_milli;
    t.cpu_milli = a.pod->shape.cpu_milli;
    t.memory_mib = a.pod->shape.memory_mib;
    t.duration_s = a.until - a.at;
    tasks.push_back(std::move(t));
    leaving.emplace(a.until, std::move(*placed));
  }
  out.pods_billed = static_cast<int64_t>(tasks.size());
  FASTGPU_ASSIGN_OR_RETURN(out.cost, metering::CostOfTasks(tasks, prices));
  return out;
}

Result<metering::PriceTable> ReadPriceTableFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  auto prices = metering::ParsePriceTable(text.str());
  if (!prices.ok()) return prices.status().WithContext(path);
  return *prices;
}

Result<std::vector<TraceCost>> CostOfTraceFiles(const std::vector<TraceNode>& nodes,
                                                const std::vector<TracePod>& pods,
                                                const std::string& pods_path,
                                                const std::vector<std::string>& policies,
                                                const std::string& prices_path) {
  FASTGPU_ASSIGN_OR_RETURN(metering::PriceTable prices, ReadPriceTableFile(prices_path));
  FASTGPU_ASSIGN_OR_RETURN(auto lifetimes, ReadPodLifetimes(pods_path));
  const std::vector<std::string> known = sched::PolicyNames();
  std::vector<TraceCost> out;
  for (const std::string& p : policies) {
    if (std::find(known.begin(), known.end(), p) == known.end()) continue;
    FASTGPU_ASSIGN_OR_RETURN(TraceCost c, CostOfTrace(nodes, pods, lifetimes, p, prices));
    out.push_back(std::move(c));
  }
  return out;
}

boost::json::array TraceCostsToJson(const std::vector<TraceCost>& costs) {
  boost::json::array a;
  for (const TraceCost& c : costs) a.push_back(TraceCostToJson(c));
  return a;
}

boost::json::object TraceCostToJson(const TraceCost& c) {
  return {{"policy", c.policy},
          {"pods_billed", c.pods_billed},
          {"pods_unplaced", c.pods_unplaced},
          {"pods_skipped", c.pods_skipped},
          {"pooled_cents", c.cost.pooled_cents},
          {"pooled", metering::FormatCents(c.cost.pooled_cents)},
          {"dedicated_cents", c.cost.dedicated_cents},
          {"dedicated", metering::FormatCents(c.cost.dedicated_cents)},
          {"pooled_gpu_hours", c.cost.pooled_gpu_hours},
          {"dedicated_gpu_hours", c.cost.dedicated_gpu_hours},
          {"gpu_hour_saving", c.cost.GpuHourSaving()}};
}

std::string TraceCostsToTable(const std::vector<TraceCost>& costs) {
  std::string out =
      "Cost of the trace (each pod from creation_time to deletion_time):\n"
      "policy            pods billed  unplaced      pooled   dedicated  pooled GPU-h  "
      "dedicated GPU-h  saving\n";
  for (const TraceCost& c : costs) {
    char line[256];
    std::snprintf(line, sizeof line, "%-16s  %11lld  %8lld  %10s  %10s  %12.1f  %15.1f  %5.1f%%\n",
                  c.policy.c_str(), static_cast<long long>(c.pods_billed),
                  static_cast<long long>(c.pods_unplaced),
                  metering::FormatCents(c.cost.pooled_cents).c_str(),
                  metering::FormatCents(c.cost.dedicated_cents).c_str(), c.cost.pooled_gpu_hours,
                  c.cost.dedicated_gpu_hours, 100.0 * c.cost.GpuHourSaving());
    out += line;
  }
  return out;
}

}  // namespace fastgpu::sim

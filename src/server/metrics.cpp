#include "server/metrics.h"

#include <algorithm>
#include <cstdio>

#include "server/prometheus_text.h"

namespace fastgpu::server {

namespace {

const std::vector<double> kLatencyBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                            0.05,   0.1,   0.25,   0.5,   1,    2.5};
const std::vector<double> kSchedulingBounds = {0.001, 0.01, 0.1, 0.5, 1,   2.5,
                                               5,     10,   30,  60,  300, 3600};
const std::vector<double> kPassBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                         0.25,  0.5,    1,     2.5,  5,     10};
const std::vector<double> kColdStartBounds = {0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300};

}  // namespace

std::string MethodLabel(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET",   "HEAD",    "POST",    "PUT",  "DELETE",
                                                "PATCH", "OPTIONS", "CONNECT", "TRACE"};
  for (std::string_view m : kKnown) {
    if (m == method) return std::string(m);
  }
  return "other";
}

Histogram::Histogram(std::vector<double> bounds_seconds)
    : bounds_(std::move(bounds_seconds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double seconds) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), seconds) - bounds_.begin();
  ++counts_[i];
  sum_ += seconds;
  ++count_;
}

void Histogram::Render(const std::string& name, const std::string& labels, std::string& out) const {
  std::string sep = labels.empty() ? "" : labels + ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += name + "_bucket{" + sep + "le=\"" + PromNumber(bounds_[i]) + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  out += name + "_bucket{" + sep + "le=\"+Inf\"} " + std::to_string(count_) + "\n";
  std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + braces + " " + PromNumber(sum_) + "\n";
  out += name + "_count" + braces + " " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : scheduling_latency_(kSchedulingBounds),
      pass_duration_(kPassBounds),
      cold_start_(kColdStartBounds) {}

void Metrics::ObserveRequest(const std::string& route, const std::string& method, int status,
                             double seconds) {
  std::string method_label = MethodLabel(method);
  if (status < 100 || status > 599) status = 0;
  std::lock_guard lock(mu_);
  // Routes come from the API's table; past kMaxRoutes distinct ones (a programming error)
  // further routes fold into "other" so the exposition stays bounded regardless.
  std::string route_label = route;
  if (!routes_.contains(route)) {
    if (routes_.size() >= kMaxRoutes) {
      route_label = "other";
    } else {
      routes_.insert(route);
    }
  }
  ++requests_[{route_label, method_label, status}];
  auto key = std::make_pair(route_label, method_label);
  auto it = request_latency_.find(key);
  if (it == request_latency_.end()) it = request_latency_.emplace(key, kLatencyBounds).first;
  it->second.Observe(seconds);
}

void Metrics::ObserveScheduling(double seconds) {
  std::lock_guard lock(mu_);
  scheduling_latency_.Observe(seconds);
}

void Metrics::ObserveServiceColdStart(double seconds) {
  std::lock_guard lock(mu_);
  cold_start_.Observe(seconds);
}

void Metrics::CountHeartbeat() {
  std::lock_guard lock(mu_);
  ++heartbeats_;
}

void Metrics::ObservePass(double seconds) {
  std::lock_guard lock(mu_);
  pass_duration_.Observe(seconds);
  ++passes_;
}

void Metrics::SetPool(PoolSnapshot snapshot) {
  std::lock_guard lock(mu_);
  pool_ = std::move(snapshot);
}

PoolSnapshot Metrics::pool() const {
  std::lock_guard lock(mu_);
  return pool_;
}

std::string Metrics::Render(const PoolGauges& g) const {
  std::string out;
  out += "# HELP fastgpu_jobs Jobs by state.\n# TYPE fastgpu_jobs gauge\n";
  for (const auto& [state, n] : g.jobs_by_state) {
    out += "fastgpu_jobs{state=\"" + PromEscape(state) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP fastgpu_nodes Nodes by state.\n# TYPE fastgpu_nodes gauge\n";
  for (const auto& [state, n] : g.nodes_by_state) {
    out += "fastgpu_nodes{state=\"" + PromEscape(state) + "\"} " + std::to_string(n) + "\n";
  }
  out +=
      "# HELP fastgpu_gpus_allocated GPUs allocated (fractions count as fractions).\n"
      "# TYPE fastgpu_gpus_allocated gauge\n";
  for (const auto& [model, n] : g.gpus_allocated_by_model) {
    out += "fastgpu_gpus_allocated{model=\"" + PromEscape(model) + "\"} " + PromNumber(n) + "\n";
  }
  out +=
      "# HELP fastgpu_gpus_free GPUs free on ready nodes, healthy GPUs only.\n"
      "# TYPE fastgpu_gpus_free gauge\n";
  for (const auto& [model, n] : g.gpus_free_by_model) {
    out += "fastgpu_gpus_free{model=\"" + PromEscape(model) + "\"} " + PromNumber(n) + "\n";
  }
  std::lock_guard lock(mu_);
  out +=
      "# HELP fastgpu_scheduling_latency_seconds From submission to placement.\n"
      "# TYPE fastgpu_scheduling_latency_seconds histogram\n";
  scheduling_latency_.Render("fastgpu_scheduling_latency_seconds", "", out);
  out +=
      "# HELP fastgpu_service_cold_start_seconds How long the service proxy held a request "
      "for want of a ready replica (scale from zero).\n"
      "# TYPE fastgpu_service_cold_start_seconds histogram\n";
  cold_start_.Render("fastgpu_service_cold_start_seconds", "", out);
  out +=
      "# HELP fastgpu_heartbeats_total Node heartbeats accepted.\n"
      "# TYPE fastgpu_heartbeats_total counter\n";
  out += "fastgpu_heartbeats_total " + std::to_string(heartbeats_) + "\n";
  out +=
      "# HELP fastgpu_reconciler_pass_seconds Duration of reconciler passes (background and "
      "RunOnce), failed ones included.\n"
      "# TYPE fastgpu_reconciler_pass_seconds histogram\n";
  pass_duration_.Render("fastgpu_reconciler_pass_seconds", "", out);
  out +=
      "# HELP fastgpu_reconciler_passes_total Reconciler passes ended.\n"
      "# TYPE fastgpu_reconciler_passes_total counter\n";
  out += "fastgpu_reconciler_passes_total " + std::to_string(passes_) + "\n";
  RenderPoolSnapshot(pool_, out);
  out +=
      "# HELP fastgpu_api_requests_total API requests by route, method and status.\n"
      "# TYPE fastgpu_api_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, status] = key;
    out += "fastgpu_api_requests_total{route=\"" + PromEscape(route) + "\",method=\"" + method +
           "\",status=\"" + std::to_string(status) + "\"} " + std::to_string(n) + "\n";
  }
  out +=
      "# HELP fastgpu_api_request_duration_seconds API latency by route and method.\n"
      "# TYPE fastgpu_api_request_duration_seconds histogram\n";
  for (const auto& [key, h] : request_latency_) {
    h.Render("fastgpu_api_request_duration_seconds",
             "route=\"" + PromEscape(key.first) + "\",method=\"" + key.second + "\"", out);
  }
  return out;
}

}  // namespace fastgpu::server

#include "server/service_autoscaler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace fastgpu::server {

namespace {

// `v` with one decimal ("43.2"), or none when it is whole ("20").
std::string Num(double v) {
  char buf[64];
  if (std::fabs(v - std::round(v)) < 1e-9) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f", v);
  }
  return buf;
}

std::string Replicas(int n) { return std::to_string(n) + (n == 1 ? " replica" : " replicas"); }

std::string Seconds(std::chrono::milliseconds d) {
  return Num(std::chrono::duration<double>(d).count()) + " s";
}

// ceil(x) as a replica count, bounded so a huge ratio cannot overflow an int.
int CeilCount(double x) {
  if (!(x > 0)) return 0;  // 0, negative, NaN
  const double c = std::ceil(x - 1e-9);
  return c >= 1e6 ? 1'000'000 : static_cast<int>(c);
}

}  // namespace

ServiceAutoscaler::ServiceAutoscaler(AutoscalePolicy policy) : policy_(policy) {}

AutoscaleDecision ServiceAutoscaler::Decide(const AutoscaleInput& in) {
  const AutoscalePolicy& p = policy_;
  const int current = std::max(0, in.current);
  TimePoint now = in.now;
  if (!history_.empty() && now < history_.back().first) now = history_.back().first;

  // 1. One recommendation per metric; the highest counts.
  int want = -1;
  std::string why;
  if (p.target_rps > 0) {
    const int n = CeilCount(in.rps / p.target_rps);
    want = n;
    const double capacity = current * p.target_rps;
    const char* cmp = in.rps > capacity ? " > " : (in.rps < capacity ? " < " : " = ");
    why = "rps " + Num(in.rps) + cmp + std::to_string(current) + " × " + Num(p.target_rps) + ": " +
          Replicas(n);
  }
  if (p.target_gpu_util > 0 && in.gpu_util.has_value() && in.ready > 0) {
    const double util = std::clamp(*in.gpu_util, 0.0, 100.0);
    const double ratio = util / p.target_gpu_util;
    int n;
    std::string w;
    if (std::fabs(ratio - 1.0) <= kTolerance) {
      n = current;
      w = "gpu util " + Num(util) + "% within 10% of the target " + Num(p.target_gpu_util) +
          "%: " + Replicas(n);
    } else {
      n = CeilCount(in.ready * ratio);
      w = "gpu util " + Num(util) + "% " + (ratio > 1 ? ">" : "<") + " target " +
          Num(p.target_gpu_util) + "% on " + std::to_string(in.ready) + " ready: " + Replicas(n);
    }
    if (n > want) {
      want = n;
      why = w;
    }
  }
  if (want < 0) {
    want = current;
    why = p.target_rps > 0 || p.target_gpu_util > 0
              ? "no gpu utilisation reading yet: " + Replicas(current)
              : "no target: " + Replicas(current);
  }

  // 2. The floor, and scale to zero.
  const bool idle = p.min_replicas <= 0 && now - in.last_request >= p.idle_timeout;
  if (idle && !in.request_waiting) {
    history_.clear();
    history_.emplace_back(now, 0);
    return {0, "idle: no request for " + Seconds(p.idle_timeout) + ": 0 replicas"};
  }
  // A metric may recommend 0 while requests still come: a target keeps one replica then.
  // Without a target the count in force (set by hand) stands, down to zero too.
  const bool targeted = p.target_rps > 0 || p.target_gpu_util > 0;
  const int floor = std::max(p.min_replicas, idle || !targeted ? 0 : 1);
  if (want < floor) {
    want = floor;
    why += p.min_replicas >= floor ? " (min " + std::to_string(p.min_replicas) + ")"
                                   : " (requests within the idle timeout: 1)";
  }
  // 3. Scale from zero.
  if (in.request_waiting && want < 1) {
    want = 1;
    why = "a request is waiting: 1 replica";
  }
  // 4. The ceiling.
  if (want > p.max_replicas) {
    want = std::max(0, p.max_replicas);
    why += " (max " + std::to_string(p.max_replicas) + ")";
  }

  // 5. Stabilisation: up at once, down only to the highest recent recommendation.
  while (!history_.empty() && now - history_.front().first > p.scale_down_delay) {
    history_.pop_front();
  }
  history_.emplace_back(now, want);
  if (want >= current) return {want, why};
  int recent = want;
  for (const auto& [at, n] : history_) recent = std::max(recent, n);
  const int keep = std::min(current, recent);
  if (keep > want) {
    return {keep, why + "; keeping " + Replicas(keep) + " (the highest of the last " +
                      Seconds(p.scale_down_delay) + ")"};
  }
  return {want, why};
}

}  // namespace fastgpu::server

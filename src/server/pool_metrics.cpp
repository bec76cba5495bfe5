#include "server/pool_metrics.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <set>

#include "optimizer/config_lp.h"
#include "scheduler/fragmentation.h"
#include "server/metrics.h"
#include "server/placement_pass.h"
#include "server/prometheus_text.h"

namespace fastgpu::server {

namespace {}  // namespace

TimePoint PendingSince(const model::Job& job) {
  TimePoint t = job.created_at;
  for (const model::JobEvent& e : job.events) {
    if (e.to == model::JobState::kPending) t = e.at;
  }
  return t;
}

void RenderPoolSnapshot(const PoolSnapshot& s, std::string& out) {
  PromHeader("fastgpu_pending_jobs",
             "Pending jobs by tenant, as listed by the latest placing pass (it lists at most "
             "max_pending_per_pass, oldest first).",
             "gauge", out);
  for (const auto& [tenant, p] : s.pending_by_tenant) {
    out += "fastgpu_pending_jobs{tenant=\"" + PromEscape(tenant) + "\"} " + std::to_string(p.jobs) +
           "\n";
  }
  PromHeader("fastgpu_pending_oldest_seconds",
             "Seconds the tenant's longest-waiting pending job has waited since it (last) entered "
             "pending, as of the latest pass; 0 when none is pending.",
             "gauge", out);
  for (const auto& [tenant, p] : s.pending_by_tenant) {
    out += "fastgpu_pending_oldest_seconds{tenant=\"" + PromEscape(tenant) + "\"} " +
           PromNumber(p.oldest_seconds) + "\n";
  }
  if (s.allocation == nullptr) return;
  PromHeader("fastgpu_node_gpu_allocated_milli",
             "GPU milli held by live allocations per node, from the placement engine after the "
             "latest placing pass.",
             "gauge", out);
  const AllocationGauges& a = *s.allocation;
  const std::vector<std::string>& ids = *a.node_ids;
  for (size_t k = 0; k < ids.size(); ++k) {
    if (a.node_milli[k] < 0) continue;
    out += "fastgpu_node_gpu_allocated_milli{node=\"" + PromEscape(ids[k]) + "\"} " +
           std::to_string(a.node_milli[k]) + "\n";
  }
  PromHeader("fastgpu_gpu_allocated_milli",
             "GPU milli held by live allocations per GPU (0..1000), from the placement engine.",
             "gauge", out);
  for (size_t k = 0; k < ids.size(); ++k) {
    for (size_t g = a.gpu_begin[k]; g < a.gpu_begin[k + 1]; ++g) {
      out += "fastgpu_gpu_allocated_milli{node=\"" + PromEscape(ids[k]) + "\",gpu=\"" +
             std::to_string(g - a.gpu_begin[k]) + "\"} " + std::to_string(a.gpu_milli[g]) + "\n";
    }
  }
  PromHeader("fastgpu_pool_gpu_milli",
             "The pool's GPU milli: capacity (healthy GPUs of nodes not lost), allocated (held by "
             "live allocations), free (on healthy GPUs of nodes that take new work).",
             "gauge", out);
  out += "fastgpu_pool_gpu_milli{kind=\"capacity\"} " + std::to_string(s.capacity_milli) + "\n";
  out += "fastgpu_pool_gpu_milli{kind=\"allocated\"} " + std::to_string(s.allocated_milli) + "\n";
  out += "fastgpu_pool_gpu_milli{kind=\"free\"} " + std::to_string(s.free_milli) + "\n";
  if (s.fragmented_milli) {
    PromHeader("fastgpu_pool_fragmented_milli",
               "Free GPU milli that the learned target workload cannot use (fragmentation, "
               "popularity-weighted), on nodes that take new work; recomputed at most every 5 s.",
               "gauge", out);
    out += "fastgpu_pool_fragmented_milli " + PromNumber(*s.fragmented_milli) + "\n";
    PromHeader("fastgpu_pool_fragmentation_ratio",
               "Share of the free GPU milli that is fragmented (0 when nothing is free); "
               "recomputed at most every 5 s.",
               "gauge", out);
    out +=
        "fastgpu_pool_fragmentation_ratio " + PromNumber(s.fragmentation_ratio.value_or(0)) + "\n";
  }
  if (s.lp_bound_milli) {
    PromHeader("fastgpu_pool_lp_bound_milli",
               "Upper bound (configuration LP) of the GPU milli the pool could hold for its work "
               "now (live allocations and pending jobs); recomputed at most once a minute, when "
               "the work changed.",
               "gauge", out);
    out += "fastgpu_pool_lp_bound_milli " + PromNumber(*s.lp_bound_milli) + "\n";
    if (*s.lp_bound_milli > 0) {
      PromHeader("fastgpu_pool_allocated_over_lp_bound",
                 "Allocated GPU milli over the LP upper bound (1: nothing better is possible); "
                 "absent while the bound is 0.",
                 "gauge", out);
      out += "fastgpu_pool_allocated_over_lp_bound " +
             PromNumber(static_cast<double>(s.allocated_milli) / *s.lp_bound_milli) + "\n";
    }
  }
}

Status PoolObserver::ObservePending(store::Store& store, const std::vector<model::Job>& pending,
                                    TimePoint now) {
  bool unknown = false;
  for (const model::Job& j : pending) unknown = unknown || !tenant_names_.contains(j.tenant_id);
  if (unknown) {
    FASTGPU_RETURN_IF_ERROR(store.Read([&](store::ReadTx& tx) -> Status {
      FASTGPU_ASSIGN_OR_RETURN(std::vector<model::Tenant> tenants, tx.ListTenants());
      for (const model::Tenant& t : tenants) tenant_names_[t.id] = t.name;
      return OkStatus();
    }));
    // A tenant deleted meanwhile is named by its id (and not looked up again).
    for (const model::Job& j : pending) tenant_names_.try_emplace(j.tenant_id, j.tenant_id);
  }
  std::map<std::string, PoolSnapshot::Pending> by_tenant;
  oldest_since_.clear();
  for (const auto& [id, name] : tenant_names_) by_tenant[name];  // 0 for known tenants
  for (const model::Job& j : pending) {
    const std::string& name = tenant_names_.at(j.tenant_id);
    PoolSnapshot::Pending& p = by_tenant[name];
    ++p.jobs;
    const TimePoint since = PendingSince(j);
    auto [it, fresh] = oldest_since_.try_emplace(name, since);
    if (!fresh && since < it->second) it->second = since;
    p.oldest_seconds =
        std::max(p.oldest_seconds, std::chrono::duration<double>(now - since).count());
  }
  snapshot_.pending_by_tenant = std::move(by_tenant);
  pending_work_.clear();
  pending_work_.reserve(pending.size());
  for (const model::Job& j : pending) pending_work_.emplace_back(j.spec.shape, j.spec.replicas);
  metrics_.SetPool(snapshot_);
  return OkStatus();
}

void PoolObserver::BuildGauges(const sched::Engine& engine,
                               const std::vector<store::NodeRecord>& nodes) {
  const sched::Cluster& cluster = engine.cluster();
  PoolSnapshot& s = snapshot_;
  // The order of the nodes' ids, kept while the records are the same nodes.
  bool same = sorted_ids_ != nullptr && sorted_pos_.size() == nodes.size();
  for (size_t i = 0; same && i < nodes.size(); ++i) {
    same = (*sorted_ids_)[sorted_pos_[i]] == nodes[i].node.id;
  }
  if (!same) {
    std::vector<size_t> order(nodes.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return nodes[a].node.id < nodes[b].node.id; });
    auto ids = std::make_shared<std::vector<std::string>>();
    ids->reserve(nodes.size());
    sorted_pos_.assign(nodes.size(), 0);
    for (size_t k = 0; k < order.size(); ++k) {
      ids->push_back(nodes[order[k]].node.id);
      sorted_pos_[order[k]] = k;
    }
    sorted_ids_ = std::move(ids);
  }
  auto gauges = std::make_shared<AllocationGauges>();
  gauges->node_ids = sorted_ids_;
  std::vector<int> index(nodes.size());
  std::vector<size_t> gpus(nodes.size() + 1, 0);  // by sorted position
  for (size_t i = 0; i < nodes.size(); ++i) {
    index[i] = engine.NodeIndex(nodes[i].node.id);
    if (index[i] >= 0) gpus[sorted_pos_[i]] = cluster.node(index[i]).gpus.size();
  }
  gauges->gpu_begin.assign(nodes.size() + 1, 0);
  for (size_t k = 0; k < nodes.size(); ++k) {
    gauges->gpu_begin[k + 1] = gauges->gpu_begin[k] + gpus[k];
  }
  gauges->node_milli.assign(nodes.size(), -1);
  gauges->gpu_milli.assign(gauges->gpu_begin.back(), 0);
  s.capacity_milli = s.allocated_milli = s.free_milli = 0;
  measured_.clear();
  for (size_t i = 0; i < nodes.size(); ++i) {
    const store::NodeRecord& n = nodes[i];
    if (index[i] < 0) continue;
    const sched::NodeState& node = cluster.node(index[i]);
    const size_t k = sorted_pos_[i];
    int64_t on_node = 0;
    for (size_t g = 0; g < node.gpus.size(); ++g) {
      const sched::GpuState& gpu = node.gpus[g];
      const int64_t allocated = sched::kMilliPerGpu - gpu.free_milli;
      gauges->gpu_milli[gauges->gpu_begin[k] + g] = allocated;
      on_node += allocated;
      if (gpu.healthy && n.state != store::NodeState::kLost) {
        s.capacity_milli += sched::kMilliPerGpu;
      }
    }
    gauges->node_milli[k] = on_node;
    s.allocated_milli += on_node;
    if (node.schedulable) {
      s.free_milli += node.FreeGpuMilli();
      measured_.push_back(index[i]);
    }
  }
  s.allocation = std::move(gauges);
}

void PoolObserver::ObservePool(const sched::Engine& engine,
                               const std::vector<store::NodeRecord>& nodes,
                               const std::vector<model::Job>& pending, TimePoint now) {
  ObservePoolWith(engine, nodes, now, [&](std::map<int, int64_t>& items) {
    for (const model::Job& j : pending) {
      for (const auto& [milli, count] : opt::ItemsFromShapes({j.spec.shape})) {
        items[milli] += count * j.spec.replicas;
      }
    }
  });
}

void PoolObserver::ObservePoolWith(
    const sched::Engine& engine, const std::vector<store::NodeRecord>& nodes, TimePoint now,
    const std::function<void(std::map<int, int64_t>&)>& add_pending) {
  pool_at_ = now;
  const sched::Cluster& cluster = engine.cluster();
  PoolSnapshot& s = snapshot_;
  std::pair<uint64_t, std::vector<store::NodeState>> version{0, {}};
  version.second.reserve(nodes.size());
  for (const store::NodeRecord& n : nodes) {
    const int index = engine.NodeIndex(n.node.id);
    version.first += index < 0 ? 0 : cluster.node(index).version + 1;
    version.second.push_back(n.state);
  }
  if (gauges_of_ != version) {
    gauges_of_ = std::move(version);
    BuildGauges(engine, nodes);
  }

  if (!fragmentation_at_ || now - *fragmentation_at_ >= kFragmentationEvery) {
    fragmentation_at_ = now;
    // The workload the engine learned (empty, so zero, when its target is fixed).
    const sched::FragmentationModel model(cluster, engine.workload().Target());
    double fragmented = 0;
    for (int index : measured_)
      fragmented += model.Fragmentation(sched::StateOf(cluster.node(index)));
    s.fragmented_milli = fragmented;
    s.fragmentation_ratio = s.free_milli > 0 ? fragmented / static_cast<double>(s.free_milli) : 0;
  }

  if (lp_at_ && now - *lp_at_ < kLpBoundEvery) {
    metrics_.SetPool(snapshot_);
    return;
  }
  lp_at_ = now;  // checked now; solved again only when the work changed
  // The work now: the live allocations' GPU slices (the engine's bookings) and the
  // pending jobs' replicas.
  std::map<int, int64_t> items;
  for (const auto& [id, placement] : engine.allocations()) {
    for (const sched::GpuSlot& slot : placement.gpus) {
      const int milli = std::clamp(slot.milli, 0, sched::kMilliPerGpu);
      if (milli > 0) ++items[milli];
    }
  }
  add_pending(items);
  std::pair<int64_t, std::map<int, int64_t>> work{s.capacity_milli / sched::kMilliPerGpu,
                                                  std::move(items)};
  if (!s.lp_bound_milli || work != lp_work_) {
    opt::ConfigLpOptions options;
    options.max_iterations = kLpMaxIterations;
    Result<opt::ConfigLpBound> bound = opt::GpuConfigLpBound(work.first, work.second, options);
    if (bound.ok()) {
      s.lp_bound_milli = bound->upper_bound_milli;
      lp_work_ = std::move(work);
    } else {
      spdlog::warn("reconciler: pool LP bound failed: {}", bound.status().ToString());
    }
  }
  metrics_.SetPool(snapshot_);
}

void PoolObserver::ObserveIdle(const sched::Engine& engine,
                               const std::vector<store::NodeRecord>& nodes, TimePoint now) {
  for (auto& [name, p] : snapshot_.pending_by_tenant) {
    auto it = oldest_since_.find(name);
    p.oldest_seconds =
        it == oldest_since_.end() ? 0 : std::chrono::duration<double>(now - it->second).count();
  }
  if (pool_at_ && now - *pool_at_ < kIdleRefresh) {
    metrics_.SetPool(snapshot_);
    return;
  }
  ObservePoolWith(engine, nodes, now, [&](std::map<int, int64_t>& items) {
    for (const auto& [shape, replicas] : pending_work_) {
      for (const auto& [milli, count] : opt::ItemsFromShapes({shape}))
        items[milli] += count * replicas;
    }
  });
}

PassTimer::PassTimer(Metrics& metrics)
    : metrics_(metrics), start_(std::chrono::steady_clock::now()) {}

PassTimer::~PassTimer() {
  metrics_.ObservePass(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
}

}  // namespace fastgpu::server

#include "scheduler/feasibility.h"

#include <algorithm>
#include <set>

#include "model/shape.h"
#include "model/units.h"
#include "scheduler/filters.h"

namespace fastgpu::sched {

namespace {

// "Many" replicas: a dimension the shape does not ask for never limits.
constexpr int64_t kMany = int64_t{1} << 40;
// Nodes or GPUs named in one blocked reason.
constexpr size_t kNamed = 3;

// How a node's capacity is counted.
enum class Mode {
  kEmpty,         // totals, every GPU as if healthy
  kEmptyHealthy,  // totals, unhealthy GPUs left out
  kFree,          // what is free now, unhealthy GPUs left out
};

bool NeedsMig(const model::Shape& s) {
  return s.NeedsGpu() && s.EffectiveIsolation() == model::Isolation::kMig;
}
bool Whole(const model::Shape& s) { return s.gpu_milli >= kMilliPerGpu; }

// Whether `g` can ever take one GPU of `s` (model aside): the MIG mode filter (filters.h)
// and memory.
bool GpuQualifies(const PoolGpu& g, const model::Shape& s) {
  if (!MigModeFits(g.mig_enabled, s)) return false;
  return s.gpu_memory_mib <= 0 || g.memory_mib >= s.gpu_memory_mib;
}

int64_t Div(int64_t have, int64_t need) {
  return need > 0 ? std::max<int64_t>(0, have / need) : kMany;
}

// Replicas of `s` the node's GPUs hold (CPU and memory aside).
int64_t GpuHolds(const PoolNode& n, const model::Shape& s, Mode mode) {
  if (!s.NeedsGpu()) return kMany;
  if (n.gpus.empty() || !s.AllowsModel(n.gpu_model)) return 0;
  int64_t whole = 0, slots = 0;
  for (const PoolGpu& g : n.gpus) {
    if (!GpuQualifies(g, s) || (mode != Mode::kEmpty && !g.healthy)) continue;
    const int64_t milli = mode == Mode::kFree ? g.free_milli : kMilliPerGpu;
    const int64_t memory = mode == Mode::kFree ? g.free_memory_mib : g.memory_mib;
    if (Whole(s)) {
      whole += milli == kMilliPerGpu ? 1 : 0;
    } else {
      slots += std::min(Div(milli, s.gpu_milli), Div(memory, s.gpu_memory_mib));
    }
  }
  return Whole(s) ? whole / std::max(1, s.gpu_count) : slots;
}

int64_t CpuHolds(const PoolNode& n, const model::Shape& s, Mode mode) {
  return Div(mode == Mode::kFree ? n.cpu_free_milli : n.cpu_milli, s.cpu_milli);
}
int64_t MemoryHolds(const PoolNode& n, const model::Shape& s, Mode mode) {
  return Div(mode == Mode::kFree ? n.memory_free_mib : n.memory_mib, s.memory_mib);
}

// Replicas of `s` the node holds, every dimension at once.
int64_t Holds(const PoolNode& n, const model::Shape& s, Mode mode) {
  return std::min({GpuHolds(n, s, mode), CpuHolds(n, s, mode), MemoryHolds(n, s, mode)});
}

// GPUs of the node that could take one GPU of `s` (model, MIG, memory; health per mode).
int UsableGpus(const PoolNode& n, const model::Shape& s, Mode mode) {
  if (n.gpus.empty() || !s.AllowsModel(n.gpu_model)) return 0;
  int count = 0;
  for (const PoolGpu& g : n.gpus) {
    if (GpuQualifies(g, s) && (mode == Mode::kEmpty || g.healthy)) ++count;
  }
  return count;
}

std::string Plural(int64_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string JoinOr(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == items.size() ? " or " : ", ") + items[i];
  }
  return out;
}

// What the GPUs a request may use have in common, for "the largest GPU ..." sentences.
std::string GpuQualifier(const model::Shape& s) {
  std::string q;
  if (!s.gpu_models.empty()) q += " of model " + JoinOr(s.gpu_models);
  if (NeedsMig(s)) q += " in MIG mode";
  return q;
}

// Why no node could hold `req` even empty with every GPU healthy; "" when some could.
std::string ExplainNever(const std::vector<PoolNode>& pool, const Request& req) {
  const model::Shape& s = req.shape;
  int64_t total = 0;
  for (const PoolNode& n : pool) total += Holds(n, s, Mode::kEmpty);
  if (total >= req.replicas) return "";

  // The nodes whose GPUs could take a replica, and what the others lack.
  std::vector<const PoolNode*> gpu_ok;
  if (s.NeedsGpu()) {
    std::set<std::string> models;
    int model_gpus = 0, mig_gpus = 0;
    int64_t largest_memory = 0;
    int most_on_one_node = 0;
    for (const PoolNode& n : pool) {
      if (n.gpus.empty()) continue;
      models.insert(n.gpu_model);
      if (!s.AllowsModel(n.gpu_model)) continue;
      model_gpus += static_cast<int>(n.gpus.size());
      for (const PoolGpu& g : n.gpus) {
        if (g.mig_enabled) ++mig_gpus;
        if (MigModeFits(g.mig_enabled, s)) largest_memory = std::max(largest_memory, g.memory_mib);
      }
      most_on_one_node = std::max(most_on_one_node, UsableGpus(n, s, Mode::kEmpty));
      if (GpuHolds(n, s, Mode::kEmpty) > 0) gpu_ok.push_back(&n);
    }
    if (models.empty()) return "asks for GPUs; no node has a GPU";
    if (model_gpus == 0) {
      return "asks for a GPU of model " + JoinOr(s.gpu_models) + "; the pool has only " +
             JoinOr(std::vector<std::string>(models.begin(), models.end()));
    }
    if (NeedsMig(s) && mig_gpus == 0) {
      return std::string("asks for MIG isolation; no GPU") +
             (s.gpu_models.empty() ? "" : " of model " + JoinOr(s.gpu_models)) + " is in MIG mode";
    }
    if (!NeedsMig(s) && mig_gpus == model_gpus) {
      return std::string("asks for ") + std::string(model::IsolationName(GpuMode(s))) +
             " isolation; every GPU" +
             (s.gpu_models.empty() ? "" : " of model " + JoinOr(s.gpu_models)) +
             " is in MIG mode, which takes only MIG-isolated work";
    }
    if (s.gpu_memory_mib > largest_memory) {
      return "asks " + model::FormatMemoryMib(s.gpu_memory_mib) +
             " of GPU memory per GPU; the largest GPU" + GpuQualifier(s) + " has " +
             model::FormatMemoryMib(largest_memory);
    }
    if (most_on_one_node < s.gpu_count) {
      return "a replica needs " + std::to_string(s.gpu_count) +
             " GPUs on one node; the largest node has " + std::to_string(most_on_one_node) +
             GpuQualifier(s) +
             (s.gpu_memory_mib > 0 ? " with " + model::FormatMemoryMib(s.gpu_memory_mib) : "");
    }
  } else {
    for (const PoolNode& n : pool) gpu_ok.push_back(&n);
  }
  const std::string with_gpus = s.NeedsGpu() ? " with the GPUs it needs" : "";
  // CPU, then memory, on the nodes whose GPUs could take a replica.
  int64_t cpu_all = 0, cpu_ok = 0, mem_all = 0, mem_ok = 0;
  bool cpu_fits = false, mem_fits = false;
  for (const PoolNode& n : pool) {
    cpu_all = std::max(cpu_all, n.cpu_milli);
    mem_all = std::max(mem_all, n.memory_mib);
  }
  for (const PoolNode* n : gpu_ok) {
    cpu_ok = std::max(cpu_ok, n->cpu_milli);
    mem_ok = std::max(mem_ok, n->memory_mib);
    cpu_fits |= CpuHolds(*n, s, Mode::kEmpty) > 0;
    mem_fits |= MemoryHolds(*n, s, Mode::kEmpty) > 0;
  }
  if (!cpu_fits) {
    const std::string ask = "asks " + model::FormatCpuMilli(s.cpu_milli) + " CPU per replica; ";
    if (cpu_all < s.cpu_milli)
      return ask + "the largest node has " + model::FormatCpuMilli(cpu_all) + " CPU";
    return ask + "no node" + with_gpus + " has that many (the largest has " +
           model::FormatCpuMilli(cpu_ok) + ")";
  }
  if (!mem_fits) {
    const std::string ask =
        "asks " + model::FormatMemoryMib(s.memory_mib) + " of memory per replica; ";
    if (mem_all < s.memory_mib) {
      return ask + "the largest node has " + model::FormatMemoryMib(mem_all);
    }
    return ask + "no node" + with_gpus + " has that much (the largest has " +
           model::FormatMemoryMib(mem_ok) + ")";
  }
  if (total == 0) {
    return "no node has all of " + model::DescribeShape(s) + " at once";
  }
  // Every part fits somewhere: the gang is larger than the whole pool.
  if (s.NeedsGpu() && Whole(s) && s.gpu_count == 1) {
    int64_t gpu_total = 0, gpu_bound = 0;
    for (const PoolNode& n : pool) {
      gpu_total += UsableGpus(n, s, Mode::kEmpty);
      gpu_bound += GpuHolds(n, s, Mode::kEmpty);
    }
    if (gpu_bound == total) {
      return "the gang needs " + std::to_string(req.replicas) +
             " GPUs at once; the whole pool has " + std::to_string(gpu_total) + GpuQualifier(s);
    }
  }
  return "the gang needs " + std::to_string(req.replicas) + " replicas of " +
         model::DescribeShape(s) + " at once; the whole pool can hold " + std::to_string(total);
}

std::string NodeObstacle(const PoolNode& n) {
  switch (n.availability) {
    case NodeAvailability::kDrained:
      return "node " + n.id + " is drained";
    case NodeAvailability::kLost:
      return "node " + n.id + " is lost (its agent stopped sending heartbeats)";
    case NodeAvailability::kOvercommitted:
      return "node " + n.id + " takes no new work (" + n.why + ")";
    case NodeAvailability::kRevoked:
      return "node " + n.id + " is revoked (no new work until its agent registers again)";
    case NodeAvailability::kOpen:
      break;
  }
  return "";
}

// What keeps `req` off the part of the pool that could hold it; "" when the open,
// healthy nodes could hold it when empty.
std::string ExplainBlocked(const std::vector<PoolNode>& pool, const Request& req) {
  int64_t open = 0;
  for (const PoolNode& n : pool) {
    if (n.availability == NodeAvailability::kOpen) open += Holds(n, req.shape, Mode::kEmptyHealthy);
  }
  if (open >= req.replicas) return "";
  std::vector<std::string> named;
  for (const PoolNode& n : pool) {
    if (Holds(n, req.shape, Mode::kEmpty) == 0) continue;  // of no use to this request anyway
    if (n.availability != NodeAvailability::kOpen) {
      named.push_back(NodeObstacle(n));
      continue;
    }
    if (Holds(n, req.shape, Mode::kEmptyHealthy) == Holds(n, req.shape, Mode::kEmpty)) continue;
    for (const PoolGpu& g : n.gpus) {
      if (g.healthy || !GpuQualifies(g, req.shape)) continue;
      named.push_back("GPU " + std::to_string(g.index) + " of node " + n.id + " is unhealthy" +
                      (g.health_reason.empty() ? "" : " (" + g.health_reason + ")"));
    }
  }
  std::string out;
  for (size_t i = 0; i < named.size() && i <= kNamed; ++i) {
    out += (i == 0 ? "" : "; ") + (i == kNamed ? "..." : named[i]);
  }
  if (req.replicas > 1 || open > 0) {
    out += " (the rest of the pool holds " + std::to_string(open) + " of the " +
           Plural(req.replicas, "replica", "replicas") + ")";
  }
  return out;
}

// What holds the capacity the request waits for; "" when the free amounts show room.
std::string ExplainBusy(const std::vector<PoolNode>& pool, const Request& req) {
  const model::Shape& s = req.shape;
  int64_t free_total = 0, gpu_free = 0;
  for (const PoolNode& n : pool) {
    if (n.availability != NodeAvailability::kOpen) continue;
    free_total += Holds(n, s, Mode::kFree);
    gpu_free += GpuHolds(n, s, Mode::kFree);
  }
  if (free_total >= req.replicas) return "";
  if (s.NeedsGpu() && gpu_free < req.replicas) {
    int usable = 0, allocated = 0, free_whole = 0, with_room = 0, open_gpus = 0;
    for (const PoolNode& n : pool) {
      if (n.availability != NodeAvailability::kOpen) continue;
      for (const PoolGpu& g : n.gpus) open_gpus += g.healthy ? 1 : 0;
      if (n.gpus.empty() || !s.AllowsModel(n.gpu_model)) continue;
      for (const PoolGpu& g : n.gpus) {
        if (!g.healthy || !GpuQualifies(g, s)) continue;
        ++usable;
        allocated += g.free_milli == 0 ? 1 : 0;
        free_whole += g.free_milli == kMilliPerGpu ? 1 : 0;
        with_room += g.free_milli >= s.gpu_milli && (Whole(s) || s.gpu_memory_mib <= 0 ||
                                                     g.free_memory_mib >= s.gpu_memory_mib)
                         ? 1
                         : 0;
      }
    }
    const std::string gpus = usable == open_gpus ? Plural(usable, "GPU", "GPUs")
                                                 : Plural(usable, "GPU", "GPUs") + " it could use";
    if (allocated == usable)
      return (usable == 1 ? "the " : "all ") + gpus + (usable == 1 ? " is" : " are") + " allocated";
    if (Whole(s)) {
      return std::to_string(free_whole) + " of " + gpus + (free_whole == 1 ? " is" : " are") +
             " free; it needs " + std::to_string(int64_t{req.replicas} * s.gpu_count) + " at once" +
             (s.gpu_count > 1 ? " (" + std::to_string(s.gpu_count) + " on one node)" : "");
    }
    std::string want =
        model::FormatGpuAmount({1, s.gpu_milli}) + " GPU" +
        (s.gpu_memory_mib > 0 ? " and " + model::FormatMemoryMib(s.gpu_memory_mib) : "");
    if (with_room == 0) return "none of the " + gpus + " has " + want + " free";
    return std::to_string(with_room) + " of the " + gpus + " have " + want + " free; they hold " +
           std::to_string(gpu_free) + " of the " + Plural(req.replicas, "replica", "replicas");
  }
  int lack_cpu = 0, lack_memory = 0, nodes = 0;
  for (const PoolNode& n : pool) {
    if (n.availability != NodeAvailability::kOpen || GpuHolds(n, s, Mode::kFree) == 0) continue;
    ++nodes;
    lack_cpu += CpuHolds(n, s, Mode::kFree) == 0 ? 1 : 0;
    lack_memory += MemoryHolds(n, s, Mode::kFree) == 0 ? 1 : 0;
  }
  std::string out = "not enough free CPU or memory";
  if (s.NeedsGpu()) out += " beside the free GPUs";
  out += ": of " + Plural(nodes, "node", "nodes");
  if (s.cpu_milli > 0) {
    out += ", " + std::to_string(lack_cpu) + " lack " + model::FormatCpuMilli(s.cpu_milli) + " CPU";
  }
  if (s.memory_mib > 0) {
    out += ", " + std::to_string(lack_memory) + " lack " + model::FormatMemoryMib(s.memory_mib);
  }
  return out + " (per replica; " + Plural(req.replicas, "replica", "replicas") + ")";
}

}  // namespace

void SetFreeFrom(const NodeState& state, PoolNode& node) {
  node.cpu_free_milli = state.cpu_free_milli;
  node.memory_free_mib = state.memory_free_mib;
  for (PoolGpu& g : node.gpus) {
    if (g.index < 0 || g.index >= static_cast<int>(state.gpus.size())) continue;
    g.free_milli = state.gpus[g.index].free_milli;
    g.free_memory_mib = state.gpus[g.index].free_memory_mib;
  }
}

std::string Diagnosis::Text() const {
  switch (verdict) {
    case Verdict::kNoNodes:
      return "waiting: " + detail;
    case Verdict::kNever:
      return "never fits in this pool as it is: " + detail;
    case Verdict::kBlocked:
      return "waiting for unavailable capacity: " + detail;
    case Verdict::kBusy:
      break;
  }
  return "waiting for capacity: " + detail;
}

Diagnosis CheckEverFits(const std::vector<PoolNode>& pool, const Request& request) {
  if (pool.empty()) return {Verdict::kNoNodes, "no nodes registered yet"};
  std::string never = ExplainNever(pool, request);
  if (!never.empty()) return {Verdict::kNever, std::move(never)};
  return {Verdict::kBusy, ""};
}

Diagnosis Diagnose(const std::vector<PoolNode>& pool, const Request& request,
                   const std::string& fallback) {
  Diagnosis d = CheckEverFits(pool, request);
  if (d.verdict != Verdict::kBusy) return d;
  if (std::string blocked = ExplainBlocked(pool, request); !blocked.empty()) {
    return {Verdict::kBlocked, std::move(blocked)};
  }
  std::string busy = ExplainBusy(pool, request);
  return {Verdict::kBusy, busy.empty() ? fallback : std::move(busy)};
}

}  // namespace fastgpu::sched

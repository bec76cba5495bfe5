#include "server/pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

namespace fastgpu::server {

namespace {

int64_t Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

int MilliPerGpu(const model::Shape& s) { return s.gpu_milli > 0 ? s.gpu_milli : 1000; }

// The replica's dominant share of a node of `node`: the largest of its GPU, CPU and memory
// shares (docs/elastic.md).
double DominantShare(const model::Shape& s, const PoolNodeShape& node) {
  double share = 0;
  if (node.gpus > 0) {
    share = std::max(share, s.gpu_count * MilliPerGpu(s) / 1000.0 / node.gpus);
  }
  if (node.cpu_milli > 0) {
    share = std::max(share, static_cast<double>(s.cpu_milli) / node.cpu_milli);
  }
  if (node.memory_mib > 0) {
    share = std::max(share, static_cast<double>(s.memory_mib) / node.memory_mib);
  }
  return share;
}

}  // namespace

std::string_view PoolNodeStateName(PoolNodeState s) {
  switch (s) {
    case PoolNodeState::kBooting:
      return "booting";
    case PoolNodeState::kReady:
      return "ready";
    case PoolNodeState::kDraining:
      return "draining";
  }
  return "unknown";
}

Result<std::unique_ptr<NodePool>> NodePool::Create(
    PoolConfig config, std::map<std::string, std::unique_ptr<NodeProvider>> providers,
    Clock& clock) {
  std::unique_ptr<NodePool> pool(new NodePool(clock));
  pool->providers_ = std::move(providers);
  for (NodeGroupConfig& gc : config.groups) {
    auto it = pool->providers_.find(gc.provider);
    if (it == pool->providers_.end() || it->second == nullptr) {
      return InvalidArgument("pool group " + gc.name + ": provider \"" + gc.provider +
                             "\" is not available here");
    }
    Group g;
    g.provider = it->second.get();
    g.config = std::move(gc);
    pool->groups_.push_back(std::move(g));
  }
  return pool;
}

void NodePool::SetControlPlane(std::string server_url, std::string join_token) {
  std::lock_guard lock(mu_);
  server_url_ = std::move(server_url);
  join_token_ = std::move(join_token);
}

NodePool::Instance NodePool::EmptyRoom(const PoolNodeShape& shape) {
  Instance room;
  room.gpu_milli_free.assign(static_cast<size_t>(shape.gpus), 1000);
  room.cpu_free = shape.cpu_milli;
  room.memory_free = shape.memory_mib;
  return room;
}

bool NodePool::Fits(const Instance& room, const model::Shape& shape, const PoolNodeShape& node) {
  if (shape.cpu_milli > room.cpu_free || shape.memory_mib > room.memory_free) return false;
  if (shape.gpu_count <= 0) return true;
  if (node.gpus <= 0 || !shape.AllowsModel(node.gpu_model)) return false;
  const int need = MilliPerGpu(shape);
  const auto fitting = std::count_if(room.gpu_milli_free.begin(), room.gpu_milli_free.end(),
                                     [&](int free) { return free >= need; });
  return fitting >= shape.gpu_count;
}

void NodePool::Book(Instance& room, const model::Shape& shape) {
  room.cpu_free -= shape.cpu_milli;
  room.memory_free -= shape.memory_mib;
  int left = shape.gpu_count;
  const int need = MilliPerGpu(shape);
  for (int& free : room.gpu_milli_free) {
    if (left == 0) break;
    if (free >= need) {
      free -= need;
      --left;
    }
  }
}

Status NodePool::Observe(store::Store& store, const std::map<std::string, int>& live_by_node,
                         Group& g, PoolStepStats& stats) {
  const MonoTime now = clock_.MonotonicNow();
  int kept = 0;  // nodes not draining, for min_nodes
  for (const Instance& in : g.instances) kept += in.state != PoolNodeState::kDraining ? 1 : 0;
  for (size_t i = 0; i < g.instances.size();) {
    Instance& in = g.instances[i];
    bool forget = false;
    if (in.state == PoolNodeState::kBooting) {
      std::vector<store::NodeRecord> found;
      FASTGPU_RETURN_IF_ERROR(store.Read([&](store::ReadTx& tx) -> Status {
        FASTGPU_ASSIGN_OR_RETURN(found, tx.FindNodesByName(in.name));
        return OkStatus();
      }));
      for (const auto& rec : found) {
        if (rec.state == store::NodeState::kReady && !rec.token_sha256_hex.empty()) {
          in.node_id = rec.node.id;
          in.state = PoolNodeState::kReady;
          // No work yet (the usual case): its room is open, scale_down_after counts from
          // now. An adopted node, or one the pass just placed work on, may hold some.
          auto live = live_by_node.find(in.node_id);
          in.empty = live == live_by_node.end() || live->second == 0;
          in.empty_since = now;
          spdlog::info("pool: node {} of group {} registered as {}", in.name, g.config.name,
                       in.node_id);
        }
      }
      if (in.state == PoolNodeState::kBooting && now - in.created >= g.config.boot_timeout) {
        g.reason = "node " + in.name + " did not register within " +
                   std::to_string(g.config.boot_timeout.count()) +
                   " s (boot_timeout); deleted, another is asked for while work waits";
        ++g.boot_failures;
        ++stats.boot_timeouts;
        spdlog::warn("pool: group {}: {}", g.config.name, g.reason);
        Status st = g.provider->Delete(g.config.name, in.name);
        if (!st.ok()) g.reason += "; delete failed: " + st.message();
        ++g.deleted;
        ++stats.deleted;
        --kept;
        forget = true;
      }
    } else {
      store::NodeRecord rec;
      int live = 0;
      bool drained = false;
      FASTGPU_RETURN_IF_ERROR(store.Read([&](store::ReadTx& tx) -> Status {
        FASTGPU_ASSIGN_OR_RETURN(rec, tx.GetNode(in.node_id));
        FASTGPU_ASSIGN_OR_RETURN(drained, tx.IsNodeDrained(in.node_id));
        auto it = live_by_node.find(in.node_id);
        live = it == live_by_node.end() ? 0 : it->second;
        return OkStatus();
      }));
      if (rec.state == store::NodeState::kLost) {
        g.reason = "node " + in.name + " (" + in.node_id + ") was lost; given back";
        spdlog::warn("pool: group {}: {}", g.config.name, g.reason);
        Status st = g.provider->Delete(g.config.name, in.name);
        if (!st.ok()) g.reason += "; delete failed: " + st.message();
        ++g.deleted;
        ++stats.deleted;
        if (in.state != PoolNodeState::kDraining) --kept;
        forget = true;
      } else if (live > 0) {
        in.empty = false;
        if (in.state == PoolNodeState::kDraining) {  // work came back: keep it
          FASTGPU_RETURN_IF_ERROR(store.Write(
              [&](store::WriteTx& tx) { return tx.SetNodeDrained(in.node_id, false); }));
          in.state = PoolNodeState::kReady;
          ++kept;
        }
      } else if (in.state == PoolNodeState::kDraining) {
        // Drained at an earlier step and still empty: give it back.
        Status st = g.provider->Delete(g.config.name, in.name);
        if (!st.ok()) {
          g.reason = "delete of node " + in.name + " failed: " + st.message();
          spdlog::warn("pool: group {}: {}", g.config.name, g.reason);
        } else {
          FASTGPU_RETURN_IF_ERROR(store.Write([&](store::WriteTx& tx) -> Status {
            FASTGPU_RETURN_IF_ERROR(tx.SetNodeState(in.node_id, store::NodeState::kLost));
            return tx.RevokeNodeCredentials(in.node_id);
          }));
          spdlog::info("pool: node {} ({}) of group {} given back", in.name, in.node_id,
                       g.config.name);
          ++g.deleted;
          ++stats.deleted;
          forget = true;
        }
      } else {
        if (!in.empty) {
          in.empty = true;
          in.empty_since = now;
        }
        if (!drained && now - in.empty_since >= g.config.scale_down_after &&
            kept > g.config.min_nodes) {
          FASTGPU_RETURN_IF_ERROR(
              store.Write([&](store::WriteTx& tx) { return tx.SetNodeDrained(in.node_id, true); }));
          in.state = PoolNodeState::kDraining;
          --kept;
          ++stats.drained;
        }
      }
    }
    if (forget) {
      g.instances.erase(g.instances.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  return OkStatus();
}

Status NodePool::Adopt(store::Store& store, Group& g) {
  Result<std::vector<std::string>> held = g.provider->List(g.config.name);
  if (!held.ok()) {
    const std::string why = "list failed (the nodes it holds are adopted once it answers): " +
                            held.status().message();
    if (why != g.reason) spdlog::warn("pool: group {}: {}", g.config.name, why);
    g.reason = why;
    return OkStatus();
  }
  std::set<std::string> known;
  for (const Instance& in : g.instances) known.insert(in.name);
  const std::string prefix = g.config.name + "-";
  std::vector<std::string> adopted;
  for (const std::string& name : *held) {
    if (name.empty() || !known.insert(name).second) continue;
    Instance in = EmptyRoom(g.config.shape);
    in.name = name;
    in.created = clock_.MonotonicNow();  // a booting one has its boot timeout from now
    // A registered node that was drained goes on being given back; any other registered
    // node is found ready by the step's Observe, as a booting node that registered.
    FASTGPU_RETURN_IF_ERROR(store.Read([&](store::ReadTx& tx) -> Status {
      FASTGPU_ASSIGN_OR_RETURN(std::vector<store::NodeRecord> found, tx.FindNodesByName(name));
      for (const auto& rec : found) {
        if (rec.state != store::NodeState::kReady || rec.token_sha256_hex.empty()) continue;
        FASTGPU_ASSIGN_OR_RETURN(bool drained, tx.IsNodeDrained(rec.node.id));
        if (drained) {
          in.node_id = rec.node.id;
          in.state = PoolNodeState::kDraining;
        }
      }
      return OkStatus();
    }));
    if (name.rfind(prefix, 0) == 0) {
      const std::string digits = name.substr(prefix.size());
      if (!digits.empty() && digits.size() < 16 &&
          digits.find_first_not_of("0123456789") == std::string::npos) {
        g.next_index = std::max<int64_t>(g.next_index, std::stoll(digits) + 1);
      }
    }
    adopted.push_back(name);
    g.instances.push_back(std::move(in));
  }
  g.adopted = true;
  if (!adopted.empty()) {
    std::string names;
    for (const std::string& n : adopted) names += (names.empty() ? "" : ", ") + n;
    spdlog::info("pool: group {}: adopted {} node(s) its provider holds: {}", g.config.name,
                 adopted.size(), names);
  }
  return OkStatus();
}

void NodePool::Resync() {
  std::lock_guard lock(mu_);
  for (Group& g : groups_) g.adopted = false;
}

bool NodePool::StartNode(Group& g, Instance** started) {
  NodeRequest req;
  req.group = g.config.name;
  req.name = g.config.name + "-" + std::to_string(g.next_index);
  req.shape = g.config.shape;
  req.server_url = server_url_;
  req.join_token = join_token_;
  Status st = g.provider->Create(req);
  if (!st.ok()) {
    g.reason = "create failed: " + st.message();
    spdlog::warn("pool: group {}: {}", g.config.name, g.reason);
    return false;
  }
  ++g.next_index;
  ++g.created;
  Instance in = EmptyRoom(g.config.shape);
  in.name = req.name;
  in.created = clock_.MonotonicNow();
  spdlog::info("pool: group {}: asked for node {}", g.config.name, in.name);
  g.instances.push_back(std::move(in));
  if (started != nullptr) *started = &g.instances.back();
  return true;
}

Result<PoolStepStats> NodePool::Step(store::Store& store, const std::vector<model::Job>& pending) {
  std::lock_guard lock(mu_);
  PoolStepStats stats;
  const MonoTime now = clock_.MonotonicNow();
  for (auto& [name, provider] : providers_) provider->Tick(now);
  for (Group& g : groups_) {
    if (!g.adopted) FASTGPU_RETURN_IF_ERROR(Adopt(store, g));
  }
  std::map<std::string, int> live_by_node;  // live allocations per node
  FASTGPU_RETURN_IF_ERROR(store.Read([&](store::ReadTx& tx) -> Status {
    FASTGPU_ASSIGN_OR_RETURN(auto live, tx.ListLiveAllocations());
    for (const auto& a : live) ++live_by_node[a.alloc.node_id];
    return OkStatus();
  }));
  for (Group& g : groups_) FASTGPU_RETURN_IF_ERROR(Observe(store, live_by_node, g, stats));

  // The room pending work may count on: booting nodes and empty ready nodes, whole.
  std::vector<std::pair<Group*, size_t>> rooms;
  std::map<Group*, bool> failed;  // a group whose provider failed this step
  for (Group& g : groups_) {
    for (size_t i = 0; i < g.instances.size(); ++i) {
      Instance& in = g.instances[i];
      const bool open =
          in.state == PoolNodeState::kBooting || (in.state == PoolNodeState::kReady && in.empty);
      Instance fresh = EmptyRoom(g.config.shape);
      in.gpu_milli_free = fresh.gpu_milli_free;
      in.cpu_free = open ? fresh.cpu_free : -1;
      in.memory_free = open ? fresh.memory_free : -1;
      if (open) rooms.emplace_back(&g, i);
    }
    // Up to min_nodes.
    int kept = 0;
    for (const Instance& in : g.instances) kept += in.state != PoolNodeState::kDraining ? 1 : 0;
    while (kept < g.config.min_nodes && !failed[&g]) {
      if (!StartNode(g, nullptr)) {
        failed[&g] = true;
        break;
      }
      rooms.emplace_back(&g, g.instances.size() - 1);
      ++kept;
    }
  }

  pending_.clear();
  std::set<std::string> booked;  // nodes some pending job counts on
  for (const model::Job& job : pending) {
    const model::Shape& shape = job.spec.shape;
    std::string why;
    std::vector<std::string> on;
    for (int r = 0; r < job.spec.replicas && why.empty(); ++r) {
      bool booked = false;
      for (auto& [g, i] : rooms) {
        Instance& in = g->instances[i];
        if (Fits(in, shape, g->config.shape)) {
          Book(in, shape);
          on.push_back(in.name);
          booked = true;
          break;
        }
      }
      if (booked) continue;
      Group* best = nullptr;
      double best_cost = 0, best_share = 0;
      bool fits_some = false;
      for (Group& g : groups_) {
        if (!Fits(EmptyRoom(g.config.shape), shape, g.config.shape)) continue;
        fits_some = true;
        if (failed[&g] || static_cast<int>(g.instances.size()) >= g.config.max_nodes) continue;
        const double share = DominantShare(shape, g.config.shape);
        const double cost = g.config.price_per_hour * share;
        if (best == nullptr || cost < best_cost || (cost == best_cost && share > best_share)) {
          best = &g;
          best_cost = cost;
          best_share = share;
        }
      }
      if (!fits_some) {
        why = "fits no group's node shape";
        break;
      }
      if (best == nullptr) {
        why = "every group whose node fits it is at max_nodes (or its provider failed)";
        break;
      }
      Instance* started = nullptr;
      if (!StartNode(*best, &started)) {
        failed[best] = true;
        why = "group " + best->config.name + ": " + best->reason;
        break;
      }
      ++stats.created;
      Book(*started, shape);
      on.push_back(started->name);
      rooms.emplace_back(best, best->instances.size() - 1);
    }
    if (why.empty()) {
      std::sort(on.begin(), on.end());
      on.erase(std::unique(on.begin(), on.end()), on.end());
      why = "waiting for pool node";
      for (size_t i = 0; i < on.size(); ++i) why += (i == 0 ? " " : ", ") + on[i];
    }
    pending_.push_back({job.id, why});
    booked.insert(on.begin(), on.end());
  }
  // Boots nobody waits for any more (the work found room elsewhere, or left) are cancelled,
  // down to min_nodes.
  for (Group& g : groups_) {
    int kept = 0;
    for (const Instance& in : g.instances) kept += in.state != PoolNodeState::kDraining ? 1 : 0;
    for (size_t i = g.instances.size(); i-- > 0;) {
      const Instance& in = g.instances[i];
      if (in.state != PoolNodeState::kBooting || booked.count(in.name) > 0 ||
          kept <= g.config.min_nodes) {
        continue;
      }
      Status st = g.provider->Delete(g.config.name, in.name);
      if (!st.ok()) {
        g.reason = "delete of node " + in.name + " failed: " + st.message();
        continue;
      }
      spdlog::info("pool: group {}: boot of {} cancelled: no work waits for it", g.config.name,
                   in.name);
      ++g.deleted;
      ++stats.deleted;
      --kept;
      g.instances.erase(g.instances.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  return stats;
}

bool NodePool::CanShrink() const {
  std::lock_guard lock(mu_);
  for (const Group& g : groups_) {
    if (g.config.min_nodes < g.config.max_nodes) return true;
  }
  return false;
}

NodePoolSnapshot NodePool::Snapshot() const {
  std::lock_guard lock(mu_);
  NodePoolSnapshot snap;
  const MonoTime now = clock_.MonotonicNow();
  for (const Group& g : groups_) {
    NodePoolSnapshot::Group sg;
    sg.config = g.config;
    sg.reason = g.reason;
    sg.boot_failures = g.boot_failures;
    sg.created = g.created;
    sg.deleted = g.deleted;
    for (const Instance& in : g.instances) {
      sg.nodes.push_back({in.name, in.node_id, in.state, Seconds(now - in.created)});
    }
    snap.groups.push_back(std::move(sg));
  }
  snap.pending = pending_;
  return snap;
}

boost::json::object NodePoolSnapshotToJson(const NodePoolSnapshot& snapshot) {
  namespace json = boost::json;
  json::array groups;
  for (const auto& g : snapshot.groups) {
    json::array nodes;
    for (const auto& n : g.nodes) {
      nodes.push_back(json::object{{"name", n.name},
                                   {"node_id", n.node_id},
                                   {"state", PoolNodeStateName(n.state)},
                                   {"age_s", n.age_s}});
    }
    const auto& c = g.config;
    groups.push_back(json::object{{"name", c.name},
                                  {"provider", c.provider},
                                  {"min_nodes", c.min_nodes},
                                  {"max_nodes", c.max_nodes},
                                  {"shape", json::object{{"gpu_model", c.shape.gpu_model},
                                                         {"gpus", c.shape.gpus},
                                                         {"cpu_milli", c.shape.cpu_milli},
                                                         {"memory_mib", c.shape.memory_mib}}},
                                  {"price_per_hour", c.price_per_hour},
                                  {"boot_timeout_s", c.boot_timeout.count()},
                                  {"scale_down_after_s", c.scale_down_after.count()},
                                  {"reason", g.reason},
                                  {"boot_failures", g.boot_failures},
                                  {"created", g.created},
                                  {"deleted", g.deleted},
                                  {"nodes", std::move(nodes)}});
  }
  json::array pending;
  for (const auto& p : snapshot.pending) {
    pending.push_back(json::object{{"job_id", p.job_id}, {"why", p.why}});
  }
  return json::object{
      {"enabled", true}, {"groups", std::move(groups)}, {"pending", std::move(pending)}};
}

std::string RenderPoolMetrics(const NodePoolSnapshot& snapshot) {
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  auto line = [&](const std::string& name, const std::string& labels, int64_t v) {
    out += name + "{" + labels + "} " + std::to_string(v) + "\n";
  };
  family("fastgpu_pool_nodes", "gauge", "Nodes of each pool group by state.");
  for (const auto& g : snapshot.groups) {
    for (PoolNodeState s :
         {PoolNodeState::kBooting, PoolNodeState::kReady, PoolNodeState::kDraining}) {
      int64_t n = 0;
      for (const auto& node : g.nodes) n += node.state == s ? 1 : 0;
      line("fastgpu_pool_nodes",
           "group=\"" + g.config.name + "\",state=\"" + std::string(PoolNodeStateName(s)) + "\"",
           n);
    }
  }
  family("fastgpu_pool_nodes_min", "gauge", "The group's min_nodes.");
  for (const auto& g : snapshot.groups) {
    line("fastgpu_pool_nodes_min", "group=\"" + g.config.name + "\"", g.config.min_nodes);
  }
  family("fastgpu_pool_nodes_max", "gauge", "The group's max_nodes.");
  for (const auto& g : snapshot.groups) {
    line("fastgpu_pool_nodes_max", "group=\"" + g.config.name + "\"", g.config.max_nodes);
  }
  family("fastgpu_pool_nodes_created_total", "counter", "Nodes asked of the group's provider.");
  for (const auto& g : snapshot.groups) {
    line("fastgpu_pool_nodes_created_total", "group=\"" + g.config.name + "\"", g.created);
  }
  family("fastgpu_pool_nodes_deleted_total", "counter", "Nodes given back to the provider.");
  for (const auto& g : snapshot.groups) {
    line("fastgpu_pool_nodes_deleted_total", "group=\"" + g.config.name + "\"", g.deleted);
  }
  family("fastgpu_pool_boot_failures_total", "counter",
         "Nodes deleted for not registering within boot_timeout.");
  for (const auto& g : snapshot.groups) {
    line("fastgpu_pool_boot_failures_total", "group=\"" + g.config.name + "\"", g.boot_failures);
  }
  family("fastgpu_pool_pending_jobs", "gauge", "Pending jobs the pool's latest step looked at.");
  out += "fastgpu_pool_pending_jobs " + std::to_string(snapshot.pending.size()) + "\n";
  return out;
}

}  // namespace fastgpu::server

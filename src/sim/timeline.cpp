#include "sim/timeline.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <queue>
#include <tuple>

#include "scheduler/engine.h"
#include "scheduler/filters.h"

namespace fastgpu::sim {
namespace {

// A node type of the elastic pool and what it did.
struct Group {
  NodeGroupResult out;
  int64_t cpu_milli = 0;
  int64_t memory_mib = 0;
  double millicents_per_hour = 0;  // the whole node under the price table
  int live = 0;                    // booting or up now
  std::vector<int> free_slots;     // instance slots given back, reused first
  int next_slot = 0;
};

// One node of the pool (a slot of its group, reused after a scale-down).
struct Instance {
  int group = 0;
  std::string id;
  bool live = false;
  bool ready = false;
  int64_t since_s = 0;     // boot started
  int booting_index = -1;  // in the cluster of booting nodes
  int engine_index = -1;   // in the engine, once it joined
  int pods = 0;            // pods placed on it now
  int reserved = 0;        // pods waiting for it while it boots
  int64_t generation = 0;  // bumped at each boot of the slot (stale events are ignored)
  int64_t empty_since_s = -1;
};

enum class PodState { kFuture, kPending, kPlaced, kGone };

struct Pod {
  const TracePod* trace = nullptr;
  int64_t at_s = 0, until_s = 0;
  double gpus = 0;  // fractional demand
  PodState state = PodState::kFuture;
  int instance = -1;  // where it runs
  int64_t placed_s = -1;
  uint64_t refused_epoch = UINT64_MAX;  // the engine's freed_epoch when last refused
  int reserved_on = -1;                 // a booting instance holding room for it
  sched::NodePlacement reservation;     // on the cluster of booting nodes
};

// Events at one time run in this order: departures free room first, then nodes join,
// then pods arrive, then empty nodes are looked at.
enum EventKind { kDepart = 0, kNodeReady = 1, kArrive = 2, kScaleDownCheck = 3 };
struct Event {
  int64_t t_s;
  int kind;
  int ref;        // pod or instance
  int64_t stamp;  // kScaleDownCheck: the empty_since it checks
  bool operator>(const Event& o) const {
    return std::tie(t_s, kind, ref) > std::tie(o.t_s, o.kind, o.ref);
  }
};

double PodGpus(const model::Shape& s) { return s.gpu_count * s.gpu_milli / 1000.0; }
int DedicatedGpus(const model::Shape& s) { return s.gpu_count; }

double NodeMillicentsPerHour(const metering::PriceTable& p, const std::string& model, int gpus,
                             int64_t cpu_milli, int64_t memory_mib) {
  return static_cast<double>(gpus) * static_cast<double>(p.GpuHourMillicents(model)) +
         cpu_milli / 1000.0 * static_cast<double>(p.cpu_hour_millicents) +
         memory_mib / 1024.0 * static_cast<double>(p.memory_gib_hour_millicents);
}

class Timeline {
 public:
  Timeline(const std::vector<TraceNode>& nodes, const TimelineOptions& options)
      : options_(options) {
    BuildGroups(nodes);
  }

  Status Init() {
    sched::EngineOptions eopts;
    eopts.policy = options_.policy;
    eopts.seed = options_.seed;
    eopts.elastic_pool = true;  // empty nodes are given back (scale_down_after_s)
    FASTGPU_ASSIGN_OR_RETURN(engine_, sched::Engine::Create(eopts));
    FASTGPU_ASSIGN_OR_RETURN(booking_, sched::MakePolicy("best-fit", {}));
    return OkStatus();
  }

  Result<TimelineResult> Run(const std::vector<TracePod>& pods,
                             const std::map<std::string, PodLifetime>& lifetimes) {
    TimelineResult out;
    out.policy = options_.policy;
    for (const TracePod& p : pods) {
      auto it = lifetimes.find(p.name);
      if (it == lifetimes.end() || it->second.deletion_s <= it->second.creation_s) {
        ++out.pods_skipped;
        continue;
      }
      Pod pod;
      pod.trace = &p;
      pod.at_s = it->second.creation_s;
      pod.until_s = it->second.deletion_s;
      pod.gpus = PodGpus(p.shape);
      pods_.push_back(std::move(pod));
    }
    out.pods = static_cast<int64_t>(pods_.size());
    if (pods_.empty()) return out;
    int64_t first = INT64_MAX, last = 0;
    for (size_t i = 0; i < pods_.size(); ++i) {
      const Pod& p = pods_[i];
      first = std::min(first, p.at_s);
      last = std::max(last, p.until_s);
      events_.push({p.at_s, kArrive, static_cast<int>(i), 0});
      events_.push({p.until_s, kDepart, static_cast<int>(i), 0});
      const double hours = (p.until_s - p.at_s) / 3600.0;
      out.demand_gpu_hours += p.gpus * hours;
      out.dedicated_gpu_hours += DedicatedGpus(p.trace->shape) * hours;
    }
    first_s_ = first;
    out.span_s = last - first;
    const size_t total_events = events_.size();
    size_t handled = 0;
    double next_report = 0.05;
    while (!events_.empty()) {
      const int64_t now = events_.top().t_s;
      bool arrived = false;
      while (!events_.empty() && events_.top().t_s == now) {
        Event e = events_.top();
        events_.pop();
        ++handled;
        switch (e.kind) {
          case kDepart:
            FASTGPU_RETURN_IF_ERROR(Depart(e.ref, now));
            break;
          case kNodeReady:
            if (e.stamp != instances_[e.ref].generation) break;  // a cancelled boot
            FASTGPU_RETURN_IF_ERROR(NodeReady(e.ref, now));
            break;
          case kArrive:
            Arrive(e.ref);
            arrived = true;
            break;
          case kScaleDownCheck:
            FASTGPU_RETURN_IF_ERROR(MaybeScaleDown(e.ref, e.stamp, now));
            break;
        }
      }
      FASTGPU_RETURN_IF_ERROR(PlacePending(now, arrived));
      FASTGPU_RETURN_IF_ERROR(GrowForPending(now));
      FASTGPU_RETURN_IF_ERROR(CancelUnneededBoots(now));
      Sample(now);
      if (options_.on_progress && handled >= next_report * total_events) {
        options_.on_progress(static_cast<double>(handled) / total_events);
        next_report += 0.05;
      }
    }
    // Every pod has left; nodes still up are counted to the last departure.
    for (size_t i = 0; i < instances_.size(); ++i) {
      if (instances_[i].live) StopInstance(static_cast<int>(i), last);
    }
    return Finish(std::move(out), first, last);
  }

 private:
  void BuildGroups(const std::vector<TraceNode>& nodes) {
    std::map<std::tuple<std::string, int, int64_t, int64_t>, int> index;
    for (const TraceNode& n : nodes) {
      auto key = std::make_tuple(n.model, n.gpu_count, n.cpu_milli, n.memory_mib);
      auto [it, fresh] = index.emplace(key, static_cast<int>(groups_.size()));
      if (fresh) {
        Group g;
        g.out.gpu_model = n.model;
        g.out.gpus = n.gpu_count;
        g.cpu_milli = n.cpu_milli;
        g.memory_mib = n.memory_mib;
        if (options_.prices) {
          g.millicents_per_hour = NodeMillicentsPerHour(*options_.prices, n.model, n.gpu_count,
                                                        n.cpu_milli, n.memory_mib);
        }
        groups_.push_back(std::move(g));
      }
      ++groups_[it->second].out.max_nodes;
      static_gpus_ += n.gpu_count;
      if (options_.prices) {
        static_millicents_per_hour_ += NodeMillicentsPerHour(*options_.prices, n.model, n.gpu_count,
                                                             n.cpu_milli, n.memory_mib);
      }
    }
    // Names: "<model>x<gpus>", with the CPU and memory where that is not unique.
    std::map<std::pair<std::string, int>, int> same;
    for (const Group& g : groups_) ++same[{g.out.gpu_model, g.out.gpus}];
    for (Group& g : groups_) {
      g.out.name =
          (g.out.gpu_model.empty() ? "cpu" : g.out.gpu_model) + "x" + std::to_string(g.out.gpus);
      if (same[{g.out.gpu_model, g.out.gpus}] > 1) {
        g.out.name += "-" + std::to_string(g.cpu_milli / 1000) + "c-" +
                      std::to_string(g.memory_mib / 1024) + "g";
      }
      types_.AddNode(Spec(g, g.out.name));
    }
    // The order a pod looks for a type in: cheapest first.
    for (size_t i = 0; i < groups_.size(); ++i) by_price_.push_back(static_cast<int>(i));
    std::stable_sort(by_price_.begin(), by_price_.end(), [&](int a, int b) {
      const Group& x = groups_[a];
      const Group& y = groups_[b];
      return std::tie(x.millicents_per_hour, x.out.gpus, x.cpu_milli, x.memory_mib) <
             std::tie(y.millicents_per_hour, y.out.gpus, y.cpu_milli, y.memory_mib);
    });
  }

  // When a node empty since `now` is looked at: never in the same instant, so the pods
  // waiting for it are placed first.
  int64_t ScaleDownAt(int64_t now) const {
    return now + std::max<int64_t>(1, options_.scale_down_after_s);
  }

  double DominantShareCost(const Group& g, const model::Shape& s) const {
    double share = 0;
    if (g.out.gpus > 0) share = std::max(share, PodGpus(s) / g.out.gpus);
    if (g.cpu_milli > 0) share = std::max(share, static_cast<double>(s.cpu_milli) / g.cpu_milli);
    if (g.memory_mib > 0) {
      share = std::max(share, static_cast<double>(s.memory_mib) / g.memory_mib);
    }
    const double price = options_.prices ? g.millicents_per_hour : g.out.gpus;
    return price * share;
  }

  static sched::NodeSpec Spec(const Group& g, const std::string& id) {
    return {id, g.out.gpu_model, g.out.gpus, 0, g.cpu_milli, g.memory_mib};
  }

  void Arrive(int pod) {
    Pod& p = pods_[pod];
    p.state = PodState::kPending;
    pending_.push_back(pod);
    engine_->Observe(p.trace->shape);
    demand_now_ += p.gpus;
  }

  Status Depart(int pod, int64_t now) {
    Pod& p = pods_[pod];
    demand_now_ -= p.gpus;
    if (p.state == PodState::kPlaced) {
      FASTGPU_RETURN_IF_ERROR(engine_->ReleaseAllocation(std::to_string(pod)));
      placed_demand_hours_ += p.gpus * (now - p.placed_s) / 3600.0;
      groups_[instances_[p.instance].group].out.used_gpu_hours +=
          p.gpus * (now - p.placed_s) / 3600.0;
      if (options_.prices) {
        placed_millicents_ += PodMillicentsPerHour(p, p.instance) * (now - p.placed_s) / 3600.0;
      }
      Instance& in = instances_[p.instance];
      if (--in.pods == 0) {
        in.empty_since_s = now;
        events_.push({ScaleDownAt(now), kScaleDownCheck, p.instance, now});
      }
    } else if (p.state == PodState::kPending) {
      ++never_ran_;
      FASTGPU_RETURN_IF_ERROR(DropReservation(p));
      pending_.erase(std::find(pending_.begin(), pending_.end(), pod));
    }
    p.state = PodState::kGone;
    return OkStatus();
  }

  double PodMillicentsPerHour(const Pod& p, int instance) const {
    const metering::PriceTable& t = *options_.prices;
    const model::Shape& s = p.trace->shape;
    const std::string& model = groups_[instances_[instance].group].out.gpu_model;
    return p.gpus * static_cast<double>(t.GpuHourMillicents(model)) +
           s.cpu_milli / 1000.0 * static_cast<double>(t.cpu_hour_millicents) +
           s.memory_mib / 1024.0 * static_cast<double>(t.memory_gib_hour_millicents);
  }

  Status DropReservation(Pod& p) {
    if (p.reserved_on < 0) return OkStatus();
    Instance& in = instances_[p.reserved_on];
    if (!in.ready && in.live) {
      FASTGPU_RETURN_IF_ERROR(booting_.Release(p.reservation));
      booking_->OnNodeChanged(booting_, in.booting_index);
      --in.reserved;
    }
    p.reserved_on = -1;
    return OkStatus();
  }

  // A booting node that no pod waits for any more (they found room elsewhere, or left) is
  // given back at once: paying for the rest of its boot and an idle spell buys nothing.
  Status CancelUnneededBoots(int64_t now) {
    for (auto it = booting_instances_.begin(); it != booting_instances_.end();) {
      Instance& in = instances_[*it];
      if (!in.live || in.ready) {
        it = booting_instances_.erase(it);
        continue;
      }
      if (in.reserved > 0) {
        ++it;
        continue;
      }
      FASTGPU_RETURN_IF_ERROR(booting_.SetSchedulable(in.booting_index, false));
      booking_->OnNodeChanged(booting_, in.booting_index);
      free_booting_.push_back(in.booting_index);
      ++in.generation;  // its kNodeReady event is stale now
      StopInstance(*it, now);
      ++cancelled_boots_;
      it = booting_instances_.erase(it);
    }
    return OkStatus();
  }

  Status NodeReady(int instance, int64_t now) {
    Instance& in = instances_[instance];
    in.ready = true;
    in.reserved = 0;
    FASTGPU_RETURN_IF_ERROR(booting_.SetSchedulable(in.booting_index, false));
    booking_->OnNodeChanged(booting_, in.booting_index);
    free_booting_.push_back(in.booting_index);
    for (int pod : pending_) {
      if (pods_[pod].reserved_on == instance) pods_[pod].reserved_on = -1;
    }
    const Group& g = groups_[in.group];
    if (in.engine_index < 0) {
      sched::EngineNode node;
      node.spec = Spec(g, in.id);
      FASTGPU_ASSIGN_OR_RETURN(in.engine_index, engine_->UpsertNode(node));
      instance_of_engine_node_[in.engine_index] = instance;
    } else {
      FASTGPU_RETURN_IF_ERROR(
          engine_->SetAvailability(in.engine_index, sched::NodeAvailability::kOpen));
    }
    in.empty_since_s = now;
    events_.push({ScaleDownAt(now), kScaleDownCheck, instance, now});
    return OkStatus();
  }

  Status MaybeScaleDown(int instance, int64_t stamp, int64_t now) {
    Instance& in = instances_[instance];
    if (!in.live || !in.ready || in.pods > 0 || in.empty_since_s != stamp) return OkStatus();
    FASTGPU_RETURN_IF_ERROR(
        engine_->SetAvailability(in.engine_index, sched::NodeAvailability::kRevoked));
    StopInstance(instance, now);
    ++scale_downs_;
    return OkStatus();
  }

  void StopInstance(int instance, int64_t now) {
    Instance& in = instances_[instance];
    Group& g = groups_[in.group];
    in.live = false;
    --g.live;
    live_gpus_ -= g.out.gpus;
    g.out.provisioned_gpu_hours += g.out.gpus * (now - in.since_s) / 3600.0;
    node_millicents_ += g.millicents_per_hour * (now - in.since_s) / 3600.0;
    g.free_slots.push_back(instance);
  }

  // Pending pods in arrival order, each tried unless the engine refused it with nothing
  // freed since.
  Status PlacePending(int64_t now, bool arrived) {
    if (pending_.empty() || (!arrived && engine_->freed_epoch() == last_epoch_)) return OkStatus();
    last_epoch_ = engine_->freed_epoch();
    for (auto it = pending_.begin(); it != pending_.end();) {
      const int pod = *it;
      Pod& p = pods_[pod];
      if (p.refused_epoch == engine_->freed_epoch()) {
        ++it;
        continue;
      }
      auto placed = engine_->Place({p.trace->name, p.trace->shape, 1});
      if (!placed.ok()) {
        if (placed.status().code() != StatusCode::kResourceExhausted) return placed.status();
        p.refused_epoch = engine_->freed_epoch();
        ++it;
        continue;
      }
      const sched::NodePlacement& np = (*placed)[0];
      FASTGPU_RETURN_IF_ERROR(engine_->AddAllocation(std::to_string(pod), np, true));
      FASTGPU_RETURN_IF_ERROR(DropReservation(p));
      p.state = PodState::kPlaced;
      p.placed_s = now;
      p.instance = instance_of_engine_node_.at(np.node);
      ++instances_[p.instance].pods;
      waits_.push_back(static_cast<double>(now - p.at_s));
      it = pending_.erase(it);
    }
    return OkStatus();
  }

  // Pending pods without room booting get room on a booting node, or start one.
  Status GrowForPending(int64_t now) {
    for (auto it = pending_.begin(); it != pending_.end();) {
      Pod& p = pods_[*it];
      if (p.reserved_on >= 0) {
        ++it;
        continue;
      }
      auto room = booking_->Place(booting_, p.trace->shape);
      if (room.ok()) {
        FASTGPU_RETURN_IF_ERROR(booting_.Apply(*room));
        booking_->OnNodeChanged(booting_, room->node);
        p.reserved_on = instance_of_booting_node_.at(room->node);
        p.reservation = *room;
        ++instances_[p.reserved_on].reserved;
        ++it;
        continue;
      }
      // The type that costs least for this pod's dominant share of it: a node's price
      // (its GPUs without a price table) times the largest of the GPU, CPU and memory
      // shares the pod takes of it, so CPU-heavy pods go to nodes with CPU to spare.
      int type = -1;
      bool fits_some_type = false;
      double best = 0;
      for (int g : by_price_) {
        const sched::NodeState& shape_of_type = types_.node(g);
        if (!sched::NodeFitsShape(shape_of_type, p.trace->shape,
                                  p.trace->shape.AllowsModel(shape_of_type.gpu_model))) {
          continue;
        }
        fits_some_type = true;
        if (groups_[g].live >= groups_[g].out.max_nodes) continue;
        const double cost = DominantShareCost(groups_[g], p.trace->shape);
        if (type < 0 || cost < best) {
          type = g;
          best = cost;
        }
      }
      if (!fits_some_type) {
        ++unplaceable_;
        p.state = PodState::kGone;
        demand_unplaceable_ += p.gpus * (p.until_s - p.at_s) / 3600.0;
        it = pending_.erase(it);
        continue;
      }
      if (type < 0) {  // every type that holds it is at its maximum: it waits for room
        ++it;
        continue;
      }
      const int instance = StartInstance(type, now);
      auto on_new = booking_->Place(booting_, p.trace->shape);
      if (!on_new.ok() || on_new->node != instances_[instance].booting_index) {
        return Internal("a new " + groups_[type].out.name + " node does not hold " + p.trace->name);
      }
      FASTGPU_RETURN_IF_ERROR(booting_.Apply(*on_new));
      booking_->OnNodeChanged(booting_, on_new->node);
      p.reserved_on = instance;
      p.reservation = *on_new;
      ++instances_[instance].reserved;
      ++it;
    }
    return OkStatus();
  }

  int StartInstance(int type, int64_t now) {
    Group& g = groups_[type];
    int instance;
    if (!g.free_slots.empty()) {
      instance = g.free_slots.back();
      g.free_slots.pop_back();
    } else {
      instance = static_cast<int>(instances_.size());
      Instance in;
      in.group = type;
      in.id = g.out.name + "-" + std::to_string(g.next_slot++);
      instances_.push_back(std::move(in));
    }
    Instance& in = instances_[instance];
    in.live = true;
    in.ready = false;
    in.since_s = now;
    in.pods = 0;
    in.reserved = 0;
    ++in.generation;
    in.empty_since_s = -1;
    const sched::NodeSpec spec = Spec(g, in.id);
    if (!free_booting_.empty()) {
      in.booting_index = free_booting_.back();
      free_booting_.pop_back();
      booting_.ReplaceNode(in.booting_index, spec);
      (void)booting_.SetSchedulable(in.booting_index, true);
    } else {
      in.booting_index = booting_.AddNode(spec);
    }
    booking_->OnNodeChanged(booting_, in.booting_index);
    if (static_cast<int>(instance_of_booting_node_.size()) <= in.booting_index) {
      instance_of_booting_node_.resize(in.booting_index + 1, -1);
    }
    instance_of_booting_node_[in.booting_index] = instance;
    ++g.live;
    ++g.out.boots;
    g.out.peak_nodes = std::max(g.out.peak_nodes, g.live);
    live_gpus_ += g.out.gpus;
    ++boots_;
    events_.push({now + options_.boot_delay_s, kNodeReady, instance, in.generation});
    booting_instances_.push_back(instance);
    return instance;
  }

  void Sample(int64_t now) {
    peak_gpus_ = std::max(peak_gpus_, live_gpus_);
    peak_demand_ = std::max(peak_demand_, demand_now_);
    raw_.push_back({now - first_s_, demand_now_, live_gpus_});
  }

  Result<TimelineResult> Finish(TimelineResult out, int64_t first, int64_t last) {
    out.pods_placed = static_cast<int64_t>(waits_.size());
    out.pods_waited = std::count_if(waits_.begin(), waits_.end(), [](double w) { return w > 0; });
    out.pods_never_ran = never_ran_;
    out.pods_unplaceable = unplaceable_;
    for (const Group& g : groups_) out.provisioned_gpu_hours += g.out.provisioned_gpu_hours;
    out.static_gpu_hours = static_gpus_ * (last - first) / 3600.0;
    out.placed_demand_gpu_hours = placed_demand_hours_;
    if (!waits_.empty()) {
      std::vector<double> w = waits_;
      auto pct = [&](double q) {
        size_t k = static_cast<size_t>(std::ceil(q * w.size())) - 1;
        k = std::min(k, w.size() - 1);
        std::nth_element(w.begin(), w.begin() + k, w.end());
        return w[k];
      };
      out.wait_p50_s = pct(0.5);
      out.wait_p99_s = pct(0.99);
      out.wait_max_s = *std::max_element(w.begin(), w.end());
    }
    out.peak_provisioned_gpus = peak_gpus_;
    out.peak_demand_gpus = peak_demand_;
    out.boots = boots_;
    out.scale_downs = scale_downs_;
    out.cancelled_boots = cancelled_boots_;
    for (const Group& g : groups_) {
      if (g.out.boots > 0) out.groups.push_back(g.out);
    }
    if (options_.prices) {
      out.provisioned_cents = std::llround(node_millicents_ / 1000.0);
      out.static_cents =
          std::llround(static_millicents_per_hour_ * (last - first) / 3600.0 / 1000.0);
      out.demand_cents = std::llround(placed_millicents_ / 1000.0);
    }
    // The series, cut to at most `samples` points: each keeps the most of both in its span.
    const int samples = std::max(2, options_.samples);
    const double width = std::max<double>(1, static_cast<double>(out.span_s) / samples);
    for (const TimelinePoint& p : raw_) {
      const int64_t bucket = static_cast<int64_t>(p.t_s / width);
      if (!out.series.empty() && static_cast<int64_t>(out.series.back().t_s / width) == bucket) {
        TimelinePoint& b = out.series.back();
        b.demand_gpus = std::max(b.demand_gpus, p.demand_gpus);
        b.provisioned_gpus = std::max(b.provisioned_gpus, p.provisioned_gpus);
      } else {
        out.series.push_back(p);
      }
    }
    return out;
  }

  TimelineOptions options_;
  std::vector<Group> groups_;
  sched::Cluster types_;  // one empty node per group: what a new node could hold
  std::vector<int> by_price_;
  int64_t static_gpus_ = 0;
  double static_millicents_per_hour_ = 0;

  std::unique_ptr<sched::Engine> engine_;
  sched::Cluster booting_;                      // nodes booting, with the room held on them
  std::unique_ptr<sched::Policy> booking_;      // books room on booting nodes (best fit)
  std::vector<int> free_booting_;               // indexes of booting_ free for reuse
  std::vector<int> instance_of_booting_node_;   // booting_ index -> instance
  std::map<int, int> instance_of_engine_node_;  // engine node index -> instance (slots keep theirs)
  std::vector<Instance> instances_;
  std::vector<int> booting_instances_;  // instances booting now (or just done; pruned lazily)
  std::vector<Pod> pods_;
  std::deque<int> pending_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  uint64_t last_epoch_ = UINT64_MAX;
  int64_t first_s_ = 0;
  double demand_now_ = 0;
  int live_gpus_ = 0;
  int peak_gpus_ = 0;
  double peak_demand_ = 0;
  int64_t boots_ = 0, scale_downs_ = 0, cancelled_boots_ = 0, never_ran_ = 0, unplaceable_ = 0;
  double demand_unplaceable_ = 0;
  double placed_demand_hours_ = 0;
  double node_millicents_ = 0, placed_millicents_ = 0;
  std::vector<double> waits_;
  std::vector<TimelinePoint> raw_;
};

}  // namespace

Result<TimelineResult> RunTimeline(const std::vector<TraceNode>& nodes,
                                   const std::vector<TracePod>& pods,
                                   const std::map<std::string, PodLifetime>& lifetimes,
                                   const TimelineOptions& options) {
  if (nodes.empty()) return InvalidArgument("the node list has no nodes");
  if (options.boot_delay_s < 0) return InvalidArgument("--boot-delay: must be 0 or more");
  if (options.scale_down_after_s < 0) {
    return InvalidArgument("--scale-down-after: must be 0 or more");
  }
  if (options.prices) FASTGPU_RETURN_IF_ERROR(metering::ValidatePriceTable(*options.prices));
  Timeline t(nodes, options);
  FASTGPU_RETURN_IF_ERROR(t.Init());
  return t.Run(pods, lifetimes);
}

}  // namespace fastgpu::sim

// fastgpu_replay: replays the Alibaba GPU trace against a running `fastgpu server` over HTTP.
//
// It registers every node of a trace node list through the agent protocol, exactly as a
// node agent does (POST /v1/nodes/register with the join token, the protocol's own
// encoder; simulated GPUs of the trace's model, the node's CPU and memory), keeps them
// heartbeating from a few threads (reporting healthy GPUs and no replicas), then submits
// the pods of a pod list as jobs (POST /v1/jobs) in the simulator's arrival order
// (sim::ArrivalsFor: `drawn` with a seed up to --max-arrival, or `as-listed`), either one
// at a time (each job scheduled, or pending with a reason, before the next is sent: the
// control plane places each alone) or in bulk (back to back). It reports what the control
// plane says: the allocated share of GPU capacity (GET /v1/nodes), how many jobs were
// placed or left pending (GET /v1/jobs), placement latency (submission to the job's
// "scheduled" event) and the reconciler's pass duration when /metrics exports one.
//
// Not run by ctest by itself (tests/replay_trace_test.cpp drives it); see
// docs/benchmarks.md. Expects a fresh control plane: the share counts every node it lists.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "common/ids.h"
#include "common/join_token.h"
#include "common/result.h"
#include "net/http_client.h"
#include "protocol/agent_protocol.h"
#include "sim/simulator.h"
#include "sim/trace.h"

namespace fastgpu::bench {
namespace {

namespace json = boost::json;
using SteadyClock = std::chrono::steady_clock;

struct Flags {
  std::string server;       // control plane URL
  std::string data_dir;     // where admin.token and join.token are (unless given)
  std::string admin_token;  // submits jobs and reads nodes; default <data_dir>/admin.token
  std::string join_token;   // registers nodes; default <data_dir>/join.token
  std::string nodes;        // trace node list CSV
  std::string pods;         // trace pod list CSV
  std::string order = "drawn";
  uint64_t seed = 0;
  double max_arrival = 1.0;
  std::string submit = "one-at-a-time";
  int heartbeat_threads = 16;
  double heartbeat_every_s = 3;
  int64_t gpu_memory_mib = 16384;  // the trace does not give GPU memory
  double timeout_s = 1800;
  double progress_every_s = 5;
  bool json = false;
};

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

Result<std::unique_ptr<net::HttpClient>> Client(const std::string& url, const std::string& token) {
  net::HttpClientOptions o;
  o.bearer_token = token;
  return net::HttpClient::Create(url, o);
}

Result<json::value> ParseJson(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return InvalidArgument("not JSON: " + ec.message());
  return v;
}

// A GET answering 200 with a JSON body.
Result<json::value> GetJson(net::HttpClient& c, const std::string& path) {
  FASTGPU_ASSIGN_OR_RETURN(net::HttpResponse res, c.Get(path));
  FASTGPU_RETURN_IF_ERROR(net::ApiStatus(res).WithContext("GET " + path));
  return ParseJson(res.body);
}

// ---- the nodes ----

struct FakeNode {
  std::string name;
  std::string id;
  std::string token;
  int gpus = 0;
  SteadyClock::time_point last_ok;  // registration or the last heartbeat answered
};

// Registers one trace node as its agent would.
Status Register(net::HttpClient& c, const sim::TraceNode& n, int64_t gpu_memory_mib,
                FakeNode* out) {
  protocol::RegisterRequest req;
  req.name = n.name;
  req.agent_id = "replay-" + n.name;
  req.node_secret = RandomHex(32);
  req.cpu_milli = n.cpu_milli;
  req.memory_mib = n.memory_mib;
  req.simulated = true;
  for (int i = 0; i < n.gpu_count; ++i) {
    model::Gpu g;
    g.index = i;
    g.uuid = "SIM-" + n.name + "-" + std::to_string(i);
    g.model = n.model;
    g.memory_mib = gpu_memory_mib;
    g.simulated = true;
    req.gpus.push_back(std::move(g));
  }
  FASTGPU_ASSIGN_OR_RETURN(net::HttpResponse res,
                           c.Post("/v1/nodes/register", protocol::EncodeRegister(req)));
  FASTGPU_RETURN_IF_ERROR(net::ApiStatus(res).WithContext("register " + n.name));
  FASTGPU_ASSIGN_OR_RETURN(protocol::RegisterResponse answer,
                           protocol::DecodeRegisterResponse(res.body));
  out->name = n.name;
  out->id = answer.node_id;
  out->token = answer.node_token;
  out->gpus = n.gpu_count;
  out->last_ok = SteadyClock::now();
  return OkStatus();
}

Status Heartbeat(net::HttpClient& c, const FakeNode& node) {
  protocol::HeartbeatRequest req;
  for (int i = 0; i < node.gpus; ++i) req.gpus.push_back({i, true, ""});
  c.set_bearer_token(node.token);
  FASTGPU_ASSIGN_OR_RETURN(net::HttpResponse res, c.Post("/v1/nodes/" + node.id + "/heartbeat",
                                                         protocol::EncodeHeartbeat(req)));
  FASTGPU_RETURN_IF_ERROR(net::ApiStatus(res).WithContext("heartbeat of " + node.name));
  return protocol::DecodeHeartbeatResponse(res.body).status();
}

// Registers the nodes, in order, and keeps them heartbeating every `every` from `threads`
// threads until Stop(). Thread-safe.
class NodeFleet {
 public:
  NodeFleet(std::string url, std::string join_secret, int64_t gpu_memory_mib)
      : url_(std::move(url)),
        join_secret_(std::move(join_secret)),
        gpu_memory_mib_(gpu_memory_mib) {}
  ~NodeFleet() { Stop(); }

  // Registers every node one at a time in the list's order, so the control plane knows
  // the nodes in the order the simulator does (the policies break ties by that order), and
  // heartbeats each from its registration on (thread t takes nodes t, t + threads, ...).
  // The first registration error, if any.
  Status Start(const std::vector<sim::TraceNode>& nodes, int threads,
               std::chrono::milliseconds every) {
    nodes_.assign(nodes.size(), FakeNode());
    auto reg = Client(url_, join_secret_);
    if (!reg.ok()) return reg.status();
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, t, threads, every] {
        auto c = Client(url_, join_secret_);
        if (c.ok()) HeartbeatLoop(**c, t, threads, every);
      });
    }
    for (size_t i = 0; i < nodes.size(); ++i) {
      FASTGPU_RETURN_IF_ERROR(Register(**reg, nodes[i], gpu_memory_mib_, &nodes_[i]));
      registered_.store(i + 1, std::memory_order_release);
    }
    return OkStatus();
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

  int64_t heartbeats() const { return heartbeats_; }
  // The longest a node went without an answered heartbeat (registration counts), so far;
  // the control plane marks a node lost after 15 s.
  double max_gap_seconds() const {
    std::lock_guard lock(mu_);
    double gap = max_gap_s_;
    const size_t registered = registered_.load(std::memory_order_acquire);
    for (size_t i = 0; i < registered; ++i) {
      gap = std::max(gap,
                     std::chrono::duration<double>(SteadyClock::now() - nodes_[i].last_ok).count());
    }
    return gap;
  }
  int64_t heartbeat_errors() const { return heartbeat_errors_; }
  std::string first_error() const {
    std::lock_guard lock(mu_);
    return first_error_;
  }

 private:
  void HeartbeatLoop(net::HttpClient& c, int t, int threads, std::chrono::milliseconds every) {
    while (true) {
      const auto round = SteadyClock::now();
      const size_t registered = registered_.load(std::memory_order_acquire);
      for (size_t i = t; i < registered; i += threads) {
        if (stopping()) return;
        Status st = Heartbeat(c, nodes_[i]);
        if (st.ok()) {
          ++heartbeats_;
          std::lock_guard lock(mu_);
          const auto now = SteadyClock::now();
          max_gap_s_ =
              std::max(max_gap_s_, std::chrono::duration<double>(now - nodes_[i].last_ok).count());
          nodes_[i].last_ok = now;
        } else {
          ++heartbeat_errors_;
          std::lock_guard lock(mu_);
          if (first_error_.empty()) first_error_ = st.ToString();
        }
      }
      std::unique_lock lock(mu_);
      if (cv_.wait_until(lock, round + every, [&] { return stopping_; })) return;
    }
  }
  bool stopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }

  const std::string url_, join_secret_;
  const int64_t gpu_memory_mib_;
  // Node i is written by its registration before registered_ passes i; then only
  // last_ok changes, guarded by mu_.
  std::vector<FakeNode> nodes_;
  std::atomic<size_t> registered_{0};
  std::vector<std::thread> threads_;
  std::atomic<int64_t> heartbeats_{0}, heartbeat_errors_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;    // guarded by mu_
  std::string first_error_;  // guarded by mu_
  double max_gap_s_ = 0;     // guarded by mu_
};

// ---- the jobs ----

std::string JobBody(const sim::TracePod& pod, size_t arrival) {
  const model::Shape& s = pod.shape;
  json::array models;
  for (const std::string& m : s.gpu_models) models.push_back(json::value(m));
  json::object shape{{"gpu_count", s.gpu_count},
                     {"gpu_milli", s.gpu_milli},
                     {"gpu_models", models},
                     {"cpu_milli", s.cpu_milli},
                     {"memory_mib", s.memory_mib}};
  std::string name = "replay-" + std::to_string(arrival) + "-" + pod.name;
  if (name.size() > 128) name.resize(128);
  json::object body{{"name", name},
                    {"command", json::array{"true"}},
                    {"shape", std::move(shape)},
                    {"replicas", 1},
                    {"max_retries", 0}};
  return json::serialize(body);
}

// A job as the control plane reports it: state, reason and, when placed and the answer
// has the job's events (GET /v1/jobs/{id}; the listing leaves them out), milliseconds from
// its creation to its "scheduled" event (the server's clock).
struct JobView {
  std::string id, state, reason;
  std::optional<int64_t> latency_ms;
};

JobView ViewOf(const json::object& o) {
  JobView v;
  v.id = json::value_to<std::string>(o.at("id"));
  v.state = json::value_to<std::string>(o.at("state"));
  v.reason = json::value_to<std::string>(o.at("reason"));
  const int64_t created = o.at("created_at").to_number<int64_t>();
  for (const json::value& e : o.at("events").as_array()) {
    if (e.at("to").as_string() == "scheduled") {
      v.latency_ms = e.at("at").to_number<int64_t>() - created;
      break;
    }
  }
  return v;
}

// Placed or given a reason for waiting: the control plane has looked at it.
bool Decided(const JobView& v) { return v.state != "pending" || v.reason != "submitted"; }

// Every job of the caller, by id.
Result<std::map<std::string, JobView>> ListAllJobs(net::HttpClient& c) {
  std::map<std::string, JobView> jobs;
  std::string cursor;
  do {
    FASTGPU_ASSIGN_OR_RETURN(
        json::value page,
        GetJson(c, "/v1/jobs?limit=1000" + (cursor.empty() ? "" : "&cursor=" + cursor)));
    for (const json::value& j : page.at("jobs").as_array()) {
      JobView v = ViewOf(j.as_object());
      jobs[v.id] = v;
    }
    cursor = json::value_to<std::string>(page.at("next_cursor"));
  } while (!cursor.empty());
  return jobs;
}

// ---- the report ----

struct Capacity {
  int nodes = 0, lost = 0;
  int64_t gpu_milli = 0, allocated_milli = 0;
};

Result<Capacity> ReadCapacity(net::HttpClient& admin) {
  FASTGPU_ASSIGN_OR_RETURN(json::value v, GetJson(admin, "/v1/nodes"));
  Capacity cap;
  for (const json::value& n : v.at("nodes").as_array()) {
    ++cap.nodes;
    if (n.at("state").as_string() == "lost") ++cap.lost;
    for (const json::value& g : n.at("gpus").as_array()) {
      cap.gpu_milli += 1000;
      cap.allocated_milli += g.at("allocated_milli").to_number<int64_t>();
    }
  }
  return cap;
}

// The reconciler's pass duration from /metrics: the mean of a histogram whose name says
// "pass" and "seconds" (sum / count), or a gauge of that name; "" when none is exported.
std::string PassDuration(net::HttpClient& c) {
  auto res = c.Get("/metrics");
  if (!res.ok() || res->status != 200) return "";
  std::map<std::string, double> values;  // first sample of each series name
  std::istringstream in(res->body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t name_end = line.find_first_of("{ ");
    size_t space = line.rfind(' ');
    if (name_end == std::string::npos || space == std::string::npos) continue;
    std::string name = line.substr(0, name_end);
    if (name.find("pass") == std::string::npos || name.find("seconds") == std::string::npos) {
      continue;
    }
    values.emplace(name, std::atof(line.c_str() + space + 1));
  }
  for (const auto& [name, value] : values) {
    const std::string suffix = "_sum";
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      std::string base = name.substr(0, name.size() - suffix.size());
      auto count = values.find(base + "_count");
      if (count == values.end() || count->second <= 0) continue;
      char buf[160];
      std::snprintf(buf, sizeof buf, "%.1f ms mean over %.0f passes (%s)",
                    1000 * value / count->second, count->second, base.c_str());
      return buf;
    }
  }
  for (const auto& [name, value] : values) {
    if (name.ends_with("_seconds")) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "%.1f ms (%s)", 1000 * value, name.c_str());
      return buf;
    }
  }
  return "";
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

struct Outcome {
  size_t arrivals = 0, submitted = 0, refused = 0, placed = 0, pending = 0, undecided = 0;
  size_t failed = 0;  // placed, then failed (e.g. its node was lost): the run is not valid
  std::vector<double> latencies_ms;
  Capacity cap;
  std::string pass_duration;
  double seconds = 0;
  bool timed_out = false;
  int64_t heartbeats = 0, heartbeat_errors = 0;
  double max_heartbeat_gap_s = 0;
  std::string heartbeat_error;
};

void PrintReport(const Flags& f, const Outcome& o) {
  const double share = o.cap.gpu_milli > 0 ? static_cast<double>(o.cap.allocated_milli) /
                                                 static_cast<double>(o.cap.gpu_milli)
                                           : 0;
  const double p50 = Percentile(o.latencies_ms, 0.5), p99 = Percentile(o.latencies_ms, 0.99);
  if (f.json) {
    json::object out{{"nodes", o.cap.nodes},
                     {"nodes_lost", o.cap.lost},
                     {"capacity_gpus", o.cap.gpu_milli / 1000},
                     {"order", f.order},
                     {"seed", f.seed},
                     {"max_arrival", f.max_arrival},
                     {"submit", f.submit},
                     {"arrivals", o.arrivals},
                     {"submitted", o.submitted},
                     {"refused", o.refused},
                     {"placed", o.placed},
                     {"pending", o.pending},
                     {"undecided", o.undecided},
                     {"failed", o.failed},
                     {"allocated_gpu_milli", o.cap.allocated_milli},
                     {"capacity_gpu_milli", o.cap.gpu_milli},
                     {"allocated_share", share},
                     {"latency_ms_p50", p50},
                     {"latency_ms_p99", p99},
                     {"pass_duration", o.pass_duration.empty() ? json::value(nullptr)
                                                               : json::value(o.pass_duration)},
                     {"seconds", o.seconds},
                     {"timed_out", o.timed_out},
                     {"heartbeats", o.heartbeats},
                     {"heartbeat_errors", o.heartbeat_errors},
                     {"max_heartbeat_gap_s", o.max_heartbeat_gap_s}};
    std::cout << json::serialize(out) << "\n";
    return;
  }
  std::printf(
      "nodes %d (lost %d), capacity %lld GPUs; order %s (seed %llu, max arrival %.2f), submit %s\n"
      "arrivals %zu, submitted %zu, refused %zu, placed %zu, left pending %zu (never looked at "
      "%zu), failed after placement %zu\n"
      "allocated share %.4f (%lld of %lld GPU milli)\n"
      "placement latency ms p50 %.0f p99 %.0f; reconciler pass %s\n"
      "%.1f s%s; heartbeats %lld, errors %lld, longest gap %.1f s\n",
      o.cap.nodes, o.cap.lost, static_cast<long long>(o.cap.gpu_milli / 1000), f.order.c_str(),
      static_cast<unsigned long long>(f.seed), f.max_arrival, f.submit.c_str(), o.arrivals,
      o.submitted, o.refused, o.placed, o.pending, o.undecided, o.failed, share,
      static_cast<long long>(o.cap.allocated_milli), static_cast<long long>(o.cap.gpu_milli), p50,
      p99, o.pass_duration.empty() ? "n/a" : o.pass_duration.c_str(), o.seconds,
      o.timed_out ? " (timed out)" : "", static_cast<long long>(o.heartbeats),
      static_cast<long long>(o.heartbeat_errors), o.max_heartbeat_gap_s);
}

// ---- the run ----

int Fail(const std::string& what, int code = 1) {
  std::cerr << "fastgpu_replay: " << what << "\n";
  return code;
}

int Run(Flags f) {
  const auto start = SteadyClock::now();
  const auto deadline = start + std::chrono::duration_cast<SteadyClock::duration>(
                                    std::chrono::duration<double>(f.timeout_s));
  auto elapsed = [&] { return std::chrono::duration<double>(SteadyClock::now() - start).count(); };
  if (f.admin_token.empty()) f.admin_token = FirstLine(f.data_dir + "/admin.token");
  if (f.join_token.empty()) f.join_token = FirstLine(f.data_dir + "/join.token");
  if (f.admin_token.empty() || f.join_token.empty()) {
    return Fail("need --admin-token and --join-token, or --data-dir holding them", 2);
  }
  Result<JoinToken> join = ParseJoinToken(f.join_token);
  if (!join.ok()) return Fail("join token: " + join.status().message(), 2);

  Result<std::vector<sim::TraceNode>> nodes = sim::ReadNodeList(f.nodes);
  if (!nodes.ok()) return Fail(nodes.status().message(), 2);
  Result<std::vector<sim::TracePod>> pods = sim::ReadPodList(f.pods);
  if (!pods.ok()) return Fail(pods.status().message(), 2);
  if (pods->empty()) return Fail("the pod list is empty", 2);
  Result<sim::ArrivalOrder> order_kind = sim::ParseArrivalOrder(f.order);
  if (!order_kind.ok()) return Fail(order_kind.status().message(), 2);
  sim::SimOptions sim_options;
  sim_options.arrivals = *order_kind;
  sim_options.max_arrival = f.max_arrival;
  const int64_t capacity_milli = sim::BuildCluster(*nodes).TotalGpuMilli();
  const std::vector<sim::TracePod> by_name = sim::SortedByName(*pods);
  const std::vector<int> order = sim::ArrivalsFor(*pods, capacity_milli, sim_options, f.seed);

  auto admin = Client(f.server, f.admin_token);
  if (!admin.ok()) return Fail(admin.status().ToString(), 2);
  net::HttpClient& api = **admin;

  NodeFleet fleet(f.server, join->secret, f.gpu_memory_mib);
  std::cerr << "fastgpu_replay: registering " << nodes->size() << " nodes ("
            << capacity_milli / 1000 << " GPUs)\n";
  if (Status st =
          fleet.Start(*nodes, f.heartbeat_threads,
                      std::chrono::milliseconds(static_cast<int64_t>(f.heartbeat_every_s * 1000)));
      !st.ok()) {
    return Fail(st.ToString());
  }
  std::cerr << "fastgpu_replay: registered in " << elapsed() << " s; submitting " << order.size()
            << " jobs (" << f.order << ", " << f.submit << ")\n";

  Outcome out;
  out.arrivals = order.size();
  std::vector<std::string> ids;
  size_t decided_placed = 0;
  auto next_progress = SteadyClock::now();
  auto progress = [&](const std::string& extra) {
    if (SteadyClock::now() < next_progress) return;
    next_progress = SteadyClock::now() +
                    std::chrono::milliseconds(static_cast<int64_t>(f.progress_every_s * 1000));
    std::cerr << "fastgpu_replay: " << elapsed() << " s: " << out.submitted << "/" << order.size()
              << " submitted, " << out.refused << " refused" << extra << "\n";
  };
  const bool one_at_a_time = f.submit == "one-at-a-time";
  const std::string run_key = RandomHex(8);
  for (size_t a = 0; a < order.size(); ++a) {
    if (SteadyClock::now() > deadline) {
      out.timed_out = true;
      break;
    }
    const sim::TracePod& pod = by_name[order[a]];
    auto res = api.Post("/v1/jobs", JobBody(pod, a),
                        {{"Idempotency-Key", "replay-" + run_key + "-" + std::to_string(a)}});
    if (!res.ok()) return Fail("submit: " + res.status().ToString());
    if (res->status == 422) {  // no node could ever hold it: a failed arrival
      ++out.refused;
      continue;
    }
    if (res->status != 201) {
      return Fail("submit " + pod.name + ": " + net::ApiStatus(*res).ToString());
    }
    Result<json::value> created = ParseJson(res->body);
    if (!created.ok()) return Fail("submit answer: " + created.status().message());
    const std::string id = json::value_to<std::string>(created->at("id"));
    ids.push_back(id);
    ++out.submitted;
    if (one_at_a_time) {
      while (true) {
        Result<json::value> job = GetJson(api, "/v1/jobs/" + id);
        if (!job.ok()) return Fail(job.status().ToString());
        JobView v = ViewOf(job->as_object());
        if (Decided(v)) {
          if (v.state != "pending") ++decided_placed;
          break;
        }
        if (SteadyClock::now() > deadline) {
          out.timed_out = true;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (out.timed_out) break;
    }
    progress(one_at_a_time ? ", " + std::to_string(decided_placed) + " placed" : "");
  }
  // Bulk: wait until the control plane has looked at every job.
  std::map<std::string, JobView> jobs;
  while (true) {
    Result<std::map<std::string, JobView>> listed = ListAllJobs(api);
    if (!listed.ok()) return Fail(listed.status().ToString());
    jobs = std::move(listed).value();
    size_t undecided = 0, placed = 0;
    for (const auto& [id, v] : jobs) {
      undecided += Decided(v) ? 0 : 1;
      placed += v.state != "pending" ? 1 : 0;
    }
    if (undecided == 0 || out.timed_out || SteadyClock::now() > deadline) break;
    progress(", " + std::to_string(placed) + " placed, " + std::to_string(undecided) +
             " not looked at yet");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (SteadyClock::now() > deadline) out.timed_out = true;
  for (const std::string& id : ids) {
    auto it = jobs.find(id);
    if (it == jobs.end()) continue;
    const JobView& v = it->second;
    if (v.state == "pending") {
      ++out.pending;
      out.undecided += Decided(v) ? 0 : 1;
      continue;
    }
    if (v.state == "failed" || v.state == "cancelled") {
      ++out.failed;
      continue;
    }
    ++out.placed;
    // The listing leaves events out; one job's answer has them.
    Result<json::value> job = GetJson(api, "/v1/jobs/" + id);
    if (!job.ok()) return Fail(job.status().ToString());
    JobView placed = ViewOf(job->as_object());
    if (placed.latency_ms) out.latencies_ms.push_back(static_cast<double>(*placed.latency_ms));
  }
  Result<Capacity> cap = ReadCapacity(api);
  if (!cap.ok()) return Fail(cap.status().ToString());
  out.cap = *cap;
  out.pass_duration = PassDuration(api);
  out.max_heartbeat_gap_s = fleet.max_gap_seconds();
  fleet.Stop();
  out.heartbeats = fleet.heartbeats();
  out.heartbeat_errors = fleet.heartbeat_errors();
  if (out.heartbeat_errors > 0) {
    std::cerr << "fastgpu_replay: first heartbeat error: " << fleet.first_error() << "\n";
  }
  out.seconds = elapsed();
  PrintReport(f, out);
  if (out.failed > 0 || out.max_heartbeat_gap_s > 15) {
    std::cerr << "fastgpu_replay: NOT VALID: " << out.failed
              << " placed job(s) failed afterwards; longest heartbeat gap "
              << out.max_heartbeat_gap_s
              << " s (over 15 s the control plane marks the node lost and fails its jobs: "
                 "raise --heartbeat-threads)\n";
  }
  if (out.cap.gpu_milli != capacity_milli) {
    std::cerr << "fastgpu_replay: the control plane lists " << out.cap.gpu_milli / 1000
              << " GPUs, the node list has " << capacity_milli / 1000
              << " (was the control plane fresh?)\n";
  }
  return out.timed_out ? 3 : 0;
}

}  // namespace
}  // namespace fastgpu::bench

int main(int argc, char** argv) {
  fastgpu::bench::Flags f;
  CLI::App app{
      "Replay a trace's nodes and pods against a running fastgpu server (see "
      "docs/benchmarks.md).\nExit status: 0 done, 1 error, 2 bad input, 3 timed out (the report "
      "is still printed)."};
  app.add_option("--server", f.server, "Control plane URL, e.g. http://127.0.0.1:8080")->required();
  app.add_option("--data-dir", f.data_dir,
                 "The server's data dir (admin.token and join.token are read from it)");
  app.add_option("--admin-token", f.admin_token, "Token that submits jobs and lists nodes");
  app.add_option("--join-token", f.join_token, "Token that registers nodes");
  app.add_option("--nodes", f.nodes, "Node list CSV (sn,cpu_milli,memory_mib,gpu,model)")
      ->required();
  app.add_option("--pods", f.pods, "Pod list CSV (name,cpu_milli,memory_mib,num_gpu,gpu_milli)")
      ->required();
  app.add_option("--order", f.order,
                 "drawn (fastgpu sim's default arrival order for --seed) or as-listed")
      ->capture_default_str()
      ->check(CLI::IsMember({"drawn", "as-listed"}));
  app.add_option("--seed", f.seed, "Seed of the drawn order")->capture_default_str();
  app.add_option("--max-arrival", f.max_arrival,
                 "Drawn order: draw until arrived GPU demand reaches this multiple of capacity")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 10.0));
  app.add_option("--submit", f.submit,
                 "one-at-a-time (each job scheduled or pending with a reason before the next) "
                 "or bulk (back to back)")
      ->capture_default_str()
      ->check(CLI::IsMember({"one-at-a-time", "bulk"}));
  app.add_option("--heartbeat-threads", f.heartbeat_threads,
                 "Threads heartbeating the registered nodes")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--heartbeat-every", f.heartbeat_every_s, "Seconds between a node's heartbeats")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 14.0));
  app.add_option("--gpu-memory-mib", f.gpu_memory_mib,
                 "Memory of each GPU registered (the trace does not give it)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  app.add_option("--timeout", f.timeout_s, "Seconds before giving up (the report is printed)")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 86400.0));
  app.add_option("--progress-every", f.progress_every_s, "Seconds between progress lines")
      ->capture_default_str();
  app.add_flag("--json", f.json, "Print the report as one JSON object");
  CLI11_PARSE(app, argc, argv);
  try {
    return fastgpu::bench::Run(f);
  } catch (const std::exception& e) {  // Boost.JSON's, on an answer without a field we read
    std::cerr << "fastgpu_replay: unexpected answer from the control plane: " << e.what() << "\n";
    return 1;
  }
}

// fastgpu_loadgen: a load generator for the control plane's API over loopback HTTP.
//
//   submit:    N concurrent clients POST /v1/jobs (each with its own Idempotency-Key)
//              for D seconds; reports acknowledged (durable) submissions per second and
//              the latency distribution.
//   heartbeat: registers A simulated agents (8 simulated GPUs each), then T threads
//              heartbeat them round-robin for D seconds; reports heartbeats per second.
// It talks to a running `fastgpu server` (--server, tokens read from --data-dir).
// Latencies are measured on the steady clock. Not run by ctest (see docs/benchmarks.md).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>
#include <thread>
#include <vector>

#include "net/http_client.h"

namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::unique_ptr<fastgpu::net::HttpClient> Client(const std::string& url, const std::string& token) {
  fastgpu::net::HttpClientOptions o;
  o.bearer_token = token;
  auto c = fastgpu::net::HttpClient::Create(url, o);
  if (!c.ok()) {
    std::cerr << "loadgen: " << c.status() << "\n";
    std::exit(1);
  }
  return std::move(c).value();
}

// The comma-separated address list starting at its (i mod n)-th address, so that clients
// spread over several control-plane replicas (each still moves on when one stops answering).
std::string Rotated(const std::string& list, int i) {
  std::vector<std::string> parts;
  std::stringstream in(list);
  for (std::string part; std::getline(in, part, ',');) {
    if (!part.empty()) parts.push_back(part);
  }
  if (parts.size() < 2) return list;
  std::string out;
  for (size_t k = 0; k < parts.size(); ++k) {
    out += (k ? "," : "") + parts[(static_cast<size_t>(i) + k) % parts.size()];
  }
  return out;
}

struct Stats {
  int64_t ok = 0;
  int64_t errors = 0;
  std::vector<double> latencies_ms;
};

void Report(const std::string& what, const std::vector<Stats>& per_thread, double seconds,
            int concurrency) {
  Stats all;
  for (const auto& s : per_thread) {
    all.ok += s.ok;
    all.errors += s.errors;
    all.latencies_ms.insert(all.latencies_ms.end(), s.latencies_ms.begin(), s.latencies_ms.end());
  }
  std::sort(all.latencies_ms.begin(), all.latencies_ms.end());
  auto pct = [&](double p) {
    if (all.latencies_ms.empty()) return 0.0;
    size_t i = std::min(all.latencies_ms.size() - 1,
                        static_cast<size_t>(p * static_cast<double>(all.latencies_ms.size())));
    return all.latencies_ms[i];
  };
  std::printf(
      "%s: concurrency %d, %.1f s, ok %lld, errors %lld, %.0f/s, latency ms p50 %.2f p90 %.2f "
      "p99 %.2f max %.2f\n",
      what.c_str(), concurrency, seconds, static_cast<long long>(all.ok),
      static_cast<long long>(all.errors), static_cast<double>(all.ok) / seconds, pct(0.50),
      pct(0.90), pct(0.99), all.latencies_ms.empty() ? 0.0 : all.latencies_ms.back());
}

void Submit(const std::string& url, const std::string& token, int clients, double seconds) {
  const std::string body =
      R"({"command":["python","train.py"],"env":{"EPOCHS":"1"},)"
      R"("shape":{"gpu_count":1,"gpu_milli":500,"gpu_memory_mib":20480,"cpu_milli":2000,)"
      R"("memory_mib":8192},"replicas":1,"max_retries":1})";
  std::vector<Stats> stats(clients);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const std::string run = std::to_string(Clock::now().time_since_epoch().count());
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      auto c = Client(Rotated(url, t), token);
      for (int64_t i = 0; !stop; ++i) {
        std::string key = run + "-" + std::to_string(t) + "-" + std::to_string(i);
        auto start = Clock::now();
        auto r = c->Post("/v1/jobs", body, {{"Idempotency-Key", key}});
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        if (r.ok() && r->status == 201) {
          ++stats[t].ok;
          stats[t].latencies_ms.push_back(ms);
        } else {
          ++stats[t].errors;
        }
      }
    });
  }
  auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  Report("submit", stats, elapsed, clients);
}

void Heartbeat(const std::string& url, const std::string& join_token, int agents, int threads_n,
               double seconds) {
  struct Agent {
    std::string node_id, token;
  };
  std::vector<Agent> list(agents);
  {
    auto c = Client(url, join_token);
    const std::string run = std::to_string(Clock::now().time_since_epoch().count());
    for (int a = 0; a < agents; ++a) {
      json::array gpus;
      for (int g = 0; g < 8; ++g) {
        gpus.push_back(json::object{{"index", g},
                                    {"uuid", "SIM-" + std::to_string(a) + "-" + std::to_string(g)},
                                    {"model", "H100-80GB"},
                                    {"memory_mib", 81559},
                                    {"simulated", true}});
      }
      json::object body{{"name", "sim-" + std::to_string(a)},
                        {"agent_id", "loadgen-" + run + "-" + std::to_string(a)},
                        {"cpu_milli", 128000},
                        {"memory_mib", 1048576},
                        {"simulated", true},
                        {"gpus", std::move(gpus)}};
      auto r = c->Post("/v1/nodes/register", json::serialize(body));
      if (!r.ok() || r->status != 200) {
        std::cerr << "loadgen: register failed: " << (r.ok() ? r->body : r.status().ToString())
                  << "\n";
        std::exit(1);
      }
      json::value v = json::parse(r->body);
      list[a] = {std::string(v.at("node_id").as_string()),
                 std::string(v.at("node_token").as_string())};
    }
  }
  std::vector<Stats> stats(threads_n);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const std::string body = R"({"gpus":[],"replicas":[]})";
  for (int t = 0; t < threads_n; ++t) {
    threads.emplace_back([&, t] {
      auto c = Client(Rotated(url, t), "");
      for (int a = t; !stop; a += threads_n) {
        if (a >= agents) a = t;
        c->set_bearer_token(list[a].token);
        auto start = Clock::now();
        auto r = c->Post("/v1/nodes/" + list[a].node_id + "/heartbeat", body);
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        if (r.ok() && r->status == 200) {
          ++stats[t].ok;
          stats[t].latencies_ms.push_back(ms);
        } else {
          ++stats[t].errors;
        }
      }
    });
  }
  auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  Report("heartbeat (" + std::to_string(agents) + " agents)", stats, elapsed, threads_n);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Load generator for the FastGPU control plane", "fastgpu_loadgen"};
  std::string mode = "submit", url = "http://127.0.0.1:8080", data_dir = ".fastgpu";
  int clients = 64, agents = 1000, threads = 32;
  double seconds = 10;
  app.add_option("--mode", mode, "submit or heartbeat")
      ->check(CLI::IsMember({"submit", "heartbeat"}))
      ->capture_default_str();
  app.add_option("--server", url,
                 "Control plane URL, or several replicas comma-separated (clients spread "
                 "over them)")
      ->capture_default_str();
  app.add_option("--data-dir", data_dir, "The server's data dir (admin.token, join.token)")
      ->capture_default_str();
  app.add_option("--clients", clients, "submit: concurrent clients")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--agents", agents, "heartbeat: simulated agents (registered anew each run)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--threads", threads, "heartbeat: client threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--seconds", seconds, "Duration of the measurement")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  CLI11_PARSE(app, argc, argv);
  threads = std::min(threads, agents);
  if (mode == "submit") {
    Submit(url, FirstLine(data_dir + "/admin.token"), clients, seconds);
  } else {
    Heartbeat(url, FirstLine(data_dir + "/join.token"), agents, threads, seconds);
  }
  return 0;
}

// What the services' end-to-end tests share: a `fastgpu up` with two simulated H100s on
// 127.0.0.1 port 0 (tests/up_process.h) driven through the `fastgpu` CLI, and polling.
#pragma once

#include <sys/types.h>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/server_process.h"
#include "tests/test_util.h"
#include "tests/up_process.h"

namespace fastgpu::testing {

// Polls `done` every 200 ms for up to `limit`; true when it held.
inline bool WaitFor(const std::function<bool()>& done,
                    std::chrono::seconds limit = std::chrono::seconds(45)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return done();
}

// The pids of processes whose command line is exactly `cmdline`.
inline std::vector<pid_t> Pids(const std::string& cmdline) {
  ShellRun r = RunShell("pgrep -x -f '" + cmdline + "' || true");
  std::vector<pid_t> out;
  std::istringstream in(r.out);
  for (long pid; in >> pid;) out.push_back(static_cast<pid_t>(pid));
  return out;
}

// `fastgpu up` with `extra` flags of its own, and the CLI pointed at it as the admin.
struct Up {
  TempDir dir;
  std::unique_ptr<UpProcess> up;
  std::string flags;
  std::string admin_token;

  explicit Up(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"--log-level", "warn", "up", "--data-dir", dir.path(),
                                  "--simulate-gpus", "2xH100-80GB"};
    args.insert(args.end(), extra.begin(), extra.end());
    up = std::make_unique<UpProcess>(args, dir.path() + "/up.log");
    if (!up->ok()) return;
    admin_token = ReadFirstLine(dir.path() + "/admin.token");
    flags = " --server " + up->url() + " --token " + admin_token;
  }
  // Runs `fastgpu ARGS` against this control plane; the flags go before a " -- " that starts
  // the replicas' command.
  CommandResult Cli(const std::string& args) {
    const size_t dashes = args.find(" -- ");
    if (dashes == std::string::npos) return RunFastgpu(args + flags + " 2>&1");
    return RunFastgpu(args.substr(0, dashes) + flags + args.substr(dashes) + " 2>&1");
  }
  // `service get NAME -o json`, null when it fails.
  boost::json::value Get(const std::string& name) {
    CommandResult r = Cli("service get " + name + " -o json");
    if (r.exit_code != 0) return nullptr;
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(r.output, ec);
    return ec ? boost::json::value(nullptr) : v;
  }
  // The service's replicas that run, as (job id, generation).
  std::vector<std::pair<std::string, int64_t>> Running(const std::string& name) {
    std::vector<std::pair<std::string, int64_t>> out;
    boost::json::value v = Get(name);
    if (!v.is_object()) return out;
    for (const boost::json::value& r : v.at("replica_status").as_array()) {
      if (r.at("state") == "running") {
        out.emplace_back(std::string(r.at("job_id").as_string()), r.at("generation").as_int64());
      }
    }
    return out;
  }
};

}  // namespace fastgpu::testing

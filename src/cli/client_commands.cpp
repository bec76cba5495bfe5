#include "cli/client_commands.h"

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <thread>

#include "cli/api_client.h"
#include "cli/command_runner.h"
#include "cli/config.h"
#include "cli/output.h"
#include "cli/service_commands.h"
#include "cli/session_commands.h"
#include "cli/usage_commands.h"
#include "common/ids.h"
#include "common/url_text.h"
#include "metering/json_text.h"
#include "model/json.h"
#include "model/units.h"

namespace fastgpu::cli {

namespace json = boost::json;

namespace {

using CommonFlags = ClientFlags;

void AddCommon(CLI::App* cmd, const std::shared_ptr<CommonFlags>& f) { AddClientFlags(cmd, f); }

using Body = std::function<Result<std::string>(ApiClient& api, bool as_json)>;

int Run(const CommonFlags& f, const Body& body) {
  return RunClientCommand(
      f, [&](ApiClient& api, const std::string& output) { return body(api, output == "json"); });
}

Status Usage(const std::string& m) { return InvalidArgument("usage: " + m); }

// The string fields `keys` of an answer, each required (the model's checked reader).
Result<std::vector<std::string>> Fields(const json::value& v,
                                        std::initializer_list<std::string_view> keys) {
  std::vector<std::string> out(keys.size());
  model::JsonObjectReader r(v);
  size_t i = 0;
  for (std::string_view key : keys) r.Str(key, out[i++], model::Need::kRequired);
  if (Status st = r.Finish(); !st.ok()) return UnexpectedAnswer(st);
  return out;
}

// JSON output, or the table renderer's.
Result<std::string> Show(Result<json::value> v, bool as_json,
                         std::string (*render)(const json::value&)) {
  if (!v.ok()) return v.status();
  return as_json ? metering::JsonText(*v) + "\n" : render(*v);
}

// ---- login ----
void AddLogin(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<CommonFlags>();
  auto* cmd = app.add_subcommand(
      "login", "Save the control plane's address and an API token in the config file");
  AddCommon(cmd, f);
  cmd->callback([f, exit_code] {
    *exit_code = Run(*f, [f](ApiClient& api, bool as_json) -> Result<std::string> {
      auto cfg = ResolveConfig(f->server, f->token, f->config, f->ca_cert);
      if (!cfg.ok()) return cfg.status();
      if (cfg->token.empty()) return Usage("login needs --token (or FASTGPU_TOKEN)");
      // The token must work before it is saved.
      auto check = api.Call("GET", "/v1/jobs?limit=1");
      if (!check.ok()) return check.status();
      FASTGPU_RETURN_IF_ERROR(SaveConfig(f->config, *cfg));
      if (as_json) {
        return metering::JsonText(json::object{{"server", cfg->server}, {"config", f->config}}) +
               "\n";
      }
      return "logged in to " + cfg->server + "; saved in " + f->config + "\n";
    });
  });
}

// ---- job ----
}  // namespace

Result<std::string> SubmitBody(const SubmitFlags& s) {
  model::JobSpec spec;
  auto gpu = model::ParseGpuAmount(s.gpu);
  if (!gpu.ok()) return Usage("--gpu: " + gpu.status().message());
  spec.shape.gpu_count = gpu->count;
  spec.shape.gpu_milli = gpu->milli_per_gpu;
  if (!s.gpu_memory.empty()) {
    auto m = model::ParseMemoryMib(s.gpu_memory);
    if (!m.ok()) return Usage("--gpu-memory: " + m.status().message());
    spec.shape.gpu_memory_mib = *m;
  }
  if (!s.cpu.empty()) {
    auto c = model::ParseCpuMilli(s.cpu);
    if (!c.ok()) return Usage("--cpu: " + c.status().message());
    spec.shape.cpu_milli = *c;
  }
  if (!s.memory.empty()) {
    auto m = model::ParseMemoryMib(s.memory);
    if (!m.ok()) return Usage("--memory: " + m.status().message());
    spec.shape.memory_mib = *m;
  }
  spec.shape.gpu_models = s.gpu_models;
  auto iso = model::ParseIsolation(s.isolation);
  if (!iso.ok()) return Usage("--isolation: " + iso.status().message());
  spec.shape.isolation = *iso;
  for (const auto& kv : s.env) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return Usage("--env: expected K=V, got '" + kv + "'");
    spec.env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  spec.name = s.name;
  spec.command = s.command;
  spec.replicas = s.replicas;
  spec.max_retries = s.retries;
  spec.priority = s.priority;
  spec.run_as_root = s.root;
  spec.image = s.image;
  spec.port = s.port;
  if (!s.ready_http.empty() && s.ready_tcp) {
    return Usage("--ready-http and --ready-tcp: give one readiness probe, not both");
  }
  if ((!s.ready_http.empty() || s.ready_tcp) && !s.port) {
    return Usage(std::string(s.ready_tcp ? "--ready-tcp" : "--ready-http") +
                 ": a readiness probe needs --port");
  }
  if (!s.ready_http.empty()) {
    spec.readiness = {model::ReadinessProbe::Kind::kHttp, s.ready_http};
    if (Status st = model::ValidateReadinessProbe(spec.readiness); !st.ok()) {
      return Usage("--ready-http: " + st.message());
    }
  } else if (s.ready_tcp) {
    spec.readiness.kind = model::ReadinessProbe::Kind::kTcp;
  }
  json::value body = json::value_from(spec);
  // Sent only when given, so that a plain job still reaches a server without images.
  if (spec.image.empty()) body.as_object().erase("image");
  return json::serialize(body);
}

namespace {

// Polls each job until it has ended or `timeout_seconds` (0: no limit) passed. Succeeded
// jobs give their summary; a failed or cancelled one, or the time running out, gives an
// error, so the command exits non-zero (as `kubectl wait` and `srun` do).
Result<std::string> WaitForJobs(ApiClient& api, const std::vector<std::string>& ids,
                                double timeout_seconds, bool as_json) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000));
  json::array done;
  std::string text;
  for (const std::string& id : ids) {
    while (true) {
      auto v = api.Call("GET", "/v1/jobs/" + EncodePathSegment(id));
      if (!v.ok()) return v.status();
      std::string state, reason;
      model::JsonObjectReader r(*v);
      r.Str("state", state, model::Need::kRequired).Str("reason", reason);
      if (Status st = r.Finish(); !st.ok()) return UnexpectedAnswer(st);
      if (state == "succeeded") {
        done.push_back(*v);
        text += "job " + id + " succeeded\n";
        break;
      }
      if (state == "failed" || state == "cancelled") {
        std::cout << text << std::flush;
        return FailedPrecondition("job " + id + " " + state +
                                  (reason.empty() ? "" : ": " + reason));
      }
      if (timeout_seconds > 0 && std::chrono::steady_clock::now() >= deadline) {
        std::cout << text << std::flush;
        return DeadlineExceeded("job " + id + " is still " + state + " after " +
                                std::to_string(static_cast<int64_t>(timeout_seconds)) + " s" +
                                (reason.empty() ? "" : " (" + reason + ")"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  }
  if (as_json) return metering::JsonText(json::object{{"jobs", std::move(done)}}) + "\n";
  return text;
}

// The flags of `job submit` (what SubmitBody reads).
void AddSubmitFlags(CLI::App* cmd, SubmitFlags& s) {
  cmd->add_option("--gpu", s.gpu, "GPUs per replica: 0.5, 500m (a fraction) or 1, 2, 8 (whole)")
      ->capture_default_str();
  cmd->add_option("--gpu-memory", s.gpu_memory, "GPU memory per GPU, e.g. 20GiB");
  cmd->add_option("--gpu-model", s.gpu_models, "Allowed GPU model (repeatable)");
  cmd->add_option("--cpu", s.cpu, "CPU per replica: 2, 500m");
  cmd->add_option("--memory", s.memory, "Memory per replica, e.g. 8GiB");
  cmd->add_option("--replicas", s.replicas, "Replicas, placed as a gang")->capture_default_str();
  cmd->add_option("--retries", s.retries, "Requeues allowed after a lost node")
      ->capture_default_str();
  cmd->add_option("--isolation", s.isolation, "default, exclusive, mig, mps or shared")
      ->capture_default_str();
  cmd->add_option("--name", s.name, "Job name");
  cmd->add_option("--env", s.env, "Environment variable K=V (repeatable)");
  cmd->add_option("--image", s.image,
                  "Run each replica in this OCI image (podman on the node), e.g. "
                  "localhost/trainer:v3; its registry must be allowed by the node's operator");
  cmd->add_option("--idempotency-key", s.key,
                  "Request id making retries safe (default: a random one)");
  cmd->add_option("--priority", s.priority, "-1000..1000; higher is placed first and stopped last")
      ->capture_default_str();
  cmd->add_flag("--root", s.root,
                "Run as root on the node instead of an unprivileged sandbox user (refused "
                "unless an admin allowed the tenant: fastgpu tenant allow-root)");
  cmd->add_flag("--port", s.port,
                "Give each replica a TCP port (PORT in its environment); job get shows its "
                "endpoint host:port");
  cmd->add_option("--ready-http", s.ready_http,
                  "With --port: the replica is ready when GET PATH answers 2xx or 3xx, e.g. "
                  "/healthz (default: ready once running)");
  cmd->add_flag("--ready-tcp", s.ready_tcp,
                "With --port: the replica is ready when its port accepts a connection");
  cmd->add_flag("--wait", s.wait,
                "Wait until the job ends: exit 0 when it succeeded, 1 when it failed or was "
                "cancelled");
  cmd->add_option("--timeout", s.timeout_seconds,
                  "With --wait: give up after this many seconds (0: never)")
      ->capture_default_str();
  cmd->add_option("command", s.command, "The command and its arguments (after --)")->required();
}

// Submits the job of `s` and, with --wait, waits for its end.
Result<std::string> SubmitJob(ApiClient& api, const SubmitFlags& s, bool as_json) {
  FASTGPU_ASSIGN_OR_RETURN(std::string body, SubmitBody(s));
  std::string key = s.key.empty() ? RandomHex(16) : s.key;
  auto v = api.Call("POST", "/v1/jobs", body, key);
  if (!v.ok()) return v.status();
  FASTGPU_ASSIGN_OR_RETURN(auto f, Fields(*v, {"id", "state"}));
  const std::string& id = f[0];
  if (s.wait) {
    if (!as_json) std::cout << "submitted " << id << "; waiting for it to end\n" << std::flush;
    return WaitForJobs(api, {id}, s.timeout_seconds, as_json);
  }
  if (as_json) return metering::JsonText(*v) + "\n";
  return "submitted " + id + " (" + f[1] + ")\n";
}

void AddJobSubmit(CLI::App* job, int* exit_code) {
  auto f = std::make_shared<CommonFlags>();
  auto s = std::make_shared<SubmitFlags>();
  auto* submit =
      job->add_subcommand("submit", "Submit a job: fastgpu job submit [flags] -- CMD...");
  AddCommon(submit, f);
  AddSubmitFlags(submit, *s);
  submit->callback([f, s, exit_code] {
    *exit_code = Run(*f, [s](ApiClient& api, bool as_json) -> Result<std::string> {
      return SubmitJob(api, *s, as_json);
    });
  });
}

void AddJobWait(CLI::App* job, int* exit_code) {
  auto wf = std::make_shared<CommonFlags>();
  auto wids = std::make_shared<std::vector<std::string>>();
  auto wtimeout = std::make_shared<double>(0);
  auto* wait = job->add_subcommand(
      "wait", "Wait until jobs end: exit 0 when all succeeded, 1 when one failed or was cancelled");
  AddCommon(wait, wf);
  wait->add_option("jobs", *wids, "Job ids or names")->required();
  wait->add_option("--timeout", *wtimeout, "Give up after this many seconds (0: never)")
      ->capture_default_str();
  wait->callback([=] {
    *exit_code = Run(*wf, [=](ApiClient& api, bool as_json) -> Result<std::string> {
      return WaitForJobs(api, *wids, *wtimeout, as_json);
    });
  });
}

void AddJobList(CLI::App* job, int* exit_code) {
  auto lf = std::make_shared<CommonFlags>();
  auto state = std::make_shared<std::string>();
  auto tenant = std::make_shared<std::string>();
  auto cursor = std::make_shared<std::string>();
  auto limit = std::make_shared<int>(100);
  auto* list = job->add_subcommand("list", "List jobs (a tenant sees its own; admin sees all)");
  AddCommon(list, lf);
  list->add_option("--state", *state, "Only jobs in this state");
  list->add_option("--tenant", *tenant, "Only this tenant's jobs: name or id (admin)");
  list->add_option("--limit", *limit, "Most jobs to show")->capture_default_str();
  list->add_option("--cursor", *cursor, "Continue a previous listing");
  list->callback([=] {
    *exit_code = Run(*lf, [=](ApiClient& api, bool as_json) -> Result<std::string> {
      std::string q = "/v1/jobs?limit=" + std::to_string(*limit);
      if (!state->empty()) q += "&state=" + EncodeQueryValue(*state);
      if (!tenant->empty()) q += "&tenant=" + EncodeQueryValue(*tenant);
      if (!cursor->empty()) q += "&cursor=" + EncodeQueryValue(*cursor);
      return Show(api.Call("GET", q), as_json, RenderJobList);
    });
  });
}

void AddJobGet(CLI::App* job, int* exit_code) {
  auto gf = std::make_shared<CommonFlags>();
  auto gid = std::make_shared<std::string>();
  auto* get = job->add_subcommand("get", "Show a job: state, reason, events, allocations");
  AddCommon(get, gf);
  get->add_option("job", *gid, "Job id or name")->required();
  get->callback([=] {
    *exit_code = Run(*gf, [=](ApiClient& api, bool as_json) -> Result<std::string> {
      return Show(api.Call("GET", "/v1/jobs/" + EncodePathSegment(*gid)), as_json, RenderJob);
    });
  });
}

void AddJobCancel(CLI::App* job, int* exit_code) {
  auto cf = std::make_shared<CommonFlags>();
  auto cids = std::make_shared<std::vector<std::string>>();
  auto* cancel = job->add_subcommand("cancel", "Cancel jobs");
  AddCommon(cancel, cf);
  cancel->add_option("jobs", *cids, "Job ids or names")->required();
  cancel->callback([=] {
    *exit_code = Run(*cf, [=](ApiClient& api, bool as_json) -> Result<std::string> {
      // Every job is tried; the first error is returned after the others were cancelled.
      json::array answers;
      std::string text;
      Status first_error;
      for (const std::string& id : *cids) {
        auto v =
            api.Call("POST", "/v1/jobs/" + EncodePathSegment(id) + "/cancel", "", RandomHex(16));
        if (!v.ok()) {
          std::cerr << "fastgpu: " << id << ": " << v.status().message() << "\n";
          if (first_error.ok()) first_error = v.status();
          continue;
        }
        auto f = Fields(*v, {"id"});
        if (!f.ok()) return f.status();
        const std::string& job_id = (*f)[0];
        text += "cancelled " + job_id + (job_id == id ? "" : " (" + id + ")") + "\n";
        answers.push_back(*std::move(v));
      }
      if (!first_error.ok()) {
        std::cout << text << std::flush;
        return first_error;
      }
      if (as_json) {
        return metering::JsonText(answers.size() == 1 ? answers[0] : json::value(answers)) + "\n";
      }
      return text;
    });
  });
}

// Prints replica `replica`'s log of `job`; with `follow`, keeps printing until the job
// ends, whose outcome is then the result (as with `job wait`).
Result<std::string> PrintJobLogs(ApiClient& api, const std::string& job, int replica, bool follow) {
  const std::string path = "/v1/jobs/" + EncodePathSegment(job) +
                           "/logs?replica=" + std::to_string(replica) + "&offset=";
  int64_t offset = 0;
  // Prints one plain answer: whether it was empty and whether the log is done.
  struct Piece {
    bool empty = true;
    bool done = false;
  };
  auto print_plain = [&](const json::value& v) -> Result<Piece> {
    std::string data;
    Piece p;
    model::JsonObjectReader r(v);
    r.Str("data", data, model::Need::kRequired)
        .Int("next_offset", offset, 0, std::numeric_limits<int64_t>::max(), model::Need::kRequired)
        .Bool("done", p.done, model::Need::kRequired);
    if (Status st = r.Finish(); !st.ok()) return UnexpectedAnswer(st);
    std::cout << data << std::flush;
    p.empty = data.empty();
    return p;
  };
  while (!follow) {
    auto v = api.Call("GET", path + std::to_string(offset));
    if (!v.ok()) return v.status();
    FASTGPU_ASSIGN_OR_RETURN(Piece p, print_plain(*v));
    if (p.done || p.empty) break;
  }
  while (follow) {
    // The server streams the log's bytes as they are stored (X-Log-Offset names the
    // first one's offset) and ends the stream when the log is done, or earlier (its
    // lifetime bound, a restart); a busy server answers the plain JSON instead.
    bool streamed = false;
    int64_t got = 0;
    auto res = api.Stream(
        path + std::to_string(offset) + "&follow=true",
        [&](std::string_view bytes) {
          std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
          std::cout.flush();
          got += static_cast<int64_t>(bytes.size());
          return true;
        },
        [&](const net::HttpResponse& h) { return streamed = !h.Header("X-Log-Offset").empty(); });
    offset += got;
    if (!res.ok() && !streamed) return res.status();
    if (res.ok() && !streamed) {  // a plain answer: poll
      auto v = model::ParseJson(res->body);
      if (!v.ok()) return Internal("the control plane answered something that is not JSON");
      FASTGPU_ASSIGN_OR_RETURN(Piece p, print_plain(*v));
      if (p.done) break;
      if (p.empty) std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    // The stream ended (or broke off): the plain answer says whether the log is done.
    auto v = api.Call("GET", path + std::to_string(offset));
    if (!v.ok()) return v.status();
    FASTGPU_ASSIGN_OR_RETURN(Piece end_piece, print_plain(*v));
    if (end_piece.done) break;
  }
  if (!follow) return std::string();
  // Following ends with the job: its outcome is the exit code, as with `job wait`.
  auto end = WaitForJobs(api, {job}, 0, false);
  if (!end.ok()) return end.status();
  return std::string();
}

void AddJobLogs(CLI::App* job, int* exit_code) {
  auto gl = std::make_shared<CommonFlags>();
  auto lid = std::make_shared<std::string>();
  auto replica = std::make_shared<int>(0);
  auto follow = std::make_shared<bool>(false);
  auto* logs = job->add_subcommand("logs", "Print a replica's output; -f follows it");
  AddCommon(logs, gl);
  logs->add_option("job", *lid, "Job id or name")->required();
  logs->add_option("--replica", *replica, "Replica index")->capture_default_str();
  logs->add_flag("-f,--follow", *follow, "Keep printing until the job ends");
  logs->callback([=] {
    *exit_code = Run(*gl, [=](ApiClient& api, bool) -> Result<std::string> {
      return PrintJobLogs(api, *lid, *replica, *follow);
    });
  });
}

void AddJob(CLI::App& app, int* exit_code) {
  auto* job = app.add_subcommand("job", "Submit, list, inspect, follow and cancel jobs");
  job->require_subcommand(1);
  AddJobSubmit(job, exit_code);
  AddJobWait(job, exit_code);
  AddJobList(job, exit_code);
  AddJobGet(job, exit_code);
  AddJobCancel(job, exit_code);
  AddJobLogs(job, exit_code);
  AddJobExec(job, exit_code);
}

// ---- node ----
void AddNode(CLI::App& app, int* exit_code) {
  auto* node = app.add_subcommand("node", "List, drain and revoke nodes");
  node->require_subcommand(1);
  auto lf = std::make_shared<CommonFlags>();
  auto* list = node->add_subcommand("list", "List nodes, their GPUs and health (admin)");
  AddCommon(list, lf);
  list->callback([=] {
    *exit_code = Run(*lf, [](ApiClient& api, bool as_json) -> Result<std::string> {
      return Show(api.Call("GET", "/v1/nodes"), as_json, RenderNodeList);
    });
  });
  auto gf = std::make_shared<CommonFlags>();
  auto gid = std::make_shared<std::string>();
  auto* get = node->add_subcommand("get", "Show one node, its GPUs, health and utilisation (admin)");
  AddCommon(get, gf);
  get->add_option("node", *gid, "Node id or name")->required();
  get->callback([=] {
    *exit_code = Run(*gf, [=](ApiClient& api, bool as_json) -> Result<std::string> {
      return Show(api.Call("GET", "/v1/nodes/" + EncodePathSegment(*gid)), as_json, RenderNode);
    });
  });
  auto df = std::make_shared<CommonFlags>();
  auto id = std::make_shared<std::string>();
  auto undo = std::make_shared<bool>(false);
  auto* drain = node->add_subcommand("drain", "Stop giving a node new work (admin)");
  AddCommon(drain, df);
  drain->add_option("node", *id, "Node id or name")->required();
  drain->add_flag("--undo", *undo, "Give the node new work again");
  drain->callback([=] {
    *exit_code = Run(*df, [=](ApiClient& api, bool as_json) -> Result<std::string> {
      auto v =
          api.Call("POST", "/v1/nodes/" + EncodePathSegment(*id) + (*undo ? "/undrain" : "/drain"),
                   "", RandomHex(16));
      if (!v.ok()) return v.status();
      if (as_json) return metering::JsonText(*v) + "\n";
      FASTGPU_ASSIGN_OR_RETURN(auto f, Fields(*v, {"name", "id", "state"}));
      return "node " + f[0] + " (" + f[1] + ") is " + f[2] + "\n";
    });
  });
  auto rf = std::make_shared<CommonFlags>();
  auto rid = std::make_shared<std::string>();
  auto* revoke = node->add_subcommand(
      "revoke",
      "Revoke a node's token and secret: its agent is refused, and the next registration of "
      "its agent id with the join token takes the node afresh (admin)");
  AddCommon(revoke, rf);
  revoke->add_option("node", *rid, "Node id or name")->required();
  revoke->callback([=] {
    *exit_code = Run(*rf, [=](ApiClient& api, bool as_json) -> Result<std::string> {
      auto v =
          api.Call("POST", "/v1/nodes/" + EncodePathSegment(*rid) + "/revoke", "", RandomHex(16));
      if (!v.ok()) return v.status();
      if (as_json) return metering::JsonText(*v) + "\n";
      return "node " + *rid + ": credentials revoked; its agent id may register again with the " +
             "join token\n";
    });
  });
}

// ---- tenant, token ----
void AddTenant(CLI::App& app, int* exit_code) {
  auto* tenant = app.add_subcommand("tenant", "Create and list tenants (admin)");
  tenant->require_subcommand(1);
  auto cf = std::make_shared<CommonFlags>();
  auto name = std::make_shared<std::string>();
  auto max_gpu = std::make_shared<std::string>();
  auto allow_root = std::make_shared<bool>(false);
  auto* create = tenant->add_subcommand("create", "Create a tenant");
  AddCommon(create, cf);
  create->add_option("name", *name, "Tenant name: [a-z][a-z0-9-]*")->required();
  create->add_option("--max-gpu", *max_gpu, "GPU quota held at once (e.g. 4, 1.5, 500m)");
  create->add_flag("--allow-root", *allow_root,
                   "Let the tenant's jobs run as root on the nodes (job submit --root)");
  create->callback([=] {
    *exit_code = Run(*cf, [=](ApiClient& api, bool as_json) -> Result<std::string> {
      json::object body{{"name", *name}};
      if (*allow_root) body["allow_root"] = true;
      if (!max_gpu->empty()) {
        auto g = ParseGpuMilliLimit(*max_gpu);
        if (!g.ok()) return Usage("--max-gpu: " + g.status().message());
        body["max_gpu_milli"] = *g;
      }
      return Show(api.Call("POST", "/v1/tenants", json::serialize(body), RandomHex(16)), as_json,
                  RenderTenant);
    });
  });
  auto rf = std::make_shared<CommonFlags>();
  auto rname = std::make_shared<std::string>();
  auto deny = std::make_shared<bool>(false);
  auto* root = tenant->add_subcommand(
      "allow-root", "Let a tenant's jobs run as root on the nodes (--deny takes it back)");
  AddCommon(root, rf);
  root->add_option("tenant", *rname, "Tenant name or id")->required();
  root->add_flag("--deny", *deny, "Take the permission back (new jobs only)");
  root->callback([=] {
    *exit_code = Run(*rf, [=](ApiClient& api, bool as_json) -> Result<std::string> {
      json::object body{{"allow_root", !*deny}};
      return Show(api.Call("PUT", "/v1/tenants/" + EncodePathSegment(*rname) + "/settings",
                           json::serialize(body), RandomHex(16)),
                  as_json, RenderTenant);
    });
  });
  auto lf = std::make_shared<CommonFlags>();
  auto* list = tenant->add_subcommand("list", "List tenants");
  AddCommon(list, lf);
  list->callback([=] {
    *exit_code = Run(*lf, [](ApiClient& api, bool as_json) -> Result<std::string> {
      return Show(api.Call("GET", "/v1/tenants"), as_json, RenderTenantList);
    });
  });
}

void AddToken(CLI::App& app, int* exit_code) {
  auto* token = app.add_subcommand("token", "Create and revoke API tokens (admin)");
  token->require_subcommand(1);
  auto cf = std::make_shared<CommonFlags>();
  auto tenant = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto* create = token->add_subcommand("create", "Create a token; its secret is shown once");
  AddCommon(create, cf);
  create->add_option("--tenant", *tenant, "Tenant name or id")->required();
  create->add_option("--name", *name, "A label for the token");
  auto secret_only = std::make_shared<bool>(false);
  create->add_flag("--secret-only", *secret_only,
                   "Print only the secret (for scripts: TOKEN=$(fastgpu token create ...))");
  create->callback([=] {
    *exit_code = Run(*cf, [=](ApiClient& api, bool as_json) -> Result<std::string> {
      auto v = api.Call("POST", "/v1/tenants/" + EncodePathSegment(*tenant) + "/tokens",
                        json::serialize(json::object{{"name", *name}}));
      if (v.ok() && *secret_only) {
        std::string secret;
        model::JsonObjectReader r(*v);
        r.Str("token", secret);
        if (Status st = r.Finish(); !st.ok()) return UnexpectedAnswer(st);
        if (secret.empty()) {
          return FailedPrecondition("the answer carries no secret (it is shown only once)");
        }
        return secret + "\n";
      }
      return Show(std::move(v), as_json, RenderToken);
    });
  });
  auto lf = std::make_shared<CommonFlags>();
  auto ltenant = std::make_shared<std::string>();
  auto* list = token->add_subcommand("list", "List a tenant's tokens (never their secrets)");
  AddCommon(list, lf);
  list->add_option("--tenant", *ltenant, "Tenant name or id")->required();
  list->callback([=] {
    *exit_code = Run(*lf, [=](ApiClient& api, bool as_json) -> Result<std::string> {
      return Show(api.Call("GET", "/v1/tenants/" + EncodePathSegment(*ltenant) + "/tokens"),
                  as_json, RenderTokenList);
    });
  });
  auto rf = std::make_shared<CommonFlags>();
  auto id = std::make_shared<std::string>();
  auto* revoke = token->add_subcommand("revoke", "Revoke a token");
  AddCommon(revoke, rf);
  revoke->add_option("id", *id, "Token id (tok-...)")->required();
  revoke->callback([=] {
    *exit_code = Run(*rf, [=](ApiClient& api, bool as_json) -> Result<std::string> {
      auto v =
          api.Call("POST", "/v1/tokens/" + EncodePathSegment(*id) + "/revoke", "", RandomHex(16));
      if (!v.ok()) return v.status();
      if (as_json) return metering::JsonText(*v) + "\n";
      return "revoked " + *id + "\n";
    });
  });
}

}  // namespace

void RegisterClientCommands(CLI::App& app, int* exit_code) {
  AddLogin(app, exit_code);
  AddJob(app, exit_code);
  AddNode(app, exit_code);
  AddTenant(app, exit_code);
  AddToken(app, exit_code);
  RegisterUsageCommands(app, exit_code);    // usage, price, tenant quota (metering)
  RegisterSessionCommands(app, exit_code);  // run, attach
  RegisterServiceCommands(app, exit_code);  // service (docs/services.md)
}

}  // namespace fastgpu::cli

#include "cli/service_commands.h"

#include <charconv>
#include <memory>
#include <sstream>

#include "cli/api_client.h"
#include "cli/client_commands.h"
#include "cli/command_runner.h"
#include "cli/output.h"
#include "common/ids.h"
#include "common/url_text.h"
#include "metering/json_text.h"

namespace fastgpu::cli {

namespace json = boost::json;

namespace {

Status Usage(const std::string& m) { return InvalidArgument("usage: " + m); }

const json::value* Field(const json::value& v, std::string_view key) {
  return v.is_object() ? v.as_object().if_contains(key) : nullptr;
}

std::string Str(const json::value& v, std::string_view key) {
  const json::value* f = Field(v, key);
  if (f == nullptr || f->is_null()) return "";
  if (f->is_string()) return std::string(f->as_string());
  return metering::JsonText(*f);
}

const json::array& Arr(const json::value& v, std::string_view key) {
  static const json::array kEmpty;
  const json::value* f = Field(v, key);
  return f != nullptr && f->is_array() ? f->as_array() : kEmpty;
}

int ReadyCount(const json::value& svc) {
  int n = 0;
  for (const json::value& r : Arr(svc, "replica_status")) {
    const json::value* ready = Field(r, "ready");
    n += ready != nullptr && ready->is_bool() && ready->as_bool();
  }
  return n;
}

// Everything `service create` and `service update` take besides the name.
struct SpecFlags {
  SubmitFlags shape;  // --gpu, --gpu-memory, --gpu-model, --cpu, --memory, --isolation, --env,
                      // --image, --root and the command
  bool port = false;
  std::string ready_http;
  bool ready_tcp = false;
  int min = 1, max = 0, replicas = -1, target_gpu_util = 0;
  double target_rps = 0;
  std::string idle_timeout = "300", scale_down_delay = "300", key;
};

void AddSpecFlags(CLI::App* cmd, SpecFlags& s, bool create) {
  SubmitFlags& f = s.shape;
  cmd->add_option("--gpu", f.gpu, "GPUs per replica: 0.5, 500m (a fraction) or 1, 2, 8 (whole)")
      ->capture_default_str();
  cmd->add_option("--gpu-memory", f.gpu_memory, "GPU memory per GPU, e.g. 20GiB");
  cmd->add_option("--gpu-model", f.gpu_models, "Allowed GPU model (repeatable)");
  cmd->add_option("--cpu", f.cpu, "CPU per replica: 2, 500m");
  cmd->add_option("--memory", f.memory, "Memory per replica, e.g. 8GiB");
  cmd->add_option("--isolation", f.isolation, "default, exclusive, mig, mps or shared")
      ->capture_default_str();
  cmd->add_option("--env", f.env, "Environment variable K=V of each replica (repeatable)");
  cmd->add_option("--image", f.image, "Run each replica in this OCI image (podman on the node)");
  cmd->add_flag("--root", f.root, "Run as root on the node (only for a tenant allowed to)");
  cmd->add_flag("--port", s.port,
                "Each replica listens on the port its agent gives it ($PORT in its environment)");
  cmd->add_option("--ready-http", s.ready_http,
                  "Readiness: an HTTP GET of this path on $PORT answers 2xx (needs --port)");
  cmd->add_flag("--ready-tcp", s.ready_tcp, "Readiness: $PORT accepts a connection (needs --port)");
  cmd->add_option("--min", s.min, "Fewest replicas; 0 lets an idle service drop to zero")
      ->capture_default_str();
  cmd->add_option("--max", s.max, "Most replicas (default: --min, at least 1)");
  if (create) {
    cmd->add_option("--replicas", s.replicas, "Replicas to start with (default: --min, at least 1)");
  }
  cmd->add_option("--target-rps", s.target_rps,
                  "Autoscale to this many requests per second per replica (0: off)");
  cmd->add_option("--target-gpu-util", s.target_gpu_util,
                  "Autoscale to this GPU utilisation percent (0: off; not with --target-rps)");
  cmd->add_option("--idle-timeout", s.idle_timeout,
                  "With --min 0: scale to zero after no request for this long (300, 5m, 1h)")
      ->capture_default_str();
  cmd->add_option("--scale-down-delay", s.scale_down_delay,
                  "The autoscaler removes replicas only after wanting fewer this long")
      ->capture_default_str();
  cmd->add_option("--idempotency-key", s.key, "Request id making retries safe (default: random)");
  auto* command = cmd->add_option("command", f.command,
                                  create ? "The command of each replica (after --)"
                                         : "A new command for each replica (after --)");
  if (create) command->required();
}

// The body of POST /v1/services (`given` null) or of PATCH (only the flags `given` names).
Result<json::object> SpecBody(const std::string& name, const SpecFlags& s, const CLI::App* given) {
  const auto has = [&](const char* flag) { return given == nullptr || given->count(flag) > 0; };
  json::object body;
  if (given == nullptr) body["name"] = name;
  // The shape flags in the model's job form (SubmitBody parses and checks them).
  SubmitFlags shape_flags = s.shape;
  if (shape_flags.command.empty()) shape_flags.command = {"-"};
  FASTGPU_ASSIGN_OR_RETURN(std::string job_text, SubmitBody(shape_flags));
  json::value job = json::parse(job_text);
  if (has("command") && !s.shape.command.empty()) {
    body["command"] = job.as_object()["command"];
  }
  if (has("--gpu") || has("--gpu-memory") || has("--gpu-model") || has("--cpu") ||
      has("--memory") || has("--isolation")) {
    body["shape"] = job.as_object()["shape"];
  }
  if (has("--env")) body["env"] = job.as_object()["env"];
  if (has("--image")) body["image"] = s.shape.image;
  if (has("--root")) body["run_as_root"] = s.shape.root;
  if (has("--port")) body["port"] = s.port;
  if (!s.ready_http.empty() && s.ready_tcp) {
    return Usage("--ready-http and --ready-tcp: give one of them");
  }
  if (has("--ready-http") && !s.ready_http.empty()) {
    body["readiness"] = json::object{{"http", s.ready_http}};
  } else if (has("--ready-tcp") && s.ready_tcp) {
    body["readiness"] = json::object{{"tcp", true}};
  }
  if (has("--min")) body["min_replicas"] = s.min;
  if (has("--max")) body["max_replicas"] = s.max;
  if (given == nullptr && s.replicas >= 0) body["replicas"] = s.replicas;
  if (has("--target-rps")) body["target_rps"] = s.target_rps;
  if (has("--target-gpu-util")) body["target_gpu_util"] = s.target_gpu_util;
  if (has("--idle-timeout")) {
    FASTGPU_ASSIGN_OR_RETURN(body["idle_timeout_s"],
                             ParseDurationSeconds(s.idle_timeout, "--idle-timeout"));
  }
  if (has("--scale-down-delay")) {
    FASTGPU_ASSIGN_OR_RETURN(body["scale_down_delay_s"],
                             ParseDurationSeconds(s.scale_down_delay, "--scale-down-delay"));
  }
  return body;
}

std::string ServicePath(const std::string& name) { return "/v1/services/" + EncodePathSegment(name); }

void AddCreate(CLI::App* svc, int* exit_code) {
  auto f = std::make_shared<ClientFlags>();
  auto s = std::make_shared<SpecFlags>();
  auto name = std::make_shared<std::string>();
  auto* cmd = svc->add_subcommand(
      "create", "Create a service: fastgpu service create NAME [flags] -- CMD...");
  AddClientFlags(cmd, f);
  cmd->add_option("name", *name, "The service's name: 1-63 of a-z, 0-9 and -")->required();
  AddSpecFlags(cmd, *s, true);
  cmd->callback([=] {
    *exit_code = RunClientCommand(*f, [=](ApiClient& api, const std::string& output)
                                          -> Result<std::string> {
      FASTGPU_ASSIGN_OR_RETURN(json::object body, SpecBody(*name, *s, nullptr));
      FASTGPU_ASSIGN_OR_RETURN(
          json::value v, api.Call("POST", "/v1/services", json::serialize(body),
                                  s->key.empty() ? RandomHex(16) : s->key));
      if (output == "json") return metering::JsonText(v) + "\n";
      return "created service " + Str(v, "name") + " (" + Str(v, "id") + "), " +
             Str(v, "replicas") + " replica" + (Str(v, "replicas") == "1" ? "" : "s") +
             " wanted\n";
    });
  });
}

void AddUpdate(CLI::App* svc, int* exit_code) {
  auto f = std::make_shared<ClientFlags>();
  auto s = std::make_shared<SpecFlags>();
  auto name = std::make_shared<std::string>();
  auto* cmd = svc->add_subcommand(
      "update",
      "Change a service: only the flags given change (shape flags replace the whole shape); a "
      "change of what replicas run rolls them one at a time");
  AddClientFlags(cmd, f);
  cmd->add_option("name", *name, "The service's name or id")->required();
  AddSpecFlags(cmd, *s, false);
  cmd->callback([=] {
    *exit_code = RunClientCommand(*f, [=](ApiClient& api, const std::string& output)
                                          -> Result<std::string> {
      FASTGPU_ASSIGN_OR_RETURN(json::object body, SpecBody(*name, *s, cmd));
      if (body.empty()) return Usage("update: give at least one flag or a command to change");
      FASTGPU_ASSIGN_OR_RETURN(
          json::value v, api.Call("PATCH", ServicePath(*name), json::serialize(body),
                                  s->key.empty() ? RandomHex(16) : s->key));
      if (output == "json") return metering::JsonText(v) + "\n";
      return "updated service " + Str(v, "name") + ": generation " + Str(v, "generation") +
             "; " + Str(v, "reason") + "\n";
    });
  });
}

void AddList(CLI::App* svc, int* exit_code) {
  auto f = std::make_shared<ClientFlags>();
  auto tenant = std::make_shared<std::string>();
  auto* cmd = svc->add_subcommand("list", "List services (a tenant sees its own; admin all)");
  AddClientFlags(cmd, f);
  cmd->add_option("--tenant", *tenant, "Only this tenant's services: name or id (admin)");
  cmd->callback([=] {
    *exit_code = RunClientCommand(*f, [=](ApiClient& api, const std::string& output)
                                          -> Result<std::string> {
      std::string path = "/v1/services";
      if (!tenant->empty()) path += "?tenant=" + EncodeQueryValue(*tenant);
      FASTGPU_ASSIGN_OR_RETURN(json::value v, api.Call("GET", path));
      if (output == "json") return metering::JsonText(v) + "\n";
      return RenderServiceList(v);
    });
  });
}

void AddGet(CLI::App* svc, int* exit_code) {
  auto f = std::make_shared<ClientFlags>();
  auto name = std::make_shared<std::string>();
  auto* cmd = svc->add_subcommand("get", "Show a service: state, reason, spec, replicas");
  AddClientFlags(cmd, f);
  cmd->add_option("name", *name, "The service's name or id")->required();
  cmd->callback([=] {
    *exit_code = RunClientCommand(*f, [=](ApiClient& api, const std::string& output)
                                          -> Result<std::string> {
      FASTGPU_ASSIGN_OR_RETURN(json::value v, api.Call("GET", ServicePath(*name)));
      if (output == "json") return metering::JsonText(v) + "\n";
      return RenderService(v);
    });
  });
}

void AddScale(CLI::App* svc, int* exit_code) {
  auto f = std::make_shared<ClientFlags>();
  auto name = std::make_shared<std::string>();
  auto replicas = std::make_shared<int>(0);
  auto* cmd = svc->add_subcommand(
      "scale", "Set the desired replica count (clamped to --min..--max of the service)");
  AddClientFlags(cmd, f);
  cmd->add_option("name", *name, "The service's name or id")->required();
  cmd->add_option("replicas", *replicas, "The count, 0..1024")->required();
  cmd->callback([=] {
    *exit_code = RunClientCommand(*f, [=](ApiClient& api, const std::string& output)
                                          -> Result<std::string> {
      if (*replicas < 0) return Usage("replicas: must not be negative");
      FASTGPU_ASSIGN_OR_RETURN(
          json::value v,
          api.Call("POST", ServicePath(*name) + "/scale",
                   json::serialize(json::object{{"replicas", *replicas}}), RandomHex(16)));
      if (output == "json") return metering::JsonText(v) + "\n";
      std::string note;
      if (const json::value* scale = Field(v, "scale")) note = Str(*scale, "note");
      return "scaled service " + Str(v, "name") + " to " + Str(v, "replicas") + " replicas" +
             (note.empty() ? "" : " (" + note + ")") + "\n";
    });
  });
}

void AddDelete(CLI::App* svc, int* exit_code) {
  auto f = std::make_shared<ClientFlags>();
  auto names = std::make_shared<std::vector<std::string>>();
  auto* cmd = svc->add_subcommand("delete", "Delete services and cancel their replicas");
  AddClientFlags(cmd, f);
  cmd->add_option("names", *names, "Service names or ids")->required();
  cmd->callback([=] {
    *exit_code = RunClientCommand(*f, [=](ApiClient& api, const std::string& output)
                                          -> Result<std::string> {
      json::array answers;
      std::string text;
      for (const std::string& name : *names) {
        FASTGPU_ASSIGN_OR_RETURN(json::value v,
                                 api.Call("DELETE", ServicePath(name), "", RandomHex(16)));
        const size_t cancelled = Arr(v, "cancelled_jobs").size();
        text += "deleted service " + Str(v, "name") + " (cancelled " + std::to_string(cancelled) +
                " replica" + (cancelled == 1 ? "" : "s") + ")\n";
        answers.push_back(std::move(v));
      }
      if (output == "json") {
        return metering::JsonText(answers.size() == 1 ? answers[0] : json::value(answers)) + "\n";
      }
      return text;
    });
  });
}

}  // namespace

Result<int64_t> ParseDurationSeconds(const std::string& text, const std::string& flag) {
  int64_t n = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  int64_t unit = 1;
  const std::string_view rest(ptr, static_cast<size_t>(end - ptr));
  if (rest == "m") {
    unit = 60;
  } else if (rest == "h") {
    unit = 3600;
  } else if (!rest.empty() && rest != "s") {
    ec = std::errc::invalid_argument;
  }
  if (ec != std::errc() || text.empty() || n < 0 || n > int64_t{30} * 24 * 3600 / unit) {
    return Usage(flag + ": expected seconds (300), minutes (5m) or hours (2h), got '" + text + "'");
  }
  return n * unit;
}

std::string RenderServiceList(const json::value& list) {
  Table t({"NAME", "STATE", "READY", "MIN-MAX", "GEN", "REASON"});
  for (const json::value& s : Arr(list, "services")) {
    const json::value* spec = Field(s, "spec");
    const std::string bounds =
        spec ? Str(*spec, "min_replicas") + "-" + Str(*spec, "max_replicas") : "";
    t.Add({Str(s, "name"), Str(s, "state"),
           std::to_string(ReadyCount(s)) + "/" + Str(s, "replicas"), bounds,
           Str(s, "generation"), Str(s, "reason")});
  }
  return t.Render();
}

std::string RenderService(const json::value& s) {
  static const json::value kNone = json::object{};
  const json::value* spec_ptr = Field(s, "spec");
  const json::value& spec = spec_ptr != nullptr ? *spec_ptr : kNone;
  std::ostringstream o;
  std::string cmd;
  for (const json::value& a : Arr(spec, "command")) {
    cmd += (cmd.empty() ? "" : " ") + (a.is_string() ? std::string(a.as_string()) : "?");
  }
  std::string shape;
  if (const json::value* sh = Field(spec, "shape")) shape = Str(*sh, "description");
  std::string probe = "running";
  if (const json::value* r = Field(spec, "readiness")) {
    if (!Str(*r, "http").empty()) probe = "HTTP GET " + Str(*r, "http");
    if (Str(*r, "tcp") == "true") probe = "TCP connect";
  }
  const auto positive = [&](std::string_view key) {
    const json::value* f = Field(spec, key);
    return f != nullptr && f->is_number() && f->to_number<double>() > 0;
  };
  std::string scaling = "none";
  if (positive("target_rps")) {
    scaling = Str(spec, "target_rps") + " requests/s per replica";
  } else if (positive("target_gpu_util")) {
    scaling = Str(spec, "target_gpu_util") + "% GPU utilisation";
  }
  o << "id:          " << Str(s, "id") << "\n"
    << "name:        " << Str(s, "name") << "\n"
    << "state:       " << Str(s, "state") << "\n"
    << "reason:      " << Str(s, "reason") << "\n"
    << "replicas:    " << ReadyCount(s) << " ready of " << Str(s, "replicas") << " wanted ("
    << Str(spec, "min_replicas") << ".." << Str(spec, "max_replicas") << ")\n"
    << "generation:  " << Str(s, "generation") << "\n"
    << "command:     " << cmd << "\n"
    << "shape:       " << shape << "\n"
    << "port:        " << (Str(spec, "port") == "true" ? "$PORT" : "none") << "\n"
    << "readiness:   " << probe << "\n"
    << "autoscaling: " << scaling << "\n";
  if (Str(spec, "min_replicas") == "0") {
    o << "scale to 0:  after " << Str(spec, "idle_timeout_s") << " s without a request\n";
  }
  if (const json::value* a = Field(s, "autoscaler")) {
    o << "autoscaler:  " << Str(*a, "reason") << "\n";
  }
  if (Str(spec, "port") == "true") {
    o << "proxy:       /v1/services/" << Str(s, "name") << "/proxy/ (with an API token)\n";
  }
  if (!Str(spec, "image").empty()) o << "image:       " << Str(spec, "image") << "\n";
  if (!Arr(s, "replica_status").empty()) {
    o << "\nreplicas:\n";
    Table t({"  JOB", "STATE", "GEN", "READY", "REASON"});
    for (const json::value& r : Arr(s, "replica_status")) {
      t.Add({"  " + Str(r, "job_id"), Str(r, "state"), Str(r, "generation"),
             Str(r, "ready") == "true" ? "yes" : "no", Str(r, "reason")});
    }
    o << t.Render();
  }
  return o.str();
}

void RegisterServiceCommands(CLI::App& app, int* exit_code) {
  auto* svc = app.add_subcommand(
      "service", "Long-running replicas kept at a count: create, list, get, scale, update, delete");
  svc->require_subcommand(1);
  AddCreate(svc, exit_code);
  AddList(svc, exit_code);
  AddGet(svc, exit_code);
  AddScale(svc, exit_code);
  AddUpdate(svc, exit_code);
  AddDelete(svc, exit_code);
}

}  // namespace fastgpu::cli

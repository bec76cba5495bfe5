#include "server/api.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "metering/json_text.h"
#include "model/gpu.h"
#include "server/allocation_end.h"

namespace fastgpu::server {

HttpResponse JsonResponse(int status, const json::value& body) {
  return {status, "application/json", metering::JsonText(body)};
}

HttpResponse ErrorResponse(const Status& status) {
  return {HttpStatusFor(status.code()), "application/json", ErrorJson(status)};
}

json::object AllocationRecordToJson(const AllocationRecord& rec) {
  json::object o = AllocationToJson(rec.alloc);
  o["state"] = AllocationStateName(rec.state);
  o["exit_code"] = rec.exit_code;
  o["signal"] = rec.signal;
  o["started_at"] = rec.started_at_ms;
  o["ended_at"] = rec.ended_at_ms;
  o["message"] = rec.message;
  o["ended"] = EndedText(rec);
  return o;
}

Api::Api(Store& store, Clock& clock, IdGenerator& ids, Metrics& metrics, Authenticator& auth,
         ApiOptions options, std::function<void()> on_change)
    : store_(store),
      clock_(clock),
      ids_(ids),
      metrics_(metrics),
      auth_(auth),
      options_(options),
      on_change_(std::move(on_change)) {
  store_
      .Read([&](ReadTx& tx) -> Status {
        FASTGPU_ASSIGN_OR_RETURN(auto nodes, tx.ListNodes());
        for (const auto& n : nodes) NoteModels(n.node.gpus);
        return OkStatus();
      })
      .IgnoreError();  // an empty set only narrows the models a shape may name
}

namespace {

// One endpoint: its pattern ("{id}" matches one path segment) and the methods it takes.
struct RouteSpec {
  std::string_view pattern;
  std::string_view methods;  // the Allow header's value: "GET, POST"
};

// Every endpoint the API serves (docs/api.md). Dispatch below must agree with it;
// tests/http_limits_test.cpp checks that each one reaches its handler.
constexpr RouteSpec kRoutes[] = {
    {"/", "GET"},
    {"/healthz", "GET"},
    {"/metrics", "GET"},
    {"/v1/nodes/register", "POST"},
    {"/v1/nodes/{id}/heartbeat", "POST"},
    {"/v1/nodes/{id}/logs", "POST"},
    {"/v1/jobs", "GET, POST"},
    {"/v1/jobs/{id}", "GET"},
    {"/v1/jobs/{id}/cancel", "POST"},
    {"/v1/jobs/{id}/logs", "GET"},
    {"/v1/allocations", "GET"},
    {"/v1/allocations/{id}", "GET"},
    {"/v1/nodes", "GET"},
    {"/v1/nodes/{id}/drain", "POST"},
    {"/v1/nodes/{id}/undrain", "POST"},
    {"/v1/nodes/{id}/revoke", "POST"},
    {"/v1/prices", "GET, PUT"},
    {"/v1/usage", "GET"},
    {"/v1/tenants", "GET, POST"},
    {"/v1/tenants/{id}", "GET"},
    {"/v1/tenants/{id}/tokens", "GET, POST"},
    {"/v1/tenants/{id}/quota", "PUT"},
    {"/v1/tokens/{id}/revoke", "POST"},
};

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

// The endpoint `path` names, or null. A literal segment beats "{id}" ("/v1/nodes/register").
const RouteSpec* MatchRoute(const std::string& path) {
  if (path == "/") return &kRoutes[0];
  const std::vector<std::string_view> got = Segments(path);
  const RouteSpec* best = nullptr;
  int best_literals = -1;
  for (const RouteSpec& r : kRoutes) {
    const std::vector<std::string_view> want = Segments(r.pattern);
    if (want.empty() || want.size() != got.size()) continue;
    int literals = 0;
    bool match = true;
    for (size_t i = 0; i < want.size() && match; ++i) {
      if (want[i] == "{id}") continue;
      match = want[i] == got[i];
      ++literals;
    }
    if (match && literals > best_literals) {
      best = &r;
      best_literals = literals;
    }
  }
  return best;
}

bool MethodAllowed(const RouteSpec& r, const std::string& method) {
  std::string_view list = r.methods;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view m = list.substr(0, comma);
    while (!m.empty() && m.front() == ' ') m.remove_prefix(1);
    if (m == method) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// 405 with the project's error body and an Allow header naming what the route takes.
HttpResponse MethodNotAllowed(const RouteSpec& r) {
  HttpResponse resp{
      405, "application/json",
      ErrorJson(Status(StatusCode::kInvalidArgument,
                       "method not allowed; this endpoint takes " + std::string(r.methods)))};
  resp.headers.emplace_back("Allow", std::string(r.methods));
  return resp;
}

HttpResponse NoRoute(const std::string& path) {
  return ErrorResponse(NotFound("no such endpoint: " + path));
}

}  // namespace

HttpResponse Api::Handle(const HttpRequest& req) {
  // The route's latency is measured on the steady clock: it is a metric, not a decision.
  auto start = std::chrono::steady_clock::now();
  // Every label is drawn from a bounded set: the route's pattern from the table below
  // (never the raw path), the method folded to a known one or "other" by Metrics.
  std::string route = "unmatched";
  HttpResponse resp;
  // A path the table does not name still goes to Dispatch (which answers 404, or serves
  // an endpoint not yet in the table; its route labels are literals too).
  const RouteSpec* spec = MatchRoute(req.path);
  if (spec != nullptr) route = spec->pattern;
  if (spec != nullptr && !MethodAllowed(*spec, req.method)) {
    resp = MethodNotAllowed(*spec);
  } else {
    try {
      resp = Dispatch(req, route);
    } catch (const std::exception& e) {
      // A third-party throw that escaped its adapter (a Boost.JSON accessor, say, or
      // std::bad_alloc): the caller gets a 500 with the error body, the server goes on.
      spdlog::error("api: {} failed: {}", route, e.what());
      resp = ErrorResponse(Internal("internal error"));
    }
    if (spec != nullptr) route = spec->pattern;  // the table's pattern, whatever was set
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_.ObserveRequest(route, req.method, resp.status, seconds);
  return resp;
}

namespace {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

// Unreachable once Handle has checked the method against kRoutes; kept as a safe answer.
HttpResponse MethodNotAllowed() {
  return {405, "application/json",
          ErrorJson(Status(StatusCode::kInvalidArgument, "method not allowed"))};
}

constexpr char kIndexText[] =
    "FastGPU control plane.\n"
    "REST API under /v1 (JSON, Authorization: Bearer <token>); see docs/api.md.\n"
    "Health: /healthz   Metrics: /metrics\n";

}  // namespace

HttpResponse Api::Dispatch(const HttpRequest& req, std::string& route) {
  const std::string& m = req.method;
  if (req.path == "/healthz") {
    route = "/healthz";
    return {200, "application/json", "{\"status\":\"ok\"}"};
  }
  if (req.path == "/metrics") {
    route = "/metrics";
    return MetricsText();
  }
  if (req.path == "/") {
    route = "/";
    return {200, "text/plain; charset=utf-8", kIndexText};
  }
  std::vector<std::string> p = SplitPath(req.path);
  if (p.empty() || p[0] != "v1") return NoRoute(req.path);
  size_t n = p.size();

  // Agent endpoints authenticate with the join token or a node token.
  if (n >= 3 && p[1] == "nodes") {
    if (n == 3 && p[2] == "register") {
      route = "/v1/nodes/register";
      if (m != "POST") return MethodNotAllowed();
      return RegisterNode(req);
    }
    if (n == 4 && (p[3] == "heartbeat" || p[3] == "logs")) {
      route = "/v1/nodes/{id}/" + p[3];
      if (m != "POST") return MethodNotAllowed();
      return p[3] == "heartbeat" ? Heartbeat(req, p[2]) : AppendLogs(req, p[2]);
    }
  }

  auto principal = auth_.Authenticate(req.Header("authorization"));
  if (!principal.ok()) return ErrorResponse(principal.status());
  if (principal->kind != Principal::Kind::kTenant) {
    return ErrorResponse(PermissionDenied("the join token may only register nodes"));
  }
  const Principal& who = *principal;
  auto admin_only = [&]() -> Status {
    return who.admin ? OkStatus() : PermissionDenied("this endpoint is for the admin tenant");
  };

  if (n >= 2 && p[1] == "jobs") {
    if (n == 2) {
      route = "/v1/jobs";
      if (m == "POST") return SubmitJob(req, who);
      if (m == "GET") return ListJobs(req, who);
      return MethodNotAllowed();
    }
    if (n == 3) {
      route = "/v1/jobs/{id}";
      if (m != "GET") return MethodNotAllowed();
      return GetJob(who, p[2]);
    }
    if (n == 4 && p[3] == "cancel") {
      route = "/v1/jobs/{id}/cancel";
      if (m != "POST") return MethodNotAllowed();
      return CancelJob(req, who, p[2]);
    }
    if (n == 4 && p[3] == "logs") {
      route = "/v1/jobs/{id}/logs";
      if (m != "GET") return MethodNotAllowed();
      return JobLogs(req, who, p[2]);
    }
  }
  if (n >= 2 && p[1] == "allocations") {
    if (n == 2) {
      route = "/v1/allocations";
      if (m != "GET") return MethodNotAllowed();
      return ListAllocations(req, who);
    }
    if (n == 3) {
      route = "/v1/allocations/{id}";
      if (m != "GET") return MethodNotAllowed();
      return GetAllocation(who, p[2]);
    }
  }
  if (n >= 2 && p[1] == "nodes") {
    if (n == 2) {
      route = "/v1/nodes";
      if (m != "GET") return MethodNotAllowed();
      if (auto s = admin_only(); !s.ok()) return ErrorResponse(s);
      return ListNodes();
    }
    if (n == 4 && (p[3] == "drain" || p[3] == "undrain")) {
      route = "/v1/nodes/{id}/" + p[3];
      if (m != "POST") return MethodNotAllowed();
      if (auto s = admin_only(); !s.ok()) return ErrorResponse(s);
      return SetDrain(req, who, p[2], p[3] == "drain");
    }
    if (n == 4 && p[3] == "revoke") {
      route = "/v1/nodes/{id}/revoke";
      if (m != "POST") return MethodNotAllowed();
      if (auto s = admin_only(); !s.ok()) return ErrorResponse(s);
      return RevokeNode(req, who, p[2]);
    }
  }
  if (auto usage = DispatchUsage(req, who, p, route)) return *std::move(usage);
  if (n >= 2 && p[1] == "tenants") {
    if (n == 2) {
      route = "/v1/tenants";
      if (m != "POST" && m != "GET") return MethodNotAllowed();
      if (auto s = admin_only(); !s.ok()) return ErrorResponse(s);
      return m == "POST" ? CreateTenant(req, who) : ListTenants();
    }
    if (n == 3) {
      route = "/v1/tenants/{id}";
      if (m != "GET") return MethodNotAllowed();
      return GetTenant(who, p[2]);
    }
    if (n == 4 && p[3] == "tokens") {
      route = "/v1/tenants/{id}/tokens";
      if (m != "POST" && m != "GET") return MethodNotAllowed();
      if (auto s = admin_only(); !s.ok()) return ErrorResponse(s);
      return m == "POST" ? CreateToken(req, who, p[2]) : ListTokens(p[2]);
    }
  }
  if (n == 4 && p[1] == "tokens" && p[3] == "revoke") {
    route = "/v1/tokens/{id}/revoke";
    if (m != "POST") return MethodNotAllowed();
    if (auto s = admin_only(); !s.ok()) return ErrorResponse(s);
    return RevokeToken(req, who, p[2]);
  }
  return NoRoute(req.path);
}

HttpResponse Api::Mutate(const HttpRequest& req, const Principal& p,
                         const std::function<Result<HttpResponse>(WriteTx&)>& fn,
                         const std::function<std::string(const HttpResponse&)>& redact) {
  const std::string key = req.Header("idempotency-key");
  if (key.size() > 200) {
    return ErrorResponse(InvalidArgument("Idempotency-Key: at most 200 characters"));
  }
  const std::string method_path = req.method + " " + req.path;
  HttpResponse out;
  Status st = store_.Write([&](WriteTx& tx) -> Status {
    std::string body_hash;
    if (!key.empty()) {
      body_hash = Sha256Hex(req.body);
      auto prior = tx.GetIdempotency(p.tenant_id, key);
      if (prior.ok()) {
        if (prior->method_path != method_path || prior->request_sha256_hex != body_hash) {
          return Status(StatusCode::kFailedPrecondition,
                        "Idempotency-Key '" + key + "' was used for a different request");
        }
        out = HttpResponse{prior->http_status, "application/json", prior->response_body};
        return OkStatus();
      }
      if (prior.status().code() != StatusCode::kNotFound) return prior.status();
    }
    FASTGPU_ASSIGN_OR_RETURN(out, fn(tx));
    if (!key.empty()) {
      IdempotencyRecord rec{p.tenant_id, key,        method_path,
                            body_hash,   out.status, redact ? redact(out) : out.body,
                            clock_.Now()};
      FASTGPU_RETURN_IF_ERROR(tx.PutIdempotency(rec));
    }
    return OkStatus();
  });
  if (!st.ok()) {
    HttpResponse err = ErrorResponse(st);
    if (st.message().rfind("Idempotency-Key", 0) == 0) err.status = 422;
    return err;
  }
  return out;
}

Result<NodeRecord> Api::AuthNode(ReadTx& tx, const HttpRequest& req, const std::string& node_id) {
  std::string token = BearerToken(req.Header("authorization"));
  if (token.empty()) return Unauthenticated("missing bearer token (the node token)");
  auto rec = tx.GetNode(node_id);
  if (!rec.ok()) {
    if (rec.status().code() == StatusCode::kNotFound) {
      return NotFound("unknown node " + node_id + " (register again)");
    }
    return rec.status();
  }
  if (rec->token_sha256_hex.empty()) {
    return Unauthenticated("the credentials of node " + node_id + " were revoked (register again)");
  }
  if (Sha256Hex(token) != rec->token_sha256_hex) {
    return Unauthenticated("wrong node token for " + node_id);
  }
  return rec;
}

Result<Tenant> Api::FindTenant(ReadTx& tx, const std::string& id_or_name) {
  auto t = id_or_name.rfind("tenant-", 0) == 0 ? tx.GetTenant(id_or_name)
                                               : NotFound("not an id");
  if (!t.ok() && t.status().code() == StatusCode::kNotFound) t = tx.GetTenantByName(id_or_name);
  if (!t.ok() && t.status().code() == StatusCode::kNotFound) {
    return NotFound("no tenant '" + id_or_name + "'");
  }
  return t;
}

std::set<std::string> Api::KnownModels() {
  std::set<std::string> models = KnownGpuModels();
  std::lock_guard lock(models_mu_);
  models.insert(pool_models_.begin(), pool_models_.end());
  return models;
}

void Api::NoteModels(const std::vector<Gpu>& gpus) {
  std::lock_guard lock(models_mu_);
  for (const Gpu& g : gpus) pool_models_.insert(g.model);
}

}  // namespace fastgpu::server

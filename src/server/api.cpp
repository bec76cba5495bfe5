#include "server/api.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>

#include "model/gpu.h"
#include "server/allocation_end.h"

namespace fastgpu::server {

json::object AllocationRecordToJson(const store::AllocationRecord& rec) {
  json::object o = AllocationToJson(rec.alloc);
  o["state"] = store::AllocationStateName(rec.state);
  o["exit_code"] = rec.exit_code;
  o["signal"] = rec.signal;
  o["started_at"] = rec.started_at_ms;
  o["ended_at"] = rec.ended_at_ms;
  o["message"] = rec.message;
  o["ended"] = EndedText(rec);
  return o;
}

Api::Api(store::Store& store, Clock& clock, IdGenerator& ids, Metrics& metrics, Authenticator& auth,
         ApiOptions options, std::function<void()> on_change)
    : store_(store),
      clock_(clock),
      ids_(ids),
      metrics_(metrics),
      auth_(auth),
      options_(options),
      on_change_(std::move(on_change)) {
  store_
      .Read([&](store::ReadTx& tx) -> Status {
        FASTGPU_ASSIGN_OR_RETURN(auto nodes, tx.ListNodes());
        for (const auto& n : nodes) NoteModels(n.node.gpus);
        return OkStatus();
      })
      .IgnoreError();  // an empty set only narrows the models a shape may name
}

namespace {

// 405 with the project's error body and an Allow header naming what the template takes.
HttpResponse MethodNotAllowed(const std::string& allow) {
  HttpResponse resp =
      ErrorResponse(InvalidArgument("method not allowed; this endpoint takes " + allow));
  resp.status = 405;
  resp.headers.emplace_back("Allow", allow);
  return resp;
}

}  // namespace

std::vector<RouteInfo> Api::Routes() {
  std::vector<RouteInfo> out;
  for (const Route& r : Table()) out.push_back(r.info);
  return out;
}

Api::Lookup Api::Find(const HttpRequest& req) {
  Lookup found;
  // The template the path fits best (most literal segments), then its method.
  int best = -1;
  std::map<std::string, std::string, std::less<>> params;
  for (const Route& r : Table()) {
    std::optional<int> literals = MatchPathTemplate(r.info.path, req.path, &params);
    if (!literals || *literals < best) continue;
    if (*literals > best) {
      best = *literals;
      found = Lookup{nullptr, r.info.path, "", std::move(params)};
    }
    if (r.info.path != found.pattern) continue;  // another template, as good: the first wins
    found.allow += (found.allow.empty() ? "" : ", ") + std::string(r.info.method);
    if (r.info.method == req.method) found.route = &r;
  }
  return found;
}

Result<Principal> Api::Authorize(const RouteInfo& route, const HttpRequest& req,
                                 const std::string& node_id) {
  switch (route.auth) {
    case AuthLevel::kNone:
      return Principal{};
    case AuthLevel::kNode: {
      // The lease counts a heartbeat once the node is known to be who it says (see
      // Heartbeat); the handler's write checks the token again in its own transaction.
      Status st = store_.Read(
          [&](store::ReadTx& tx) -> Status { return AuthNode(tx, req, node_id).status(); });
      if (!st.ok()) return st;
      return Principal{};
    }
    case AuthLevel::kJoin: {
      FASTGPU_ASSIGN_OR_RETURN(Principal who, auth_.Authenticate(req.Header("authorization")));
      if (who.kind != Principal::Kind::kJoin) {
        return PermissionDenied("registering a node needs the join token");
      }
      return Principal{};
    }
    case AuthLevel::kTenant:
    case AuthLevel::kAdmin: {
      FASTGPU_ASSIGN_OR_RETURN(Principal who, auth_.Authenticate(req.Header("authorization")));
      if (who.kind != Principal::Kind::kTenant) {
        return PermissionDenied("the join token may only register nodes");
      }
      if (route.auth == AuthLevel::kAdmin && !who.admin) {
        return PermissionDenied("this endpoint is for the admin tenant");
      }
      return who;
    }
  }
  return Internal("unknown auth level");
}

Result<Reply> Api::Invoke(const Route& route, const HttpRequest& req, Lookup& found) {
  Call call{req, {}, std::move(found.params)};
  FASTGPU_ASSIGN_OR_RETURN(call.who, Authorize(route.info, req, call.Param("id")));
  return (this->*route.handler)(call);
}

HttpResponse Api::Handle(const HttpRequest& req) {
  // The route's latency is measured on the steady clock: it is a metric, not a decision.
  auto start = std::chrono::steady_clock::now();
  Lookup found = Find(req);
  // Every label is drawn from a bounded set: the route's template from the table (never
  // the raw path), the method folded to a known one or "other" by Metrics.
  const std::string route = found.pattern.empty() ? "unmatched" : std::string(found.pattern);
  HttpResponse resp;
  if (found.pattern.empty()) {
    resp = ErrorResponse(NotFound("no such endpoint: " + req.path));
  } else if (found.route == nullptr) {
    resp = MethodNotAllowed(found.allow);
  } else {
    try {
      Result<Reply> reply = Invoke(*found.route, req, found);
      resp = reply.ok() ? std::move(*reply).ToHttp() : ErrorResponse(reply.status());
    } catch (const std::exception& e) {
      // A third-party throw that escaped its adapter (a Boost.JSON accessor, say, or
      // std::bad_alloc): the caller gets a 500 with the error body, the server goes on.
      spdlog::error("api: {} failed: {}", route, e.what());
      resp = ErrorResponse(Internal("internal error"));
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_.ObserveRequest(route, req.method, resp.status, seconds);
  return resp;
}

Result<Reply> Api::Mutate(const Call& c, const std::function<Result<Reply>(store::WriteTx&)>& fn,
                          const std::function<std::string(const Reply&)>& redact) {
  const HttpRequest& req = c.req;
  const std::string key = req.Header("idempotency-key");
  if (key.size() > 200) return InvalidArgument("Idempotency-Key: at most 200 characters");
  const std::string method_path = req.method + " " + req.path;
  std::optional<Reply> out;
  bool key_reused = false;  // the key names another request: 422, nothing written
  Status st = store_.Write([&](store::WriteTx& tx) -> Status {
    out.reset();
    key_reused = false;
    std::string body_hash;
    if (!key.empty()) {
      body_hash = Sha256Hex(req.body);
      auto prior = tx.GetIdempotency(c.who.tenant_id, key);
      if (prior.ok()) {
        if (prior->method_path != method_path || prior->request_sha256_hex != body_hash) {
          key_reused = true;
          return FailedPrecondition("Idempotency-Key '" + key +
                                    "' was used for a different request");
        }
        out = Reply::Replayed(prior->http_status, prior->response_body);
        return OkStatus();
      }
      if (prior.status().code() != StatusCode::kNotFound) return prior.status();
    }
    FASTGPU_ASSIGN_OR_RETURN(out, fn(tx));
    if (!key.empty()) {
      store::IdempotencyRecord rec{c.who.tenant_id,    key,
                                   method_path,        body_hash,
                                   out->http_status(), redact ? redact(*out) : out->body(),
                                   clock_.Now()};
      FASTGPU_RETURN_IF_ERROR(tx.PutIdempotency(rec));
    }
    return OkStatus();
  });
  if (key_reused) return Reply::Unprocessable(st);
  if (!st.ok()) return st;
  return *std::move(out);
}

Result<store::NodeRecord> Api::AuthNode(store::ReadTx& tx, const HttpRequest& req,
                                        const std::string& node_id) {
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

Result<model::Tenant> Api::FindTenant(store::ReadTx& tx, const std::string& id_or_name) {
  auto t = id_or_name.rfind("tenant-", 0) == 0 ? tx.GetTenant(id_or_name) : NotFound("not an id");
  if (!t.ok() && t.status().code() == StatusCode::kNotFound) t = tx.GetTenantByName(id_or_name);
  if (!t.ok() && t.status().code() == StatusCode::kNotFound) {
    return NotFound("no tenant '" + id_or_name + "'");
  }
  return t;
}

std::set<std::string> Api::KnownModels() {
  std::set<std::string> models = model::KnownGpuModels();
  std::lock_guard lock(models_mu_);
  models.insert(pool_models_.begin(), pool_models_.end());
  return models;
}

void Api::NoteModels(const std::vector<model::Gpu>& gpus) {
  std::lock_guard lock(models_mu_);
  for (const model::Gpu& g : gpus) pool_models_.insert(g.model);
}

}  // namespace fastgpu::server

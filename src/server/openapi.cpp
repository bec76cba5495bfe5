#include "server/openapi.h"

#include <map>
#include <set>

#include "common/version.h"
#include "server/api.h"

namespace fastgpu::server {

namespace json = boost::json;

namespace {

std::string Key(const RouteInfo& r) { return std::string(r.method) + " " + std::string(r.path); }

// The "{name}" segments of a path template, in order (a tail "{name...}" as "name").
std::vector<std::string> TemplateParams(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while ((i = path.find('{', i)) != std::string_view::npos) {
    size_t close = path.find('}', i);
    if (close == std::string_view::npos) break;
    std::string_view name = path.substr(i + 1, close - i - 1);
    if (name.ends_with("...")) name.remove_suffix(3);
    out.emplace_back(name);
    i = close + 1;
  }
  return out;
}


std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Result<json::object> ParseText(std::string_view text, const std::string& what) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) return InvalidArgument(what + ": not valid JSON: " + ec.message());
  if (!v.is_object()) return InvalidArgument(what + ": must be a JSON object");
  return std::move(v.as_object());
}

// The value of `key` in `o` as an object; nullptr when absent; an error when not an object.
Result<const json::object*> ObjectField(const json::object& o, std::string_view key,
                                        const std::string& what) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return static_cast<const json::object*>(nullptr);
  if (!v->is_object()) return InvalidArgument(what + "." + std::string(key) + ": not an object");
  return &v->as_object();
}

json::object ErrorContent() {
  return {{"application/json",
           json::object{{"schema", json::object{{"$ref", "#/components/schemas/Error"}}}}}};
}

json::object ErrorAnswer(std::string_view description) {
  return {{"description", description}, {"content", ErrorContent()}};
}

// Who gets 403 on a route of `level` (none for kNone and kNode: a node route knows only
// its own node's token, so any other is 401).
std::string_view ForbiddenWhen(AuthLevel level) {
  switch (level) {
    case AuthLevel::kJoin:
      return "a known token other than the join token (a tenant's)";
    case AuthLevel::kTenant:
      return "the join token (it may only register nodes)";
    case AuthLevel::kAdmin:
      return "a tenant's token other than the admin tenant's, or the join token";
    case AuthLevel::kNone:
    case AuthLevel::kNode:
      return "";
  }
  return "";
}

std::string_view UnauthenticatedWhen(AuthLevel level) {
  if (level == AuthLevel::kNode) {
    return "no token, or not this node's token (a revoked node's too)";
  }
  return "no bearer token, or an unknown or revoked one";
}

// A response of the short form: {"description", "schema"?, "example"?, "exampleRef"?,
// "type"?, "content"?, "headers"?}.
Result<json::object> ExpandResponse(const json::object& in, const std::string& what) {
  json::object out;
  const json::value* description = in.if_contains("description");
  if (description == nullptr || !description->is_string()) {
    return InvalidArgument(what + ": needs a description");
  }
  out["description"] = *description;
  if (const json::value* content = in.if_contains("content")) {
    out["content"] = *content;
  } else if (const json::value* schema = in.if_contains("schema")) {
    json::object media{{"schema", *schema}};
    if (const json::value* ex = in.if_contains("example")) media["example"] = *ex;
    if (const json::value* ref = in.if_contains("exampleRef")) {
      if (!ref->is_string()) return InvalidArgument(what + ".exampleRef: not a string");
      const std::string name(ref->as_string());
      media["examples"] =
          json::object{{name, json::object{{"$ref", "#/components/examples/" + name}}}};
    }
    std::string type = "application/json";
    if (const json::value* t = in.if_contains("type")) {
      if (!t->is_string()) return InvalidArgument(what + ".type: not a string");
      type = std::string(t->as_string());
    }
    out["content"] = json::object{{type, std::move(media)}};
  }
  if (const json::value* headers = in.if_contains("headers")) out["headers"] = *headers;
  return out;
}

// One operation: the route's line plus its detail (may be null: the line alone).
Result<json::object> ExpandOperation(const RouteInfo& r, const json::object* detail) {
  const std::string what = Key(r);
  const json::object empty;
  const json::object& d = detail != nullptr ? *detail : empty;
  json::object op;
  op["summary"] = r.summary;
  for (std::string_view field : {"operationId", "tags", "description"}) {
    if (const json::value* v = d.if_contains(field)) op[field] = *v;
  }
  op["x-fastgpu-auth"] = AuthLevelName(r.auth);
  json::array security;
  if (r.auth != AuthLevel::kNone) {
    security.push_back(json::object{{SecuritySchemeFor(r.auth), json::array{}}});
  }
  op["security"] = std::move(security);

  json::array params;
  FASTGPU_ASSIGN_OR_RETURN(const json::object* path_doc, ObjectField(d, "path", what));
  for (const std::string& name : TemplateParams(r.path)) {
    json::object p{{"name", name},
                   {"in", "path"},
                   {"required", true},
                   {"schema", json::object{{"type", "string"}}}};
    if (path_doc != nullptr) {
      FASTGPU_ASSIGN_OR_RETURN(const json::object* one, ObjectField(*path_doc, name, what));
      if (one != nullptr) {
        for (const auto& kv : *one) p[kv.key()] = kv.value();
      }
    }
    params.push_back(std::move(p));
  }
  if (const json::value* query = d.if_contains("query")) {
    if (!query->is_array()) return InvalidArgument(what + ".query: not an array");
    for (const json::value& q : query->as_array()) {
      if (!q.is_object()) return InvalidArgument(what + ".query: an item is not an object");
      json::object p = q.as_object();
      p["in"] = "query";
      if (!p.contains("required")) p["required"] = false;
      params.push_back(std::move(p));
    }
  }
  const bool mutation =
      r.method == "POST" || r.method == "PUT" || r.method == "PATCH" || r.method == "DELETE";
  // "idempotency": false for a route that forwards the request as it is (the proxy).
  const json::value* idem_doc = d.if_contains("idempotency");
  const bool idempotent = mutation &&
                          (r.auth == AuthLevel::kTenant || r.auth == AuthLevel::kAdmin) &&
                          !(idem_doc != nullptr && idem_doc->is_bool() && !idem_doc->as_bool());
  if (idempotent) {
    params.push_back(json::object{{"$ref", "#/components/parameters/IdempotencyKey"}});
  }
  if (!params.empty()) op["parameters"] = std::move(params);

  FASTGPU_ASSIGN_OR_RETURN(const json::object* request, ObjectField(d, "request", what));
  if (request != nullptr) {
    const json::value* schema = request->if_contains("schema");
    if (schema == nullptr) return InvalidArgument(what + ".request: needs a schema");
    json::object media{{"schema", *schema}};
    if (const json::value* ex = request->if_contains("example")) media["example"] = *ex;
    bool required = true;
    if (const json::value* req = request->if_contains("required"); req && req->is_bool()) {
      required = req->as_bool();
    }
    op["requestBody"] = json::object{
        {"required", required}, {"content", json::object{{"application/json", std::move(media)}}}};
  }

  json::object responses;
  FASTGPU_ASSIGN_OR_RETURN(const json::object* answers, ObjectField(d, "responses", what));
  if (answers != nullptr) {
    for (const auto& kv : *answers) {
      if (!kv.value().is_object()) {
        return InvalidArgument(what + ".responses." + std::string(kv.key()) + ": not an object");
      }
      FASTGPU_ASSIGN_OR_RETURN(
          responses[kv.key()],
          ExpandResponse(kv.value().as_object(), what + ".responses." + std::string(kv.key())));
    }
  } else {
    responses["200"] = json::object{{"description", r.summary}};
  }
  // The error answers: the detail's, then those the route's level and kind imply.
  std::map<std::string, json::object> errors;
  FASTGPU_ASSIGN_OR_RETURN(const json::object* error_doc, ObjectField(d, "errors", what));
  if (error_doc != nullptr) {
    for (const auto& kv : *error_doc) {
      if (!kv.value().is_string()) {
        return InvalidArgument(what + ".errors." + std::string(kv.key()) + ": not a string");
      }
      errors[std::string(kv.key())] = ErrorAnswer(kv.value().as_string());
    }
  }
  if (r.auth != AuthLevel::kNone) {
    errors.try_emplace("401", ErrorAnswer(UnauthenticatedWhen(r.auth)));
  }
  if (std::string_view when = ForbiddenWhen(r.auth); !when.empty()) {
    errors.try_emplace("403", ErrorAnswer(when));
  }
  if (idempotent) {
    errors.try_emplace("422", ErrorAnswer("an Idempotency-Key reused for another request"));
  }
  if (mutation) {
    errors.try_emplace("503", json::object{{"$ref", "#/components/responses/Unavailable"}});
  }
  // Any request may be refused before routing: a malformed request (400), a body over the
  // server's cap (413, said where the route takes a body).
  errors.try_emplace("400", json::object{{"$ref", "#/components/responses/BadRequest"}});
  if (request != nullptr) {
    errors.try_emplace("413", json::object{{"$ref", "#/components/responses/TooLarge"}});
  }
  errors.try_emplace("500", json::object{{"$ref", "#/components/responses/Internal"}});
  for (auto& [status, response] : errors) responses[status] = std::move(response);
  op["responses"] = std::move(responses);
  return op;
}

json::object SecuritySchemes() {
  auto bearer = [](std::string_view description) {
    return json::object{{"type", "http"}, {"scheme", "bearer"}, {"description", description}};
  };
  return {
      {"joinToken", bearer("The join token (<data-dir>/join.token): registers nodes only.")},
      {"nodeToken", bearer("The node token a registration answers: heartbeats and logs of "
                           "that node only.")},
      {"tenantToken", bearer("Any tenant's API token (fastgpu token create), the admin's too; "
                             "a tenant sees only its own jobs and allocations.")},
      {"adminToken", bearer("The admin tenant's token (<data-dir>/admin.token at first start).")},
  };
}

json::array Tags() {
  auto tag = [](std::string_view name, std::string_view description) {
    return json::object{{"name", name}, {"description", description}};
  };
  return {
      tag("service", "The server itself: health, metrics, its routes and this document."),
      tag("agent",
          "The agent protocol (docs/agent-protocol.md): node agents register, "
          "heartbeat and ship their replicas' output."),
      tag("jobs", "Submit, list, read, cancel jobs and read their logs."),
      tag("allocations", "Where a job's replicas run."),
      tag("services",
          "Long-running replicas kept at a count, replaced, rolled and scaled "
          "(docs/services.md)."),
      tag("nodes", "The pool's nodes (admin)."),
      tag("metering", "Prices, usage and cost (docs/metering.md)."),
      tag("tenants", "Tenants, their quotas and settings, and their API tokens."),
  };
}

constexpr std::string_view kDescription =
    "The control plane of FastGPU, a GPU pooling system: users submit jobs, node agents run "
    "them, the admin manages tenants, nodes and prices. Every /v1 call carries "
    "`Authorization: Bearer <token>`; each operation names the token it needs (security, and "
    "`x-fastgpu-auth`: none, join, node, tenant or admin). Errors are "
    "`{\"code\",\"message\"}` with the HTTP status of the code. Mutations accept an "
    "`Idempotency-Key`. Names and ids are interchangeable where a path or query names a job, "
    "a node or a tenant. Times are Unix milliseconds. See docs/api.md.";

}  // namespace

std::string_view SecuritySchemeFor(AuthLevel level) {
  switch (level) {
    case AuthLevel::kNone:
      return "";
    case AuthLevel::kJoin:
      return "joinToken";
    case AuthLevel::kNode:
      return "nodeToken";
    case AuthLevel::kTenant:
      return "tenantToken";
    case AuthLevel::kAdmin:
      return "adminToken";
  }
  return "";
}

Result<json::value> BuildOpenApiDocument(const std::vector<RouteInfo>& routes) {
  std::map<std::string, std::string_view, std::less<>> details;
  for (const OperationDoc& d : OpenApiOperations()) details.emplace(std::string(d.key), d.detail);

  json::object paths;
  for (const RouteInfo& r : routes) {
    std::optional<json::object> detail;
    if (auto it = details.find(Key(r)); it != details.end()) {
      FASTGPU_ASSIGN_OR_RETURN(detail, ParseText(it->second, Key(r)));
    }
    FASTGPU_ASSIGN_OR_RETURN(json::object op, ExpandOperation(r, detail ? &*detail : nullptr));
    json::value& item = paths[OpenApiPath(r.path)];
    if (!item.is_object()) item = json::object{};
    item.as_object()[Lower(r.method)] = std::move(op);
  }

  FASTGPU_ASSIGN_OR_RETURN(json::object schemas,
                           ParseText(OpenApiSchemasJson(), "components/schemas"));
  FASTGPU_ASSIGN_OR_RETURN(json::object examples,
                           ParseText(OpenApiExamplesJson(), "components/examples"));
  json::object components{
      {"schemas", std::move(schemas)},
      {"examples", std::move(examples)},
      {"securitySchemes", SecuritySchemes()},
      {"parameters",
       json::object{
           {"IdempotencyKey",
            json::object{
                {"name", "Idempotency-Key"},
                {"in", "header"},
                {"required", false},
                {"description",
                 "A client-chosen id (at most 200 characters): a retry with the same key gets "
                 "the first answer and changes nothing; the same key with another request is "
                 "422. Kept 24 hours (a job submission's as long as the job)."},
                {"schema", json::object{{"type", "string"}, {"maxLength", 200}}}}}}},
      {"responses",
       json::object{
           {"BadRequest", ErrorAnswer("a malformed HTTP request or request target")},
           {"TooLarge", ErrorAnswer("the body is over the server's cap (--max-body-bytes, 1 MiB by "
                                    "default; RESOURCE_EXHAUSTED)")},
           {"Internal", ErrorAnswer("the store failed, or the handler did (INTERNAL)")},
           {"Unavailable",
            ErrorAnswer("the control plane cannot write its store (disk full); retry later")},
       }},
  };

  return json::value(json::object{
      {"openapi", "3.1.0"},
      {"info", json::object{{"title", "FastGPU control plane API"},
                            {"version", Version()},
                            {"description", kDescription}}},
      {"servers",
       json::array{json::object{
           {"url", "http://127.0.0.1:8080"},
           {"description", "fastgpu server's default --listen (HTTPS when it uses TLS)"}}}},
      {"tags", Tags()},
      {"paths", std::move(paths)},
      {"components", std::move(components)},
  });
}

std::vector<std::string> OpenApiDrift(const std::vector<RouteInfo>& routes) {
  std::vector<std::string> out;
  std::map<std::string, std::string_view, std::less<>> details;
  for (const OperationDoc& d : OpenApiOperations()) {
    if (!details.emplace(std::string(d.key), d.detail).second) {
      out.push_back(std::string(d.key) + ": two detail entries");
    }
  }
  std::set<std::string, std::less<>> served;
  for (const RouteInfo& r : routes) {
    const std::string key = Key(r);
    served.insert(key);
    auto it = details.find(key);
    if (it == details.end()) {
      out.push_back(key + ": no detail entry (add one to openapi_operations.cpp)");
      continue;
    }
    Result<json::object> detail = ParseText(it->second, key);
    if (!detail.ok()) {
      out.push_back(detail.status().message());
      continue;
    }
    std::set<std::string> described;
    if (const json::value* p = detail->if_contains("path"); p && p->is_object()) {
      for (const auto& kv : p->as_object()) described.insert(std::string(kv.key()));
    }
    for (const std::string& name : TemplateParams(r.path)) {
      if (described.erase(name) == 0) {
        out.push_back(key + ": the path parameter {" + name + "} is not described");
      }
    }
    for (const std::string& name : described) {
      out.push_back(key + ": describes a path parameter {" + name + "} the route lacks");
    }
  }
  for (const auto& [key, text] : details) {
    if (!served.contains(key)) {
      out.push_back(key + ": a detail entry for a route the server lacks");
    }
  }
  return out;
}

// GET /openapi.json: built once from the route table (it is static data).
Result<Reply> Api::OpenApiJson(const Call&) {
  static const Result<std::string> kDocument = []() -> Result<std::string> {
    FASTGPU_ASSIGN_OR_RETURN(json::value doc, BuildOpenApiDocument(Routes()));
    return json::serialize(doc);
  }();
  if (!kDocument.ok()) return Internal("the OpenAPI document: " + kDocument.status().message());
  return Reply::Text("application/json", *kDocument);
}

std::string OpenApiPath(std::string_view path) {
  std::string out(path);
  if (size_t dots = out.find("...}"); dots != std::string::npos) out.erase(dots, 3);
  return out;
}

}  // namespace fastgpu::server

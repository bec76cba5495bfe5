// The pieces of the API's one route table (api_routes.cpp): what a route is (method, path
// template, who may call it, a one-line summary), the call a handler is given and the reply
// it answers with.
//
// A handler returns Result<Reply>. An error is its Status: the HTTP status follows from the
// code alone (HttpStatusFor in common/status.h) and the body is {"code","message"}. A
// success is a Reply, whose factory names its status (Ok 200, Created 201, ...); a handler
// never writes a number. Everything here is a value type, safe to share once built.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "server/auth.h"
#include "server/http_server.h"
#include "server/json_codec.h"

namespace fastgpu::server {

// Who may call a route, from nobody in particular to the admin. Checked before the handler
// runs (Api::Authorize); a missing or unknown token is 401, a known one below the level 403.
enum class AuthLevel {
  kNone,    // anyone, no token ("/", "/healthz", "/metrics")
  kJoin,    // the join token (node registration); a tenant's token is 403
  kNode,    // the node token of the node named by {id}; any other token is 401 (a node
            // knows only its own), an unknown node 404 (its agent registers again)
  kTenant,  // any tenant's API token (the admin's too); the join token is 403
  kAdmin,   // the admin tenant's token; another tenant's is 403
};

// "none", "join", "node", "tenant", "admin".
std::string_view AuthLevelName(AuthLevel level);

// One route as the API describes it (docs/api.md, later an OpenAPI document).
struct RouteInfo {
  std::string_view method;  // "GET", "POST", "PUT"
  std::string_view path;    // template: literal segments and "{name}" ones, "/v1/jobs/{id}"
  AuthLevel auth = AuthLevel::kTenant;
  std::string_view summary;  // one line
};

// Whether `path` fits the template `pattern` segment by segment (empty segments are
// ignored, so "/v1/jobs/" fits "/v1/jobs"); fills `params` with each "{name}" segment as
// sent (not percent-decoded). A last segment "{name...}" takes the rest of the path, zero
// or more segments, as sent from the '/' that ends the segments before it ("/" when nothing
// follows; a trailing '/' kept). Returns the count of literal segments matched (a literal
// beats a "{name}": "/v1/nodes/register" over "/v1/nodes/{id}"), or nullopt.
std::optional<int> MatchPathTemplate(std::string_view pattern, std::string_view path,
                                     std::map<std::string, std::string, std::less<>>* params);

// What a handler gets: the request, the caller its route's level authenticated (a tenant
// for kTenant and kAdmin; an empty Principal otherwise) and the path's parameters.
struct Call {
  const HttpRequest& req;
  Principal who;
  std::map<std::string, std::string, std::less<>> params;

  // The "{name}" segment of the path as sent; "" when the template has none of that name.
  const std::string& Param(std::string_view name) const;
};

// The success statuses a JSON reply may have.
enum class SuccessStatus { kOk = 200, kCreated = 201, kAccepted = 202 };

// A handler's answer when it did not fail. Movable; built only by its factories.
class Reply {
 public:
  // JSON `body` with the given status (default 200).
  static Reply Json(const json::value& body, SuccessStatus status = SuccessStatus::kOk);
  static Reply Created(const json::value& body) { return Json(body, SuccessStatus::kCreated); }
  // 200 with `body` as it is, of `content_type` ("text/plain; charset=utf-8", "text/csv").
  static Reply Text(std::string content_type, std::string body);
  // 200 with `body` as it is, of `content_type`, and the extra `headers` (a static file
  // with its caching headers: the dashboard's).
  static Reply File(std::string content_type, std::string body,
                    std::vector<std::pair<std::string, std::string>> headers);
  // 304 Not Modified, no body, with the file's `content_type` and `headers` (a conditional
  // GET whose ETag matched).
  static Reply NotModified(std::string content_type,
                           std::vector<std::pair<std::string, std::string>> headers);
  // 200, streamed chunked (http_server.h): `stream` runs once on a worker thread and sends
  // the body piece by piece. `headers` are sent with the status line.
  static Reply Stream(std::string content_type,
                      std::vector<std::pair<std::string, std::string>> headers,
                      std::function<void(const StreamWriter&)> stream);
  // The upgrade of a WebSocket request: `handler` gets the open connection
  // (http_server.h). Only for a request that asked for the upgrade.
  static Reply WebSocket(WebSocketHandler handler);
  // An answer stored by a mutation under its Idempotency-Key, replayed as it was first
  // given (its status, JSON body).
  static Reply Replayed(int http_status, std::string body);
  // A service replica's answer as the proxy got it (service_proxy.h): its status (any),
  // content type ("" when it gave none) and headers, passed on unchanged.
  static Reply Forwarded(int http_status, std::string content_type, std::string body,
                         std::vector<std::pair<std::string, std::string>> headers);
  // 422 (Unprocessable Content) with the error body of `why` (its code unchanged): the
  // request is well formed but can never succeed as sent, whatever the state it meets (an
  // Idempotency-Key reused for another request; a job no node of the pool could hold).
  // The handler chooses it where it knows the reason, never from a message's text.
  static Reply Unprocessable(const Status& why);

  int http_status() const { return resp_.status; }
  // 2xx: the request did what it asked (a replay too).
  bool succeeded() const { return resp_.status >= 200 && resp_.status < 300; }
  const std::string& body() const { return resp_.body; }
  // The response to send; the Reply is spent.
  HttpResponse ToHttp() && { return std::move(resp_); }

 private:
  explicit Reply(HttpResponse resp) : resp_(std::move(resp)) {}
  HttpResponse resp_;
};

// The error answer of a Status: HttpStatusFor(code) and {"code","message"}.
HttpResponse ErrorResponse(const Status& status);

}  // namespace fastgpu::server

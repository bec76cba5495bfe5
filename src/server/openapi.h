// The OpenAPI 3.1 description of the whole API (user, admin and node routes), served at
// GET /openapi.json without a token.
//
// The document is generated from the route table (Api::Routes(): method, path template,
// auth level, summary) and one detail table keyed by "METHOD path" (openapi_operations.cpp:
// parameters, bodies, answers, examples, as JSON text) over shared components/schemas
// (openapi_schemas.cpp). A route's auth level becomes its security requirement (one bearer
// scheme per level), an `x-fastgpu-auth` extension naming the level, and its 401/403
// answers. OpenApiDrift names every route without a detail entry and every entry that names
// no route, so a test keeps the table and the document together.
//
// Everything here is pure and thread-safe; the tables are static data.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "server/api_route.h"

namespace fastgpu::server {

// The detail of one operation: `key` is "METHOD path" as in the route table, `detail` the
// JSON text described at the top of openapi_operations.cpp.
struct OperationDoc {
  std::string_view key;
  std::string_view detail;
};

// The detail table, one entry per route (openapi_operations.cpp).
const std::vector<OperationDoc>& OpenApiOperations();
// components/schemas and components/examples, each one JSON object as text.
std::string_view OpenApiSchemasJson();
std::string_view OpenApiExamplesJson();

// The ids the document's examples give the objects a live server makes (ids are random in
// production); a test that replays the examples against a server maps each to the id of the
// object it made (openapi_test.cpp).
struct OpenApiExampleIds {
  static constexpr std::string_view kTenant = "tenant-7c1e4a90d2b35f68";     // tenant "team-a"
  static constexpr std::string_view kToken = "tok-1a2b3c4d5e6f7081";         // a token of team-a
  static constexpr std::string_view kNode = "node-5f1c2d3e4a5b6c7d";         // node "gpu-node-1"
  static constexpr std::string_view kJob = "job-3f2a9c0d11e4b7a2";           // job "train"
  static constexpr std::string_view kAllocation = "alloc-9b8a7c6d5e4f3021";  // its replica 0
  static constexpr std::string_view kDashboardScript = "app-EXAMPLE.js";     // the bundle
};

// The OpenAPI 3.1 document of `routes` (Api::Routes() in production), in their order. A
// route without a detail entry is still described by its table line alone; an entry that
// names no route is left out (OpenApiDrift reports both). InvalidArgument naming the entry
// when a detail's JSON text does not parse or does not have the short form's shape.
Result<boost::json::value> BuildOpenApiDocument(const std::vector<RouteInfo>& routes);

// How the detail table and `routes` disagree, one sentence each: "GET /v1/x: no detail
// entry", "GET /v1/y: a detail entry for a route the server lacks", an entry given twice, a
// path parameter of the template the entry does not describe (or one it describes that
// the template lacks). Empty when they agree.
std::vector<std::string> OpenApiDrift(const std::vector<RouteInfo>& routes);

// "tenantToken" etc.: the security scheme of a level; "" for AuthLevel::kNone.
std::string_view SecuritySchemeFor(AuthLevel level);

// A route's template as the document's "paths" key: a tail "{name...}" becomes "{name}"
// (OpenAPI has no parameter of several segments; its description says it takes the rest).
std::string OpenApiPath(std::string_view path);

}  // namespace fastgpu::server

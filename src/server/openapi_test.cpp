// The OpenAPI document (openapi.h) against the route table and the live server: every
// route is in the document with a detail entry and no entry names a route the server lacks;
// every $ref resolves and every example fits its schema; and each operation's request
// example, sent to a real control plane on 127.0.0.1 port 0, is answered with the
// documented status and a body that validates against the documented schema. The schema
// validator (json_schema_test_util.h) is tested here too.
#include "server/openapi.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <set>

#include "server/api.h"
#include "server/dashboard_assets.h"
#include "server/json_schema_test_util.h"
#include "server/server_test_util.h"

namespace fastgpu::server::testing {
namespace {

json::value Document() {
  Result<json::value> doc = BuildOpenApiDocument(Api::Routes());
  EXPECT_TRUE(doc.ok()) << doc.status();
  return doc.ok() ? *doc : json::value();
}

std::string Key(const RouteInfo& r) { return std::string(r.method) + " " + std::string(r.path); }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const json::object* Operation(const json::value& doc, const RouteInfo& r) {
  const json::value* path = doc.at("paths").as_object().if_contains(OpenApiPath(r.path));
  if (path == nullptr || !path->is_object()) return nullptr;
  const json::value* op = path->as_object().if_contains(Lower(r.method));
  return op != nullptr && op->is_object() ? &op->as_object() : nullptr;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += "\n  " + l;
  return out;
}

// Every {"$ref": ...} anywhere in `v`.
void CollectRefs(const json::value& v, std::vector<std::string>& out) {
  if (v.is_object()) {
    for (const auto& kv : v.as_object()) {
      if (kv.key() == "$ref" && kv.value().is_string()) out.emplace_back(kv.value().as_string());
      CollectRefs(kv.value(), out);
    }
  } else if (v.is_array()) {
    for (const json::value& e : v.as_array()) CollectRefs(e, out);
  }
}

// ---- the document and the route table ----

TEST(OpenApiTest, TheDocumentIsOpenApi31AndValidJson) {
  json::value doc = Document();
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc.at("openapi"), "3.1.0");
  // Its text parses back to the same document.
  boost::system::error_code ec;
  json::value again = json::parse(json::serialize(doc), ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(again, doc);
}

TEST(OpenApiTest, EveryRouteIsInTheDocumentWithItsAuthLevel) {
  json::value doc = Document();
  ASSERT_TRUE(doc.is_object());
  size_t operations = 0;
  for (const auto& path : doc.at("paths").as_object())
    operations += path.value().as_object().size();
  EXPECT_EQ(operations, Api::Routes().size()) << "an operation the route table lacks";
  std::set<std::string> ids;
  for (const RouteInfo& r : Api::Routes()) {
    SCOPED_TRACE(Key(r));
    const json::object* op = Operation(doc, r);
    ASSERT_NE(op, nullptr) << "missing from the document";
    EXPECT_EQ(op->at("summary"), json::value(std::string(r.summary)));
    EXPECT_EQ(op->at("x-fastgpu-auth"), json::value(std::string(AuthLevelName(r.auth))));
    const json::array& security = op->at("security").as_array();
    const json::object& responses = op->at("responses").as_object();
    if (r.auth == AuthLevel::kNone) {
      EXPECT_TRUE(security.empty());
      EXPECT_FALSE(responses.contains("401"));
    } else {
      ASSERT_EQ(security.size(), 1u);
      EXPECT_TRUE(security[0].as_object().contains(SecuritySchemeFor(r.auth)));
      EXPECT_TRUE(responses.contains("401"));
    }
    EXPECT_EQ(responses.contains("403"), r.auth == AuthLevel::kJoin ||
                                             r.auth == AuthLevel::kTenant ||
                                             r.auth == AuthLevel::kAdmin);
    ASSERT_TRUE(op->contains("operationId"));
    EXPECT_TRUE(ids.insert(std::string(op->at("operationId").as_string())).second)
        << "operationId used twice";
  }
}

TEST(OpenApiTest, EveryRouteHasADetailEntryAndEveryEntryARoute) {
  EXPECT_EQ(Join(OpenApiDrift(Api::Routes())), "");
}

// The drift check itself: a route the detail table lacks, and an entry for a route the
// server lacks, are both named.
TEST(OpenApiTest, DriftIsNamed) {
  std::vector<RouteInfo> routes = Api::Routes();
  routes.push_back({"GET", "/v1/widgets", AuthLevel::kTenant, "made up"});
  std::vector<std::string> drift = OpenApiDrift(routes);
  ASSERT_EQ(drift.size(), 1u) << Join(drift);
  EXPECT_EQ(drift[0], "GET /v1/widgets: no detail entry (add one to openapi_operations.cpp)");

  routes = Api::Routes();
  std::erase_if(routes, [](const RouteInfo& r) { return Key(r) == "GET /v1/jobs"; });
  drift = OpenApiDrift(routes);
  ASSERT_EQ(drift.size(), 1u) << Join(drift);
  EXPECT_EQ(drift[0], "GET /v1/jobs: a detail entry for a route the server lacks");

  routes = Api::Routes();
  for (RouteInfo& r : routes) {
    if (Key(r) == "GET /v1/jobs/{id}") r.path = "/v1/jobs/{job}";
  }
  drift = OpenApiDrift(routes);
  EXPECT_EQ(Join(drift),
            "\n  GET /v1/jobs/{job}: no detail entry (add one to openapi_operations.cpp)"
            "\n  GET /v1/jobs/{id}: a detail entry for a route the server lacks");
}

// Every operation answers a 2XX on success, but for the WebSocket routes, whose success is
// 101 Switching Protocols (the linter's operation-2xx-response rule is off for them).
TEST(OpenApiTest, EveryOperationHasASuccessAnswer) {
  json::value doc = Document();
  ASSERT_TRUE(doc.is_object());
  for (const auto& path : doc.at("paths").as_object()) {
    for (const auto& op : path.value().as_object()) {
      if (!op.value().is_object() || !op.value().as_object().contains("responses")) continue;
      bool success = false;
      for (const auto& resp : op.value().at("responses").as_object()) {
        const std::string status(resp.key());
        success = success || status.starts_with("2") || status == "101";
      }
      EXPECT_TRUE(success) << op.key() << " " << path.key();
    }
  }
}

TEST(OpenApiTest, EveryRefResolves) {
  json::value doc = Document();
  ASSERT_TRUE(doc.is_object());
  std::vector<std::string> refs;
  CollectRefs(doc, refs);
  EXPECT_GT(refs.size(), 50u);
  for (const std::string& ref : refs) EXPECT_NE(ResolveRef(doc, ref), nullptr) << ref;
}

// Every example of a request or response body fits its schema (the live test below then
// checks the server's own answers).
TEST(OpenApiTest, EveryExampleFitsItsSchema) {
  json::value doc = Document();
  ASSERT_TRUE(doc.is_object());
  int checked = 0;
  auto check_media = [&](const json::object& media, const std::string& where) {
    const json::value& schema = media.at("schema");
    if (const json::value* ex = media.if_contains("example")) {
      EXPECT_EQ(Join(CheckJsonSchema(*ex, schema, doc)), "") << where;
      ++checked;
    }
    if (const json::value* exs = media.if_contains("examples")) {
      for (const auto& kv : exs->as_object()) {
        const json::value* ex = &kv.value();
        if (const json::value* ref = ex->as_object().if_contains("$ref")) {
          ex = ResolveRef(doc, ref->as_string());
          ASSERT_NE(ex, nullptr) << where;
        }
        EXPECT_EQ(Join(CheckJsonSchema(ex->at("value"), schema, doc)), "")
            << where << " " << kv.key();
        ++checked;
      }
    }
  };
  for (const auto& path : doc.at("paths").as_object()) {
    for (const auto& method : path.value().as_object()) {
      const std::string where = std::string(method.key()) + " " + std::string(path.key());
      const json::object& op = method.value().as_object();
      if (const json::value* body = op.if_contains("requestBody")) {
        for (const auto& m : body->at("content").as_object()) {
          check_media(m.value().as_object(), where + " request");
        }
      }
      for (const auto& resp : op.at("responses").as_object()) {
        const json::value* content = resp.value().as_object().if_contains("content");
        if (content == nullptr) continue;
        for (const auto& m : content->as_object()) {
          check_media(m.value().as_object(), where + " " + std::string(resp.key()));
        }
      }
      if (const json::value* params = op.if_contains("parameters")) {
        for (const json::value& p : params->as_array()) {
          const json::object& o = p.as_object();
          if (!o.contains("example")) continue;
          EXPECT_EQ(Join(CheckJsonSchema(o.at("example"), o.at("schema"), doc)), "")
              << where << " parameter " << o.at("name");
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 40);
}

TEST(OpenApiTest, ServedAtOpenApiJsonWithoutAToken) {
  TestControlPlane cp;
  net::HttpClientOptions opts;
  auto client = net::HttpClient::Create(cp.url(), opts);
  ASSERT_TRUE(client.ok()) << client.status();
  auto res = (*client)->Do("GET", "/openapi.json", "");
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->Header("content-type"), "application/json");
  boost::system::error_code ec;
  json::value served = json::parse(res->body, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(served == Document()) << "/openapi.json differs from BuildOpenApiDocument";
}

// ---- the validator ----

const json::value kRoot = json::parse(R"({
  "components": {"schemas": {
    "Item": {"type": "object", "properties": {"n": {"type": "integer", "minimum": 0}},
             "required": ["n"], "additionalProperties": false},
    "List": {"type": "object", "properties": {
      "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
      "state": {"type": "string", "enum": ["a", "b"]},
      "tags": {"type": "object", "additionalProperties": {"type": "string"}},
      "amount": {"type": ["string", "number"]},
      "name": {"type": "string", "maxLength": 3}},
      "required": ["items"], "additionalProperties": false}}}
})");
const json::value kList = json::parse(R"({"$ref": "#/components/schemas/List"})");

std::vector<std::string> CheckList(std::string_view text) {
  return CheckJsonSchema(json::parse(text), kList, kRoot);
}

TEST(JsonSchemaCheckTest, AcceptsWhatFits) {
  EXPECT_EQ(Join(CheckList(R"({"items": [{"n": 1}, {"n": 2.0}], "state": "a",
                               "tags": {"x": "y"}, "amount": "2.49", "name": "abc"})")),
            "");
  EXPECT_EQ(Join(CheckList(R"({"items": [], "amount": 3.5})")), "");
}

TEST(JsonSchemaCheckTest, RefusesWhatDoesNot) {
  EXPECT_EQ(Join(CheckList(R"({})")), "\n  $: misses the required field \"items\"");
  EXPECT_EQ(Join(CheckList(R"({"items": {}})")), "\n  $.items: {} is not of type \"array\"");
  EXPECT_EQ(Join(CheckList(R"({"items": [{"n": 1.5}]})")),
            "\n  $.items[0].n: 1.5E0 is not of type \"integer\"");
  EXPECT_EQ(Join(CheckList(R"({"items": [{"n": -1}]})")), "\n  $.items[0].n: -1 is below 0");
  EXPECT_EQ(Join(CheckList(R"({"items": [{"n": 1, "m": 2}]})")),
            "\n  $.items[0].m: is not a documented field");
  EXPECT_EQ(Join(CheckList(R"({"items": [{}]})")),
            "\n  $.items[0]: misses the required field \"n\"");
  EXPECT_EQ(Join(CheckList(R"({"items": [], "state": "c"})")),
            "\n  $.state: \"c\" is not one of [\"a\",\"b\"]");
  EXPECT_EQ(Join(CheckList(R"({"items": [], "tags": {"x": 1}})")),
            "\n  $.tags.x: 1 is not of type \"string\"");
  EXPECT_EQ(Join(CheckList(R"({"items": [], "amount": true})")),
            "\n  $.amount: true is not of type [\"string\",\"number\"]");
  EXPECT_EQ(Join(CheckList(R"({"items": [], "name": "abcd"})")), "\n  $.name: is longer than 3");
}

TEST(JsonSchemaCheckTest, RefusesWhatItCannotCheck) {
  EXPECT_EQ(Join(CheckJsonSchema(json::parse("1"), json::parse(R"({"oneOf": []})"), kRoot)),
            "\n  $: unsupported schema keyword \"oneOf\"");
  EXPECT_EQ(Join(CheckJsonSchema(json::parse("1"), json::parse(R"({"$ref": "#/nope"})"), kRoot)),
            "\n  $: unresolved $ref \"#/nope\"");
}

// ---- the examples against a live control plane ----

// A control plane with what the examples name: tenant "team-a" with a token, node
// "gpu-node-1" (2 simulated GPUs), team-a's job "train" running on it with 18 bytes
// of log, and team-a's service "chat" (one replica, placed). The document's example ids map to these objects' real ids.
// The name of the dashboard's embedded script (its name carries a hash of its content).
std::string DashboardScript() {
  for (const DashboardAsset& a : DashboardAssets()) {
    if (a.name.ends_with(".js")) return std::string(a.name);
  }
  return "";
}

struct ExampleWorld {
  TestControlPlane cp;
  std::unique_ptr<SimAgent> agent;
  std::string tenant_token;
  std::map<std::string, std::string> ids;  // example id -> real id

  ExampleWorld() {
    Reply t = cp.Do("POST", "/v1/tenants", cp.admin(), R"({"name":"team-a"})");
    EXPECT_EQ(t.status, 201) << t.raw;
    Reply tok = cp.Do("POST", "/v1/tenants/team-a/tokens", cp.admin(), R"({"name":"main"})");
    EXPECT_EQ(tok.status, 201) << tok.raw;
    tenant_token = tok.Str("token");
    agent = std::make_unique<SimAgent>(cp, "gpu-node-1", 2);
    Reply job = cp.Do("POST", "/v1/jobs", tenant_token,
                      R"({"name":"train","command":["python","train.py"],
                          "shape":{"gpu_count":1,"gpu_milli":500}})");
    EXPECT_EQ(job.status, 201) << job.raw;
    cp.Reconcile();
    std::vector<std::string> allocs = agent->Allocations(agent->Heartbeat());
    EXPECT_EQ(allocs.size(), 1u);
    const std::string alloc = allocs.empty() ? "" : allocs[0];
    agent->Heartbeat(json::array{ReplicaReportJson(alloc, "running")});
    cp.Reconcile();
    Reply log =
        cp.Do("POST", "/v1/nodes/" + agent->node_id() + "/logs", agent->token(),
              json::serialize(json::object{
                  {"allocation_id", alloc}, {"offset", 0}, {"data", "epoch 1 loss 0.42\n"}}));
    EXPECT_EQ(log.status, 200) << log.raw;
    Reply svc = cp.Do("POST", "/v1/services", tenant_token,
                      R"({"name":"chat","command":["python","serve.py"],
                          "shape":{"gpu_count":1,"gpu_milli":250}})");
    EXPECT_EQ(svc.status, 201) << svc.raw;
    cp.Reconcile();
    ids = {{std::string(OpenApiExampleIds::kTenant), t.Str("id")},
           {std::string(OpenApiExampleIds::kToken), tok.Str("id")},
           {std::string(OpenApiExampleIds::kNode), agent->node_id()},
           {std::string(OpenApiExampleIds::kJob), job.Str("id")},
           {std::string(OpenApiExampleIds::kAllocation), alloc},
           {std::string(OpenApiExampleIds::kDashboardScript), DashboardScript()}};
  }

  std::string Real(std::string text) const {
    for (const auto& [example, real] : ids) {
      for (size_t at = text.find(example); at != std::string::npos;
           at = text.find(example, at + real.size())) {
        text.replace(at, example.size(), real);
      }
    }
    return text;
  }

  std::string TokenFor(AuthLevel level) {
    switch (level) {
      case AuthLevel::kNone:
        return "";
      case AuthLevel::kJoin:
        return cp.server().join_token();
      case AuthLevel::kNode:
        return agent->token();
      case AuthLevel::kTenant:
        return tenant_token;
      case AuthLevel::kAdmin:
        return cp.admin();
    }
    return "";
  }
};

std::string QueryText(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  return json::serialize(v);  // numbers and booleans as JSON writes them
}

// The status an operation's example is answered with: the one whose response carries an
// example (at most one per operation), else its first success status.
std::string ExampleStatus(const json::object& op) {
  std::optional<std::string> found, success;
  for (const auto& resp : op.at("responses").as_object()) {
    if (!success && resp.key().starts_with("2")) success = std::string(resp.key());
    const json::value* content = resp.value().as_object().if_contains("content");
    if (content == nullptr) continue;
    for (const auto& m : content->as_object()) {
      if (m.value().as_object().contains("example") || m.value().as_object().contains("examples")) {
        EXPECT_FALSE(found && *found != resp.key()) << "examples under two statuses";
        found = std::string(resp.key());
      }
    }
  }
  EXPECT_TRUE(found || success) << "no success answer";
  return found ? *found : success.value_or("");
}

net::HttpResponse Send(const std::string& url, const std::string& method, const std::string& target,
                       const std::string& body, const std::string& token) {
  net::HttpClientOptions opts;
  opts.bearer_token = token;
  auto client = net::HttpClient::Create(url, opts);
  EXPECT_TRUE(client.ok()) << client.status();
  if (!client.ok()) return {};
  auto res = (*client)->Do(method, target, body);
  EXPECT_TRUE(res.ok()) << res.status();
  return res.ok() ? *std::move(res) : net::HttpResponse{};
}

// The answer `res` of operation `op` has a documented status and content type, and its
// body validates against the schema documented for them.
void ExpectDocumented(const json::value& doc, const json::object& op,
                      const net::HttpResponse& res) {
  SCOPED_TRACE("answered " + std::to_string(res.status) + " " + res.body);
  const json::value* response =
      op.at("responses").as_object().if_contains(std::to_string(res.status));
  ASSERT_NE(response, nullptr) << "an undocumented status";
  if (const json::value* ref = response->as_object().if_contains("$ref")) {
    response = ResolveRef(doc, ref->as_string());
    ASSERT_NE(response, nullptr);
  }
  std::string type = res.Header("content-type");
  type = type.substr(0, type.find(';'));
  const json::value* content = response->as_object().if_contains("content");
  ASSERT_NE(content, nullptr) << "no documented body";
  const json::value* media = content->as_object().if_contains(type);
  ASSERT_NE(media, nullptr) << "an undocumented content type " << type;
  json::value answer;
  if (type == "application/json") {
    boost::system::error_code ec;
    answer = json::parse(res.body, ec);
    ASSERT_FALSE(ec) << "not JSON";
  } else {
    answer = json::string(res.body);
  }
  EXPECT_EQ(Join(CheckJsonSchema(answer, media->at("schema"), doc)), "");
}

// Every operation, sent as its examples say to a control plane holding what they name,
// answers the documented status with a body of the documented schema; and without a token
// (or with one below its level) answers the documented 401 (or 403) with the Error body.
TEST(OpenApiExamplesTest, EveryExampleIsAnsweredAsDocumented) {
  json::value doc = Document();
  ASSERT_TRUE(doc.is_object());
  size_t sent = 0;
  for (const RouteInfo& r : Api::Routes()) {
    SCOPED_TRACE(Key(r));
    const json::object* op = Operation(doc, r);
    ASSERT_NE(op, nullptr);
    const std::string status = ExampleStatus(*op);

    ExampleWorld world;
    // The path and query from the parameters' examples.
    std::string path = OpenApiPath(r.path), query;
    if (const json::value* params = op->if_contains("parameters")) {
      for (const json::value& p : params->as_array()) {
        const json::object& o = p.as_object();
        if (!o.contains("in")) continue;  // a $ref: the Idempotency-Key header
        const std::string name(o.at("name").as_string());
        if (o.at("in") == "path") {
          ASSERT_TRUE(o.contains("example")) << "{" << name << "} has no example";
          path.replace(path.find("{" + name + "}"), name.size() + 2, QueryText(o.at("example")));
        } else if (o.at("in") == "query" && o.contains("example")) {
          query += (query.empty() ? "?" : "&") + name + "=" + QueryText(o.at("example"));
        }
      }
    }
    std::string body;
    if (const json::value* rb = op->if_contains("requestBody")) {
      const json::object& media = rb->at("content").at("application/json").as_object();
      ASSERT_TRUE(media.contains("example")) << "a request body without an example";
      body = json::serialize(media.at("example"));
    }
    const std::string target = world.Real(path + query);
    body = world.Real(body);
    SCOPED_TRACE(std::string(r.method) + " " + target + " " + body);

    // Refusals first: they change nothing.
    if (r.auth != AuthLevel::kNone) {
      net::HttpResponse res = Send(world.cp.url(), std::string(r.method), target, body, "");
      EXPECT_EQ(res.status, 401);
      ExpectDocumented(doc, *op, res);
    }
    std::string lesser;  // a known token below the route's level (403)
    if (r.auth == AuthLevel::kJoin || r.auth == AuthLevel::kAdmin) lesser = world.tenant_token;
    if (r.auth == AuthLevel::kTenant) lesser = world.TokenFor(AuthLevel::kJoin);
    if (!lesser.empty()) {
      net::HttpResponse res = Send(world.cp.url(), std::string(r.method), target, body, lesser);
      EXPECT_EQ(res.status, 403);
      ExpectDocumented(doc, *op, res);
    }

    net::HttpResponse res =
        Send(world.cp.url(), std::string(r.method), target, body, world.TokenFor(r.auth));
    ++sent;
    EXPECT_EQ(std::to_string(res.status), status) << res.body;
    ExpectDocumented(doc, *op, res);
  }
  EXPECT_EQ(sent, Api::Routes().size());
}

// A schema that says something else than the server does makes the live check fail: the
// documented Job with "state" an integer refuses the server's real job.
TEST(OpenApiExamplesTest, AWrongSchemaIsCaught) {
  json::value doc = Document();
  ASSERT_TRUE(doc.is_object());
  ExampleWorld world;
  Reply job = world.cp.Do("GET", "/v1/jobs/train", world.tenant_token);
  ASSERT_EQ(job.status, 200) << job.raw;
  const json::value job_schema = json::parse(R"({"$ref": "#/components/schemas/Job"})");
  EXPECT_EQ(Join(CheckJsonSchema(job.body, job_schema, doc)), "");

  json::value wrong = doc;
  wrong.at("components").at("schemas").at("Job").at("properties").at("state") =
      json::parse(R"({"type": "integer"})");
  EXPECT_EQ(Join(CheckJsonSchema(job.body, job_schema, wrong)),
            "\n  $.state: \"running\" is not of type \"integer\"");

  wrong = doc;
  json::array& required = wrong.at("components").at("schemas").at("Job").at("required").as_array();
  required.push_back("deadline");
  EXPECT_EQ(Join(CheckJsonSchema(job.body, job_schema, wrong)),
            "\n  $: misses the required field \"deadline\"");

  wrong = doc;
  wrong.at("components").at("schemas").at("Job").at("properties").as_object().erase("image");
  EXPECT_EQ(Join(CheckJsonSchema(job.body, job_schema, wrong)),
            "\n  $.image: is not a documented field");
}

}  // namespace
}  // namespace fastgpu::server::testing

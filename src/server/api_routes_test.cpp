// The API's one route table, driven from the table itself (Api::Routes): every route
// refuses a caller below its auth level (401 without a token, 403 with a lesser one) before
// it reads the request; unknown paths are 404 and methods a template does not take 405 with
// an Allow header; every Status code maps to one HTTP status.
#include <gtest/gtest.h>

#include <set>

#include "server/api.h"
#include "server/server_test_util.h"

namespace fastgpu::server::testing {
namespace {

// The template with each "{name}" segment replaced by `id`.
std::string Concrete(std::string_view pattern, const std::string& id) {
  std::string out;
  size_t i = 0;
  while (i < pattern.size()) {
    size_t open = pattern.find('{', i);
    if (open == std::string_view::npos) {
      out += pattern.substr(i);
      break;
    }
    out += pattern.substr(i, open - i);
    out += id;
    i = pattern.find('}', open) + 1;
  }
  return out;
}

// One call that also returns the headers (server_test_util's Call does not).
struct Answer {
  int status = 0;
  std::string allow;
  std::string code;  // the error body's "code", "" when none
  std::string message;
};
Answer Send(const TestControlPlane& cp, const std::string& method, const std::string& path,
            const std::string& token, const std::string& body = "") {
  net::HttpClientOptions opts;
  opts.bearer_token = token;
  auto client = net::HttpClient::Create(cp.url(), opts);
  EXPECT_TRUE(client.ok()) << client.status();
  if (!client.ok()) return {};
  auto res = (*client)->Do(method, path, body);
  EXPECT_TRUE(res.ok()) << method << " " << path << ": " << res.status();
  if (!res.ok()) return {};
  Answer a{res->status, res->Header("allow"), "", ""};
  boost::system::error_code ec;
  json::value v = json::parse(res->body, ec);
  if (!ec && v.is_object()) {
    if (auto* c = v.as_object().if_contains("code"); c && c->is_string()) {
      a.code = c->as_string();
    }
    if (auto* m = v.as_object().if_contains("message"); m && m->is_string()) {
      a.message = m->as_string();
    }
  }
  return a;
}

std::string Describe(const RouteInfo& r) {
  return std::string(r.method) + " " + std::string(r.path) + " (" +
         std::string(AuthLevelName(r.auth)) + ")";
}

TEST(ApiRoutesTest, TheTableIsWellFormed) {
  const std::vector<RouteInfo> routes = Api::Routes();
  ASSERT_GE(routes.size(), 28u);
  std::set<std::string> seen;
  for (const RouteInfo& r : routes) {
    SCOPED_TRACE(Describe(r));
    EXPECT_TRUE(seen.insert(std::string(r.method) + " " + std::string(r.path)).second)
        << "declared twice";
    EXPECT_TRUE(r.method == "GET" || r.method == "POST" || r.method == "PUT" ||
                r.method == "PATCH" || r.method == "DELETE");
    EXPECT_TRUE(r.path.starts_with("/"));
    EXPECT_FALSE(r.summary.empty());
    EXPECT_EQ(r.summary.find('\n'), std::string_view::npos);
    // Only the service's own pages are open to anyone; a node route names its node.
    EXPECT_EQ(r.auth == AuthLevel::kNone, !r.path.starts_with("/v1"));
    if (r.auth == AuthLevel::kNode) EXPECT_NE(r.path.find("{id}"), std::string_view::npos);
  }
}

// Each route, called by every kind of caller below its level and with an empty body:
// the refusal is the route's auth answer, not the handler's complaint about the body.
TEST(ApiRoutesTest, EveryRouteRefusesACallerBelowItsLevel) {
  TestControlPlane cp;
  SimAgent agent(cp, "a1", 1);
  SimAgent other(cp, "a2", 1);
  const std::string alice = cp.NewTenantToken("alice");
  const std::string join = cp.server().join_token();
  int checked = 0;
  for (const RouteInfo& r : Api::Routes()) {
    SCOPED_TRACE(Describe(r));
    const std::string method(r.method);
    // A node route names a real node, so that a wrong token is the only fault.
    const std::string path = Concrete(r.path, agent.node_id());
    auto expect = [&](const std::string& token, int status, const char* who) {
      Answer a = Send(cp, method, path, token);
      EXPECT_EQ(a.status, status) << who << ": " << a.code << " " << a.message;
      EXPECT_EQ(a.code, status == 401 ? "UNAUTHENTICATED" : "PERMISSION_DENIED") << who;
    };
    switch (r.auth) {
      case AuthLevel::kNone:
        // The dashboard's files answer 404 for a name the build did not make.
        EXPECT_EQ(Send(cp, method, path, "").status, r.path == "/assets/{file}" ? 404 : 200);
        break;
      case AuthLevel::kJoin:
        expect("", 401, "no token");
        expect("not-a-token", 401, "unknown token");
        expect(alice, 403, "a tenant");
        expect(cp.admin(), 403, "the admin");
        break;
      case AuthLevel::kNode:
        // A node knows only its own token: any other is a wrong one (401), never 403.
        expect("", 401, "no token");
        expect(other.token(), 401, "another node");
        expect(join, 401, "the join token");
        expect(cp.admin(), 401, "the admin");
        break;
      case AuthLevel::kTenant:
        expect("", 401, "no token");
        expect("not-a-token", 401, "unknown token");
        expect(agent.token(), 401, "a node token");
        expect(join, 403, "the join token");
        break;
      case AuthLevel::kAdmin:
        expect("", 401, "no token");
        expect("not-a-token", 401, "unknown token");
        expect(join, 403, "the join token");
        expect(alice, 403, "a tenant");
        break;
    }
    // The caller of the route's level gets past the check (the handler may still refuse
    // the empty request, with a 4xx of its own).
    std::string right = r.auth == AuthLevel::kJoin    ? join
                        : r.auth == AuthLevel::kNode  ? agent.token()
                        : r.auth == AuthLevel::kAdmin ? cp.admin()
                        : r.auth == AuthLevel::kNone  ? ""
                                                      : alice;
    Answer a = Send(cp, method, path, right);
    EXPECT_NE(a.status, 401) << a.message;
    if (a.status == 403) {
      EXPECT_EQ(a.message, "only the admin may list allocations without ?job=");  // its own
    }
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(Api::Routes().size()));
}

TEST(ApiRoutesTest, UnknownPathsAre404WhoeverAsks) {
  TestControlPlane cp;
  for (const std::string path :
       {"/nope", "/v1", "/v1/nothing", "/v1/jobs/x/y", "/v1/jobs/x/logs/more", "/v2/jobs"}) {
    for (const std::string& token : {std::string(), cp.admin()}) {
      SCOPED_TRACE(path + (token.empty() ? " without a token" : " as the admin"));
      Answer a = Send(cp, "GET", path, token);
      EXPECT_EQ(a.status, 404);
      EXPECT_EQ(a.code, "NOT_FOUND");
      EXPECT_EQ(a.message, "no such endpoint: " + path);
    }
  }
}

// For every template of the table, each method it does not take is 405, before any auth,
// with an Allow header naming the methods the table gives it.
TEST(ApiRoutesTest, MethodsATemplateDoesNotTakeAre405WithAllow) {
  TestControlPlane cp;
  std::map<std::string, std::vector<std::string>> methods;  // template -> methods, in order
  for (const RouteInfo& r : Api::Routes()) {
    methods[std::string(r.path)].emplace_back(r.method);
  }
  for (const auto& [pattern, taken] : methods) {
    std::string allow;
    for (const std::string& m : taken) allow += (allow.empty() ? "" : ", ") + m;
    for (const std::string method : {"GET", "POST", "PUT", "DELETE", "PATCH"}) {
      if (std::find(taken.begin(), taken.end(), method) != taken.end()) continue;
      SCOPED_TRACE(method + " " + pattern);
      Answer a = Send(cp, method, Concrete(pattern, "x"), "");
      EXPECT_EQ(a.status, 405);
      EXPECT_EQ(a.allow, allow);
      EXPECT_EQ(a.code, "INVALID_ARGUMENT");
    }
  }
  EXPECT_EQ(methods.at("/v1/jobs"), (std::vector<std::string>{"GET", "POST"}));
  EXPECT_EQ(methods.at("/v1/prices"), (std::vector<std::string>{"GET", "PUT"}));
}

TEST(MatchPathTemplateTest, ATailParamTakesTheRestOfThePathAsSent) {
  std::map<std::string, std::string, std::less<>> params;
  const char* kProxy = "/v1/services/{id}/proxy/{path...}";
  EXPECT_EQ(MatchPathTemplate(kProxy, "/v1/services/web/proxy/a/b%2Fc/", &params), 3);
  EXPECT_EQ(params["id"], "web");
  EXPECT_EQ(params["path"], "/a/b%2Fc/");  // as sent, trailing '/' kept
  EXPECT_EQ(MatchPathTemplate(kProxy, "/v1/services/web/proxy", &params), 3);
  EXPECT_EQ(params["path"], "/");
  EXPECT_EQ(MatchPathTemplate(kProxy, "/v1/services/web/proxy/", &params), 3);
  EXPECT_EQ(params["path"], "/");
  EXPECT_EQ(MatchPathTemplate(kProxy, "/v1/services/web/proxy//x", &params), 3);
  EXPECT_EQ(params["path"], "//x");
  EXPECT_FALSE(MatchPathTemplate(kProxy, "/v1/services/web", &params));
  EXPECT_FALSE(MatchPathTemplate(kProxy, "/v1/services/web/scale", &params));
  EXPECT_FALSE(MatchPathTemplate(kProxy, "/v1/services/proxy", &params));
}

TEST(MatchPathTemplateTest, LiteralsParamsAndEmptySegments) {
  std::map<std::string, std::string, std::less<>> params;
  EXPECT_EQ(MatchPathTemplate("/v1/jobs/{id}/logs", "/v1/jobs/my%20job/logs", &params), 3);
  EXPECT_EQ(params.at("id"), "my%20job");  // as sent; the handler decodes
  EXPECT_EQ(MatchPathTemplate("/v1/nodes/register", "/v1/nodes/register", &params), 3);
  EXPECT_EQ(MatchPathTemplate("/v1/nodes/{id}", "/v1/nodes/register", &params), 2);
  EXPECT_EQ(MatchPathTemplate("/v1/jobs", "/v1/jobs/", &params), 2);
  EXPECT_EQ(MatchPathTemplate("/", "/", &params), 0);
  EXPECT_FALSE(MatchPathTemplate("/v1/jobs", "/v1/jobs/x", &params));
  EXPECT_FALSE(MatchPathTemplate("/v1/jobs/{id}", "/v1/jobs", &params));
  EXPECT_FALSE(MatchPathTemplate("/v1/jobs/{id}/cancel", "/v1/jobs/x/logs", &params));
  EXPECT_FALSE(MatchPathTemplate("/", "/v1", &params));
}

// The one mapping from a Status to an HTTP status is total: every code there is maps to
// one status, and an error's body carries the code's name.
TEST(ErrorResponseTest, EveryStatusCodeMapsToOneHttpStatus) {
  const std::map<StatusCode, int> want = {
      {StatusCode::kOk, 200},
      {StatusCode::kCancelled, 499},
      {StatusCode::kUnknown, 500},
      {StatusCode::kInvalidArgument, 400},
      {StatusCode::kDeadlineExceeded, 504},
      {StatusCode::kNotFound, 404},
      {StatusCode::kAlreadyExists, 409},
      {StatusCode::kPermissionDenied, 403},
      {StatusCode::kResourceExhausted, 429},
      {StatusCode::kFailedPrecondition, 409},
      {StatusCode::kAborted, 409},
      {StatusCode::kOutOfRange, 400},
      {StatusCode::kUnimplemented, 501},
      {StatusCode::kInternal, 500},
      {StatusCode::kUnavailable, 503},
      {StatusCode::kDataLoss, 500},
      {StatusCode::kUnauthenticated, 401},
  };
  // Every code there is: the enum runs from 0 until the first value without a name of its
  // own. A code added to status.h without a line here fails.
  int count = 0;
  for (int n = 0; n < 1000; ++n) {
    const auto code = static_cast<StatusCode>(n);
    if (code != StatusCode::kUnknown && StatusCodeName(code) == "UNKNOWN") break;
    ++count;
    SCOPED_TRACE(std::string(StatusCodeName(code)));
    ASSERT_EQ(want.count(code), 1u) << "a code without an HTTP status in this test";
    EXPECT_EQ(HttpStatusFor(code), want.at(code));
    if (code == StatusCode::kOk) continue;
    const int http = HttpStatusFor(code);
    EXPECT_TRUE(http >= 400 && http < 600) << http;
    HttpResponse resp = ErrorResponse(Status(code, "why"));
    EXPECT_EQ(resp.status, http);
    EXPECT_EQ(resp.content_type, "application/json");
    json::value body = json::parse(resp.body);
    EXPECT_EQ(body.at("code").as_string(), StatusCodeName(code));
    EXPECT_EQ(body.at("message").as_string(), "why");
  }
  EXPECT_EQ(count, static_cast<int>(want.size()));
}

TEST(ReplyTest, SuccessStatusesComeFromTheFactory) {
  const json::object body{{"k", 1}};
  using server::Reply;  // the handler's (testing::Reply is the client's)
  EXPECT_EQ(Reply::Json(body).http_status(), 200);
  EXPECT_EQ(Reply::Created(body).http_status(), 201);
  EXPECT_EQ(Reply::Json(body, SuccessStatus::kAccepted).http_status(), 202);
  EXPECT_EQ(Reply::Text("text/csv", "a,b\n").http_status(), 200);
  EXPECT_EQ(Reply::Replayed(201, "{}").http_status(), 201);
  Reply refused = Reply::Unprocessable(FailedPrecondition("Idempotency-Key 'k' reused"));
  EXPECT_EQ(refused.http_status(), 422);
  EXPECT_FALSE(refused.succeeded());
  HttpResponse resp = std::move(refused).ToHttp();
  EXPECT_EQ(json::parse(resp.body).at("code").as_string(), "FAILED_PRECONDITION");
}

// 422 follows from where the refusal is known, not from the message's words: a bad field
// that happens to be named "Idempotency-Key" is a 400 like any other unknown field.
TEST(ReplyTest, AnErrorWordedLikeTheIdempotencyRefusalKeepsItsCodesStatus) {
  TestControlPlane cp;
  cp.NewTenantToken("alice");
  for (const std::string path : {"/v1/tenants/alice/settings", "/v1/tenants/alice/quota"}) {
    SCOPED_TRACE(path);
    Answer a = Send(cp, "PUT", path, cp.admin(), R"({"Idempotency-Key":true})");
    EXPECT_EQ(a.status, 400) << a.message;
    EXPECT_EQ(a.code, "INVALID_ARGUMENT");
    EXPECT_EQ(a.message, "Idempotency-Key: unknown field");
  }
}

}  // namespace
}  // namespace fastgpu::server::testing

// libFuzzer target: HTTP request parsing and every endpoint's JSON decoding, in process.
//
// The input is up to 8 HTTP/1.1 requests separated by "\n###\n". Each is parsed by
// the server's own parser (ParseHttpRequest) and handed to the API's handler
// (Api::Handle) of a fresh control plane on an in-memory store with a ManualClock, so
// the input picks the route, method, headers, query and body. To get past
// authentication, an Authorization value "Bearer admin", "Bearer join", "Bearer tenant"
// or "Bearer node" is replaced by the admin token, the join token, a tenant's token or a
// registered node's token; "%7Bnode%7D" and "%7Blast%7D" ("{node}", "{last}" as a target
// spells them) in a path are replaced by that node's
// id and by the "id" of the previous answer (a job submitted, say); with
// FASTGPU_FUZZ_VERBOSE set, each answer is printed. Findings: a crash,
// a sanitizer report, an exception escaping Api::Handle, a 500 (with the in-memory store
// nothing should fail inside), or a status outside 100..599.
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/ids.h"
#include "server/http_server.h"
#include "server/server.h"
#include "store/store.h"

namespace fastgpu::server {
namespace {

namespace json = boost::json;

// FASTGPU_FUZZ_VERBOSE=1: print each request's answer (to check what a seed reaches).
const bool verbose = std::getenv("FASTGPU_FUZZ_VERBOSE") != nullptr;

constexpr size_t kMaxBodyBytes = 64 * 1024;
constexpr int kMaxRequests = 8;

std::string JsonField(const std::string& body, std::string_view key) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return "";
  const json::value* f = v.as_object().if_contains(key);
  return f != nullptr && f->is_string() ? std::string(f->as_string()) : "";
}

void ReplaceAll(std::string& s, std::string_view from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

// A control plane with a tenant and a registered node, made afresh for every input so
// that a finding reproduces from its input alone.
struct World {
  ManualClock clock;
  SequentialIdGenerator ids;
  std::unique_ptr<store::Store> store = store::NewMemoryStore();
  std::unique_ptr<Server> server;
  std::string tenant_token, node_id, node_token;

  World() {
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.run_reconciler = false;
    o.worker_threads = 1;
    o.io_threads = 1;
    auto s = Server::Create(o, *store, clock, ids);
    if (!s.ok()) Die("Server::Create: " + s.status().ToString());
    server = std::move(s).value();
    HttpResponse t = Call("POST", "/v1/tenants", server->admin_token(), R"({"name":"fuzz"})");
    std::string tenant = JsonField(t.body, "id");
    HttpResponse tok =
        Call("POST", "/v1/tenants/" + tenant + "/tokens", server->admin_token(), "{}");
    tenant_token = JsonField(tok.body, "token");
    HttpResponse reg = Call(
        "POST", "/v1/nodes/register", server->join_token(),
        R"({"name":"n1","agent_id":"n1","cpu_milli":64000,"memory_mib":524288,"simulated":true,)"
        R"("gpus":[{"index":0,"uuid":"SIM-n1-0","model":"H100-80GB","memory_mib":81559,)"
        R"("healthy":true,"simulated":true}]})");
    node_id = JsonField(reg.body, "node_id");
    node_token = JsonField(reg.body, "node_token");
    if (tenant_token.empty() || node_token.empty()) Die("setup: " + tok.body + " " + reg.body);
  }

  HttpResponse Call(const std::string& method, const std::string& path, const std::string& token,
                    const std::string& body) {
    HttpRequest r;
    r.method = method;
    r.path = path;
    r.headers["authorization"] = "Bearer " + token;
    r.body = body;
    return server->api().Handle(r);
  }

  [[noreturn]] static void Die(const std::string& why) {
    std::fprintf(stderr, "http_api_fuzzer: %s\n", why.c_str());
    std::abort();
  }

  void Serve(HttpRequest& r, std::string& last_id) {
    auto auth = r.headers.find("authorization");
    if (auth != r.headers.end()) {
      if (auth->second == "Bearer admin") auth->second = "Bearer " + server->admin_token();
      if (auth->second == "Bearer join") auth->second = "Bearer " + server->join_token();
      if (auth->second == "Bearer tenant") auth->second = "Bearer " + tenant_token;
      if (auth->second == "Bearer node") auth->second = "Bearer " + node_token;
    }
    ReplaceAll(r.path, "%7Bnode%7D", node_id);  // "{node}" as the target's encoding
    ReplaceAll(r.path, "{node}", node_id);
    ReplaceAll(r.path, "%7Blast%7D", last_id);
    ReplaceAll(r.path, "{last}", last_id);
    HttpResponse resp;
    try {
      resp = server->api().Handle(r);
    } catch (const std::exception& e) {
      Die(std::string("exception escaped Api::Handle: ") + e.what());
    }
    if (resp.status < 100 || resp.status > 599) Die("status " + std::to_string(resp.status));
    // The in-memory store does not fail, so a 500 means a handler threw (Api::Handle
    // turns that into 500) or reported an internal error: a bug either way.
    if (resp.status == 500) Die(r.method + " " + r.path + " answered 500: " + resp.body);
    if (verbose) {
      std::fprintf(stderr, "%s %s -> %d %.200s\n", r.method.c_str(), r.path.c_str(), resp.status,
                   resp.body.c_str());
    }
    std::string id = JsonField(resp.body, "id");
    if (!id.empty()) last_id = id;
  }
};

}  // namespace
}  // namespace fastgpu::server

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fastgpu::server;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  World world;
  std::string last_id;
  for (int i = 0; i < kMaxRequests && !input.empty(); ++i) {
    // Requests are separated by "\n###\n", so that each parses (or fails) on its own.
    size_t sep = input.find("\n###\n");
    std::string_view one = input.substr(0, sep);
    input = sep == std::string_view::npos ? std::string_view() : input.substr(sep + 5);
    auto req = ParseHttpRequest(one, kMaxBodyBytes);
    if (!req.ok()) continue;
    world.Serve(*req, last_id);
  }
  return 0;
}

// The dashboard's files: "/" (index.html for browsers, a short text for other clients) and
// "/assets/{file}" (the bundle and stylesheet), from the table embedded at build time
// (dashboard_assets.h). No token: the page holds no secret; it calls the /v1 API with the
// token its user signs in with, and the API's authorization is the only one.
#include <string>
#include <utility>
#include <vector>

#include "server/api.h"
#include "server/dashboard_assets.h"

namespace fastgpu::server {

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr char kIndexText[] =
    "FastGPU control plane.\n"
    "Dashboard: open this address in a browser.\n"
    "REST API under /v1 (JSON, Authorization: Bearer <token>); see docs/api.md.\n"
    "Health: /healthz   Metrics: /metrics\n";

// The page runs only its own script, talks only to this origin and is never framed.
constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'";

// The file's answer: 304 when the client holds this version, else the bytes (gzipped
// when the client takes gzip and a gzip copy exists).
Reply Serve(const DashboardAsset& asset, const HttpRequest& req, std::string cache_control,
            std::string vary) {
  const std::string type(DashboardContentType(asset.name));
  Headers headers = {{"Cache-Control", std::move(cache_control)},
                     {"ETag", std::string(asset.etag)},
                     {"Vary", std::move(vary)},
                     {"X-Content-Type-Options", "nosniff"}};
  if (asset.name.ends_with(".html")) {
    headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
    headers.emplace_back("Referrer-Policy", "no-referrer");
    headers.emplace_back("X-Frame-Options", "DENY");
  }
  if (EtagMatches(req.Header("if-none-match"), asset.etag)) {
    return Reply::NotModified(type, std::move(headers));
  }
  if (!asset.gzip.empty() && AcceptsGzip(req.Header("accept-encoding"))) {
    headers.emplace_back("Content-Encoding", "gzip");
    return Reply::File(type, std::string(asset.gzip), std::move(headers));
  }
  return Reply::File(type, std::string(asset.bytes), std::move(headers));
}

}  // namespace

Result<Reply> Api::Index(const Call& c) {
  // Browsers ask for HTML; curl (Accept: */*) and scripts get the text.
  const DashboardAsset* index = FindDashboardAsset("index.html");
  if (c.req.Header("accept").find("text/html") == std::string::npos || index == nullptr) {
    return Reply::File("text/plain; charset=utf-8", kIndexText, {{"Vary", "Accept"}});
  }
  // Always revalidated, so a new binary's page (naming its new bundle) shows at once.
  return Serve(*index, c.req, "no-cache", "Accept, Accept-Encoding");
}

Result<Reply> Api::DashboardFile(const Call& c) {
  const std::string& name = c.Param("file");
  const DashboardAsset* asset = name == "index.html" ? nullptr : FindDashboardAsset(name);
  if (asset == nullptr) return NotFound("no such dashboard file: " + name);
  // The bundle's names carry a hash of their content: a name never changes its bytes.
  return Serve(*asset, c.req, "public, max-age=31536000, immutable", "Accept-Encoding");
}

}  // namespace fastgpu::server

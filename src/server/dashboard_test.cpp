// The dashboard's files served by the control plane: "/" for browsers and for curl, the
// embedded bundle under /assets/ with its content type, caching headers, gzip and ETag.
#include <gtest/gtest.h>

#include <regex>

#include "server/dashboard_assets.h"
#include "server/server_test_util.h"

namespace fastgpu::server::testing {
namespace {

net::HttpResponse Get(const TestControlPlane& cp, const std::string& path,
                      const net::HttpHeaders& headers = {}) {
  auto client = net::HttpClient::Create(cp.url(), {});
  EXPECT_TRUE(client.ok()) << client.status();
  auto res = (*client)->Get(path, headers);
  EXPECT_TRUE(res.ok()) << res.status();
  return res.ok() ? *res : net::HttpResponse{};
}

TEST(DashboardAssetsTest, TheBuiltDashboardIsEmbedded) {
  const DashboardAsset* index = FindDashboardAsset("index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_NE(index->bytes.find("<html"), std::string_view::npos);
  EXPECT_FALSE(index->gzip.empty());
  int scripts = 0, styles = 0;
  for (const DashboardAsset& a : DashboardAssets()) {
    EXPECT_TRUE(a.etag.starts_with('"') && a.etag.ends_with('"')) << a.etag;
    if (a.name.ends_with(".js")) {
      ++scripts;
      EXPECT_NE(index->bytes.find("/assets/" + std::string(a.name)), std::string_view::npos);
    }
    if (a.name.ends_with(".css")) ++styles;
  }
  EXPECT_EQ(scripts, 1);
  EXPECT_EQ(styles, 1);
}

TEST(DashboardAssetsTest, HeaderHelpers) {
  EXPECT_EQ(DashboardContentType("app-X.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(DashboardContentType("app-X.css"), "text/css; charset=utf-8");
  EXPECT_EQ(DashboardContentType("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(DashboardContentType("blob"), "application/octet-stream");
  EXPECT_TRUE(AcceptsGzip("gzip, deflate, br"));
  EXPECT_TRUE(AcceptsGzip("deflate, GZIP;q=0.5"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_TRUE(EtagMatches("\"a\", \"b\"", "\"b\""));
  EXPECT_TRUE(EtagMatches("W/\"b\"", "\"b\""));
  EXPECT_TRUE(EtagMatches("*", "\"b\""));
  EXPECT_FALSE(EtagMatches("\"a\"", "\"b\""));
  EXPECT_FALSE(EtagMatches("", "\"b\""));
}

TEST(DashboardTest, BrowsersGetThePageAndCurlTheText) {
  TestControlPlane cp;
  net::HttpResponse page = Get(cp, "/", {{"Accept", "text/html,application/xhtml+xml,*/*"}});
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(page.Header("cache-control"), "no-cache");
  EXPECT_NE(page.Header("content-security-policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(page.body, std::string(FindDashboardAsset("index.html")->bytes));
  // curl sends Accept: */*: the text naming the API, as before.
  net::HttpResponse text = Get(cp, "/", {{"Accept", "*/*"}});
  EXPECT_EQ(text.status, 200);
  EXPECT_EQ(text.Header("content-type"), "text/plain; charset=utf-8");
  EXPECT_NE(text.body.find("/v1"), std::string::npos);
  EXPECT_NE(text.body.find("Dashboard"), std::string::npos);
}

TEST(DashboardTest, AssetsAreImmutableGzippedAndRevalidated) {
  TestControlPlane cp;
  net::HttpResponse page = Get(cp, "/", {{"Accept", "text/html"}});
  std::smatch m;
  ASSERT_TRUE(std::regex_search(page.body, m, std::regex("/assets/(app-[A-Za-z0-9]+\\.js)")));
  const std::string path = m[0];
  const DashboardAsset* js = FindDashboardAsset(std::string(m[1]));
  ASSERT_NE(js, nullptr);
  net::HttpResponse plain = Get(cp, path);  // no token needed
  EXPECT_EQ(plain.status, 200);
  EXPECT_EQ(plain.Header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(plain.Header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(plain.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(plain.Header("content-encoding"), "");
  EXPECT_EQ(plain.body, std::string(js->bytes));
  net::HttpResponse gz = Get(cp, path, {{"Accept-Encoding", "gzip, deflate"}});
  EXPECT_EQ(gz.status, 200);
  EXPECT_EQ(gz.Header("content-encoding"), "gzip");
  EXPECT_EQ(gz.body, std::string(js->gzip));
  EXPECT_LT(gz.body.size(), plain.body.size());
  const std::string etag = plain.Header("etag");
  EXPECT_EQ(etag, std::string(js->etag));
  net::HttpResponse again = Get(cp, path, {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(Get(cp, "/assets/nope.js").status, 404);
  EXPECT_EQ(Get(cp, "/assets/index.html").status, 404);  // the page is served at "/" only
}

}  // namespace
}  // namespace fastgpu::server::testing

#include "server/dashboard_assets.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace fastgpu::server {

namespace {

// `s` without blanks at either end.
std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls `fn` with each comma-separated item of a header value, trimmed; stops when it
// returns true and returns true then.
template <typename Fn>
bool AnyItem(std::string_view value, Fn fn) {
  while (true) {
    size_t comma = value.find(',');
    if (fn(Trim(value.substr(0, comma)))) return true;
    if (comma == std::string_view::npos) return false;
    value.remove_prefix(comma + 1);
  }
}

}  // namespace

const DashboardAsset* FindDashboardAsset(std::string_view name) {
  for (const DashboardAsset& a : DashboardAssets()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::string_view DashboardContentType(std::string_view name) {
  struct Type {
    std::string_view ext, type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml; charset=utf-8"},
      {".png", "image/png"},
      {".json", "application/json; charset=utf-8"},
      {".txt", "text/plain; charset=utf-8"},
      {".ico", "image/x-icon"},
  };
  for (const Type& t : kTypes) {
    if (name.ends_with(t.ext)) return t.type;
  }
  return "application/octet-stream";
}

bool AcceptsGzip(std::string_view accept_encoding) {
  return AnyItem(accept_encoding, [](std::string_view item) {
    std::string_view coding = Trim(item.substr(0, item.find(';')));
    std::string lower(coding);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    if (lower != "gzip" && lower != "x-gzip") return false;
    // q=0 (also 0.0, 0.00, 0.000) refuses it.
    size_t q = item.find("q=");
    if (q == std::string_view::npos) return true;
    std::string_view weight = Trim(item.substr(q + 2));
    return weight.find_first_not_of("0.") != std::string_view::npos;
  });
}

bool EtagMatches(std::string_view if_none_match, std::string_view etag) {
  return AnyItem(if_none_match, [&](std::string_view item) {
    if (item == "*") return true;
    if (item.starts_with("W/")) item.remove_prefix(2);
    return item == etag;
  });
}

}  // namespace fastgpu::server

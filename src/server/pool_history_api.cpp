// GET /v1/pool/history: the pool's gauges over time (pool_history.h), for the dashboard's
// charts. Any tenant may read it: it holds the pool's totals, no tenant's names.
#include <charconv>

#include "server/api.h"
#include "server/pool_history.h"

namespace fastgpu::server {

namespace {

// The query parameter `key` as an integer in [min, max]; `fallback` when absent.
Result<int64_t> IntParam(const HttpRequest& req, const std::string& key, int64_t fallback,
                         int64_t min, int64_t max) {
  auto it = req.query.find(key);
  if (it == req.query.end()) return fallback;
  const std::string& s = it->second;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < min || v > max) {
    return InvalidArgument(key + ": must be an integer between " + std::to_string(min) + " and " +
                           std::to_string(max));
  }
  return v;
}

}  // namespace

Result<Reply> Api::GetPoolHistory(const Call& c) {
  const PoolHistory* history = options_.pool_history;
  if (history == nullptr) return Unavailable("this control plane keeps no pool history");
  const auto capacity = static_cast<int64_t>(history->capacity());
  FASTGPU_ASSIGN_OR_RETURN(int64_t since, IntParam(c.req, "since", 0, 0, int64_t{1} << 50));
  FASTGPU_ASSIGN_OR_RETURN(int64_t limit, IntParam(c.req, "limit", capacity, 1, capacity));
  json::array samples;
  for (const PoolSample& s : history->Since(since, static_cast<size_t>(limit))) {
    samples.push_back(PoolSampleToJson(s));
  }
  return Reply::Json(json::object{{"now", clock_.NowUnixMillis()},
                                  {"interval_ms", options_.pool_history_interval_ms},
                                  {"capacity", capacity},
                                  {"samples", std::move(samples)}});
}

}  // namespace fastgpu::server

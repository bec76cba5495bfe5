#include "server/log_end.h"

#include <boost/json.hpp>

namespace fastgpu::server {
namespace json = boost::json;

namespace {

std::string Key(const std::string& alloc_id) { return "log_end/" + alloc_id; }

std::string Grouped(int64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string Size(int64_t bytes) {
  if (bytes > 0 && bytes % (int64_t{1} << 30) == 0) return Grouped(bytes >> 30) + " GiB";
  if (bytes > 0 && bytes % (int64_t{1} << 20) == 0) return Grouped(bytes >> 20) + " MiB";
  if (bytes > 0 && bytes % (int64_t{1} << 10) == 0) return Grouped(bytes >> 10) + " KiB";
  return Grouped(bytes) + " bytes";
}

}  // namespace

Result<LogEnd> GetLogEnd(ReadTx& tx, const std::string& alloc_id) {
  auto text = tx.GetMeta(Key(alloc_id));
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return LogEnd{};
    return text.status();
  }
  LogEnd end;
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec || !v.is_object()) return Internal("log_end/" + alloc_id + ": not a JSON object");
  const json::object& o = v.as_object();
  if (auto* n = o.if_contains("shipped_bytes"); n && n->is_int64())
    end.shipped_bytes = n->as_int64();
  if (auto* f = o.if_contains("final"); f && f->is_bool()) end.final = f->as_bool();
  return end;
}

Status PutLogEnd(WriteTx& tx, const std::string& alloc_id, const LogEnd& end) {
  return tx.PutMeta(
      Key(alloc_id),
      json::serialize(json::object{{"shipped_bytes", end.shipped_bytes}, {"final", end.final}}));
}

std::string DroppedMarker(int64_t dropped_bytes, int64_t limit_bytes) {
  return "\n[fastgpu: " + Grouped(dropped_bytes) + " bytes of output dropped: the log limit is " +
         Size(limit_bytes) + " per replica]\n";
}

}  // namespace fastgpu::server

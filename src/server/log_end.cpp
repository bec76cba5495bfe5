#include "server/log_end.h"

namespace fastgpu::server {

namespace {

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

Result<store::LogEnd> GetLogEnd(store::ReadTx& tx, const std::string& alloc_id) {
  return tx.GetLogEnd(alloc_id);
}

Status PutLogEnd(store::WriteTx& tx, const std::string& alloc_id, const store::LogEnd& end) {
  return tx.SetLogEnd(alloc_id, end);
}

std::string DroppedMarker(int64_t dropped_bytes, int64_t limit_bytes) {
  return "\n[fastgpu: " + Grouped(dropped_bytes) + " bytes of output dropped: the log limit is " +
         Size(limit_bytes) + " per replica]\n";
}

}  // namespace fastgpu::server

#include "agent/log_shipper.h"

#include <algorithm>

#include "agent/files.h"
#include "common/log.h"
#include "protocol/agent_protocol.h"

namespace fastgpu::agent {

namespace {

// Sends the final (empty) shipment of an ended replica whose output is all shipped.
Status SendFinal(net::HttpClient& client, const std::string& node_id, ReplicaRecord& rec) {
  protocol::LogShipment fin{rec.id(), rec.log_server_offset, "", /*final=*/true};
  auto res = client.Post("/v1/nodes/" + node_id + "/logs", protocol::EncodeLogShipment(fin));
  if (!res.ok()) return res.status();
  if (res->status == 404 || res->status == 400) {
    rec.log_final_sent = true;  // the control plane no longer knows the allocation
    return OkStatus();
  }
  FASTGPU_RETURN_IF_ERROR(net::ApiStatus(*res));
  auto next = protocol::DecodeLogResponse(res->body);
  if (!next.ok()) return next.status();
  if (*next != rec.log_server_offset) {
    // The control plane holds another amount: ship from there first.
    int64_t shift = *next - rec.log_server_offset;
    rec.log_file_offset = std::max<int64_t>(rec.log_file_offset + shift, 0);
    rec.log_server_offset = *next;
    return OkStatus();
  }
  rec.log_final_sent = true;
  return OkStatus();
}

}  // namespace

bool HasUnshippedLogs(FileEnv& env, const ReplicaRecord& rec) {
  if (rec.ended() && !rec.log_final_sent) return true;
  if (rec.dir.empty()) return false;
  auto size = env.FileSize(rec.log_path());
  return size.ok() && *size > rec.log_file_offset;
}

Status ShipLogs(FileEnv& env, net::HttpClient& client, const std::string& node_id,
                ReplicaRecord& rec, int64_t chunk_bytes, int max_chunks) {
  if (rec.log_final_sent) return OkStatus();
  for (int n = 0; n < max_chunks; ++n) {
    int64_t size = 0;
    if (!rec.dir.empty()) {
      auto file_size = env.FileSize(rec.log_path());
      if (file_size.ok()) size = *file_size;
    }
    if (size <= rec.log_file_offset) {
      // Everything written so far is shipped; once the replica has ended, say so.
      if (!rec.ended()) return OkStatus();
      FASTGPU_RETURN_IF_ERROR(SendFinal(client, node_id, rec));
      if (rec.log_final_sent) return OkStatus();
      continue;
    }
    int64_t want = std::min(chunk_bytes, size - rec.log_file_offset);
    auto piece = env.ReadFileRange(rec.log_path(), rec.log_file_offset, want);
    if (!piece.ok()) return piece.status();
    std::string raw = std::move(piece).value();
    if (raw.empty()) return OkStatus();
    size_t consumed = raw.size();
    bool last_piece = rec.log_file_offset + static_cast<int64_t>(raw.size()) >= size;
    std::string data =
        protocol::SanitizeUtf8(raw, /*hold_incomplete=*/!(rec.ended() && last_piece), &consumed);
    if (consumed == 0) return OkStatus();  // only the start of a character so far
    protocol::LogShipment chunk{rec.id(), rec.log_server_offset, data};
    auto res = client.Post("/v1/nodes/" + node_id + "/logs", protocol::EncodeLogShipment(chunk));
    if (!res.ok()) return res.status();
    if (res->status == 404 || res->status == 400) {
      spdlog::warn("control plane refused the logs of {} ({}); dropping {} bytes", rec.id(),
                   net::ApiStatus(*res).message(), size - rec.log_file_offset);
      rec.log_file_offset = size;
      if (rec.ended()) rec.log_final_sent = true;
      return OkStatus();
    }
    FASTGPU_RETURN_IF_ERROR(net::ApiStatus(*res));
    auto next = protocol::DecodeLogResponse(res->body);
    if (!next.ok()) return next.status();
    int64_t expected = rec.log_server_offset + static_cast<int64_t>(data.size());
    if (*next == expected) {
      rec.log_file_offset += static_cast<int64_t>(consumed);
      rec.log_server_offset = expected;
    } else if (*next == rec.log_server_offset) {
      // No progress: the control plane keeps no more of this log.
      spdlog::warn("control plane keeps no more log of {} at offset {}; dropping the rest",
                   rec.id(), *next);
      rec.log_file_offset = size;
      return OkStatus();
    } else {
      // The control plane holds another amount: move there (1:1 for valid UTF-8).
      int64_t shift = *next - rec.log_server_offset;
      rec.log_file_offset = std::clamp<int64_t>(rec.log_file_offset + shift, 0, size);
      rec.log_server_offset = *next;
    }
  }
  return OkStatus();
}

}  // namespace fastgpu::agent

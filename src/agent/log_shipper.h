// Log shipping: sends the new part of a replica's output.log to the control plane
// (POST /v1/nodes/{id}/logs, docs/agent-protocol.md) and advances its offsets.
//
// Bytes that are not valid UTF-8 go out as U+FFFD; an incomplete character at the end of
// a live replica's log waits for its remaining bytes. When the control plane answers
// with another next_offset than expected, the agent moves to it (resending or skipping
// the difference). Thread-compatible: one caller per record.
#pragma once

#include <cstdint>
#include <string>

#include "agent/file_env.h"
#include "agent/state.h"
#include "common/status.h"
#include "net/http_client.h"

namespace fastgpu::agent {

// Ships up to `max_chunks` chunks of at most `chunk_bytes` each. OK when everything
// available was sent (or the control plane no longer knows the allocation: the rest is
// then dropped, said in the log); Unavailable or the API error otherwise (retry later).
// Once the replica has ended and all its output is shipped, sends the final shipment
// (LogShipment::final) and sets rec.log_final_sent; nothing is sent after that.
// The log file is read through `env`.
Status ShipLogs(FileEnv& env, net::HttpClient& client, const std::string& node_id,
                ReplicaRecord& rec, int64_t chunk_bytes, int max_chunks = 8);

// True while the replica has output not yet shipped, or has ended without its final
// shipment: the agent then ships every 250 ms rather than once per heartbeat.
bool HasUnshippedLogs(FileEnv& env, const ReplicaRecord& rec);

}  // namespace fastgpu::agent

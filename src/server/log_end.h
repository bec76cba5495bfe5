// The end of a replica's log as the control plane knows it, kept in the store beside
// the allocation (LogEnd, store/records.h; ReadTx::GetLogEnd): the highest byte offset
// the agent shipped (stored or refused past the log limit) and whether the agent sent
// its final shipment (the replica ended and every byte went out). `job logs` says done
// only once the final shipment is in (or the node is lost), and reports the bytes
// refused past the limit as `dropped_bytes` and a marker line after the stored log.
// Plain functions over a transaction; thread-safety is the store's.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "store/store.h"

namespace fastgpu::server {

// The recorded end, or a zero LogEnd when none is recorded. NotFound for an unknown
// allocation.
Result<store::LogEnd> GetLogEnd(store::ReadTx& tx, const std::string& alloc_id);
Status PutLogEnd(store::WriteTx& tx, const std::string& alloc_id, const store::LogEnd& end);

// "\n[fastgpu: 41,943,040 bytes of output dropped: the log limit is 8 MiB per replica]\n"
std::string DroppedMarker(int64_t dropped_bytes, int64_t limit_bytes);

}  // namespace fastgpu::server

// Records: what the control plane keeps in its store, beside the model types.
//
// The model types (Tenant, Job, Node, Allocation) and the price table
// (metering::PriceTable) are stored as they are; this header adds what only the control
// plane needs around them: API tokens, node registration and liveness, allocation
// lifecycle, log ends, budget marks, idempotency records. Plain value types; the
// free functions are pure and thread-safe. Times in records are TimePoints stored to
// the millisecond (sub-millisecond parts are dropped when a record is stored).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "model/allocation.h"
#include "model/gpu.h"
#include "model/job.h"
#include "model/service.h"
#include "model/tenant.h"

namespace fastgpu::store {

// An API token of a tenant. Only the SHA-256 of the secret is stored (the server hashes).
struct ApiToken {
  std::string id;  // "tok-<hex>"
  std::string tenant_id;
  std::string name;        // label chosen by the user, may be empty
  std::string sha256_hex;  // 64 lowercase hex digits; unique across all tokens
  TimePoint created_at{};
  bool revoked = false;
  friend bool operator==(const ApiToken&, const ApiToken&) = default;
};

// A node's standing with the control plane.
//   ready:    takes new work;
//   draining: keeps what it runs, takes nothing new (operator's choice);
//   lost:     its lease lapsed; its allocations are rescheduled elsewhere.
enum class NodeState { kReady, kDraining, kLost };
std::string_view NodeStateName(NodeState s);  // "ready", "draining", "lost"
Result<NodeState> ParseNodeState(std::string_view name);

// A registered node. `node.simulated` says whether its GPUs are simulated.
struct NodeRecord {
  model::Node node;              // node.id is the store's key ("node-<hex>")
  std::string agent_id;          // the agent's stable identity; unique across nodes
  std::string token_sha256_hex;  // hash of the node's own token (agent -> server auth);
                                 // "" once revoked (no token then matches)
  // Hash of the node's long-lived secret, the credential that lets its agent register the
  // same agent_id again. "" when it has none (revoked by an admin): the join token may then
  // claim the agent_id afresh.
  std::string secret_sha256_hex;
  NodeState state = NodeState::kReady;
  TimePoint last_heartbeat{};
  TimePoint registered_at{};
};

// Health of one GPU as a heartbeat reports it.
struct GpuHealth {
  int index = 0;  // Gpu::index on the node
  bool healthy = true;
  std::string reason;  // why unhealthy; empty when healthy
};

// Lifecycle of one allocation (one replica on one node). Ranks, lowest first:
//   pending (0) -> starting (1) -> running (2) -> exited | failed (3) -> released (4).
// A state may only move to a state of a higher rank (exited and failed are both final
// outcomes: neither becomes the other). released frees the resources and is the end.
// "Live" allocations (they hold resources on their node) are pending, starting, running.
enum class AllocationState { kPending, kStarting, kRunning, kExited, kFailed, kReleased };
std::string_view AllocationStateName(AllocationState s);  // "pending", "starting", ...
Result<AllocationState> ParseAllocationState(std::string_view name);
bool IsLive(AllocationState s);
// True when `from` -> `to` moves forward (strictly higher rank, see above).
bool CanAdvance(AllocationState from, AllocationState to);

struct AllocationRecord {
  model::Allocation alloc;  // alloc.id is the key; alloc.created_at is stored
  AllocationState state = AllocationState::kPending;
  int exit_code = 0;          // meaningful once exited / failed
  int signal = 0;             // the signal that ended it, 0 for none
  int64_t started_at_ms = 0;  // Unix ms when it entered running; 0 = never ran
  int64_t ended_at_ms = 0;    // Unix ms when it left the live states; 0 = still live
  std::string message;        // latest message from the agent or the reconciler
};

// A change of an allocation's state (see WriteTx::UpdateAllocation).
struct AllocationUpdate {
  AllocationState state = AllocationState::kRunning;
  TimePoint at{};       // when it happened (sets started_at / ended_at)
  int exit_code = 0;    // stored when `state` is exited or failed
  int signal = 0;       // stored when `state` is exited or failed
  std::string message;  // replaces the stored message when not empty
};

// The outcome of a mutating API call, kept so that a retry with the same key gets the
// same answer. Keyed by (tenant_id, key).
struct IdempotencyRecord {
  std::string tenant_id;
  std::string key;                 // client-chosen request id
  std::string method_path;         // "POST /v1/tenants"
  std::string request_sha256_hex;  // hash of the request body (to spot a reused key)
  int http_status = 0;
  std::string response_body;
  TimePoint created_at{};
  friend bool operator==(const IdempotencyRecord&, const IdempotencyRecord&) = default;
};

// One entry of the change feed (see ReadTx::ListChangesSince): a job, an allocation or a
// node was written.
enum class ChangeKind { kJob, kAllocation, kNode };
std::string_view ChangeKindName(ChangeKind kind);  // "job", "allocation", "node"
struct Change {
  int64_t seq = 0;  // rises with every change, in commit order; never reused
  ChangeKind kind = ChangeKind::kJob;
  std::string id;  // the job's, allocation's or node's id
  friend bool operator==(const Change&, const Change&) = default;
};

// Job listing (see ReadTx::ListJobs).
struct JobFilter {
  std::string tenant_id;                // empty = every tenant
  std::vector<model::JobState> states;  // empty = every state; else any of these
  int limit = 100;                      // 1..1000; values outside are clamped
  std::string cursor;                   // empty = from the start; else a JobPage::next_cursor
  bool include_events = false;          // default false: Job::events left empty (cheaper)
};

struct JobPage {
  std::vector<model::Job> jobs;  // in creation order
  std::string next_cursor;       // empty when there is nothing more
};

struct CreateJobResult {
  model::Job job;        // the stored job (the existing one when `existed`)
  bool existed = false;  // true: the idempotency key was already used
  // When `existed`: the request hash stored with the key by the first call ("" when that
  // call gave none). Empty when not `existed`.
  std::string request_sha256_hex;
};

struct UpsertNodeResult {
  std::string node_id;   // the id now stored for the agent
  bool existed = false;  // true: the agent_id was already registered
};

// A piece of a job's log (see ReadTx::ReadLog).
struct LogChunk {
  std::string data;         // bytes [offset, next_offset)
  int64_t next_offset = 0;  // where the next read starts
  int64_t size_bytes = 0;   // bytes stored for the allocation so far
};

// The end of an allocation's log as its agent shipped it (see ReadTx::GetLogEnd): past
// the log cap the agent's offsets run ahead of the stored bytes, and the difference is
// what was refused (dropped). Zero for an allocation with nothing recorded.
struct LogEnd {
  int64_t shipped_bytes = 0;  // offset + size of the furthest shipment
  bool final = false;         // the agent's final shipment arrived
  friend bool operator==(const LogEnd&, const LogEnd&) = default;
};

// The moment a tenant was first seen over its budget in a budget period (see
// ReadTx::GetBudgetOverMark). Keyed by (tenant_id, period_start_ms).
struct BudgetOverMark {
  std::string tenant_id;
  int64_t period_start_ms = 0;  // Unix ms of the period's start (a UTC month's first instant)
  int64_t over_since_ms = 0;    // Unix ms of the first check that saw the crossing
  friend bool operator==(const BudgetOverMark&, const BudgetOverMark&) = default;
};

// The control plane's leader lease (ReadTx::GetLeaderLease): which replica leads, until
// when, and the lease's generation, the fencing token every leader-only write carries
// (it rises each time another replica takes the lease over).
struct LeaderLease {
  std::string holder;         // the leading replica's id
  int64_t generation = 0;     // >= 1 once taken
  int64_t expires_at_ms = 0;  // Unix ms; after it another replica may take over
  friend bool operator==(const LeaderLease&, const LeaderLease&) = default;
};

}  // namespace fastgpu::store

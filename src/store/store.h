// Store: the control plane's durable state behind one interface.
//
// Everything the control plane must not lose (tenants, tokens, nodes and their drain
// marks, jobs, services, allocations, job logs and their ends, idempotency records, the price
// table, budget marks, the join token's hash) goes through a Store. Each is a typed
// record with its own methods; there is no untyped key/value escape hatch.
// Three implementations pass the same conformance suite: SQLite (embedded, the default;
// OpenSqliteStore), PostgreSQL (OpenPostgresStore: several control-plane replicas share
// one database) and an in-memory one for tests of other modules (NewMemoryStore).
//
// Access is by transaction:
//   Status s = store.Write([&](WriteTx& tx) -> Status {
//     FASTGPU_ASSIGN_OR_RETURN(Job job, tx.GetJob(id));
//     FASTGPU_RETURN_IF_ERROR(TransitionJob(job, JobState::kScheduled, "placed", now));
//     return tx.UpdateJob(job);
//   });
// * Write runs `fn` in a write transaction and returns once the change is durable
//   (SQLite: the WAL is fsync'd). If `fn` returns non-OK, everything it wrote is rolled
//   back and Write returns that status. Concurrent Write calls are batched into one
//   database transaction (group commit): each `fn` runs inside its own savepoint, so a
//   failing `fn` rolls back only its own writes; the others commit together.
//   Writes are serialised: `fn` sees every write committed before it and its own.
// * Read runs `fn` on a consistent snapshot that does not block writers or other
//   readers. It returns `fn`'s status.
// * `fn` runs exactly once (unless the store fails before running it, in which case
//   Write returns Internal / Unavailable without running it). A transaction object is
//   valid only inside `fn` and only on the thread that runs it. `fn` must not call
//   Read or Write on the same store (that would deadlock), and should be short: other
//   writers wait for it. Do slow work (network, solver) outside the transaction.
//   Both implementations refuse a nested Write with FailedPrecondition instead of
//   deadlocking; the memory store refuses a nested Read too.
// * A successful Write is durable; if Write returns non-OK, the writes of `fn` are not
//   stored (a commit failure returns Internal / Unavailable).
//
// Errors (every method, never an exception):
//   NotFound            the object (or the object it refers to) does not exist;
//   AlreadyExists       a unique key (id, tenant name, token hash, ...) is taken;
//   FailedPrecondition  the change is not allowed from the stored state;
//   InvalidArgument     the arguments are malformed (e.g. a GPU index a node lacks);
//   OutOfRange          a log chunk leaves a gap (the message says the expected offset);
//   ResourceExhausted   a log is at its size cap;
//   Unavailable         the database stayed locked / busy beyond the busy timeout, or
//                       a write found no space on the disk (or the disk failed it):
//                       see DiskFullError; nothing of that write is stored;
//   DataLoss            a stored row cannot be decoded (a damaged database file);
//   Internal            any other database failure (with the database's message).
//
// Thread-safety: a Store is thread-safe; any method may be called from any thread.
// The Store must outlive every call into it; destroying it waits for queued writes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "metering/pricing.h"
#include "store/records.h"

namespace fastgpu::store {

// Default cap on the log bytes stored per allocation: 8 MiB.
inline constexpr int64_t kDefaultMaxLogBytes = int64_t{8} << 20;

// Read operations. Every result reflects the transaction's snapshot.
class ReadTx {
 public:
  virtual ~ReadTx() = default;

  // --- tenants ---
  virtual Result<model::Tenant> GetTenant(const std::string& id) = 0;          // NotFound
  virtual Result<model::Tenant> GetTenantByName(const std::string& name) = 0;  // NotFound
  virtual Result<std::vector<model::Tenant>> ListTenants() = 0;                // ordered by name

  // --- API tokens ---
  // The token with this hash, revoked or not (the caller checks `revoked`). NotFound.
  virtual Result<ApiToken> FindTokenByHash(const std::string& sha256_hex) = 0;
  // Every token of the tenant, revoked ones included, in creation order. An unknown
  // tenant has none (empty list, not NotFound).
  virtual Result<std::vector<ApiToken>> ListTokens(const std::string& tenant_id) = 0;

  // --- nodes ---
  virtual Result<NodeRecord> GetNode(const std::string& node_id) = 0;            // NotFound
  virtual Result<NodeRecord> GetNodeByAgentId(const std::string& agent_id) = 0;  // NotFound
  virtual Result<std::vector<NodeRecord>> ListNodes() = 0;  // in registration order
  // The nodes named `name` (exact match; names need not be unique), in registration
  // order; empty when none is (not NotFound).
  virtual Result<std::vector<NodeRecord>> FindNodesByName(const std::string& name) = 0;
  // Whether the node carries the admin's drain mark (WriteTx::SetNodeDrained). The mark
  // is apart from NodeRecord::state: it outlives a loss, so that a drained node that
  // comes back is draining again. NotFound for an unknown node.
  virtual Result<bool> IsNodeDrained(const std::string& node_id) = 0;

  // --- jobs ---
  virtual Result<model::Job> GetJob(const std::string& id) = 0;  // with its events; NotFound
  // Jobs matching `filter`, oldest first, at most filter.limit of them. Pass the
  // returned next_cursor back in filter.cursor for the next page (the same filter
  // otherwise). A malformed cursor is InvalidArgument.
  virtual Result<JobPage> ListJobs(const JobFilter& filter) = 0;
  // The jobs named `name` (JobSpec::name, exact match) of the tenant (of every tenant
  // when `tenant_id` is empty), oldest first, at most `limit` of them (clamped to
  // 1..1000), without events. Empty when none is (not NotFound); an empty name matches
  // no job.
  virtual Result<std::vector<model::Job>> FindJobsByName(const std::string& tenant_id,
                                                         const std::string& name, int limit) = 0;

  // --- services (model/service.h) ---
  virtual Result<model::Service> GetService(const std::string& id) = 0;  // NotFound
  // The tenant's service named `name`. NotFound when it has none of that name.
  virtual Result<model::Service> GetServiceByName(const std::string& tenant_id,
                                                  const std::string& name) = 0;
  // The tenant's services (every tenant's when `tenant_id` is empty), in creation order.
  virtual Result<std::vector<model::Service>> ListServices(const std::string& tenant_id) = 0;

  // --- allocations ---
  virtual Result<AllocationRecord> GetAllocation(const std::string& id) = 0;  // NotFound
  // Every allocation of the node / job, any state, in creation order (empty if none).
  virtual Result<std::vector<AllocationRecord>> ListAllocationsByNode(
      const std::string& node_id) = 0;
  virtual Result<std::vector<AllocationRecord>> ListAllocationsByJob(const std::string& job_id) = 0;
  // Every live allocation (pending, starting, running) of every node, creation order.
  virtual Result<std::vector<AllocationRecord>> ListLiveAllocations() = 0;

  // --- job logs (per allocation) ---
  // Up to `limit_bytes` (>= 0) bytes of the allocation's log starting at `offset` (>= 0).
  // An offset at or past the end gives empty data with next_offset == offset; poll
  // again later from there. NotFound when the allocation does not exist; InvalidArgument for
  // a negative offset or limit.
  virtual Result<LogChunk> ReadLog(const std::string& alloc_id, int64_t offset,
                                   int64_t limit_bytes) = 0;
  // Bytes stored for the allocation (0 when nothing yet). NotFound for no allocation.
  virtual Result<int64_t> LogSize(const std::string& alloc_id) = 0;
  // The end of the log as the agent shipped it (WriteTx::SetLogEnd); a zero LogEnd when
  // none was recorded. NotFound for an unknown allocation.
  virtual Result<LogEnd> GetLogEnd(const std::string& alloc_id) = 0;

  // --- idempotency records ---
  virtual Result<IdempotencyRecord> GetIdempotency(const std::string& tenant_id,
                                                   const std::string& key) = 0;  // NotFound

  // --- metering ---
  // The price table last stored by PutPriceTable, as stored. NotFound when none was.
  virtual Result<metering::PriceTable> GetPriceTable() = 0;
  // The tenant's over-budget mark for the period that starts at `period_start_ms`.
  // NotFound when there is none.
  virtual Result<BudgetOverMark> GetBudgetOverMark(const std::string& tenant_id,
                                                   int64_t period_start_ms) = 0;

  // --- the change feed ---
  // What was written since `after` (a Change::seq; 0 = from the start), oldest first, at
  // most `limit` (1..100000) entries. Every write of a job (CreateJob, UpdateJob), an
  // allocation (CreateAllocations, UpdateAllocation, ReleaseAllocation) or a node
  // (UpsertNode, RevokeNodeCredentials, SetNodeState, SetNodeDrained, and
  // UpdateNodeHeartbeat when a GPU's health or reason changes) adds one entry naming it,
  // in the same transaction: a rolled-back write adds none. So a reader that has seen
  // everything up to seq S learns every later write by reading from S. Entries are kept
  // until DeleteChangesBefore.
  virtual Result<std::vector<Change>> ListChangesSince(int64_t after, int limit) = 0;
  // The highest seq written so far (0 when none is kept).
  virtual Result<int64_t> LatestChangeSeq() = 0;
  // The highest seq of a node's entry kept (0 when none): it changes whenever a node is
  // written (and when DeleteChangesBefore drops that entry), so a cache of the nodes that
  // remembers it knows when to read them again.
  virtual Result<int64_t> LatestNodeChangeSeq() = 0;

  // --- cluster secrets ---
  // The SHA-256 (hex) of the current join token. NotFound when none was stored.
  virtual Result<std::string> GetJoinTokenHash() = 0;

  // --- the leader lease ---
  // The lease as last stored by PutLeaderLease. NotFound when none was.
  virtual Result<LeaderLease> GetLeaderLease() = 0;
};

// Write operations; a WriteTx reads its own writes.
class WriteTx : public ReadTx {
 public:
  // --- tenants ---
  // Stores `tenant` as given (the caller sets id and created_at). AlreadyExists when the
  // id or the name is taken.
  virtual Status CreateTenant(const model::Tenant& tenant) = 0;
  virtual Status UpdateTenantQuota(const std::string& id,
                                   const model::Quota& quota) = 0;  // NotFound
  // Whether the tenant's jobs may run as root on nodes (Tenant::allow_root). NotFound.
  virtual Status SetTenantAllowRoot(const std::string& id, bool allow_root) = 0;

  // --- API tokens ---
  // AlreadyExists when the id or the hash is taken; NotFound when the tenant is unknown.
  virtual Status CreateToken(const ApiToken& token) = 0;
  // Marks the token revoked (revoking twice is OK). NotFound.
  virtual Status RevokeToken(const std::string& token_id) = 0;

  // --- nodes ---
  // Registers a node by its agent_id. A new agent_id stores `record` as given
  // (record.node.id must be set by the caller). A known agent_id keeps the stored node
  // id and registered_at and replaces everything else (name, resources, GPUs, token
  // hash, state, last heartbeat); record.node.id is then ignored. AlreadyExists when a
  // new agent_id comes with a node id already used by another agent. (The caller decides
  // whether the agent may register again: see NodeRecord::secret_sha256_hex.)
  virtual Result<UpsertNodeResult> UpsertNode(const NodeRecord& record) = 0;
  // Clears the node's token and secret hashes: its token is refused from now on and the
  // next registration of its agent_id needs only the join token. Revoking twice is OK.
  // NotFound for an unknown node.
  virtual Status RevokeNodeCredentials(const std::string& node_id) = 0;
  // Sets last_heartbeat to `at` and the health of the GPUs listed (others unchanged).
  // NotFound for an unknown node; InvalidArgument for a GPU index the node lacks.
  virtual Status UpdateNodeHeartbeat(const std::string& node_id, TimePoint at,
                                     const std::vector<GpuHealth>& gpu_health) = 0;
  virtual Status SetNodeState(const std::string& node_id, NodeState state) = 0;  // NotFound
  // Sets or clears the node's drain mark (see ReadTx::IsNodeDrained); NodeRecord::state
  // is not changed. Setting a set mark or clearing a clear one is OK. NotFound for an
  // unknown node.
  virtual Status SetNodeDrained(const std::string& node_id, bool drained) = 0;

  // --- jobs ---
  // Stores `job` (the caller sets id, tenant_id, state, created_at, ...; events given
  // are stored too). With a non-empty `idempotency_key`, `request_sha256_hex` (a hash of
  // the request, may be empty) is stored with the key, and a second call with the same
  // (tenant_id, key) returns the job stored by the first with existed = true and the
  // first call's request hash, and stores nothing (the caller compares the hashes).
  // Keys of different tenants never meet. AlreadyExists when the job id is taken;
  // NotFound when the tenant is unknown.
  virtual Result<CreateJobResult> CreateJob(const model::Job& job,
                                            std::string_view idempotency_key = {},
                                            std::string_view request_sha256_hex = {}) = 0;
  // Stores state, reason, attempts and updated_at of `job`, and appends the events of
  // job.events beyond those stored (the stored prefix is not rewritten). NotFound;
  // FailedPrecondition when job.events holds fewer events than are stored.
  virtual Status UpdateJob(const model::Job& job) = 0;
  // Sets the reason a pending job waits with ("waiting: no node has 2 free GPUs"); not a
  // transition, so state, attempts, updated_at and events stay. True when it changed (a
  // change-feed entry is written); false when the job is not pending, already waits with
  // `reason`, or is not stored. One statement where UpdateJob takes several.
  virtual Result<bool> SetPendingReason(const std::string& job_id, const std::string& reason) = 0;

  // --- services ---
  // Stores `service` as given (the caller sets id, tenant_id, times, ...). AlreadyExists
  // when the id is taken or the tenant has a service of that name (spec.name); NotFound
  // when the tenant is unknown.
  virtual Status CreateService(const model::Service& service) = 0;
  // Replaces everything of the stored service but id, tenant_id, name and created_at.
  // NotFound.
  virtual Status UpdateService(const model::Service& service) = 0;
  // Removes the service (its replica jobs stay, as jobs). NotFound.
  virtual Status DeleteService(const std::string& id) = 0;

  // --- allocations ---
  // Stores the records (a gang's allocations in one call; all or none). AlreadyExists
  // for a taken id; NotFound when a job or node they name does not exist.
  virtual Status CreateAllocations(const std::vector<AllocationRecord>& records) = 0;
  // Moves the allocation to update.state and returns the stored result.
  //   * Same state as stored: OK, nothing changes except a non-empty message.
  //   * Released, updated to exited or failed (how its process ended, reported after the
  //     release): exit_code, signal and a non-empty message are stored; the state stays
  //     released and ended_at_ms is kept.
  //   * Otherwise backwards or sideways (see CanAdvance): FailedPrecondition, nothing changes.
  //   * Entering running: started_at_ms = update.at (if not set already).
  //   * Leaving the live states (exited, failed, released): ended_at_ms = update.at
  //     (if not set already); exited / failed also store exit_code and signal.
  // NotFound for an unknown allocation.
  virtual Result<AllocationRecord> UpdateAllocation(const std::string& id,
                                                    const AllocationUpdate& update) = 0;
  // UpdateAllocation to released at `at`; releasing a released allocation is OK.
  virtual Status ReleaseAllocation(const std::string& id, TimePoint at) = 0;

  // --- job logs ---
  // Appends `data` that starts at byte `offset` of the allocation's log, and returns the
  // log size afterwards. Idempotent: bytes before the stored size are skipped (the
  // stored ones are kept, not compared), so a repeated chunk is a no-op. An offset past
  // the stored size (a gap) is OutOfRange, with "expected offset N" in the message.
  // The log is capped (default kDefaultMaxLogBytes per allocation): the oldest bytes
  // are kept and newer ones refused; a chunk that crosses the cap is stored up to the
  // cap (the returned size says how far), and a log already at the cap gives
  // ResourceExhausted. NotFound for an unknown allocation.
  virtual Result<int64_t> AppendLog(const std::string& alloc_id, int64_t offset,
                                    std::string_view data) = 0;
  // Replaces the recorded end of the allocation's log (see ReadTx::GetLogEnd); the caller
  // decides how it moves. NotFound for an unknown allocation; InvalidArgument for a
  // negative shipped_bytes.
  virtual Status SetLogEnd(const std::string& alloc_id, const LogEnd& end) = 0;

  // --- idempotency records ---
  // AlreadyExists when (tenant_id, key) is taken (the stored record is kept).
  virtual Status PutIdempotency(const IdempotencyRecord& record) = 0;
  // Deletes records created before `cutoff`; returns how many were deleted.
  virtual Result<int64_t> DeleteIdempotencyBefore(TimePoint cutoff) = 0;

  // --- metering ---
  // Replaces the price table (every field, the GPU models not in `prices` dropped).
  // InvalidArgument when metering::ValidatePriceTable refuses it (nothing is stored).
  virtual Status PutPriceTable(const metering::PriceTable& prices) = 0;
  // Stores the mark, replacing the one with the same (tenant_id, period_start_ms).
  // NotFound for an unknown tenant.
  virtual Status PutBudgetOverMark(const BudgetOverMark& mark) = 0;
  // Deletes the mark; deleting a missing one is OK.
  virtual Status DeleteBudgetOverMark(const std::string& tenant_id, int64_t period_start_ms) = 0;

  // --- the change feed ---
  // Deletes the entries with seq < `before`; returns how many.
  virtual Result<int64_t> DeleteChangesBefore(int64_t before) = 0;

  // --- cluster secrets ---
  // Replaces the join token's hash. InvalidArgument for an empty hash.
  virtual Status SetJoinTokenHash(const std::string& sha256_hex) = 0;

  // --- the leader lease ---
  // Replaces the lease (the caller decides who may take it: server/leader.h).
  // InvalidArgument for an empty holder or a generation below 1.
  virtual Status PutLeaderLease(const LeaderLease& lease) = 0;
};

// The status of a write that failed because the disk under the store is full (or failed
// the write): Unavailable, "the control plane's disk is full; retry later (<detail>)".
// Clients retry on it (HTTP 503); nothing that depends on the write is to be treated as
// failed for good.
Status DiskFullError(std::string_view detail);

// Counters of a store since it was opened (for metrics and tests).
struct StoreStats {
  int64_t writes_ok = 0;      // Write calls that committed
  int64_t writes_failed = 0;  // Write calls that returned non-OK
  int64_t commits = 0;        // database transactions committed (one per batch)
  int64_t queued_writes = 0;  // Write calls waiting for the writer right now
  int64_t max_batch = 0;      // largest number of Write calls in one transaction so far
};

// A subscription to the commits of other processes (Store::WatchCommits); destroying it
// ends the subscription (and joins its thread).
class CommitWatch {
 public:
  virtual ~CommitWatch() = default;
};

class Store {
 public:
  virtual ~Store() = default;
  // See the file comment.
  virtual Status Write(std::function<Status(WriteTx&)> fn) = 0;
  virtual Status Read(std::function<Status(ReadTx&)> fn) = 0;
  // "sqlite", "postgres" or "memory".
  virtual std::string_view Kind() const = 0;
  // A snapshot of the counters; the default (for fakes) is all zero.
  virtual StoreStats Stats() const { return {}; }
  // Calls `on_commit`, on a thread of the watch's own, soon after a write transaction
  // commits on this database, by any process sharing it (a job submitted to another
  // control-plane replica), until the watch is destroyed; also once after a lost
  // connection comes back, as commits may have been missed meanwhile. nullptr for a
  // store only one process uses (the default): its writes are seen where they are made.
  virtual std::unique_ptr<CommitWatch> WatchCommits(std::function<void()> on_commit) {
    (void)on_commit;
    return nullptr;
  }
};

struct SqliteOptions {
  std::string path;                              // required; created if missing
  std::chrono::milliseconds busy_timeout{5000};  // default 5 s, then Unavailable
  int read_pool_size = 4;                        // default 4 read connections, >= 1
  int max_batch = 512;                           // default 512 Write calls per commit
  int64_t max_log_bytes = kDefaultMaxLogBytes;   // default 8 MiB per allocation
};

// Opens (or creates) the database at options.path in WAL mode with synchronous=FULL
// and applies the schema migrations it lacks. FailedPrecondition when the file was
// written by a newer FastGPU (a schema version this build does not know);
// InvalidArgument for bad options; Internal / Unavailable for database failures.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

struct PostgresOptions {
  // postgresql://user[:password]@host[:port]/database[?param=value...] (libpq's URI form;
  // postgres:// too). Required.
  std::string url;
  std::chrono::seconds connect_timeout{5};      // per connection attempt
  int read_pool_size = 4;                       // default 4 read connections, >= 1
  int max_batch = 512;                          // default 512 Write calls per commit
  int64_t max_log_bytes = kDefaultMaxLogBytes;  // default 8 MiB per allocation
};

// Whether `url` names a PostgreSQL database (starts with postgresql:// or postgres://).
bool IsPostgresUrl(std::string_view url);
// The URL with its password (if any) written "***", for messages and logs.
std::string RedactStoreUrl(std::string_view url);

// Connects to the database (one writer and read_pool_size reader connections) and
// applies the schema migrations it lacks (one replica at a time). Writes of every
// replica on the database are serialised, as SQLite's are. InvalidArgument for a
// malformed URL or bad options; Unavailable when the server cannot be reached;
// FailedPrecondition for a database of a newer schema. A connection lost later fails the
// calls on it with Unavailable and is re-opened by the next transaction.
Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options);

struct MemoryStoreOptions {
  int64_t max_log_bytes = kDefaultMaxLogBytes;  // default 8 MiB per allocation
};

// A store that keeps everything in memory (lost when destroyed), with the same
// semantics as the SQLite one. Write is "durable" as soon as it returns.
std::unique_ptr<Store> NewMemoryStore(const MemoryStoreOptions& options = {});

}  // namespace fastgpu::store

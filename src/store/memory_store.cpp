// MemoryStore: the Store interface over maps in memory, for tests of other modules.
//
// One shared_mutex: Read holds it shared (a consistent snapshot), Write holds it
// exclusive. A Write records an undo step before each change; when `fn` fails the
// steps run backwards, so a failing `fn` leaves nothing behind.
#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <utility>

#include "store/store.h"
#include "store/store_util.h"

namespace fastgpu::store {
namespace {

template <typename T>
struct Seq {
  int64_t seq = 0;  // creation order
  T value;
};

using TenantKey = std::pair<std::string, std::string>;  // (tenant_id, key)

struct MemState {
  int64_t next_seq = 1;
  std::map<std::string, model::Tenant> tenants;
  std::map<std::string, std::string> tenant_by_name;
  std::map<std::string, Seq<ApiToken>> tokens;
  std::map<std::string, std::string> token_by_hash;
  std::map<std::string, Seq<NodeRecord>> nodes;
  std::map<std::string, std::string> node_by_agent;
  std::map<std::string, Seq<model::Job>> jobs;
  std::map<int64_t, std::string> job_by_seq;
  std::map<TenantKey, std::string> job_by_idempotency_key;
  std::map<TenantKey, std::string> job_request_hash;  // same keys: the first request's hash
  std::map<std::string, Seq<model::Service>> services;
  std::map<std::string, Seq<AllocationRecord>> allocs;
  std::map<std::string, std::string> logs;
  std::map<TenantKey, IdempotencyRecord> idempotency;
  std::map<std::string, bool> drained_nodes;  // node id -> true (a set, for Put / Erase)
  std::map<std::string, LogEnd> log_ends;
  std::map<std::pair<std::string, int64_t>, BudgetOverMark> budget_marks;
  std::optional<metering::PriceTable> prices;
  std::optional<std::string> join_token_hash;
  std::optional<LeaderLease> leader_lease;
  std::map<int64_t, Change> changes;  // the change feed, by seq
  int64_t next_change_seq = 1;        // never reused, even after a rollback
};

template <typename T>
std::vector<T> SortedBySeq(std::vector<Seq<T>> items) {
  std::sort(items.begin(), items.end(),
            [](const Seq<T>& a, const Seq<T>& b) { return a.seq < b.seq; });
  std::vector<T> out;
  out.reserve(items.size());
  for (Seq<T>& s : items) out.push_back(std::move(s.value));
  return out;
}

template <typename Base>
class MemReader : public Base {
 public:
  explicit MemReader(MemState& s) : s_(s) {}

  Result<model::Tenant> GetTenant(const std::string& id) override {
    auto it = s_.tenants.find(id);
    if (it == s_.tenants.end()) return NotFound("tenant " + id + " not found");
    return it->second;
  }
  Result<model::Tenant> GetTenantByName(const std::string& name) override {
    auto it = s_.tenant_by_name.find(name);
    if (it == s_.tenant_by_name.end()) return NotFound("tenant '" + name + "' not found");
    return s_.tenants.at(it->second);
  }
  Result<std::vector<model::Tenant>> ListTenants() override {
    std::vector<model::Tenant> out;
    for (const auto& [name, id] : s_.tenant_by_name) out.push_back(s_.tenants.at(id));
    return out;
  }
  Result<ApiToken> FindTokenByHash(const std::string& sha256_hex) override {
    auto it = s_.token_by_hash.find(sha256_hex);
    if (it == s_.token_by_hash.end()) return NotFound("token not found");
    return s_.tokens.at(it->second).value;
  }
  Result<std::vector<ApiToken>> ListTokens(const std::string& tenant_id) override {
    std::vector<Seq<ApiToken>> found;
    for (const auto& [id, t] : s_.tokens) {
      if (t.value.tenant_id == tenant_id) found.push_back(t);
    }
    return SortedBySeq(std::move(found));
  }
  Result<NodeRecord> GetNode(const std::string& node_id) override {
    auto it = s_.nodes.find(node_id);
    if (it == s_.nodes.end()) return NotFound("node " + node_id + " not found");
    return it->second.value;
  }
  Result<NodeRecord> GetNodeByAgentId(const std::string& agent_id) override {
    auto it = s_.node_by_agent.find(agent_id);
    if (it == s_.node_by_agent.end()) return NotFound("no node for agent " + agent_id);
    return s_.nodes.at(it->second).value;
  }
  Result<std::vector<NodeRecord>> ListNodes() override {
    std::vector<Seq<NodeRecord>> all;
    for (const auto& [id, n] : s_.nodes) all.push_back(n);
    return SortedBySeq(std::move(all));
  }
  Result<std::vector<NodeRecord>> FindNodesByName(const std::string& name) override {
    std::vector<Seq<NodeRecord>> found;
    for (const auto& [id, n] : s_.nodes) {
      if (n.value.node.name == name) found.push_back(n);
    }
    return SortedBySeq(std::move(found));
  }
  Result<bool> IsNodeDrained(const std::string& node_id) override {
    if (!s_.nodes.contains(node_id)) return NotFound("node " + node_id + " not found");
    return s_.drained_nodes.contains(node_id);
  }
  Result<std::vector<model::Job>> FindJobsByName(const std::string& tenant_id,
                                                 const std::string& name, int limit) override {
    std::vector<model::Job> out;
    if (name.empty()) return out;
    const size_t most = static_cast<size_t>(ClampJobLimit(limit));
    for (const auto& [seq, id] : s_.job_by_seq) {
      const model::Job& job = s_.jobs.at(id).value;
      if (job.spec.name != name || (!tenant_id.empty() && job.tenant_id != tenant_id)) continue;
      out.push_back(job);
      out.back().events.clear();
      if (out.size() == most) break;
    }
    return out;
  }
  Result<model::Job> GetJob(const std::string& id) override {
    auto it = s_.jobs.find(id);
    if (it == s_.jobs.end()) return NotFound("job " + id + " not found");
    return it->second.value;
  }
  Result<JobPage> ListJobs(const JobFilter& filter) override {
    FASTGPU_ASSIGN_OR_RETURN(int64_t after, ParseJobCursor(filter.cursor));
    const int limit = ClampJobLimit(filter.limit);
    JobPage page;
    for (auto it = s_.job_by_seq.upper_bound(after); it != s_.job_by_seq.end(); ++it) {
      const model::Job& job = s_.jobs.at(it->second).value;
      if (!filter.tenant_id.empty() && job.tenant_id != filter.tenant_id) continue;
      if (!filter.states.empty() &&
          std::find(filter.states.begin(), filter.states.end(), job.state) == filter.states.end()) {
        continue;
      }
      if (static_cast<int>(page.jobs.size()) == limit) {
        page.next_cursor = FormatJobCursor(std::prev(it)->first);
        break;
      }
      page.jobs.push_back(job);
      if (!filter.include_events) page.jobs.back().events.clear();
    }
    return page;
  }
  Result<model::Service> GetService(const std::string& id) override {
    auto it = s_.services.find(id);
    if (it == s_.services.end()) return NotFound("service " + id + " not found");
    return it->second.value;
  }
  Result<model::Service> GetServiceByName(const std::string& tenant_id,
                                          const std::string& name) override {
    for (const auto& [id, svc] : s_.services) {
      if (svc.value.tenant_id == tenant_id && svc.value.spec.name == name) return svc.value;
    }
    return NotFound("no service '" + name + "'");
  }
  Result<std::vector<model::Service>> ListServices(const std::string& tenant_id) override {
    std::vector<Seq<model::Service>> found;
    for (const auto& [id, svc] : s_.services) {
      if (tenant_id.empty() || svc.value.tenant_id == tenant_id) found.push_back(svc);
    }
    return SortedBySeq(std::move(found));
  }
  Result<AllocationRecord> GetAllocation(const std::string& id) override {
    auto it = s_.allocs.find(id);
    if (it == s_.allocs.end()) return NotFound("allocation " + id + " not found");
    return it->second.value;
  }
  Result<std::vector<AllocationRecord>> ListAllocationsByNode(const std::string& node_id) override {
    return AllocsWhere([&](const AllocationRecord& r) { return r.alloc.node_id == node_id; });
  }
  Result<std::vector<AllocationRecord>> ListAllocationsByJob(const std::string& job_id) override {
    return AllocsWhere([&](const AllocationRecord& r) { return r.alloc.job_id == job_id; });
  }
  Result<std::vector<AllocationRecord>> ListLiveAllocations() override {
    return AllocsWhere([](const AllocationRecord& r) { return IsLive(r.state); });
  }
  Result<LogChunk> ReadLog(const std::string& alloc_id, int64_t offset,
                           int64_t limit_bytes) override {
    if (offset < 0 || limit_bytes < 0) return InvalidArgument("negative log offset or limit");
    if (!s_.allocs.contains(alloc_id)) return NotFound("allocation " + alloc_id + " not found");
    auto log = s_.logs.find(alloc_id);
    LogChunk chunk;
    if (log != s_.logs.end()) {
      chunk.size_bytes = static_cast<int64_t>(log->second.size());
      if (offset < chunk.size_bytes) {
        chunk.data =
            log->second.substr(static_cast<size_t>(offset), static_cast<size_t>(limit_bytes));
      }
    }
    chunk.next_offset = offset + static_cast<int64_t>(chunk.data.size());
    return chunk;
  }
  Result<int64_t> LogSize(const std::string& alloc_id) override {
    if (!s_.allocs.contains(alloc_id)) return NotFound("allocation " + alloc_id + " not found");
    auto it = s_.logs.find(alloc_id);
    return it == s_.logs.end() ? int64_t{0} : static_cast<int64_t>(it->second.size());
  }
  Result<LogEnd> GetLogEnd(const std::string& alloc_id) override {
    if (!s_.allocs.contains(alloc_id)) return NotFound("allocation " + alloc_id + " not found");
    auto it = s_.log_ends.find(alloc_id);
    return it == s_.log_ends.end() ? LogEnd{} : it->second;
  }
  Result<IdempotencyRecord> GetIdempotency(const std::string& tenant_id,
                                           const std::string& key) override {
    auto it = s_.idempotency.find({tenant_id, key});
    if (it == s_.idempotency.end()) return NotFound("no idempotency record for " + key);
    return it->second;
  }
  Result<metering::PriceTable> GetPriceTable() override {
    if (!s_.prices) return NotFound("no price table stored");
    return *s_.prices;
  }
  Result<BudgetOverMark> GetBudgetOverMark(const std::string& tenant_id,
                                           int64_t period_start_ms) override {
    auto it = s_.budget_marks.find({tenant_id, period_start_ms});
    if (it == s_.budget_marks.end()) {
      return NotFound("no budget mark for tenant " + tenant_id + " in that period");
    }
    return it->second;
  }
  Result<LeaderLease> GetLeaderLease() override {
    if (!s_.leader_lease) return NotFound("no leader lease stored");
    return *s_.leader_lease;
  }
  Result<std::string> GetJoinTokenHash() override {
    if (!s_.join_token_hash) return NotFound("no join token stored");
    return *s_.join_token_hash;
  }
  Result<std::vector<Change>> ListChangesSince(int64_t after, int limit) override {
    std::vector<Change> out;
    const size_t most = static_cast<size_t>(std::clamp(limit, 1, 100000));
    for (auto it = s_.changes.upper_bound(after); it != s_.changes.end() && out.size() < most;
         ++it) {
      out.push_back(it->second);
    }
    return out;
  }
  Result<int64_t> LatestChangeSeq() override {
    return s_.changes.empty() ? 0 : s_.changes.rbegin()->first;
  }
  Result<int64_t> LatestNodeChangeSeq() override {
    for (auto it = s_.changes.rbegin(); it != s_.changes.rend(); ++it) {
      if (it->second.kind == ChangeKind::kNode) return it->first;
    }
    return 0;
  }

 protected:
  template <typename Pred>
  std::vector<AllocationRecord> AllocsWhere(Pred pred) {
    std::vector<Seq<AllocationRecord>> found;
    for (const auto& [id, r] : s_.allocs) {
      if (pred(r.value)) found.push_back(r);
    }
    return SortedBySeq(std::move(found));
  }

  MemState& s_;
};

using MemReadTx = MemReader<ReadTx>;

class MemWriteTx final : public MemReader<WriteTx> {
 public:
  MemWriteTx(MemState& s, int64_t max_log_bytes) : MemReader(s), max_log_bytes_(max_log_bytes) {}

  // Undoes every change of this transaction, newest first.
  void Rollback() {
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) (*it)();
    undo_.clear();
  }

  Status CreateTenant(const model::Tenant& tenant) override {
    if (s_.tenants.contains(tenant.id)) return AlreadyExists("tenant " + tenant.id + " exists");
    if (s_.tenant_by_name.contains(tenant.name)) {
      return AlreadyExists("tenant name '" + tenant.name + "' is taken");
    }
    model::Tenant t = tenant;
    t.created_at = TruncateToMillis(t.created_at);
    Put(s_.tenants, t.id, t);
    Put(s_.tenant_by_name, t.name, t.id);
    return OkStatus();
  }
  Status UpdateTenantQuota(const std::string& id, const model::Quota& quota) override {
    FASTGPU_ASSIGN_OR_RETURN(model::Tenant t, GetTenant(id));
    t.quota = quota;
    Put(s_.tenants, id, t);
    return OkStatus();
  }
  Status SetTenantAllowRoot(const std::string& id, bool allow_root) override {
    FASTGPU_ASSIGN_OR_RETURN(model::Tenant t, GetTenant(id));
    t.allow_root = allow_root;
    Put(s_.tenants, id, t);
    return OkStatus();
  }
  Status CreateToken(const ApiToken& token) override {
    if (s_.tokens.contains(token.id)) return AlreadyExists("token " + token.id + " exists");
    if (s_.token_by_hash.contains(token.sha256_hex)) return AlreadyExists("token hash is taken");
    if (!s_.tenants.contains(token.tenant_id)) {
      return NotFound("tenant " + token.tenant_id + " not found");
    }
    ApiToken t = token;
    t.created_at = TruncateToMillis(t.created_at);
    Put(s_.tokens, t.id, Seq<ApiToken>{NextSeq(), t});
    Put(s_.token_by_hash, t.sha256_hex, t.id);
    return OkStatus();
  }
  Status RevokeToken(const std::string& token_id) override {
    auto it = s_.tokens.find(token_id);
    if (it == s_.tokens.end()) return NotFound("token " + token_id + " not found");
    Seq<ApiToken> t = it->second;
    t.value.revoked = true;
    Put(s_.tokens, token_id, t);
    return OkStatus();
  }
  Result<UpsertNodeResult> UpsertNode(const NodeRecord& record) override {
    NodeRecord r = record;
    r.last_heartbeat = TruncateToMillis(r.last_heartbeat);
    r.registered_at = TruncateToMillis(r.registered_at);
    auto known = s_.node_by_agent.find(record.agent_id);
    if (known != s_.node_by_agent.end()) {
      Seq<NodeRecord> stored = s_.nodes.at(known->second);
      r.node.id = stored.value.node.id;
      r.registered_at = stored.value.registered_at;
      Put(s_.nodes, r.node.id, Seq<NodeRecord>{stored.seq, r});
      FASTGPU_RETURN_IF_ERROR(Changed(ChangeKind::kNode, r.node.id));
      return UpsertNodeResult{r.node.id, true};
    }
    if (r.node.id.empty()) return InvalidArgument("node id is required for a new agent");
    if (s_.nodes.contains(r.node.id)) return AlreadyExists("node " + r.node.id + " exists");
    Put(s_.nodes, r.node.id, Seq<NodeRecord>{NextSeq(), r});
    Put(s_.node_by_agent, r.agent_id, r.node.id);
    FASTGPU_RETURN_IF_ERROR(Changed(ChangeKind::kNode, r.node.id));
    return UpsertNodeResult{r.node.id, false};
  }
  Status RevokeNodeCredentials(const std::string& node_id) override {
    auto it = s_.nodes.find(node_id);
    if (it == s_.nodes.end()) return NotFound("node " + node_id + " not found");
    Seq<NodeRecord> n = it->second;
    n.value.token_sha256_hex.clear();
    n.value.secret_sha256_hex.clear();
    Put(s_.nodes, node_id, n);
    return Changed(ChangeKind::kNode, node_id);
  }
  Status UpdateNodeHeartbeat(const std::string& node_id, TimePoint at,
                             const std::vector<GpuHealth>& gpu_health) override {
    auto it = s_.nodes.find(node_id);
    if (it == s_.nodes.end()) return NotFound("node " + node_id + " not found");
    Seq<NodeRecord> n = it->second;
    FASTGPU_RETURN_IF_ERROR(ApplyGpuHealth(n.value.node, gpu_health));
    n.value.last_heartbeat = TruncateToMillis(at);
    const bool changed = HealthChanged(it->second.value.node.gpus, n.value.node.gpus);
    Put(s_.nodes, node_id, n);
    return changed ? Changed(ChangeKind::kNode, node_id) : OkStatus();
  }
  Status SetNodeState(const std::string& node_id, NodeState state) override {
    auto it = s_.nodes.find(node_id);
    if (it == s_.nodes.end()) return NotFound("node " + node_id + " not found");
    Seq<NodeRecord> n = it->second;
    n.value.state = state;
    Put(s_.nodes, node_id, n);
    return Changed(ChangeKind::kNode, node_id);
  }
  Status SetNodeDrained(const std::string& node_id, bool drained) override {
    if (!s_.nodes.contains(node_id)) return NotFound("node " + node_id + " not found");
    if (drained) {
      Put(s_.drained_nodes, node_id, true);
    } else {
      Erase(s_.drained_nodes, node_id);
    }
    return Changed(ChangeKind::kNode, node_id);
  }
  Result<CreateJobResult> CreateJob(const model::Job& job, std::string_view idempotency_key,
                                    std::string_view request_sha256_hex) override {
    if (!s_.tenants.contains(job.tenant_id)) {
      return NotFound("tenant " + job.tenant_id + " not found");
    }
    TenantKey key{job.tenant_id, std::string(idempotency_key)};
    if (!idempotency_key.empty()) {
      auto it = s_.job_by_idempotency_key.find(key);
      if (it != s_.job_by_idempotency_key.end()) {
        auto hash = s_.job_request_hash.find(key);
        return CreateJobResult{s_.jobs.at(it->second).value, true,
                               hash == s_.job_request_hash.end() ? "" : hash->second};
      }
    }
    if (s_.jobs.contains(job.id)) return AlreadyExists("job " + job.id + " exists");
    model::Job j = NormalizeJobTimes(job);
    int64_t seq = NextSeq();
    Put(s_.jobs, j.id, Seq<model::Job>{seq, j});
    Put(s_.job_by_seq, seq, j.id);
    if (!idempotency_key.empty()) {
      Put(s_.job_by_idempotency_key, key, j.id);
      Put(s_.job_request_hash, key, std::string(request_sha256_hex));
    }
    FASTGPU_RETURN_IF_ERROR(Changed(ChangeKind::kJob, j.id));
    return CreateJobResult{j, false, ""};
  }
  Status UpdateJob(const model::Job& job) override {
    auto it = s_.jobs.find(job.id);
    if (it == s_.jobs.end()) return NotFound("job " + job.id + " not found");
    Seq<model::Job> stored = it->second;
    if (job.events.size() < stored.value.events.size()) {
      return FailedPrecondition("job " + job.id + ": events can only be appended");
    }
    model::Job n = NormalizeJobTimes(job);
    model::Job& s = stored.value;
    s.state = n.state;
    s.reason = n.reason;
    s.attempts = n.attempts;
    s.updated_at = n.updated_at;
    s.events.insert(s.events.end(), n.events.begin() + static_cast<long>(s.events.size()),
                    n.events.end());
    Put(s_.jobs, job.id, stored);
    return Changed(ChangeKind::kJob, job.id);
  }
  Result<bool> SetPendingReason(const std::string& job_id, const std::string& reason) override {
    auto it = s_.jobs.find(job_id);
    if (it == s_.jobs.end()) return false;
    Seq<model::Job> stored = it->second;
    if (stored.value.state != model::JobState::kPending || stored.value.reason == reason) {
      return false;
    }
    stored.value.reason = reason;
    Put(s_.jobs, job_id, stored);
    FASTGPU_RETURN_IF_ERROR(Changed(ChangeKind::kJob, job_id));
    return true;
  }
  Status CreateAllocations(const std::vector<AllocationRecord>& records) override {
    std::set<std::string> ids;
    for (const AllocationRecord& r : records) {
      if (s_.allocs.contains(r.alloc.id) || !ids.insert(r.alloc.id).second) {
        return AlreadyExists("allocation " + r.alloc.id + " exists");
      }
      if (!s_.jobs.contains(r.alloc.job_id))
        return NotFound("job " + r.alloc.job_id + " not found");
      if (!s_.nodes.contains(r.alloc.node_id)) {
        return NotFound("node " + r.alloc.node_id + " not found");
      }
    }
    for (const AllocationRecord& r : records) {
      AllocationRecord copy = r;
      copy.alloc.created_at = TruncateToMillis(copy.alloc.created_at);
      Put(s_.allocs, r.alloc.id, Seq<AllocationRecord>{NextSeq(), copy});
      FASTGPU_RETURN_IF_ERROR(Changed(ChangeKind::kAllocation, r.alloc.id));
    }
    return OkStatus();
  }
  Result<AllocationRecord> UpdateAllocation(const std::string& id,
                                            const AllocationUpdate& update) override {
    auto it = s_.allocs.find(id);
    if (it == s_.allocs.end()) return NotFound("allocation " + id + " not found");
    Seq<AllocationRecord> r = it->second;
    FASTGPU_RETURN_IF_ERROR(ApplyAllocationUpdate(r.value, update));
    Put(s_.allocs, id, r);
    FASTGPU_RETURN_IF_ERROR(Changed(ChangeKind::kAllocation, id));
    return r.value;
  }
  Status ReleaseAllocation(const std::string& id, TimePoint at) override {
    AllocationUpdate u;
    u.state = AllocationState::kReleased;
    u.at = at;
    return UpdateAllocation(id, u).status();
  }
  Result<int64_t> AppendLog(const std::string& alloc_id, int64_t offset,
                            std::string_view data) override {
    if (!s_.allocs.contains(alloc_id)) return NotFound("allocation " + alloc_id + " not found");
    std::string& log = s_.logs[alloc_id];
    const int64_t size = static_cast<int64_t>(log.size());
    FASTGPU_ASSIGN_OR_RETURN(std::string_view fresh,
                             LogBytesToAppend(size, offset, data, max_log_bytes_));
    if (!fresh.empty()) {
      undo_.push_back([this, alloc_id, size] { s_.logs[alloc_id].resize(size); });
      log.append(fresh);
    }
    return static_cast<int64_t>(log.size());
  }
  Status SetLogEnd(const std::string& alloc_id, const LogEnd& end) override {
    if (end.shipped_bytes < 0) return InvalidArgument("negative shipped_bytes");
    if (!s_.allocs.contains(alloc_id)) return NotFound("allocation " + alloc_id + " not found");
    Put(s_.log_ends, alloc_id, end);
    return OkStatus();
  }
  Status CreateService(const model::Service& service) override {
    if (!s_.tenants.contains(service.tenant_id)) {
      return NotFound("tenant " + service.tenant_id + " not found");
    }
    if (s_.services.contains(service.id)) return AlreadyExists("service " + service.id + " exists");
    if (this->GetServiceByName(service.tenant_id, service.spec.name).ok()) {
      return AlreadyExists("service name '" + service.spec.name + "' is taken");
    }
    Put(s_.services, service.id, Seq<model::Service>{NextSeq(), NormalizeTimes(service)});
    return OkStatus();
  }
  Status UpdateService(const model::Service& service) override {
    auto it = s_.services.find(service.id);
    if (it == s_.services.end()) return NotFound("service " + service.id + " not found");
    Seq<model::Service> stored = it->second;
    const model::Service& old = stored.value;
    model::Service n = NormalizeTimes(service);
    n.tenant_id = old.tenant_id;
    n.spec.name = old.spec.name;
    n.created_at = old.created_at;
    stored.value = std::move(n);
    Put(s_.services, service.id, std::move(stored));
    return OkStatus();
  }
  Status DeleteService(const std::string& id) override {
    if (!s_.services.contains(id)) return NotFound("service " + id + " not found");
    Erase(s_.services, id);
    return OkStatus();
  }
  Status PutIdempotency(const IdempotencyRecord& record) override {
    TenantKey key{record.tenant_id, record.key};
    if (s_.idempotency.contains(key)) return AlreadyExists("request id " + record.key + " used");
    IdempotencyRecord r = record;
    r.created_at = TruncateToMillis(r.created_at);
    Put(s_.idempotency, key, r);
    return OkStatus();
  }
  Result<int64_t> DeleteChangesBefore(int64_t before) override {
    std::vector<int64_t> old;
    for (auto it = s_.changes.begin(); it != s_.changes.end() && it->first < before; ++it)
      old.push_back(it->first);
    for (int64_t seq : old) Erase(s_.changes, seq);
    return static_cast<int64_t>(old.size());
  }
  Result<int64_t> DeleteIdempotencyBefore(TimePoint cutoff) override {
    std::vector<TenantKey> doomed;
    for (const auto& [key, r] : s_.idempotency) {
      if (r.created_at < TruncateToMillis(cutoff)) doomed.push_back(key);
    }
    for (const TenantKey& key : doomed) Erase(s_.idempotency, key);
    return static_cast<int64_t>(doomed.size());
  }
  Status PutPriceTable(const metering::PriceTable& prices) override {
    FASTGPU_RETURN_IF_ERROR(metering::ValidatePriceTable(prices));
    Assign(s_.prices, std::optional<metering::PriceTable>(prices));
    return OkStatus();
  }
  Status PutBudgetOverMark(const BudgetOverMark& mark) override {
    if (!s_.tenants.contains(mark.tenant_id)) {
      return NotFound("tenant " + mark.tenant_id + " not found");
    }
    Put(s_.budget_marks, std::make_pair(mark.tenant_id, mark.period_start_ms), mark);
    return OkStatus();
  }
  Status DeleteBudgetOverMark(const std::string& tenant_id, int64_t period_start_ms) override {
    Erase(s_.budget_marks, std::make_pair(tenant_id, period_start_ms));
    return OkStatus();
  }
  Status SetJoinTokenHash(const std::string& sha256_hex) override {
    if (sha256_hex.empty()) return InvalidArgument("empty join token hash");
    Assign(s_.join_token_hash, std::optional<std::string>(sha256_hex));
    return OkStatus();
  }
  Status PutLeaderLease(const LeaderLease& lease) override {
    FASTGPU_RETURN_IF_ERROR(ValidateLeaderLease(lease));
    Assign(s_.leader_lease, std::optional<LeaderLease>(lease));
    return OkStatus();
  }

 private:
  static model::Service NormalizeTimes(model::Service s) {
    s.created_at = TruncateToMillis(s.created_at);
    s.updated_at = TruncateToMillis(s.updated_at);
    return s;
  }
  // Adds an entry to the change feed (ReadTx::ListChangesSince).
  Status Changed(ChangeKind kind, const std::string& id) {
    const int64_t seq = s_.next_change_seq++;
    Put(s_.changes, seq, Change{seq, kind, id});
    return OkStatus();
  }
  int64_t NextSeq() {
    int64_t old = s_.next_seq++;
    undo_.push_back([this, old] { s_.next_seq = old; });
    return old;
  }
  // Remembers the current value at `key` (or its absence) so Rollback can restore it.
  template <typename M, typename K>
  void Remember(M& m, const K& key) {
    auto it = m.find(key);
    if (it == m.end()) {
      undo_.push_back([&m, key] { m.erase(key); });
    } else {
      undo_.push_back([&m, key, old = it->second] { m.insert_or_assign(key, old); });
    }
  }
  template <typename M, typename K, typename V>
  void Put(M& m, const K& key, V value) {
    Remember(m, key);
    m.insert_or_assign(key, std::move(value));
  }
  template <typename M, typename K>
  void Erase(M& m, const K& key) {
    Remember(m, key);
    m.erase(key);
  }
  // Replaces a single value, remembering the old one.
  template <typename V>
  void Assign(V& slot, V value) {
    undo_.push_back([&slot, old = slot] { slot = old; });
    slot = std::move(value);
  }

  const int64_t max_log_bytes_;
  std::vector<std::function<void()>> undo_;
};

class MemoryStore final : public Store {
 public:
  explicit MemoryStore(const MemoryStoreOptions& options) : options_(options) {}

  Status Write(std::function<Status(WriteTx&)> fn) override {
    if (in_transaction_ == this) return FailedPrecondition("nested Store::Write");
    std::unique_lock lock(mu_);
    in_transaction_ = this;
    MemWriteTx tx(state_, options_.max_log_bytes);
    Status s = RunGuarded([&] { return fn(tx); });
    if (!s.ok()) tx.Rollback();
    in_transaction_ = nullptr;
    std::lock_guard stats_lock(stats_mu_);
    if (s.ok()) {
      ++stats_.writes_ok;
      ++stats_.commits;
      stats_.max_batch = 1;
    } else {
      ++stats_.writes_failed;
    }
    return s;
  }
  Status Read(std::function<Status(ReadTx&)> fn) override {
    if (in_transaction_ == this) return FailedPrecondition("Store::Read inside a transaction");
    std::shared_lock lock(mu_);
    in_transaction_ = this;
    MemReadTx tx(state_);
    Status s = RunGuarded([&] { return fn(tx); });
    in_transaction_ = nullptr;
    return s;
  }
  std::string_view Kind() const override { return "memory"; }
  StoreStats Stats() const override {
    std::lock_guard lock(stats_mu_);
    return stats_;
  }

 private:
  // The store whose transaction this thread is running, to refuse nesting.
  static thread_local const MemoryStore* in_transaction_;
  mutable std::mutex stats_mu_;
  StoreStats stats_;  // guarded by stats_mu_

  const MemoryStoreOptions options_;
  std::shared_mutex mu_;
  MemState state_;
};

thread_local const MemoryStore* MemoryStore::in_transaction_ = nullptr;

}  // namespace

std::unique_ptr<Store> NewMemoryStore(const MemoryStoreOptions& options) {
  return std::make_unique<MemoryStore>(options);
}

}  // namespace fastgpu::store

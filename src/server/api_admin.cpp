// Tenants, API tokens (admin) and the /metrics text.
#include <map>

#include "server/api.h"
#include "server/usage_service.h"

namespace fastgpu::server {

namespace {

json::object TokenToJson(const store::ApiToken& t) {
  return {{"id", t.id},
          {"tenant_id", t.tenant_id},
          {"name", t.name},
          {"revoked", t.revoked},
          {"created_at", ToUnixMillis(t.created_at)}};
}

}  // namespace

// Healthy when the store answers a read: a replica that lost its database says so (503),
// so that a load balancer sends its clients elsewhere.
Result<Reply> Api::Health(const Call&) {
  Status s = store_.Read([](store::ReadTx& tx) { return tx.LatestChangeSeq().status(); });
  if (!s.ok()) {
    return Unavailable("the control plane cannot reach its " + std::string(store_.Kind()) +
                       " store: " + s.message());
  }
  json::object out{{"status", "ok"}, {"store", std::string(store_.Kind())}};
  if (const LeaderElector* l = options_.leader) {
    out["replica"] = l->replica_id();
    out["leading"] = l->leading();
    out["leader"] = l->leader();
  }
  return Reply::Json(std::move(out));
}

Result<Reply> Api::ListRoutes(const Call&) {
  json::array out;
  for (const RouteInfo& r : Routes()) {
    out.push_back(json::object{{"method", r.method},
                               {"path", r.path},
                               {"auth", AuthLevelName(r.auth)},
                               {"summary", r.summary}});
  }
  return Reply::Json(json::object{{"routes", std::move(out)}});
}

Result<Reply> Api::CreateTenant(const Call& c) {
  FASTGPU_ASSIGN_OR_RETURN(json::object body, ParseObject(c.req.body));
  FieldReader r(body);
  model::Tenant t;
  Status st = r.String("name", t.name, true);
  if (st.ok()) st = r.Bool("admin", t.admin);
  if (st.ok()) st = r.Bool("allow_root", t.allow_root);
  if (st.ok()) st = r.Int("max_gpu_milli", t.quota.max_gpu_milli, 0, int64_t{1} << 40);
  if (st.ok()) st = r.Int("budget_cents", t.quota.budget_cents, 0, int64_t{1} << 50);
  if (st.ok()) st = r.Finish();
  if (st.ok()) st = model::ValidateTenantName(t.name).WithContext("name");
  if (st.ok()) st = model::ValidateQuota(t.quota);
  FASTGPU_RETURN_IF_ERROR(st);
  t.id = ids_.Next("tenant");
  t.created_at = clock_.Now();
  return Mutate(c, [&](store::WriteTx& tx) -> Result<Reply> {
    Status created = tx.CreateTenant(t);
    if (created.code() == StatusCode::kAlreadyExists) {
      return AlreadyExists("name: a tenant named '" + t.name + "' exists");
    }
    FASTGPU_RETURN_IF_ERROR(created);
    return Reply::Created(TenantToJson(t));
  });
}

Result<Reply> Api::SetTenantSettings(const Call& c) {
  FASTGPU_ASSIGN_OR_RETURN(json::object body, ParseObject(c.req.body));
  return Mutate(c, [&](store::WriteTx& tx) -> Result<Reply> {
    FASTGPU_ASSIGN_OR_RETURN(model::Tenant t, FindTenant(tx, c.Param("id")));
    FieldReader r(body);
    FASTGPU_RETURN_IF_ERROR(r.Bool("allow_root", t.allow_root));
    FASTGPU_RETURN_IF_ERROR(r.Finish());
    FASTGPU_RETURN_IF_ERROR(tx.SetTenantAllowRoot(t.id, t.allow_root));
    return Reply::Json(TenantToJson(t));
  });
}

Result<Reply> Api::ListTenants(const Call&) {
  json::array out;
  Status st = store_.Read([&](store::ReadTx& tx) -> Status {
    FASTGPU_ASSIGN_OR_RETURN(auto tenants, tx.ListTenants());
    for (const auto& t : tenants) out.push_back(TenantToJson(t));
    return OkStatus();
  });
  FASTGPU_RETURN_IF_ERROR(st);
  return Reply::Json(json::object{{"tenants", std::move(out)}});
}

Result<Reply> Api::GetTenant(const Call& c) {
  const Principal& p = c.who;
  const std::string& id = c.Param("id");
  json::object out;
  Status st = store_.Read([&](store::ReadTx& tx) -> Status {
    FASTGPU_ASSIGN_OR_RETURN(model::Tenant t, FindTenant(tx, id));
    if (!p.admin && t.id != p.tenant_id) return NotFound("no tenant '" + id + "'");
    out = TenantToJson(t);
    FASTGPU_ASSIGN_OR_RETURN(out["usage"], TenantUsageJson(tx, t, clock_.NowUnixMillis()));
    return OkStatus();
  });
  FASTGPU_RETURN_IF_ERROR(st);
  return Reply::Json(out);
}

Result<Reply> Api::CreateToken(const Call& c) {
  const std::string& tenant = c.Param("id");
  std::string name;
  if (!c.req.body.empty()) {
    FASTGPU_ASSIGN_OR_RETURN(json::object body, ParseObject(c.req.body));
    FieldReader r(body);
    Status st = r.String("name", name);
    if (st.ok()) st = r.Finish();
    if (st.ok() && name.size() > 128) st = InvalidArgument("name: at most 128 characters");
    FASTGPU_RETURN_IF_ERROR(st);
  }
  const std::string secret = RandomHex(32);
  store::ApiToken tok{ids_.Next("tok"), "", name, Sha256Hex(secret), clock_.Now(), false};
  return Mutate(
      c,
      [&](store::WriteTx& tx) -> Result<Reply> {
        FASTGPU_ASSIGN_OR_RETURN(model::Tenant t, FindTenant(tx, tenant));
        tok.tenant_id = t.id;
        FASTGPU_RETURN_IF_ERROR(tx.CreateToken(tok));
        json::object o = TokenToJson(tok);
        o["token"] = secret;
        return Reply::Created(o);
      },
      // The secret is shown once: a replay gets the token's record without it.
      [&](const Reply&) {
        json::object o = TokenToJson(tok);
        o["token"] = "";
        o["note"] = "the secret was shown only in the first answer";
        return json::serialize(o);
      });
}

Result<Reply> Api::ListTokens(const Call& c) {
  const std::string& tenant = c.Param("id");
  json::array out;
  Status st = store_.Read([&](store::ReadTx& tx) -> Status {
    FASTGPU_ASSIGN_OR_RETURN(model::Tenant t, FindTenant(tx, tenant));
    FASTGPU_ASSIGN_OR_RETURN(auto toks, tx.ListTokens(t.id));
    for (const auto& tok : toks) out.push_back(TokenToJson(tok));
    return OkStatus();
  });
  FASTGPU_RETURN_IF_ERROR(st);
  return Reply::Json(json::object{{"tokens", std::move(out)}});
}

Result<Reply> Api::RevokeToken(const Call& c) {
  const std::string& id = c.Param("id");
  Result<Reply> reply = Mutate(c, [&](store::WriteTx& tx) -> Result<Reply> {
    Status st = tx.RevokeToken(id);
    if (st.code() == StatusCode::kNotFound) return NotFound("no token " + id);
    FASTGPU_RETURN_IF_ERROR(st);
    return Reply::Json(json::object{{"id", id}, {"revoked", true}});
  });
  auth_.ForgetAll();
  return reply;
}

Result<Reply> Api::MetricsText(const Call&) {
  PoolGauges g;
  Status st = store_.Read([&](store::ReadTx& tx) -> Status {
    for (model::JobState s :
         {model::JobState::kPending, model::JobState::kScheduled, model::JobState::kRunning,
          model::JobState::kSucceeded, model::JobState::kFailed, model::JobState::kCancelled}) {
      store::JobFilter f;
      f.states = {s};
      f.limit = 1000;
      int64_t count = 0;
      do {
        FASTGPU_ASSIGN_OR_RETURN(store::JobPage page, tx.ListJobs(f));
        count += static_cast<int64_t>(page.jobs.size());
        f.cursor = page.next_cursor;
      } while (!f.cursor.empty());
      g.jobs_by_state[std::string(model::JobStateName(s))] = count;
    }
    FASTGPU_ASSIGN_OR_RETURN(auto nodes, tx.ListNodes());
    FASTGPU_ASSIGN_OR_RETURN(auto live, tx.ListLiveAllocations());
    std::map<std::string, std::map<int, int64_t>> used;  // node -> gpu index -> milli
    for (const auto& a : live) {
      for (const auto& s : a.alloc.slices) used[a.alloc.node_id][s.gpu_index] += s.milli;
    }
    for (const char* s : {"ready", "draining", "lost"}) g.nodes_by_state[s] = 0;
    for (const auto& n : nodes) {
      ++g.nodes_by_state[std::string(store::NodeStateName(n.state))];
      for (const model::Gpu& gpu : n.node.gpus) {
        double allocated = used[n.node.id][gpu.index] / 1000.0;
        g.gpus_allocated_by_model[gpu.model] += allocated;
        double& free = g.gpus_free_by_model[gpu.model];
        if (n.state == store::NodeState::kReady && gpu.healthy)
          free += std::max(0.0, 1.0 - allocated);
      }
    }
    return OkStatus();
  });
  FASTGPU_RETURN_IF_ERROR(st);
  std::string text = metrics_.Render(g);
  if (options_.pool != nullptr) text += RenderPoolMetrics(options_.pool->Snapshot());
  if (options_.replica_status != nullptr) text += options_.replica_status->RenderMetrics();
  if (const LeaderElector* l = options_.leader) {
    text +=
        "# HELP fastgpu_leader Whether this control-plane replica leads (runs the reconciler).\n"
        "# TYPE fastgpu_leader gauge\n"
        "fastgpu_leader{replica=\"" +
        l->replica_id() + "\"} " + (l->leading() ? "1" : "0") +
        "\n"
        "# HELP fastgpu_leader_generation The leader lease's generation this replica holds (0: "
        "none).\n"
        "# TYPE fastgpu_leader_generation gauge\n"
        "fastgpu_leader_generation " +
        std::to_string(l->generation()) + "\n";
  }
  return Reply::Text("text/plain; version=0.0.4", text);
}

}  // namespace fastgpu::server

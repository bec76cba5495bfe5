// Services (docs/services.md): create, list, get, scale, update, delete. Tenant-scoped like
// jobs: a tenant sees only its own services (another's is "not found"), the admin every one.
#include <algorithm>

#include "common/url_text.h"
#include "model/service_json.h"
#include "server/admission.h"
#include "server/api.h"
#include "server/service_pass.h"

namespace fastgpu::server {

namespace {

constexpr int kMaxNameMatches = 10;

// Who did it, for reasons people read.
std::string Actor(const Principal& p) { return p.admin ? "the admin" : p.tenant_id; }

}  // namespace

Result<model::Service> FindService(store::ReadTx& tx, const Principal& p,
                                   const std::string& id_or_name) {
  if (id_or_name.rfind("svc-", 0) == 0) {
    auto by_id = tx.GetService(id_or_name);
    if (by_id.ok() && (p.admin || by_id->tenant_id == p.tenant_id)) return by_id;
    if (!by_id.ok() && by_id.status().code() != StatusCode::kNotFound) return by_id.status();
  }
  auto own = tx.GetServiceByName(p.tenant_id, id_or_name);
  if (own.ok() || own.status().code() != StatusCode::kNotFound || !p.admin) {
    if (!own.ok() && own.status().code() == StatusCode::kNotFound) {
      return NotFound("no service '" + id_or_name + "'");
    }
    return own;
  }
  // The admin may name any tenant's service; a name several tenants use is ambiguous.
  FASTGPU_ASSIGN_OR_RETURN(std::vector<model::Service> all, tx.ListServices(""));
  std::vector<const model::Service*> named;
  for (const model::Service& s : all) {
    if (s.spec.name == id_or_name) named.push_back(&s);
  }
  if (named.empty()) return NotFound("no service '" + id_or_name + "'");
  if (named.size() == 1) return *named[0];
  std::string ids;
  for (size_t i = 0; i < named.size() && i < kMaxNameMatches; ++i) {
    ids += (i ? ", " : "") + named[i]->id;
  }
  return FailedPrecondition("service name '" + id_or_name + "' is used by " +
                            std::to_string(named.size()) + " tenants: " + ids + "; use an id");
}

Result<json::object> ServiceToJson(store::ReadTx& tx, const model::Service& svc,
                                   const ReplicaStatus* status, const AutoscalePass* autoscale) {
  json::value v = json::value_from(svc);
  json::object& o = v.as_object();
  o["spec"].as_object()["shape"].as_object()["description"] = model::DescribeShape(svc.spec.shape);
  json::array replicas;
  for (const std::string& id : svc.replica_jobs) {
    auto job = tx.GetJob(id);
    if (!job.ok()) {
      if (job.status().code() != StatusCode::kNotFound) return job.status();
      continue;
    }
    json::object r{{"job_id", job->id},
                   {"state", model::JobStateName(job->state)},
                   {"generation", job->spec.service_generation},
                   {"ready", ReplicaJobReady(*job, status)},
                   {"reason", job->reason}};
    if (status != nullptr) {
      for (const ReplicaEndpoint& e : status->EndpointsOfJob(job->id)) {
        if (!e.endpoint.empty()) r["endpoint"] = e.endpoint;
      }
    }
    replicas.push_back(std::move(r));
  }
  o["replica_status"] = std::move(replicas);
  if (autoscale != nullptr) {
    if (std::optional<AutoscaleNote> note = autoscale->Last(svc.id)) {
      json::object a{{"replicas", note->replicas},
                     {"reason", note->reason},
                     {"rps", note->rps},
                     {"ready", note->ready},
                     {"at", ToUnixMillis(note->at)}};
      if (note->gpu_util) a["gpu_util"] = *note->gpu_util;
      o["autoscaler"] = std::move(a);
    }
  }
  return std::move(o);
}

namespace {

// A spec a replica of which the tenant may run and some node could hold: root only when
// allowed; unplaceable is FailedPrecondition (answered 422 by the caller).
Status CheckReplicaSpec(store::WriteTx& tx, AdmissionPool& admission, bool allow_unplaceable,
                        const model::Service& svc, TimePoint now) {
  if (svc.spec.run_as_root) {
    FASTGPU_ASSIGN_OR_RETURN(model::Tenant tenant, tx.GetTenant(svc.tenant_id));
    if (!tenant.allow_root) {
      return PermissionDenied("run_as_root: tenant '" + tenant.name +
                              "' may not run jobs as root on the nodes (an admin can allow it: "
                              "fastgpu tenant allow-root " +
                              tenant.name + ")");
    }
  }
  return admission.Check(tx, model::ReplicaJobSpec(svc), allow_unplaceable, now);
}

}  // namespace

Result<Reply> Api::CreateService(const Call& c) {
  FASTGPU_ASSIGN_OR_RETURN(json::object body, ParseObject(c.req.body));
  // "replicas" (the count to start with) is the one field beside the spec.
  int initial = -1;
  {
    model::JsonObjectReader r(body);
    r.Int("replicas", initial, 0, model::kMaxServiceReplicas);
    FASTGPU_RETURN_IF_ERROR(r.Finish());
    body.erase("replicas");
  }
  FASTGPU_ASSIGN_OR_RETURN(model::ServiceSpec spec,
                           model::FromJson<model::ServiceSpec>(json::value(std::move(body)),
                                                               model::UnknownFields::kRefuse));
  model::ApplyServiceDefaults(spec);
  std::set<std::string> models = KnownModels();
  FASTGPU_RETURN_IF_ERROR(model::ValidateServiceSpec(spec, &models));
  const TimePoint now = clock_.Now();
  model::Service svc;
  svc.id = ids_.Next("svc");
  svc.tenant_id = c.who.tenant_id;
  svc.replicas =
      model::ClampReplicas(spec, initial >= 0 ? initial : std::max(spec.min_replicas, 1));
  svc.spec = std::move(spec);
  svc.generation = 1;
  svc.state = svc.replicas == 0 ? model::ServiceState::kIdle : model::ServiceState::kPending;
  svc.reason = "created by " + Actor(c.who);
  svc.created_at = svc.updated_at = now;
  bool unplaceable = false;
  Result<Reply> reply = Mutate(c, [&](store::WriteTx& tx) -> Result<Reply> {
    Status admitted = CheckReplicaSpec(tx, admission_, options_.allow_unplaceable, svc, now);
    unplaceable = admitted.code() == StatusCode::kFailedPrecondition;
    FASTGPU_RETURN_IF_ERROR(admitted);
    FASTGPU_RETURN_IF_ERROR(tx.CreateService(svc));
    FASTGPU_ASSIGN_OR_RETURN(json::object out, ServiceToJson(tx, svc, options_.replica_status, options_.autoscale));
    return Reply::Created(out);
  });
  if (!reply.ok() && unplaceable) return Reply::Unprocessable(reply.status());
  if (reply.ok() && reply->succeeded()) Changed();
  return reply;
}

Result<Reply> Api::ListServices(const Call& c) {
  std::string tenant = c.who.tenant_id;
  if (c.who.admin) {
    tenant = "";
    if (auto it = c.req.query.find("tenant"); it != c.req.query.end()) tenant = it->second;
  }
  json::array out;
  Status st = store_.Read([&](store::ReadTx& tx) -> Status {
    if (!tenant.empty() && c.who.admin) {
      FASTGPU_ASSIGN_OR_RETURN(model::Tenant t, FindTenant(tx, tenant));
      tenant = t.id;
    }
    FASTGPU_ASSIGN_OR_RETURN(std::vector<model::Service> all, tx.ListServices(tenant));
    for (const model::Service& s : all) {
      FASTGPU_ASSIGN_OR_RETURN(json::object o, ServiceToJson(tx, s, options_.replica_status, options_.autoscale));
      out.push_back(std::move(o));
    }
    return OkStatus();
  });
  FASTGPU_RETURN_IF_ERROR(st);
  return Reply::Json(json::object{{"services", std::move(out)}});
}

Result<Reply> Api::GetService(const Call& c) {
  json::object out;
  Status st = store_.Read([&](store::ReadTx& tx) -> Status {
    FASTGPU_ASSIGN_OR_RETURN(std::string name, DecodePathSegment(c.Param("id")));
    FASTGPU_ASSIGN_OR_RETURN(model::Service svc, FindService(tx, c.who, name));
    FASTGPU_ASSIGN_OR_RETURN(out, ServiceToJson(tx, svc, options_.replica_status, options_.autoscale));
    return OkStatus();
  });
  FASTGPU_RETURN_IF_ERROR(st);
  return Reply::Json(out);
}

Result<Reply> Api::ScaleService(const Call& c) {
  FASTGPU_ASSIGN_OR_RETURN(json::object body, ParseObject(c.req.body));
  int replicas = 0;
  FieldReader r(body);
  FASTGPU_RETURN_IF_ERROR(r.Int("replicas", replicas, 0, model::kMaxServiceReplicas, true));
  FASTGPU_RETURN_IF_ERROR(r.Finish());
  Result<Reply> reply = Mutate(c, [&](store::WriteTx& tx) -> Result<Reply> {
    FASTGPU_ASSIGN_OR_RETURN(std::string name, DecodePathSegment(c.Param("id")));
    FASTGPU_ASSIGN_OR_RETURN(model::Service svc, FindService(tx, c.who, name));
    FASTGPU_ASSIGN_OR_RETURN(
        ScaleOutcome scaled,
        SetServiceReplicas(tx, svc.id, replicas, "scaled by " + Actor(c.who), clock_.Now()));
    FASTGPU_ASSIGN_OR_RETURN(json::object out,
                             ServiceToJson(tx, scaled.service, options_.replica_status, options_.autoscale));
    out["scale"] = json::object{{"requested", scaled.requested},
                                {"replicas", scaled.service.replicas},
                                {"clamped", scaled.clamped},
                                {"note", scaled.note}};
    return Reply::Json(out);
  });
  if (reply.ok() && reply->succeeded()) Changed();
  return reply;
}

Result<Reply> Api::UpdateService(const Call& c) {
  FASTGPU_ASSIGN_OR_RETURN(json::object body, ParseObject(c.req.body));
  if (body.contains("replicas")) {
    return InvalidArgument("replicas: set the count with POST /v1/services/{name}/scale");
  }
  if (body.empty()) return InvalidArgument("body: name at least one field of the spec to change");
  std::set<std::string> models = KnownModels();
  bool unplaceable = false;
  Result<Reply> reply = Mutate(c, [&](store::WriteTx& tx) -> Result<Reply> {
    unplaceable = false;
    FASTGPU_ASSIGN_OR_RETURN(std::string name, DecodePathSegment(c.Param("id")));
    FASTGPU_ASSIGN_OR_RETURN(model::Service svc, FindService(tx, c.who, name));
    // The fields given replace the stored spec's (null: back to the default).
    json::value merged = json::value_from(svc.spec);
    for (const auto& kv : body) merged.as_object()[kv.key()] = kv.value();
    FASTGPU_ASSIGN_OR_RETURN(model::ServiceSpec spec, model::FromJson<model::ServiceSpec>(
                                                          merged, model::UnknownFields::kRefuse));
    if (spec.name != svc.spec.name) {
      return InvalidArgument("name: a service keeps its name (create another to rename)");
    }
    model::ApplyServiceDefaults(spec);
    FASTGPU_RETURN_IF_ERROR(model::ValidateServiceSpec(spec, &models));
    const TimePoint now = clock_.Now();
    const bool roll = model::ReplicaSpecChanged(svc.spec, spec);
    svc.spec = std::move(spec);
    svc.replicas = model::ClampReplicas(svc.spec, svc.replicas);
    if (roll) {
      Status admitted = CheckReplicaSpec(tx, admission_, options_.allow_unplaceable, svc, now);
      unplaceable = admitted.code() == StatusCode::kFailedPrecondition;
      FASTGPU_RETURN_IF_ERROR(admitted);
      ++svc.generation;
      svc.state = model::ServiceState::kUpdating;
      svc.reason = "updated by " + Actor(c.who) + " to generation " +
                   std::to_string(svc.generation) + "; rolling one replica at a time";
    } else {
      svc.reason = "scaling settings updated by " + Actor(c.who);
    }
    svc.updated_at = now;
    FASTGPU_RETURN_IF_ERROR(tx.UpdateService(svc));
    FASTGPU_ASSIGN_OR_RETURN(json::object out, ServiceToJson(tx, svc, options_.replica_status, options_.autoscale));
    return Reply::Json(out);
  });
  if (!reply.ok() && unplaceable) return Reply::Unprocessable(reply.status());
  if (reply.ok() && reply->succeeded()) Changed();
  return reply;
}

Result<Reply> Api::DeleteService(const Call& c) {
  Result<Reply> reply = Mutate(c, [&](store::WriteTx& tx) -> Result<Reply> {
    FASTGPU_ASSIGN_OR_RETURN(std::string name, DecodePathSegment(c.Param("id")));
    FASTGPU_ASSIGN_OR_RETURN(model::Service svc, FindService(tx, c.who, name));
    const TimePoint now = clock_.Now();
    json::array cancelled;
    for (const std::string& id : svc.replica_jobs) {
      auto job = tx.GetJob(id);
      if (!job.ok()) {
        if (job.status().code() == StatusCode::kNotFound) continue;
        return job.status();
      }
      if (model::IsTerminal(job->state)) continue;
      FASTGPU_RETURN_IF_ERROR(CancelReplicaJob(
          tx, *job, "service " + svc.spec.name + " deleted by " + Actor(c.who), now));
      cancelled.emplace_back(job->id);
    }
    FASTGPU_RETURN_IF_ERROR(tx.DeleteService(svc.id));
    return Reply::Json(json::object{{"id", svc.id},
                                    {"name", svc.spec.name},
                                    {"deleted", true},
                                    {"cancelled_jobs", std::move(cancelled)}});
  });
  if (reply.ok() && reply->succeeded()) Changed();
  return reply;
}

}  // namespace fastgpu::server

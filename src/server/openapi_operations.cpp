// The per-route detail of the OpenAPI document (openapi.h): one entry per line of the route
// table (api_routes.cpp), keyed by "METHOD path", in the table's order. The method, path,
// auth level and summary come from the route table itself; an entry adds what the table
// does not say, as JSON text in a short form that BuildOpenApiDocument expands:
//
//   "operationId", "tags", "description"  as in OpenAPI
//   "path":      {"<name>": {"description", "example"}} for each {name} of the template
//   "query":     [{"name", "description", "schema", "example"?, "required"?}]
//   "request":   {"schema", "example", "required"? (default true)}: an application/json body
//   "responses": {"<status>": {"description", "schema"?, "example"? | "exampleRef"?,
//                 "type"? (default application/json), "content"? (given as is)}}
//   "errors":    {"<status>": "when"}: answered with the Error body
//
// Examples are live: openapi_test.cpp sends each operation's request example (its path
// and query built from the parameters' examples) to a real control plane and checks the
// answer's status (the one whose response has an example) and its schema. The ids in
// examples are OpenApiExampleIds, which that test maps to the objects it made.
#include "server/openapi.h"

#include <array>
#include <string>

namespace fastgpu::server {

namespace {

// The service proxy's five methods say the same but for their operationId ("@ID@").
constexpr std::string_view kProxyDoc = R"json({
  "operationId": "@ID@", "tags": ["services"], "idempotency": false,
  "description": "Forwards the request to one of the service's ready replicas, round robin (docs/services.md): method, the path after /proxy, query and body as sent; the hop-by-hop headers and Authorization are not forwarded (the replica never sees the tenant's token). The replica's answer comes back with its status, headers and body, whatever they are. While the service has no ready replica (scaled to zero) the request is held until one is (its answer then carries Fastgpu-Cold-Start-Ms) or the server's --service-cold-start-timeout passes (503). Counted for the autoscaler's requests per second. Served by the leader.",
  "path": {"id": {"description": "the service's name or id", "example": "chat"},
    "path": {"description": "the rest of the path, sent to the replica as it is (it may hold several segments)", "example": "v1/completions"}},
  "responses": {"200": {"description": "the replica's answer, of any status and content type", "content": {"*/*": {"schema": {}}}},
    "409": {"description": "the service has no port (nothing to forward to)", "schema": {"$ref": "#/components/schemas/Error"},
      "example": {"code": "FAILED_PRECONDITION", "message": "service 'chat' has no port: its replicas serve nothing to forward to (create it with --port)"}}},
  "errors": {"404": "no such service, or another tenant's", "503": "no ready replica within the cold-start timeout, none answered, too many requests held, or this replica does not lead"}
})json";

// kProxyDoc for the proxy's method `i` of GET, POST, PUT, PATCH, DELETE.
std::string_view ProxyDoc(size_t i) {
  static const std::array<std::string, 5> kDocs = [] {
    constexpr std::array<std::string_view, 5> kIds = {"proxyServiceGet", "proxyServicePost",
                                                      "proxyServicePut", "proxyServicePatch",
                                                      "proxyServiceDelete"};
    std::array<std::string, 5> out;
    for (size_t m = 0; m < kIds.size(); ++m) {
      out[m] = std::string(kProxyDoc);
      out[m].replace(out[m].find("@ID@"), 4, kIds[m]);
    }
    return out;
  }();
  return kDocs.at(i);
}

}  // namespace

const std::vector<OperationDoc>& OpenApiOperations() {
  static const std::vector<OperationDoc> kOperations = {
      // ---- the service itself ----
      {"GET /", R"json({
  "operationId": "getIndex", "tags": ["service"],
  "description": "A browser (Accept naming text/html) gets the dashboard's page, which signs in with an API token and calls this API; any other client gets a short text.",
  "responses": {"200": {"description": "the dashboard's page, or what this server is",
    "content": {"text/plain": {"schema": {"type": "string"},
      "example": "FastGPU control plane.\nDashboard: open this address in a browser.\nREST API under /v1 (JSON, Authorization: Bearer <token>); see docs/api.md.\nHealth: /healthz   Metrics: /metrics\n"},
      "text/html": {"schema": {"type": "string"}}}}}
})json"},
      {"GET /assets/{file}", R"json({
  "operationId": "getDashboardFile", "tags": ["service"],
  "description": "The dashboard's script and stylesheet. Their names carry a hash of their content, so they are cached as immutable; gzipped when the client takes gzip; 304 for a matching If-None-Match.",
  "path": {"file": {"description": "the file's name, as the dashboard's page names it", "example": "app-EXAMPLE.js"}},
  "responses": {"200": {"description": "the file",
    "content": {"text/javascript": {"schema": {"type": "string"}, "example": "(()=>{})();"},
      "text/css": {"schema": {"type": "string"}}}},
    "304": {"description": "the client's copy is current"}},
  "errors": {"404": "no such file"}
})json"},
      {"GET /healthz", R"json({
  "operationId": "getHealth", "tags": ["service"],
  "description": "Reads the store; with several replicas on one store, also says which one leads.",
  "responses": {"200": {"description": "the store answers", "schema": {"$ref": "#/components/schemas/Health"},
    "example": {"status": "ok", "store": "sqlite"}}},
  "errors": {"503": "the control plane cannot read its store"}
})json"},
      {"GET /metrics", R"json({
  "operationId": "getMetrics", "tags": ["service"],
  "description": "Prometheus text exposition (docs/api.md#metrics). Every label comes from a bounded set.",
  "responses": {"200": {"description": "the metrics", "type": "text/plain",
    "schema": {"type": "string"},
    "example": "# HELP fastgpu_jobs Jobs by state.\n# TYPE fastgpu_jobs gauge\nfastgpu_jobs{state=\"running\"} 1\n"}}
})json"},
      {"GET /openapi.json", R"json({
  "operationId": "getOpenApi", "tags": ["service"],
  "description": "This document, generated from the server's route table.",
  "responses": {"200": {"description": "the OpenAPI 3.1 document",
    "schema": {"type": "object", "properties": {"openapi": {"type": "string"}}, "required": ["openapi"]}}}
})json"},
      {"GET /v1/routes", R"json({
  "operationId": "listRoutes", "tags": ["service"],
  "responses": {"200": {"description": "every endpoint, as the server routes them",
    "schema": {"$ref": "#/components/schemas/RouteList"},
    "example": {"routes": [{"method": "GET", "path": "/v1/jobs", "auth": "tenant", "summary": "list the caller's jobs"}]}}}
})json"},
      // ---- the agent protocol (docs/agent-protocol.md) ----
      {"POST /v1/nodes/register", R"json({
  "operationId": "registerNode", "tags": ["agent"],
  "description": "A node agent registers its GPUs. Registering an agent_id again needs that node's node_secret besides the join token.",
  "request": {"schema": {"$ref": "#/components/schemas/RegisterRequest"},
    "example": {"protocol_version": 1, "name": "gpu-node-2", "agent_id": "gpu-node-2", "cpu_milli": 64000, "memory_mib": 524288, "simulated": false,
      "gpus": [{"index": 0, "uuid": "GPU-6f1d2c3b-4a59-4e8f-9d7c-0b1a2c3d4e5f", "model": "H100-80GB", "memory_mib": 81559, "healthy": true, "health_reason": "", "mig_enabled": false, "simulated": false}]}},
  "responses": {"200": {"description": "the node's id, token and secret",
    "schema": {"$ref": "#/components/schemas/RegisterResponse"},
    "example": {"protocol_version": 1, "node_id": "node-5f1c2d3e4a5b6c7d", "node_token": "9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f1a3c5e7b9d0f", "node_secret": "3c5e7b9d0f9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f1a", "heartbeat_interval_ms": 2000, "lease_ms": 15000}}},
  "errors": {"400": "a field is missing or out of range, GPUs of different models", "409": "the agent_id is registered and no matching node_secret was given"}
})json"},
      {"POST /v1/nodes/{id}/heartbeat", R"json({
  "operationId": "heartbeat", "tags": ["agent"],
  "description": "Renews the node's lease, reports its GPUs' health and its replicas; answers what should run on the node and what to stop.",
  "path": {"id": {"description": "the node's id (as registered)", "example": "node-5f1c2d3e4a5b6c7d"}},
  "request": {"schema": {"$ref": "#/components/schemas/HeartbeatRequest"},
    "example": {"protocol_version": 1, "gpus": [{"index": 0, "healthy": true, "health_reason": "", "utilization_pct": 35}],
      "replicas": [{"allocation_id": "alloc-9b8a7c6d5e4f3021", "state": "running", "pid": 4242, "started_at": 1767225600000,
        "endpoint": "10.0.0.7:40123", "ready": true}]}},
  "responses": {"200": {"description": "the desired replicas and the ones to cancel",
    "schema": {"$ref": "#/components/schemas/HeartbeatResponse"},
    "example": {"protocol_version": 1, "lease_ms": 15000, "cancel": [],
      "allocations": [{"allocation_id": "alloc-9b8a7c6d5e4f3021", "job_id": "job-3f2a9c0d11e4b7a2", "replica": 0, "replicas": 1,
        "command": ["python", "train.py"], "env": {}, "cpu_milli": 0, "memory_mib": 0, "gpu_model": "H100-80GB",
        "slices": [{"gpu_index": 0, "gpu_uuid": "GPU-6f1d2c3b-4a59-4e8f-9d7c-0b1a2c3d4e5f", "milli": 500, "memory_mib": 0, "isolation": "mps"}]}]}}},
  "errors": {"400": "a report is malformed", "404": "no such node (the agent registers again)"}
})json"},
      {"POST /v1/nodes/{id}/logs", R"json({
  "operationId": "appendLogs", "tags": ["agent"],
  "description": "Appends a replica's output at an offset. A gap answers the size to resend from; past the log limit bytes are counted as dropped. final: true on the replica's last shipment.",
  "path": {"id": {"description": "the node's id", "example": "node-5f1c2d3e4a5b6c7d"}},
  "request": {"schema": {"$ref": "#/components/schemas/LogShipment"},
    "example": {"protocol_version": 1, "allocation_id": "alloc-9b8a7c6d5e4f3021", "offset": 18, "data": "epoch 2 loss 0.31\n"}},
  "responses": {"200": {"description": "where the next shipment starts",
    "schema": {"$ref": "#/components/schemas/LogShipmentResponse"},
    "example": {"protocol_version": 1, "next_offset": 36, "truncated": false}}},
  "errors": {"400": "a field is missing or malformed", "404": "no such node, or the allocation is not on it"}
})json"},
      {"GET /v1/nodes/{id}/sessions/{alloc}", R"json({
  "operationId": "agentSession", "tags": ["agent"],
  "description": "The node agent's WebSocket for an interactive session's replica (docs/sessions.md): the agent opens it when it starts the replica (the control plane cannot dial agents) and relays the command's terminal through it. Only a WebSocket upgrade is accepted (101); frames are docs/sessions.md's.",
  "path": {"id": {"description": "the node's id", "example": "node-5f1c2d3e4a5b6c7d"},
    "alloc": {"description": "the session's allocation on that node", "example": "alloc-9b8a7c6d5e4f3021"}},
  "responses": {"101": {"description": "switched to the WebSocket"},
    "409": {"description": "the allocation's job is not a session, or it has ended",
      "schema": {"$ref": "#/components/schemas/Error"},
      "example": {"code": "FAILED_PRECONDITION", "message": "job job-3f2a9c0d11e4b7a2 is not a session"}}},
  "errors": {"400": "not a WebSocket upgrade", "404": "no such node, or the allocation is not on it", "503": "this control plane serves no sessions, or this replica does not lead (sessions are served by the leader; docs/ha.md)"}
})json"},
      {"GET /v1/nodes/{id}/execs", R"json({
  "operationId": "agentExecs", "tags": ["agent"],
  "description": "The node's job execs not started yet, as a heartbeat answer lists them (docs/sessions.md). Served by the leading replica only: an agent given several control-plane addresses asks it after each heartbeat, since its heartbeats may reach a follower, which knows no execs.",
  "path": {"id": {"description": "the node's id", "example": "node-5f1c2d3e4a5b6c7d"}},
  "responses": {"200": {"description": "the pending execs (possibly none)", "schema": {"type": "object", "properties": {
      "protocol_version": {"type": "integer"},
      "execs": {"type": "array", "items": {"type": "object", "properties": {"exec_id": {"type": "string"}, "allocation_id": {"type": "string"},
          "command": {"type": "array", "items": {"type": "string"}}, "tty": {"type": "boolean"}},
          "required": ["exec_id", "allocation_id", "command"], "additionalProperties": false}}},
    "required": ["protocol_version", "execs"], "additionalProperties": false},
    "example": {"protocol_version": 1, "execs": [{"exec_id": "exec-0a1b2c3d4e5f6a7b", "allocation_id": "alloc-9b8a7c6d5e4f3021", "command": ["nvidia-smi"], "tty": false}]}}},
  "errors": {"404": "no such node", "503": "this control plane serves no sessions, or this replica does not lead (sessions are served by the leader; docs/ha.md)"}
})json"},
      // ---- jobs and allocations ----
      {"GET /v1/jobs", R"json({
  "operationId": "listJobs", "tags": ["jobs"],
  "description": "The caller's jobs, oldest first (the admin: every tenant's, or one tenant's).",
  "query": [
    {"name": "state", "description": "only jobs in this state", "schema": {"$ref": "#/components/schemas/JobState"}, "example": "running"},
    {"name": "limit", "description": "at most this many (default 100)", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}, "example": 100},
    {"name": "cursor", "description": "the next_cursor of the previous page", "schema": {"type": "string"}},
    {"name": "tenant", "description": "admin only: one tenant's jobs (a name or an id)", "schema": {"type": "string"}}],
  "responses": {"200": {"description": "a page of jobs", "schema": {"$ref": "#/components/schemas/JobList"},
    "example": {"jobs": [], "next_cursor": ""}}},
  "errors": {"400": "a query value is malformed", "404": "no such tenant"}
})json"},
      {"POST /v1/jobs", R"json({
  "operationId": "submitJob", "tags": ["jobs"],
  "request": {"schema": {"$ref": "#/components/schemas/JobSubmission"},
    "example": {"name": "train", "command": ["python", "train.py"], "env": {"EPOCHS": "3"},
      "shape": {"gpu_count": 1, "gpu_milli": 500, "gpu_memory_mib": 20480, "gpu_models": ["H100-80GB"], "cpu_milli": 2000, "memory_mib": 8192, "isolation": "mps"},
      "replicas": 2, "max_retries": 1, "priority": 0}},
  "responses": {
    "201": {"description": "the job, pending", "schema": {"$ref": "#/components/schemas/Job"}, "exampleRef": "Job"},
    "200": {"description": "a replay of an earlier submission with the same Idempotency-Key", "schema": {"$ref": "#/components/schemas/Job"}}},
  "errors": {"400": "the spec is malformed (the message names the field)",
    "403": "run_as_root for a tenant not allowed to, or the join token",
    "422": "no node of the pool could ever hold the job (unless the server runs with --allow-unplaceable), or an Idempotency-Key reused for another request",
    "429": "over the tenant's GPU quota or budget"}
})json"},
      {"GET /v1/jobs/{id}", R"json({
  "operationId": "getJob", "tags": ["jobs"],
  "path": {"id": {"description": "the job's id or name (percent-encoded)", "example": "train"}},
  "responses": {"200": {"description": "the job with its events and every allocation", "schema": {"$ref": "#/components/schemas/Job"}, "exampleRef": "JobDetail"}},
  "errors": {"400": "a malformed percent escape", "404": "no such job, or another tenant's", "409": "the name matches several jobs"}
})json"},
      {"POST /v1/jobs/{id}/cancel", R"json({
  "operationId": "cancelJob", "tags": ["jobs"],
  "description": "Its allocations are released and the agents stop them.",
  "path": {"id": {"description": "the job's id or name", "example": "train"}},
  "responses": {"200": {"description": "the job, cancelled", "schema": {"$ref": "#/components/schemas/Job"}, "exampleRef": "CancelledJob"}},
  "errors": {"400": "a malformed percent escape", "404": "no such job, or another tenant's", "409": "the job already finished, or the name matches several jobs"}
})json"},
      {"GET /v1/jobs/{id}/logs", R"json({
  "operationId": "getJobLogs", "tags": ["jobs"],
  "description": "The replica's latest attempt's output from offset, at most 256 KiB per call. With follow=true, while the log is not done, the bytes are streamed instead (chunked text/plain, X-Log-Offset naming the first byte's offset) for at most 5 minutes.",
  "path": {"id": {"description": "the job's id or name", "example": "train"}},
  "query": [
    {"name": "replica", "description": "the replica (default 0)", "schema": {"type": "integer", "minimum": 0, "maximum": 1023}, "example": 0},
    {"name": "offset", "description": "the first byte to read (default 0)", "schema": {"type": "integer", "minimum": 0}, "example": 0},
    {"name": "follow", "description": "stream the log as it grows (default false)", "schema": {"type": "boolean"}}],
  "responses": {"200": {"description": "a piece of the log; with follow=true, the stream",
    "content": {
      "application/json": {"schema": {"$ref": "#/components/schemas/LogChunk"},
        "example": {"data": "epoch 1 loss 0.42\n", "next_offset": 18, "done": false, "allocation_id": "alloc-9b8a7c6d5e4f3021", "job_state": "running", "dropped_bytes": 0, "log_limit_bytes": 8388608}},
      "text/plain": {"schema": {"type": "string"}}},
    "headers": {"X-Log-Offset": {"description": "with follow=true: the offset of the first byte streamed", "schema": {"type": "integer"}}}}},
  "errors": {"400": "a query value is out of range (replica beyond the job's)", "404": "no such job, or another tenant's", "409": "the name matches several jobs"}
})json"},
      {"GET /v1/jobs/{id}/attach", R"json({
  "operationId": "attachSession", "tags": ["jobs"],
  "description": "A WebSocket to an interactive session's terminal (fastgpu run -it, fastgpu attach; docs/sessions.md). Output kept while no client was attached comes first. A second client replaces the first. Only a WebSocket upgrade is accepted (101); frames are docs/sessions.md's.",
  "path": {"id": {"description": "the session's job id or name", "example": "train"}},
  "query": [
    {"name": "exec", "description": "a job exec of this job (the id POST /v1/jobs/{id}/exec gave) instead of the session itself", "schema": {"type": "string"}},
    {"name": "stderr", "description": "1: the command's stderr comes in stderr frames ('2') apart from its output (default: both as output frames)", "schema": {"type": "string", "enum": ["1"]}, "example": "1"}],
  "responses": {"101": {"description": "switched to the WebSocket"},
    "409": {"description": "the job is not a session, it has ended, or the name matches several jobs",
      "schema": {"$ref": "#/components/schemas/Error"},
      "example": {"code": "FAILED_PRECONDITION", "message": "job job-3f2a9c0d11e4b7a2 is not a session (fastgpu run -it starts one)"}}},
  "errors": {"400": "not a WebSocket upgrade", "404": "no such job, or another tenant's", "503": "this control plane serves no sessions, or this replica does not lead (sessions are served by the leader; docs/ha.md)"}
})json"},
      {"POST /v1/jobs/{id}/exec", R"json({
  "operationId": "execInJob", "tags": ["jobs"],
  "description": "Runs a command inside a running replica's environment (its variables, work dir, cgroup and sandbox user; not its namespaces), relayed like a session: attach with GET /v1/jobs/{id}/attach?exec=ID (fastgpu job exec; docs/sessions.md). The node starts it at its next heartbeat.",
  "path": {"id": {"description": "the job's id or name", "example": "train"}},
  "request": {"schema": {"type": "object", "properties": {
      "command": {"type": "array", "items": {"type": "string"}},
      "replica": {"type": "integer", "minimum": 0, "maximum": 1023, "description": "default 0"},
      "tty": {"type": "boolean", "description": "under a pseudo-terminal; default false"}},
    "required": ["command"], "additionalProperties": false},
    "example": {"command": ["nvidia-smi"], "replica": 0, "tty": false}},
  "responses": {"201": {"description": "the exec, to attach to", "schema": {"type": "object", "properties": {
      "id": {"type": "string"}, "job_id": {"type": "string"}, "allocation_id": {"type": "string"}, "replica": {"type": "integer"}},
    "required": ["id", "job_id", "allocation_id", "replica"], "additionalProperties": false},
    "example": {"id": "exec-0a1b2c3d4e5f6a7b", "job_id": "job-3f2a9c0d11e4b7a2", "allocation_id": "alloc-9b8a7c6d5e4f3021", "replica": 0}}},
  "errors": {"400": "the body is malformed", "404": "no such job, or another tenant's", "409": "the replica is not running, or the job has an image", "503": "this control plane serves no sessions, or this replica does not lead (sessions are served by the leader; docs/ha.md)"}
})json"},
      {"GET /v1/allocations", R"json({
  "operationId": "listAllocations", "tags": ["allocations"],
  "description": "A job's allocations in every state. The admin may also ask for a node's, or, with neither, every live allocation.",
  "query": [
    {"name": "job", "description": "the job's id or name", "schema": {"type": "string"}, "example": "train"},
    {"name": "node", "description": "admin only: the node's id or name", "schema": {"type": "string"}}],
  "responses": {"200": {"description": "the allocations", "schema": {"$ref": "#/components/schemas/AllocationList"},
    "example": {"allocations": []}}},
  "errors": {"403": "a tenant that did not name a job, or the join token", "404": "no such job or node", "409": "the name matches several jobs or nodes"}
})json"},
      {"GET /v1/allocations/{id}", R"json({
  "operationId": "getAllocation", "tags": ["allocations"],
  "path": {"id": {"description": "the allocation's id", "example": "alloc-9b8a7c6d5e4f3021"}},
  "responses": {"200": {"description": "the allocation", "schema": {"$ref": "#/components/schemas/Allocation"}, "exampleRef": "Allocation"}},
  "errors": {"404": "no such allocation, or another tenant's"}
})json"},
      // ---- services (docs/services.md) ----
      {"GET /v1/services", R"json({
  "operationId": "listServices", "tags": ["services"],
  "description": "A tenant's services in creation order; the admin's call lists every tenant's (or one tenant's with ?tenant=).",
  "query": [{"name": "tenant", "description": "admin only: one tenant's services (its id or name)", "schema": {"type": "string"}}],
  "responses": {"200": {"description": "the services with their replicas", "schema": {"$ref": "#/components/schemas/ServiceList"}}},
  "errors": {"404": "admin: no such tenant"}
})json"},
      {"POST /v1/services", R"json({
  "operationId": "createService", "tags": ["services"],
  "description": "The control plane keeps `replicas` replica jobs of the service running (each a job of one replica, named as the service): one that ends is replaced, with a back-off when they end right after starting. replicas defaults to min_replicas (at least 1) and is clamped to min..max.",
  "request": {"schema": {"$ref": "#/components/schemas/ServiceCreate"},
    "example": {"name": "embed", "command": ["python", "serve.py"], "env": {"MODEL": "bge"},
      "shape": {"gpu_count": 1, "gpu_milli": 250}, "port": true, "readiness": {"http": "/healthz"},
      "min_replicas": 1, "max_replicas": 4, "target_rps": 20}},
  "responses": {"201": {"description": "the service, pending", "schema": {"$ref": "#/components/schemas/Service"}, "exampleRef": "Service"},
    "200": {"description": "a replay of an earlier creation with the same Idempotency-Key", "schema": {"$ref": "#/components/schemas/Service"}}},
  "errors": {"400": "the spec is malformed (the message names the field)",
    "403": "run_as_root for a tenant not allowed to, or the join token",
    "409": "the tenant has a service of that name",
    "422": "no node of the pool could ever hold a replica (unless the server runs with --allow-unplaceable), or an Idempotency-Key reused for another request"}
})json"},
      {"GET /v1/services/{id}", R"json({
  "operationId": "getService", "tags": ["services"],
  "path": {"id": {"description": "the service's name or id", "example": "chat"}},
  "responses": {"200": {"description": "the service with its replicas", "schema": {"$ref": "#/components/schemas/Service"}}},
  "errors": {"404": "no such service, or another tenant's", "409": "admin: the name is used by several tenants"}
})json"},
      {"PATCH /v1/services/{id}", R"json({
  "operationId": "updateService", "tags": ["services"],
  "description": "The fields given replace the service's (null restores a field's default). A change of what a replica runs (command, env, shape, port, readiness, image, run_as_root) raises the generation and rolls the replicas one at a time: a new one starts, and once it is ready an old one is cancelled. A change of the scaling fields alone does not; the count is clamped to the new bounds.",
  "path": {"id": {"description": "the service's name or id", "example": "chat"}},
  "request": {"schema": {"$ref": "#/components/schemas/ServiceUpdate"},
    "example": {"env": {"MODEL": "llama-3.1-8b"}, "max_replicas": 4}},
  "responses": {"200": {"description": "the service, updating", "schema": {"$ref": "#/components/schemas/Service"}}},
  "errors": {"400": "a field is malformed, replicas given (use .../scale), or a name change",
    "404": "no such service, or another tenant's", "409": "admin: the name is used by several tenants",
    "422": "no node of the pool could ever hold a replica of the new spec"}
})json"},
      {"DELETE /v1/services/{id}", R"json({
  "operationId": "deleteService", "tags": ["services"],
  "description": "Its live replica jobs are cancelled (their agents stop them) and the service is removed; the jobs stay, as cancelled jobs.",
  "path": {"id": {"description": "the service's name or id", "example": "chat"}},
  "responses": {"200": {"description": "what was deleted", "schema": {"$ref": "#/components/schemas/DeletedService"}}},
  "errors": {"404": "no such service, or another tenant's", "409": "admin: the name is used by several tenants"}
})json"},
      {"POST /v1/services/{id}/scale", R"json({
  "operationId": "scaleService", "tags": ["services"],
  "description": "Sets the desired replica count, clamped to min_replicas..max_replicas; the answer's scale says what was asked and whether it was clamped. With an autoscaling target the autoscaler moves the count again at its next step.",
  "path": {"id": {"description": "the service's name or id", "example": "chat"}},
  "request": {"schema": {"$ref": "#/components/schemas/ServiceScale"}, "example": {"replicas": 3}},
  "responses": {"200": {"description": "the service with the count set", "schema": {"$ref": "#/components/schemas/Service"}}},
  "errors": {"400": "replicas missing or out of 0..1024", "404": "no such service, or another tenant's", "409": "admin: the name is used by several tenants"}
})json"},
      {"GET /v1/services/{id}/proxy/{path...}", ProxyDoc(0)},
      {"POST /v1/services/{id}/proxy/{path...}", ProxyDoc(1)},
      {"PUT /v1/services/{id}/proxy/{path...}", ProxyDoc(2)},
      {"PATCH /v1/services/{id}/proxy/{path...}", ProxyDoc(3)},
      {"DELETE /v1/services/{id}/proxy/{path...}", ProxyDoc(4)},
      // ---- nodes (admin) ----
      {"GET /v1/nodes", R"json({
  "operationId": "listNodes", "tags": ["nodes"],
  "responses": {"200": {"description": "every node with its GPUs", "schema": {"$ref": "#/components/schemas/NodeList"},
    "example": {"nodes": []}}}
})json"},
      {"GET /v1/nodes/{id}", R"json({
  "operationId": "getNode", "tags": ["nodes"],
  "path": {"id": {"description": "the node's id or name (percent-encoded)", "example": "gpu-node-1"}},
  "responses": {"200": {"description": "the node with its GPUs (each GPU's utilization_pct when its agent reported one)", "schema": {"$ref": "#/components/schemas/Node"}, "exampleRef": "DrainedNode"}},
  "errors": {"400": "a malformed percent escape", "404": "no such node", "409": "the name matches several nodes"}
})json"},
      {"POST /v1/nodes/{id}/drain", R"json({
  "operationId": "drainNode", "tags": ["nodes"],
  "description": "The node keeps what it runs and gets no new work; the mark survives its loss and return.",
  "path": {"id": {"description": "the node's id or name", "example": "gpu-node-1"}},
  "responses": {"200": {"description": "the node", "schema": {"$ref": "#/components/schemas/Node"}, "exampleRef": "DrainedNode"}},
  "errors": {"400": "a malformed percent escape", "404": "no such node", "409": "the name matches several nodes"}
})json"},
      {"POST /v1/nodes/{id}/undrain", R"json({
  "operationId": "undrainNode", "tags": ["nodes"],
  "path": {"id": {"description": "the node's id or name", "example": "gpu-node-1"}},
  "responses": {"200": {"description": "the node", "schema": {"$ref": "#/components/schemas/Node"}}},
  "errors": {"400": "a malformed percent escape", "404": "no such node", "409": "the name matches several nodes"}
})json"},
      {"POST /v1/nodes/{id}/revoke", R"json({
  "operationId": "revokeNode", "tags": ["nodes"],
  "description": "Clears the node's token and secret: its agent is refused (401) and the next registration of its agent_id with the join token takes the node afresh.",
  "path": {"id": {"description": "the node's id or name", "example": "gpu-node-1"}},
  "responses": {"200": {"description": "the node", "schema": {"$ref": "#/components/schemas/Node"}}},
  "errors": {"400": "a malformed percent escape", "404": "no such node", "409": "the name matches several nodes"}
})json"},
      // ---- metering (docs/metering.md) ----
      {"GET /v1/pool/history", R"json({
  "operationId": "getPoolHistory", "tags": ["nodes"],
  "description": "The pool's gauges, sampled in memory every interval_ms (the last capacity samples; none until a placement pass has measured the pool): what the dashboard charts. Not kept across restarts or shared between replicas.",
  "query": [
    {"name": "since", "description": "only samples taken at or after this Unix millisecond", "schema": {"type": "integer", "minimum": 0}, "example": 0},
    {"name": "limit", "description": "at most this many samples, the newest (default: all kept)", "schema": {"type": "integer", "minimum": 1}}],
  "responses": {"200": {"description": "the samples, oldest first", "schema": {"$ref": "#/components/schemas/PoolHistory"},
    "example": {"now": 1767225600000, "interval_ms": 10000, "capacity": 8640,
      "samples": [{"at": 1767225590000, "capacity_milli": 2000, "allocated_milli": 500, "free_milli": 1500, "fragmentation_ratio": 0.0, "fragmented_milli": 0.0, "pending_jobs": 0, "oldest_pending_seconds": 0}]}}},
  "errors": {"400": "since or limit is not an integer in range", "503": "this control plane keeps no pool history"}
})json"},
      {"GET /v1/pool", R"json({
  "operationId": "getNodePool", "tags": ["nodes"],
  "description": "The node pool of `fastgpu server --pool FILE` (docs/pool.md): each node group with its settings, its nodes (booting, ready, draining) and the reason of its latest provider failure or boot timeout, and the pending jobs the latest scaling step looked at with what it did for each. enabled is false (and the lists empty) without a pool file.",
  "responses": {"200": {"description": "the pool", "schema": {"type": "object", "required": ["enabled", "groups", "pending"],
      "properties": {"enabled": {"type": "boolean"},
        "groups": {"type": "array", "items": {"type": "object", "required": ["name", "provider", "min_nodes", "max_nodes", "nodes", "reason"],
          "properties": {"name": {"type": "string"}, "provider": {"type": "string", "enum": ["exec", "simulated"]},
            "min_nodes": {"type": "integer"}, "max_nodes": {"type": "integer"},
            "shape": {"type": "object", "properties": {"gpu_model": {"type": "string"}, "gpus": {"type": "integer"}, "cpu_milli": {"type": "integer"}, "memory_mib": {"type": "integer"}}},
            "price_per_hour": {"type": "number"}, "boot_timeout_s": {"type": "integer"}, "scale_down_after_s": {"type": "integer"},
            "reason": {"type": "string"}, "boot_failures": {"type": "integer"}, "created": {"type": "integer"}, "deleted": {"type": "integer"},
            "nodes": {"type": "array", "items": {"type": "object", "required": ["name", "state"],
              "properties": {"name": {"type": "string"}, "node_id": {"type": "string"}, "state": {"type": "string", "enum": ["booting", "ready", "draining"]}, "age_s": {"type": "integer"}}}}}}},
        "pending": {"type": "array", "items": {"type": "object", "required": ["job_id", "why"],
          "properties": {"job_id": {"type": "string"}, "why": {"type": "string"}}}}}},
    "example": {"enabled": false, "groups": [], "pending": []}}}
})json"},
      {"GET /v1/prices", R"json({
  "operationId": "getPrices", "tags": ["metering"],
  "responses": {"200": {"description": "the price table", "schema": {"$ref": "#/components/schemas/Prices"},
    "example": {"gpu_hour": {}, "default_gpu_hour": "0", "cpu_hour": "0", "gib_hour": "0", "minimum_seconds": 0}}}
})json"},
      {"PUT /v1/prices", R"json({
  "operationId": "setPrices", "tags": ["metering"],
  "request": {"schema": {"$ref": "#/components/schemas/PricesRequest"},
    "example": {"gpu_hour": {"H100-80GB": "2.49", "A100-80GB": "1.80"}, "cpu_hour": "0.04", "gib_hour": "0.005", "minimum_seconds": 60}},
  "responses": {"200": {"description": "the new table", "schema": {"$ref": "#/components/schemas/Prices"},
    "example": {"gpu_hour": {"A100-80GB": "1.80", "H100-80GB": "2.49"}, "default_gpu_hour": "0", "cpu_hour": "0.04", "gib_hour": "0.005", "minimum_seconds": 60}}},
  "errors": {"400": "a malformed or negative amount, an unknown field"}
})json"},
      {"GET /v1/usage", R"json({
  "operationId": "getUsage", "tags": ["metering"],
  "description": "Metered usage and cost in a window (default: this month until now). A tenant sees only its own; the admin any tenant's, or every tenant's when tenant is left out.",
  "query": [
    {"name": "tenant", "description": "a tenant's name or id", "schema": {"type": "string"}},
    {"name": "from", "description": "start: Unix milliseconds, a UTC date (2026-11-25) or RFC 3339 in UTC", "schema": {"type": "string"}},
    {"name": "to", "description": "end, as from (default now)", "schema": {"type": "string"}},
    {"name": "by", "description": "rows per job (default), service (its replicas' usage; - for plain jobs), GPU model or day", "schema": {"type": "string", "enum": ["job", "service", "model", "day"]}, "example": "model"},
    {"name": "format", "description": "json (default) or csv", "schema": {"type": "string", "enum": ["json", "csv"]}}],
  "responses": {"200": {"description": "the report",
    "content": {
      "application/json": {"schema": {"$ref": "#/components/schemas/Usage"},
        "example": {"by": "model", "from": 1764547200000, "to": 1764633600000, "rows": [], "total_cents": 0, "total": "0.00", "tenant": "team-a", "tenant_id": "tenant-7c1e4a90d2b35f68"}},
      "text/csv": {"schema": {"type": "string"}}}}},
  "errors": {"400": "a malformed instant, to not after from, an unknown by or format", "404": "no such tenant, or another tenant"}
})json"},
      // ---- tenants and tokens ----
      {"GET /v1/tenants", R"json({
  "operationId": "listTenants", "tags": ["tenants"],
  "responses": {"200": {"description": "every tenant", "schema": {"$ref": "#/components/schemas/TenantList"},
    "example": {"tenants": []}}}
})json"},
      {"POST /v1/tenants", R"json({
  "operationId": "createTenant", "tags": ["tenants"],
  "request": {"schema": {"$ref": "#/components/schemas/TenantCreate"},
    "example": {"name": "team-b", "max_gpu_milli": 4000, "budget_cents": 50000}},
  "responses": {"201": {"description": "the tenant", "schema": {"$ref": "#/components/schemas/Tenant"},
    "example": {"id": "tenant-2d4f6b8a0c1e3a5c", "name": "team-b", "admin": false, "max_gpu_milli": 4000, "budget_cents": 50000, "allow_root": false, "created_at": 1767225600000}}},
  "errors": {"400": "a malformed name or quota", "409": "the name is taken"}
})json"},
      {"GET /v1/tenants/{id}", R"json({
  "operationId": "getTenant", "tags": ["tenants"],
  "description": "A tenant may read itself; the admin any tenant.",
  "path": {"id": {"description": "the tenant's id or name", "example": "team-a"}},
  "responses": {"200": {"description": "the tenant with its standing this month", "schema": {"$ref": "#/components/schemas/TenantWithUsage"}, "exampleRef": "TenantWithUsage"}},
  "errors": {"404": "no such tenant, or another tenant"}
})json"},
      {"GET /v1/tenants/{id}/tokens", R"json({
  "operationId": "listTokens", "tags": ["tenants"],
  "path": {"id": {"description": "the tenant's id or name", "example": "team-a"}},
  "responses": {"200": {"description": "the tenant's tokens, without secrets", "schema": {"$ref": "#/components/schemas/TokenList"},
    "example": {"tokens": []}}},
  "errors": {"404": "no such tenant"}
})json"},
      {"POST /v1/tenants/{id}/tokens", R"json({
  "operationId": "createToken", "tags": ["tenants"],
  "description": "The secret is answered only here (the store keeps its SHA-256); a replay answers without it.",
  "path": {"id": {"description": "the tenant's id or name", "example": "team-a"}},
  "request": {"required": false, "schema": {"$ref": "#/components/schemas/TokenCreate"}, "example": {"name": "ci"}},
  "responses": {"201": {"description": "the token with its secret", "schema": {"$ref": "#/components/schemas/CreatedToken"},
    "example": {"id": "tok-0e2c4a6b8d1f3e5a", "tenant_id": "tenant-7c1e4a90d2b35f68", "name": "ci", "revoked": false, "created_at": 1767225600000, "token": "5a7c9e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f1a3c5e7b9d0f9f2c4e6a8b0d1f3e"}}},
  "errors": {"400": "a malformed body, a name over 128 characters", "404": "no such tenant"}
})json"},
      {"PUT /v1/tenants/{id}/quota", R"json({
  "operationId": "setQuota", "tags": ["tenants", "metering"],
  "description": "A submission over the quota or the budget answers 429.",
  "path": {"id": {"description": "the tenant's id or name", "example": "team-a"}},
  "request": {"schema": {"$ref": "#/components/schemas/Quota"}, "example": {"max_gpu_milli": 8000, "budget_cents": 100000}},
  "responses": {"200": {"description": "the tenant with its standing", "schema": {"$ref": "#/components/schemas/TenantWithUsage"}}},
  "errors": {"400": "a value out of range, an unknown field", "404": "no such tenant"}
})json"},
      {"PUT /v1/tenants/{id}/settings", R"json({
  "operationId": "setTenantSettings", "tags": ["tenants"],
  "description": "Whether the tenant's jobs may ask to run as root on the nodes (docs/security.md).",
  "path": {"id": {"description": "the tenant's id or name", "example": "team-a"}},
  "request": {"schema": {"$ref": "#/components/schemas/TenantSettings"}, "example": {"allow_root": true}},
  "responses": {"200": {"description": "the tenant", "schema": {"$ref": "#/components/schemas/Tenant"},
    "example": {"id": "tenant-7c1e4a90d2b35f68", "name": "team-a", "admin": false, "max_gpu_milli": 0, "budget_cents": 0, "allow_root": true, "created_at": 1767225600000}}},
  "errors": {"400": "not a boolean, an unknown field", "404": "no such tenant"}
})json"},
      {"POST /v1/tokens/{id}/revoke", R"json({
  "operationId": "revokeToken", "tags": ["tenants"],
  "description": "The token stops working at once.",
  "path": {"id": {"description": "the token's id", "example": "tok-1a2b3c4d5e6f7081"}},
  "responses": {"200": {"description": "revoked", "schema": {"$ref": "#/components/schemas/RevokedToken"},
    "example": {"id": "tok-1a2b3c4d5e6f7081", "revoked": true}}},
  "errors": {"404": "no such token"}
})json"},
  };
  return kOperations;
}

std::string_view OpenApiExamplesJson() {
  return R"json({
  "Job": {"summary": "a job just submitted", "value": {
    "id": "job-3f2a9c0d11e4b7a2", "tenant_id": "tenant-7c1e4a90d2b35f68", "name": "train",
    "command": ["python", "train.py"], "env": {"EPOCHS": "3"},
    "shape": {"gpu_count": 1, "gpu_milli": 500, "gpu_memory_mib": 20480, "gpu_models": ["H100-80GB"], "cpu_milli": 2000, "memory_mib": 8192, "isolation": "mps", "description": "0.5 GPU (20GiB) of H100-80GB, 2 CPU, 8GiB, mps"},
    "replicas": 2, "max_retries": 1, "priority": 0, "image": "",
    "state": "pending", "reason": "submitted", "attempts": 0, "created_at": 1767225600000, "updated_at": 1767225600000,
    "events": [], "simulated": false, "allocations": []}},
  "JobDetail": {"summary": "a running job with its allocation", "value": {
    "id": "job-3f2a9c0d11e4b7a2", "tenant_id": "tenant-7c1e4a90d2b35f68", "name": "train",
    "command": ["python", "train.py"], "env": {},
    "shape": {"gpu_count": 1, "gpu_milli": 500, "gpu_memory_mib": 0, "gpu_models": [], "cpu_milli": 0, "memory_mib": 0, "isolation": "default", "description": "0.5 GPU"},
    "replicas": 1, "max_retries": 0, "priority": 0, "image": "",
    "state": "running", "reason": "every replica is running", "attempts": 1, "created_at": 1767225600000, "updated_at": 1767225603000,
    "events": [
      {"at": 1767225601000, "from": "pending", "to": "scheduled", "reason": "placed on node-5f1c2d3e4a5b6c7d"},
      {"at": 1767225603000, "from": "scheduled", "to": "running", "reason": "every replica is running"}],
    "simulated": false,
    "allocations": [{"allocation_id": "alloc-9b8a7c6d5e4f3021", "job_id": "job-3f2a9c0d11e4b7a2", "replica": 0, "node_id": "node-5f1c2d3e4a5b6c7d", "gpu_model": "H100-80GB",
      "slices": [{"gpu_index": 0, "gpu_uuid": "GPU-6f1d2c3b-4a59-4e8f-9d7c-0b1a2c3d4e5f", "milli": 500, "memory_mib": 0, "isolation": "mps"}],
      "cpu_milli": 0, "memory_mib": 0, "created_at": 1767225601000, "state": "running", "exit_code": 0, "signal": 0,
      "started_at": 1767225602000, "ended_at": 0, "message": "", "ended": "", "endpoint": "", "ready": true}]}},
  "CancelledJob": {"summary": "a job cancelled while it ran", "value": {
    "id": "job-3f2a9c0d11e4b7a2", "tenant_id": "tenant-7c1e4a90d2b35f68", "name": "train",
    "command": ["python", "train.py"], "env": {},
    "shape": {"gpu_count": 1, "gpu_milli": 500, "gpu_memory_mib": 0, "gpu_models": [], "cpu_milli": 0, "memory_mib": 0, "isolation": "default", "description": "0.5 GPU"},
    "replicas": 1, "max_retries": 0, "priority": 0, "image": "",
    "state": "cancelled", "reason": "cancelled by tenant-7c1e4a90d2b35f68", "attempts": 1, "created_at": 1767225600000, "updated_at": 1767225660000,
    "events": [{"at": 1767225660000, "from": "running", "to": "cancelled", "reason": "cancelled by tenant-7c1e4a90d2b35f68"}],
    "simulated": false, "allocations": []}},
  "Service": {"summary": "a service just created", "value": {
    "id": "svc-4d2e6f8a0b1c3d5e", "tenant_id": "tenant-7c1e4a90d2b35f68", "name": "embed",
    "spec": {"name": "embed", "command": ["python", "serve.py"], "env": {"MODEL": "bge"},
      "shape": {"gpu_count": 1, "gpu_milli": 250, "gpu_memory_mib": 0, "gpu_models": [], "cpu_milli": 0, "memory_mib": 0, "isolation": "default", "description": "0.25 GPU"},
      "port": true, "readiness": {"http": "/healthz"}, "min_replicas": 1, "max_replicas": 4, "target_rps": 20, "target_gpu_util": 0,
      "idle_timeout_s": 300, "scale_down_delay_s": 300, "image": ""},
    "replicas": 1, "generation": 1, "state": "pending", "reason": "created by tenant-7c1e4a90d2b35f68",
    "replica_jobs": [], "replica_status": [], "created_at": 1767225600000, "updated_at": 1767225600000}},
  "Allocation": {"summary": "a running replica", "value": {
    "allocation_id": "alloc-9b8a7c6d5e4f3021", "job_id": "job-3f2a9c0d11e4b7a2", "replica": 0, "node_id": "node-5f1c2d3e4a5b6c7d", "gpu_model": "H100-80GB",
    "slices": [{"gpu_index": 0, "gpu_uuid": "GPU-6f1d2c3b-4a59-4e8f-9d7c-0b1a2c3d4e5f", "milli": 500, "memory_mib": 0, "isolation": "mps"}],
    "cpu_milli": 0, "memory_mib": 0, "created_at": 1767225601000, "state": "running", "exit_code": 0, "signal": 0,
    "started_at": 1767225602000, "ended_at": 0, "message": "", "ended": "", "endpoint": "10.0.0.7:40123", "ready": true}},
  "DrainedNode": {"summary": "a node drained", "value": {
    "id": "node-5f1c2d3e4a5b6c7d", "name": "gpu-node-1", "agent_id": "gpu-node-1", "state": "draining", "simulated": false,
    "cpu_milli": 64000, "memory_mib": 524288, "last_heartbeat": 1767225603000, "registered_at": 1767225500000,
    "live_allocations": 0, "overcommitted": "",
    "gpus": [{"index": 0, "uuid": "GPU-6f1d2c3b-4a59-4e8f-9d7c-0b1a2c3d4e5f", "model": "H100-80GB", "memory_mib": 81559, "healthy": true, "health_reason": "", "mig_enabled": false, "simulated": false, "allocated_milli": 0}]}},
  "TenantWithUsage": {"summary": "a tenant with its standing", "value": {
    "id": "tenant-7c1e4a90d2b35f68", "name": "team-a", "admin": false, "max_gpu_milli": 8000, "budget_cents": 100000, "allow_root": false, "created_at": 1767225600000,
    "usage": {"period": "2026-01", "period_start": 1767225600000, "spent_cents": 1250, "spent": "12.50", "budget_cents": 100000, "budget": "1000.00",
      "gpu_milli_held": 500, "max_gpu_milli": 8000, "over_budget": false, "over_budget_since": 0, "warning": ""}}}
})json";
}

}  // namespace fastgpu::server

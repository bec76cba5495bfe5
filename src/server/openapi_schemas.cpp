// components/schemas of the OpenAPI document (openapi.h): the JSON form of every body the
// API takes or answers, as json_codec.cpp, model/json.cpp, protocol/agent_protocol.cpp,
// metering/price_json.cpp, metering/report.cpp and the handlers write it.
//
// Answers list every field they always carry as required and refuse others
// (additionalProperties false), so the live example test (openapi_test.cpp) notices a field
// the server adds or drops. Request bodies of the public API refuse unknown fields as the
// server does; the agent protocol's ignore them (a newer agent may add some).
#include "server/openapi.h"

namespace fastgpu::server {

std::string_view OpenApiSchemasJson() {
  return R"json({
  "Error": {
    "type": "object",
    "description": "Every error answer. The HTTP status follows from the code alone; the message starts with the offending field's path for bad input.",
    "properties": {
      "code": {"type": "string", "enum": ["CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"]},
      "message": {"type": "string"}
    },
    "required": ["code", "message"],
    "additionalProperties": false
  },
  "Health": {
    "type": "object",
    "properties": {
      "status": {"type": "string", "enum": ["ok"]},
      "store": {"type": "string", "description": "the store's kind: sqlite, postgres (memory in tests)"},
      "replica": {"type": "string", "description": "this replica's id (with several replicas on one store)"},
      "leading": {"type": "boolean", "description": "whether this replica runs the reconciler"},
      "leader": {"type": "string", "description": "the replica that leads"}
    },
    "required": ["status", "store"],
    "additionalProperties": false
  },
  "PoolSample": {
    "type": "object",
    "description": "The pool's gauges at one time (GPU compute in thousandths of a GPU).",
    "properties": {
      "at": {"type": "integer", "description": "Unix milliseconds"},
      "capacity_milli": {"type": "integer"},
      "allocated_milli": {"type": "integer"},
      "free_milli": {"type": "integer"},
      "fragmentation_ratio": {"type": ["number", "null"], "description": "fragmented / free, against the learned workload; null before it is known"},
      "fragmented_milli": {"type": ["number", "null"]},
      "pending_jobs": {"type": "integer"},
      "oldest_pending_seconds": {"type": "number"}
    },
    "required": ["at", "capacity_milli", "allocated_milli", "free_milli", "fragmentation_ratio", "fragmented_milli", "pending_jobs", "oldest_pending_seconds"],
    "additionalProperties": false
  },
  "PoolHistory": {
    "type": "object",
    "properties": {
      "now": {"type": "integer", "description": "the server's clock, Unix milliseconds"},
      "interval_ms": {"type": "integer"},
      "capacity": {"type": "integer", "description": "how many samples are kept"},
      "samples": {"type": "array", "items": {"$ref": "#/components/schemas/PoolSample"}}
    },
    "required": ["now", "interval_ms", "capacity", "samples"],
    "additionalProperties": false
  },
  "RouteList": {
    "type": "object",
    "properties": {
      "routes": {
        "type": "array",
        "items": {
          "type": "object",
          "properties": {
            "method": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
            "path": {"type": "string", "description": "template, {name} segments"},
            "auth": {"$ref": "#/components/schemas/AuthLevel"},
            "summary": {"type": "string"}
          },
          "required": ["method", "path", "auth", "summary"],
          "additionalProperties": false
        }
      }
    },
    "required": ["routes"],
    "additionalProperties": false
  },
  "AuthLevel": {
    "type": "string",
    "description": "who may call a route (the x-fastgpu-auth of each operation)",
    "enum": ["none", "join", "node", "tenant", "admin"]
  },
  "Isolation": {
    "type": "string",
    "description": "default: MPS for a fraction of a GPU, exclusive for whole GPUs",
    "enum": ["default", "vm", "mig", "mps", "shared", "exclusive"]
  },
  "JobState": {
    "type": "string",
    "enum": ["pending", "scheduled", "running", "succeeded", "failed", "cancelled"]
  },
  "ShapeRequest": {
    "type": "object",
    "description": "What one replica needs: a fraction of one GPU (gpu_count 1, gpu_milli 1..999), whole GPUs (gpu_count n, gpu_milli 1000 or left out) or none.",
    "properties": {
      "gpu_count": {"type": "integer", "minimum": 0, "maximum": 64},
      "gpu_milli": {"type": "integer", "minimum": 0, "maximum": 1000, "description": "thousandths of each GPU; 1000 when left out with gpu_count > 0"},
      "gpu_memory_mib": {"type": "integer", "minimum": 0},
      "gpu_models": {"type": "array", "items": {"type": "string"}, "description": "any of these models; empty: any"},
      "cpu_milli": {"type": "integer", "minimum": 0},
      "memory_mib": {"type": "integer", "minimum": 0},
      "isolation": {"$ref": "#/components/schemas/Isolation"}
    },
    "additionalProperties": false
  },
  "Shape": {
    "type": "object",
    "properties": {
      "gpu_count": {"type": "integer"},
      "gpu_milli": {"type": "integer"},
      "gpu_memory_mib": {"type": "integer"},
      "gpu_models": {"type": "array", "items": {"type": "string"}},
      "cpu_milli": {"type": "integer"},
      "memory_mib": {"type": "integer"},
      "isolation": {"$ref": "#/components/schemas/Isolation"},
      "description": {"type": "string", "description": "the shape in words, for people"}
    },
    "required": ["gpu_count", "gpu_milli", "gpu_memory_mib", "gpu_models", "cpu_milli", "memory_mib", "isolation", "description"],
    "additionalProperties": false
  },
  "JobSubmission": {
    "type": "object",
    "properties": {
      "name": {"type": "string", "description": "a job may be named by it wherever an id is taken"},
      "command": {"type": "array", "items": {"type": "string"}},
      "env": {"type": "object", "additionalProperties": {"type": "string"}},
      "shape": {"$ref": "#/components/schemas/ShapeRequest"},
      "replicas": {"type": "integer", "minimum": 1, "maximum": 1024, "description": "placed as a gang: all at once or none; default 1"},
      "max_retries": {"type": "integer", "minimum": 0, "maximum": 100, "description": "requeues after a lost node or an unhealthy GPU; default 0"},
      "priority": {"type": "integer", "minimum": -1000, "maximum": 1000, "description": "orders which jobs stop first when the tenant is over budget; default 0"},
      "image": {"type": "string", "description": "an OCI image to run each replica in (podman); empty: a plain process"},
      "run_as_root": {"type": "boolean", "description": "run as root in the sandbox; only for a tenant the admin allowed"},
      "session": {"type": "boolean", "description": "an interactive session (docs/sessions.md): one replica whose stdio is relayed to a client; default false"},
      "tty": {"type": "boolean", "description": "session only: under a pseudo-terminal (else pipes); default false"},
      "idle_timeout_s": {"type": "integer", "minimum": 0, "description": "session only: ended after this long without input or output; 0 or above the server's maximum: the server's (--session-idle-timeout)"},
      "port": {"type": "boolean", "description": "each replica gets a TCP port from its agent (PORT in its environment); its endpoint host:port shows with its allocation; default false"},
      "readiness": {"$ref": "#/components/schemas/ReadinessProbe"}
    },
    "required": ["command", "shape"],
    "additionalProperties": false
  },
  "ReadinessProbe": {
    "type": "object",
    "description": "port only: when a replica counts as ready; absent: once it runs. Exactly one of http and tcp",
    "properties": {
      "http": {"type": "string", "maxLength": 1024, "description": "a path starting with /: GET it on the replica's endpoint; 2xx or 3xx = ready"},
      "tcp": {"type": "boolean", "enum": [true], "description": "a TCP connect to the endpoint = ready"}
    },
    "additionalProperties": false
  },
  "JobEvent": {
    "type": "object",
    "properties": {
      "at": {"type": "integer", "format": "int64", "description": "Unix milliseconds"},
      "from": {"$ref": "#/components/schemas/JobState"},
      "to": {"$ref": "#/components/schemas/JobState"},
      "reason": {"type": "string"}
    },
    "required": ["at", "from", "to", "reason"],
    "additionalProperties": false
  },
  "Job": {
    "type": "object",
    "properties": {
      "id": {"type": "string"},
      "tenant_id": {"type": "string"},
      "name": {"type": "string"},
      "command": {"type": "array", "items": {"type": "string"}},
      "env": {"type": "object", "additionalProperties": {"type": "string"}},
      "shape": {"$ref": "#/components/schemas/Shape"},
      "replicas": {"type": "integer"},
      "max_retries": {"type": "integer"},
      "priority": {"type": "integer"},
      "image": {"type": "string", "description": "empty for a plain process"},
      "run_as_root": {"type": "boolean", "description": "present only when true"},
      "session": {"type": "boolean", "description": "present only for an interactive session (docs/sessions.md)"},
      "tty": {"type": "boolean", "description": "sessions only: under a pseudo-terminal"},
      "idle_timeout_s": {"type": "integer", "description": "sessions only: the idle timeout in force"},
      "port": {"type": "boolean", "description": "present only when true: each replica gets a TCP port"},
      "readiness": {"$ref": "#/components/schemas/ReadinessProbe"},
      "service": {"type": "string", "description": "present only for a service's replica: the service's id (docs/services.md)"},
      "service_generation": {"type": "integer", "format": "int64", "description": "present only for a service's replica: the service's generation it runs"},
      "state": {"$ref": "#/components/schemas/JobState"},
      "reason": {"type": "string", "description": "why it is in its state; while pending, why it waits"},
      "attempts": {"type": "integer"},
      "created_at": {"type": "integer", "format": "int64"},
      "updated_at": {"type": "integer", "format": "int64"},
      "events": {"type": "array", "items": {"$ref": "#/components/schemas/JobEvent"}},
      "simulated": {"type": "boolean", "description": "placed on simulated GPUs"},
      "allocations": {"type": "array", "items": {"$ref": "#/components/schemas/Allocation"}, "description": "every allocation of the job in GET /v1/jobs/{id}; empty in other answers"}
    },
    "required": ["id", "tenant_id", "name", "command", "env", "shape", "replicas", "max_retries", "priority", "image", "state", "reason", "attempts", "created_at", "updated_at", "events", "simulated", "allocations"],
    "additionalProperties": false
  },
  "Readiness": {
    "type": "object",
    "description": "How a replica is judged ready: an HTTP GET of the path on its port answers 2xx, or its port accepts a TCP connection. Absent: a running replica is ready.",
    "properties": {
      "http": {"type": "string", "description": "the path to GET, starting with /"},
      "tcp": {"type": "boolean", "description": "a TCP connect to the port"}
    },
    "additionalProperties": false
  },
  "ServiceUpdate": {
    "type": "object",
    "description": "The fields of a service's spec as a request gives them (POST creates with them; PATCH changes the ones given, null restoring a default).",
    "properties": {
      "name": {"type": "string", "description": "1-63 of a-z, 0-9 and -; unique per tenant; cannot change"},
      "command": {"type": "array", "items": {"type": "string"}},
      "env": {"type": "object", "additionalProperties": {"type": "string"}},
      "shape": {"$ref": "#/components/schemas/ShapeRequest"},
      "port": {"type": "boolean", "description": "the replica listens on $PORT, which its agent gives; default false"},
      "readiness": {"$ref": "#/components/schemas/Readiness"},
      "min_replicas": {"type": "integer", "minimum": 0, "maximum": 1024, "description": "default 1; 0 lets an idle service drop to zero"},
      "max_replicas": {"type": "integer", "minimum": 0, "maximum": 1024, "description": "default (or 0): min_replicas, at least 1"},
      "target_rps": {"type": "number", "minimum": 0, "description": "requests per second per replica the autoscaler aims at; 0 (default): off"},
      "target_gpu_util": {"type": "integer", "minimum": 0, "maximum": 100, "description": "GPU utilisation percent the autoscaler aims at; 0 (default): off; not with target_rps"},
      "idle_timeout_s": {"type": "integer", "minimum": 1, "description": "with min_replicas 0: no request for this long scales to zero; default 300"},
      "scale_down_delay_s": {"type": "integer", "minimum": 0, "description": "the autoscaler lowers the count only after wanting fewer this long; default 300"},
      "image": {"type": "string", "description": "an OCI image to run each replica in; empty: a plain process"},
      "run_as_root": {"type": "boolean", "description": "only for a tenant the admin allowed"}
    },
    "additionalProperties": false
  },
  "ServiceCreate": {
    "type": "object",
    "properties": {
      "name": {"type": "string"},
      "command": {"type": "array", "items": {"type": "string"}},
      "env": {"type": "object", "additionalProperties": {"type": "string"}},
      "shape": {"$ref": "#/components/schemas/ShapeRequest"},
      "port": {"type": "boolean"},
      "readiness": {"$ref": "#/components/schemas/Readiness"},
      "min_replicas": {"type": "integer", "minimum": 0, "maximum": 1024},
      "max_replicas": {"type": "integer", "minimum": 0, "maximum": 1024},
      "target_rps": {"type": "number", "minimum": 0},
      "target_gpu_util": {"type": "integer", "minimum": 0, "maximum": 100},
      "idle_timeout_s": {"type": "integer", "minimum": 1},
      "scale_down_delay_s": {"type": "integer", "minimum": 0},
      "image": {"type": "string"},
      "run_as_root": {"type": "boolean"},
      "replicas": {"type": "integer", "minimum": 0, "maximum": 1024, "description": "the count to start with, clamped to min..max; default min_replicas, at least 1"}
    },
    "required": ["name", "command"],
    "additionalProperties": false
  },
  "ServiceScale": {
    "type": "object",
    "properties": {"replicas": {"type": "integer", "minimum": 0, "maximum": 1024}},
    "required": ["replicas"],
    "additionalProperties": false
  },
  "ServiceSpec": {
    "type": "object",
    "properties": {
      "name": {"type": "string"},
      "command": {"type": "array", "items": {"type": "string"}},
      "env": {"type": "object", "additionalProperties": {"type": "string"}},
      "shape": {"$ref": "#/components/schemas/Shape"},
      "port": {"type": "boolean"},
      "readiness": {"$ref": "#/components/schemas/Readiness"},
      "min_replicas": {"type": "integer"},
      "max_replicas": {"type": "integer"},
      "target_rps": {"type": "number"},
      "target_gpu_util": {"type": "integer"},
      "idle_timeout_s": {"type": "integer"},
      "scale_down_delay_s": {"type": "integer"},
      "image": {"type": "string"},
      "run_as_root": {"type": "boolean", "description": "present only when true"}
    },
    "required": ["name", "command", "env", "shape", "port", "min_replicas", "max_replicas", "target_rps", "target_gpu_util", "idle_timeout_s", "scale_down_delay_s", "image"],
    "additionalProperties": false
  },
  "ReplicaStatus": {
    "type": "object",
    "properties": {
      "job_id": {"type": "string"},
      "state": {"$ref": "#/components/schemas/JobState"},
      "generation": {"type": "integer", "format": "int64"},
      "ready": {"type": "boolean", "description": "running and, with a port, its readiness probe passed"},
      "reason": {"type": "string"},
      "endpoint": {"type": "string", "description": "host:port its agent gave the replica; absent until reported"}
    },
    "required": ["job_id", "state", "generation", "ready", "reason"],
    "additionalProperties": false
  },
  "Service": {
    "type": "object",
    "properties": {
      "id": {"type": "string"},
      "tenant_id": {"type": "string"},
      "name": {"type": "string"},
      "spec": {"$ref": "#/components/schemas/ServiceSpec"},
      "replicas": {"type": "integer", "description": "the desired count now, within min..max"},
      "generation": {"type": "integer", "format": "int64", "description": "rises with every change of what a replica runs"},
      "state": {"type": "string", "enum": ["pending", "running", "updating", "backoff", "idle"]},
      "reason": {"type": "string"},
      "replica_jobs": {"type": "array", "items": {"type": "string"}, "description": "the ids of its live replica jobs, oldest first"},
      "replica_status": {"type": "array", "items": {"$ref": "#/components/schemas/ReplicaStatus"}},
      "autoscaler": {"type": "object", "description": "the autoscaler's last decision (from the leader, once it has run)",
        "properties": {"replicas": {"type": "integer"}, "reason": {"type": "string"},
          "rps": {"type": "number", "description": "requests per second through the proxy (last 30 s)"},
          "ready": {"type": "integer"}, "gpu_util": {"type": "number", "description": "mean GPU utilisation of the ready replicas, when reported"},
          "at": {"type": "integer", "format": "int64"}},
        "required": ["replicas", "reason", "rps", "ready", "at"], "additionalProperties": false},
      "created_at": {"type": "integer", "format": "int64"},
      "updated_at": {"type": "integer", "format": "int64"},
      "scale": {"type": "object", "description": "POST .../scale only: what was asked and what was set",
        "properties": {"requested": {"type": "integer"}, "replicas": {"type": "integer"}, "clamped": {"type": "boolean"}, "note": {"type": "string"}},
        "required": ["requested", "replicas", "clamped", "note"], "additionalProperties": false}
    },
    "required": ["id", "tenant_id", "name", "spec", "replicas", "generation", "state", "reason", "replica_jobs", "replica_status", "created_at", "updated_at"],
    "additionalProperties": false
  },
  "ServiceList": {
    "type": "object",
    "properties": {"services": {"type": "array", "items": {"$ref": "#/components/schemas/Service"}}},
    "required": ["services"],
    "additionalProperties": false
  },
  "DeletedService": {
    "type": "object",
    "properties": {
      "id": {"type": "string"},
      "name": {"type": "string"},
      "deleted": {"type": "boolean", "enum": [true]},
      "cancelled_jobs": {"type": "array", "items": {"type": "string"}, "description": "the replica jobs cancelled"}
    },
    "required": ["id", "name", "deleted", "cancelled_jobs"],
    "additionalProperties": false
  },
  "JobList": {
    "type": "object",
    "properties": {
      "jobs": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}},
      "next_cursor": {"type": "string", "description": "pass as cursor for the next page; empty on the last"}
    },
    "required": ["jobs", "next_cursor"],
    "additionalProperties": false
  },
  "LogChunk": {
    "type": "object",
    "properties": {
      "data": {"type": "string"},
      "next_offset": {"type": "integer", "format": "int64"},
      "done": {"type": "boolean", "description": "the job is over, its log complete, and all was read"},
      "allocation_id": {"type": "string", "description": "the replica's latest allocation; empty while it has none"},
      "job_state": {"$ref": "#/components/schemas/JobState"},
      "dropped_bytes": {"type": "integer", "format": "int64"},
      "log_limit_bytes": {"type": "integer", "format": "int64"}
    },
    "required": ["data", "next_offset", "done", "allocation_id", "job_state", "dropped_bytes", "log_limit_bytes"],
    "additionalProperties": false
  },
  "VgpuSlice": {
    "type": "object",
    "properties": {
      "gpu_index": {"type": "integer"},
      "gpu_uuid": {"type": "string"},
      "milli": {"type": "integer", "minimum": 1, "maximum": 1000},
      "memory_mib": {"type": "integer"},
      "isolation": {"$ref": "#/components/schemas/Isolation"},
      "vm_type": {"type": "string", "description": "vm isolation: the vGPU type a fraction runs as (milli is its share); absent otherwise"}
    },
    "required": ["gpu_index", "gpu_uuid", "milli", "memory_mib", "isolation"],
    "additionalProperties": false
  },
  "Allocation": {
    "type": "object",
    "properties": {
      "allocation_id": {"type": "string"},
      "job_id": {"type": "string"},
      "replica": {"type": "integer"},
      "node_id": {"type": "string"},
      "gpu_model": {"type": "string"},
      "slices": {"type": "array", "items": {"$ref": "#/components/schemas/VgpuSlice"}},
      "cpu_milli": {"type": "integer"},
      "memory_mib": {"type": "integer"},
      "created_at": {"type": "integer", "format": "int64"},
      "state": {"type": "string", "enum": ["pending", "starting", "running", "exited", "failed", "released"]},
      "exit_code": {"type": "integer"},
      "signal": {"type": "integer"},
      "started_at": {"type": "integer", "format": "int64", "description": "0: not started"},
      "ended_at": {"type": "integer", "format": "int64", "description": "0: not ended"},
      "message": {"type": "string"},
      "ended": {"type": "string", "description": "how the replica ended: empty while live, exit N, signal N, failed to start, stopped by the control plane, OOMKilled"},
      "endpoint": {"type": "string", "description": "host:port where a live replica of a job with a port listens, as its agent last reported; empty when none is known"},
      "ready": {"type": "boolean", "description": "the live replica runs and its readiness probe (if any) passed, as its agent last reported"}
    },
    "required": ["allocation_id", "job_id", "replica", "node_id", "gpu_model", "slices", "cpu_milli", "memory_mib", "created_at", "state", "exit_code", "signal", "started_at", "ended_at", "message", "ended", "endpoint", "ready"],
    "additionalProperties": false
  },
  "AllocationList": {
    "type": "object",
    "properties": {"allocations": {"type": "array", "items": {"$ref": "#/components/schemas/Allocation"}}},
    "required": ["allocations"],
    "additionalProperties": false
  },
  "Gpu": {
    "type": "object",
    "properties": {
      "index": {"type": "integer", "minimum": 0, "maximum": 1023},
      "uuid": {"type": "string"},
      "model": {"type": "string"},
      "memory_mib": {"type": "integer", "minimum": 1},
      "healthy": {"type": "boolean"},
      "health_reason": {"type": "string"},
      "mig_enabled": {"type": "boolean"},
      "simulated": {"type": "boolean"},
      "vm": {"$ref": "#/components/schemas/VmOffer"}
    },
    "required": ["index", "uuid", "model", "memory_mib"]
  },
  "VmGpuType": {
    "type": "object",
    "properties": {
      "name": {"type": "string", "minLength": 1, "maxLength": 128},
      "milli": {"type": "integer", "minimum": 1, "maximum": 1000, "description": "its share of the GPU"},
      "framebuffer_mib": {"type": "integer", "minimum": 0}
    },
    "required": ["name", "milli"]
  },
  "VmOffer": {
    "type": "object",
    "description": "what the GPU offers to vm isolation; absent: nothing",
    "properties": {
      "passthrough": {"type": "boolean", "description": "the whole GPU can be passed to a guest"},
      "types": {"type": "array", "maxItems": 8, "items": {"$ref": "#/components/schemas/VmGpuType"}, "description": "vGPU types, smallest first"},
      "reason": {"type": "string", "description": "why vm work cannot use the GPU, or only part of it"}
    }
  },
  "NodeGpu": {
    "type": "object",
    "properties": {
      "index": {"type": "integer"},
      "uuid": {"type": "string"},
      "model": {"type": "string"},
      "memory_mib": {"type": "integer"},
      "healthy": {"type": "boolean"},
      "health_reason": {"type": "string"},
      "mig_enabled": {"type": "boolean"},
      "simulated": {"type": "boolean"},
      "vm": {"$ref": "#/components/schemas/VmOffer"},
      "allocated_milli": {"type": "integer", "description": "held by the node's live allocations"},
      "utilization_pct": {"type": "integer", "minimum": 0, "maximum": 100, "description": "GPU utilisation its agent last reported (NVML; simulated GPUs: what their replicas wrote); absent when unknown"}
    },
    "required": ["index", "uuid", "model", "memory_mib", "healthy", "health_reason", "mig_enabled", "simulated", "allocated_milli"],
    "additionalProperties": false
  },
  "Node": {
    "type": "object",
    "properties": {
      "id": {"type": "string"},
      "name": {"type": "string"},
      "agent_id": {"type": "string"},
      "state": {"type": "string", "enum": ["ready", "draining", "lost"]},
      "simulated": {"type": "boolean"},
      "cpu_milli": {"type": "integer"},
      "memory_mib": {"type": "integer"},
      "last_heartbeat": {"type": "integer", "format": "int64"},
      "registered_at": {"type": "integer", "format": "int64"},
      "live_allocations": {"type": "integer"},
      "overcommitted": {"type": "string", "description": "why its live allocations hold more than it reports (it then gets no new work); empty when they fit"},
      "gpus": {"type": "array", "items": {"$ref": "#/components/schemas/NodeGpu"}}
    },
    "required": ["id", "name", "agent_id", "state", "simulated", "cpu_milli", "memory_mib", "last_heartbeat", "registered_at", "live_allocations", "overcommitted", "gpus"],
    "additionalProperties": false
  },
  "NodeList": {
    "type": "object",
    "properties": {"nodes": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}},
    "required": ["nodes"],
    "additionalProperties": false
  },
  "RegisterRequest": {
    "type": "object",
    "description": "Agent protocol (docs/agent-protocol.md); fields the server does not know are ignored.",
    "properties": {
      "protocol_version": {"type": "integer", "minimum": 1, "description": "the sender's; absent means 1"},
      "name": {"type": "string"},
      "agent_id": {"type": "string", "description": "1-200 characters, stable across restarts"},
      "node_secret": {"type": "string", "description": "the node's secret from its first registration; needed to register an existing agent_id again"},
      "cpu_milli": {"type": "integer", "minimum": 0},
      "memory_mib": {"type": "integer", "minimum": 0},
      "simulated": {"type": "boolean"},
      "gpus": {"type": "array", "items": {"$ref": "#/components/schemas/Gpu"}}
    },
    "required": ["name", "agent_id", "cpu_milli", "memory_mib"]
  },
  "RegisterResponse": {
    "type": "object",
    "properties": {
      "protocol_version": {"type": "integer"},
      "node_id": {"type": "string"},
      "node_token": {"type": "string", "description": "the bearer token of the node's heartbeats and logs"},
      "node_secret": {"type": "string", "description": "present it at the next registration"},
      "heartbeat_interval_ms": {"type": "integer"},
      "lease_ms": {"type": "integer", "description": "a node silent this long is lost"}
    },
    "required": ["protocol_version", "node_id", "node_token", "node_secret", "heartbeat_interval_ms", "lease_ms"],
    "additionalProperties": false
  },
  "GpuHealthReport": {
    "type": "object",
    "properties": {
      "index": {"type": "integer", "minimum": 0, "maximum": 1023},
      "healthy": {"type": "boolean"},
      "health_reason": {"type": "string"},
      "utilization_pct": {"type": "integer", "minimum": -1, "maximum": 100, "description": "0-100; -1 or absent: unknown"}
    },
    "required": ["index"]
  },
  "ReplicaReport": {
    "type": "object",
    "properties": {
      "allocation_id": {"type": "string"},
      "state": {"type": "string", "enum": ["starting", "running", "exited", "failed"]},
      "pid": {"type": "integer", "minimum": 0},
      "exit_code": {"type": "integer", "minimum": -1000, "maximum": 1000},
      "signal": {"type": "integer", "minimum": 0, "maximum": 128},
      "started_at": {"type": "integer", "format": "int64", "minimum": 0},
      "ended_at": {"type": "integer", "format": "int64", "minimum": 0},
      "message": {"type": "string"},
      "reason": {"type": "string", "enum": ["", "OOMKilled"], "description": "only on an exited replica"},
      "endpoint": {"type": "string", "maxLength": 300, "description": "host:port of a replica with a port; absent: none"},
      "ready": {"type": "boolean", "description": "running and its readiness probe passed; absent: false"}
    },
    "required": ["allocation_id", "state"]
  },
  "HeartbeatRequest": {
    "type": "object",
    "properties": {
      "protocol_version": {"type": "integer", "minimum": 1},
      "gpus": {"type": "array", "items": {"$ref": "#/components/schemas/GpuHealthReport"}},
      "replicas": {"type": "array", "items": {"$ref": "#/components/schemas/ReplicaReport"}}
    }
  },
  "DesiredReplica": {
    "type": "object",
    "properties": {
      "allocation_id": {"type": "string"},
      "job_id": {"type": "string"},
      "replica": {"type": "integer"},
      "replicas": {"type": "integer"},
      "command": {"type": "array", "items": {"type": "string"}},
      "env": {"type": "object", "additionalProperties": {"type": "string"}},
      "run_as_root": {"type": "boolean", "description": "present only when true"},
      "image": {"type": "string", "description": "present only for an image job"},
      "session": {"type": "boolean", "description": "present only when true: an interactive session; the agent opens its WebSocket (docs/sessions.md)"},
      "tty": {"type": "boolean", "description": "present only when true: the session runs under a pseudo-terminal"},
      "port": {"type": "boolean", "description": "present only when true: the agent gives the replica a TCP port (PORT)"},
      "readiness": {"$ref": "#/components/schemas/ReadinessProbe"},
      "cpu_milli": {"type": "integer"},
      "memory_mib": {"type": "integer"},
      "gpu_model": {"type": "string"},
      "slices": {"type": "array", "items": {"$ref": "#/components/schemas/VgpuSlice"}}
    },
    "required": ["allocation_id", "job_id", "replica", "replicas", "command", "env", "cpu_milli", "memory_mib", "gpu_model", "slices"],
    "additionalProperties": false
  },
  "HeartbeatResponse": {
    "type": "object",
    "properties": {
      "protocol_version": {"type": "integer"},
      "lease_ms": {"type": "integer"},
      "allocations": {"type": "array", "items": {"$ref": "#/components/schemas/DesiredReplica"}, "description": "what should run on the node"},
      "cancel": {"type": "array", "items": {"type": "string"}, "description": "allocations to stop and forget"},
      "execs": {"type": "array", "description": "present only when some: job exec commands to start in running replicas (docs/sessions.md)",
        "items": {"type": "object", "properties": {"exec_id": {"type": "string"}, "allocation_id": {"type": "string"},
          "command": {"type": "array", "items": {"type": "string"}}, "tty": {"type": "boolean"}},
          "required": ["exec_id", "allocation_id", "command"], "additionalProperties": false}}
    },
    "required": ["protocol_version", "lease_ms", "allocations", "cancel"],
    "additionalProperties": false
  },
  "LogShipment": {
    "type": "object",
    "properties": {
      "protocol_version": {"type": "integer", "minimum": 1},
      "allocation_id": {"type": "string"},
      "offset": {"type": "integer", "format": "int64", "minimum": 0},
      "data": {"type": "string", "description": "valid UTF-8"},
      "final": {"type": "boolean", "description": "the replica's last shipment"}
    },
    "required": ["allocation_id", "offset", "data"]
  },
  "LogShipmentResponse": {
    "type": "object",
    "properties": {
      "protocol_version": {"type": "integer"},
      "next_offset": {"type": "integer", "format": "int64", "description": "where the next shipment starts (after a gap: the size to resend from)"},
      "truncated": {"type": "boolean", "description": "bytes were dropped at the log limit"}
    },
    "required": ["protocol_version", "next_offset", "truncated"],
    "additionalProperties": false
  },
  "Prices": {
    "type": "object",
    "description": "Dollar amounts as decimal strings (docs/metering.md).",
    "properties": {
      "gpu_hour": {"type": "object", "additionalProperties": {"type": "string"}, "description": "per GPU-hour, by model"},
      "default_gpu_hour": {"type": "string"},
      "cpu_hour": {"type": "string", "description": "per core-hour"},
      "gib_hour": {"type": "string", "description": "per GiB-hour of main memory"},
      "minimum_seconds": {"type": "integer", "description": "minimum billed seconds per usage record"}
    },
    "required": ["gpu_hour", "default_gpu_hour", "cpu_hour", "gib_hour", "minimum_seconds"],
    "additionalProperties": false
  },
  "PricesRequest": {
    "type": "object",
    "description": "Every field optional (default 0); amounts are strings or numbers with at most 5 decimals.",
    "properties": {
      "gpu_hour": {"type": "object", "additionalProperties": {"type": ["string", "number"]}},
      "default_gpu_hour": {"type": ["string", "number"]},
      "cpu_hour": {"type": ["string", "number"]},
      "gib_hour": {"type": ["string", "number"]},
      "minimum_seconds": {"type": "integer", "minimum": 0}
    },
    "additionalProperties": false
  },
  "UsageRow": {
    "type": "object",
    "properties": {
      "key": {"type": "string", "description": "the job id, the service's name (- for plain jobs), the GPU model or the day (YYYY-MM-DD)"},
      "billed_seconds": {"type": "integer"},
      "gpu_hours": {"type": "number"},
      "gpu_milli_seconds": {"type": "integer"},
      "cents": {"type": "integer"},
      "cost": {"type": "string", "description": "dollars, two decimals"}
    },
    "required": ["key", "billed_seconds", "gpu_hours", "gpu_milli_seconds", "cents", "cost"],
    "additionalProperties": false
  },
  "Usage": {
    "type": "object",
    "properties": {
      "by": {"type": "string", "enum": ["job", "service", "model", "day"]},
      "from": {"type": "integer", "format": "int64"},
      "to": {"type": "integer", "format": "int64"},
      "rows": {"type": "array", "items": {"$ref": "#/components/schemas/UsageRow"}},
      "total_cents": {"type": "integer"},
      "total": {"type": "string"},
      "tenant": {"type": "string", "description": "the tenant's name; * for every tenant"},
      "tenant_id": {"type": "string", "description": "empty for every tenant"}
    },
    "required": ["by", "from", "to", "rows", "total_cents", "total", "tenant", "tenant_id"],
    "additionalProperties": false
  },
  "TenantUsage": {
    "type": "object",
    "description": "The tenant's standing in the current month.",
    "properties": {
      "period": {"type": "string", "description": "YYYY-MM"},
      "period_start": {"type": "integer", "format": "int64"},
      "spent_cents": {"type": "integer"},
      "spent": {"type": "string"},
      "budget_cents": {"type": "integer", "description": "0: no budget"},
      "budget": {"type": "string"},
      "gpu_milli_held": {"type": "integer"},
      "max_gpu_milli": {"type": "integer", "description": "0: no quota"},
      "over_budget": {"type": "boolean"},
      "over_budget_since": {"type": "integer", "format": "int64"},
      "warning": {"type": "string"}
    },
    "required": ["period", "period_start", "spent_cents", "spent", "budget_cents", "budget", "gpu_milli_held", "max_gpu_milli", "over_budget", "over_budget_since", "warning"],
    "additionalProperties": false
  },
  "Tenant": {
    "type": "object",
    "properties": {
      "id": {"type": "string"},
      "name": {"type": "string"},
      "admin": {"type": "boolean"},
      "max_gpu_milli": {"type": "integer", "description": "0: no quota"},
      "budget_cents": {"type": "integer", "description": "per month; 0: no budget"},
      "allow_root": {"type": "boolean"},
      "created_at": {"type": "integer", "format": "int64"}
    },
    "required": ["id", "name", "admin", "max_gpu_milli", "budget_cents", "allow_root", "created_at"],
    "additionalProperties": false
  },
  "TenantWithUsage": {
    "type": "object",
    "properties": {
      "id": {"type": "string"},
      "name": {"type": "string"},
      "admin": {"type": "boolean"},
      "max_gpu_milli": {"type": "integer"},
      "budget_cents": {"type": "integer"},
      "allow_root": {"type": "boolean"},
      "created_at": {"type": "integer", "format": "int64"},
      "usage": {"$ref": "#/components/schemas/TenantUsage"}
    },
    "required": ["id", "name", "admin", "max_gpu_milli", "budget_cents", "allow_root", "created_at", "usage"],
    "additionalProperties": false
  },
  "TenantList": {
    "type": "object",
    "properties": {"tenants": {"type": "array", "items": {"$ref": "#/components/schemas/Tenant"}}},
    "required": ["tenants"],
    "additionalProperties": false
  },
  "TenantCreate": {
    "type": "object",
    "properties": {
      "name": {"type": "string"},
      "admin": {"type": "boolean"},
      "max_gpu_milli": {"type": "integer", "minimum": 0},
      "budget_cents": {"type": "integer", "minimum": 0},
      "allow_root": {"type": "boolean"}
    },
    "required": ["name"],
    "additionalProperties": false
  },
  "Quota": {
    "type": "object",
    "description": "Each field optional; one left out keeps its value.",
    "properties": {
      "max_gpu_milli": {"type": "integer", "minimum": 0, "description": "0: no quota"},
      "budget_cents": {"type": "integer", "minimum": 0, "description": "per month; 0: no budget"}
    },
    "additionalProperties": false
  },
  "TenantSettings": {
    "type": "object",
    "properties": {"allow_root": {"type": "boolean"}},
    "additionalProperties": false
  },
  "Token": {
    "type": "object",
    "properties": {
      "id": {"type": "string"},
      "tenant_id": {"type": "string"},
      "name": {"type": "string"},
      "revoked": {"type": "boolean"},
      "created_at": {"type": "integer", "format": "int64"}
    },
    "required": ["id", "tenant_id", "name", "revoked", "created_at"],
    "additionalProperties": false
  },
  "CreatedToken": {
    "type": "object",
    "properties": {
      "id": {"type": "string"},
      "tenant_id": {"type": "string"},
      "name": {"type": "string"},
      "revoked": {"type": "boolean"},
      "created_at": {"type": "integer", "format": "int64"},
      "token": {"type": "string", "description": "the secret, shown only in this answer (empty in a replay)"},
      "note": {"type": "string", "description": "in a replayed answer only"}
    },
    "required": ["id", "tenant_id", "name", "revoked", "created_at", "token"],
    "additionalProperties": false
  },
  "TokenCreate": {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 128}},
    "additionalProperties": false
  },
  "TokenList": {
    "type": "object",
    "properties": {"tokens": {"type": "array", "items": {"$ref": "#/components/schemas/Token"}}},
    "required": ["tokens"],
    "additionalProperties": false
  },
  "RevokedToken": {
    "type": "object",
    "properties": {"id": {"type": "string"}, "revoked": {"type": "boolean", "enum": [true]}},
    "required": ["id", "revoked"],
    "additionalProperties": false
  }
})json";
}

}  // namespace fastgpu::server

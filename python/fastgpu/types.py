"""Typed results: the API's JSON answers as dataclasses.

Each class reads the fields it knows and ignores the others, so a newer server that
adds fields still works; the whole answer stays available in ``raw``. A field missing
from the answer keeps its default. Times are Unix milliseconds (``*_at`` fields), as in
the API. These are plain values: no method calls the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from .units import format_gpu

#: The states a job ends in.
TERMINAL_STATES = frozenset({"succeeded", "failed", "cancelled"})


def _s(d: Mapping[str, Any], key: str, default: str = "") -> str:
    v = d.get(key)
    return v if isinstance(v, str) else default


def _i(d: Mapping[str, Any], key: str, default: int = 0) -> int:
    v = d.get(key)
    return v if isinstance(v, int) and not isinstance(v, bool) else default


def _f(d: Mapping[str, Any], key: str, default: float = 0.0) -> float:
    v = d.get(key)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else default


def _b(d: Mapping[str, Any], key: str, default: bool = False) -> bool:
    v = d.get(key)
    return v if isinstance(v, bool) else default


def _str_list(d: Mapping[str, Any], key: str) -> List[str]:
    v = d.get(key)
    return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []


def _str_map(d: Mapping[str, Any], key: str) -> Dict[str, str]:
    v = d.get(key)
    if not isinstance(v, dict):
        return {}
    return {k: x for k, x in v.items() if isinstance(x, str)}


def _objects(d: Mapping[str, Any], key: str) -> List[Mapping[str, Any]]:
    v = d.get(key)
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


def _object(d: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    v = d.get(key)
    return v if isinstance(v, dict) else {}


@dataclass
class Shape:
    """What one replica asks for (the API's ``shape``).

    ``gpu_count`` GPUs of ``gpu_milli`` (1..1000) each: a fraction is ``gpu_count`` 1
    with ``gpu_milli`` below 1000; CPU only is 0 and 0. Memory in MiB, CPU in milli.
    """

    gpu_count: int = 0
    gpu_milli: int = 0
    gpu_memory_mib: int = 0
    gpu_models: List[str] = field(default_factory=list)
    cpu_milli: int = 0
    memory_mib: int = 0
    isolation: str = "default"
    description: str = ""
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def gpu(self) -> str:
        """The GPU amount as the CLI writes it: ``"0.5"``, ``"2"``, ``"0"``."""
        return format_gpu(self.gpu_count, self.gpu_milli)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Shape":
        """Reads an API shape object; unknown fields are kept in ``raw`` only."""
        return cls(gpu_count=_i(d, "gpu_count"), gpu_milli=_i(d, "gpu_milli"),
                   gpu_memory_mib=_i(d, "gpu_memory_mib"), gpu_models=_str_list(d, "gpu_models"),
                   cpu_milli=_i(d, "cpu_milli"), memory_mib=_i(d, "memory_mib"),
                   isolation=_s(d, "isolation", "default"), description=_s(d, "description"),
                   raw=dict(d))


@dataclass
class JobEvent:
    """One transition of a job: ``from_state`` -> ``to_state`` at ``at`` (ms), and why."""

    at: int = 0
    from_state: str = ""
    to_state: str = ""
    reason: str = ""
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "JobEvent":
        """Reads an API event object (``from`` and ``to`` become ``*_state``)."""
        return cls(at=_i(d, "at"), from_state=_s(d, "from"), to_state=_s(d, "to"),
                   reason=_s(d, "reason"), raw=dict(d))


@dataclass
class Slice:
    """The part of one GPU an allocation holds: ``milli`` of GPU ``gpu_index``."""

    gpu_index: int = 0
    gpu_uuid: str = ""
    milli: int = 0
    memory_mib: int = 0
    isolation: str = ""
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Slice":
        """Reads an API slice object."""
        return cls(gpu_index=_i(d, "gpu_index"), gpu_uuid=_s(d, "gpu_uuid"),
                   milli=_i(d, "milli"), memory_mib=_i(d, "memory_mib"),
                   isolation=_s(d, "isolation"), raw=dict(d))


@dataclass
class Allocation:
    """One replica placed on one node (an attempt); ``ended`` says how it ended.

    ``ended`` is "" while live, else e.g. ``"exit 0"``, ``"signal 15"``, ``"failed to
    start"`` or ``"stopped by the control plane"``.
    """

    id: str = ""
    job_id: str = ""
    replica: int = 0
    node_id: str = ""
    gpu_model: str = ""
    slices: List[Slice] = field(default_factory=list)
    cpu_milli: int = 0
    memory_mib: int = 0
    state: str = ""
    exit_code: int = 0
    signal: int = 0
    created_at: int = 0
    started_at: int = 0
    ended_at: int = 0
    message: str = ""
    ended: str = ""
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Allocation":
        """Reads an API allocation object (``allocation_id`` becomes ``id``)."""
        return cls(id=_s(d, "allocation_id") or _s(d, "id"), job_id=_s(d, "job_id"),
                   replica=_i(d, "replica"), node_id=_s(d, "node_id"),
                   gpu_model=_s(d, "gpu_model"),
                   slices=[Slice.from_json(x) for x in _objects(d, "slices")],
                   cpu_milli=_i(d, "cpu_milli"), memory_mib=_i(d, "memory_mib"),
                   state=_s(d, "state"), exit_code=_i(d, "exit_code"), signal=_i(d, "signal"),
                   created_at=_i(d, "created_at"), started_at=_i(d, "started_at"),
                   ended_at=_i(d, "ended_at"), message=_s(d, "message"), ended=_s(d, "ended"),
                   raw=dict(d))


@dataclass
class Job:
    """A job as the API answers it.

    ``state`` runs ``pending`` -> ``scheduled`` -> ``running`` -> ``succeeded`` |
    ``failed`` | ``cancelled``; ``reason`` says why it is where it is. ``events`` and
    ``allocations`` are filled by :meth:`Client.get_job` (and the calls built on it),
    empty in listings. A service's replica job has ``service`` (the service's id) and
    ``service_generation``; other jobs have "" and 0.
    """

    id: str = ""
    name: str = ""
    tenant_id: str = ""
    state: str = ""
    reason: str = ""
    command: List[str] = field(default_factory=list)
    env: Dict[str, str] = field(default_factory=dict)
    shape: Shape = field(default_factory=Shape)
    replicas: int = 1
    max_retries: int = 0
    priority: int = 0
    image: str = ""
    run_as_root: bool = False
    attempts: int = 0
    created_at: int = 0
    updated_at: int = 0
    simulated: bool = False
    service: str = ""
    service_generation: int = 0
    events: List[JobEvent] = field(default_factory=list)
    allocations: List[Allocation] = field(default_factory=list)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def done(self) -> bool:
        """True once the job is in a terminal state (succeeded, failed or cancelled)."""
        return self.state in TERMINAL_STATES

    @property
    def succeeded(self) -> bool:
        """True when every replica exited 0."""
        return self.state == "succeeded"

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Job":
        """Reads an API job object; unknown fields are kept in ``raw`` only."""
        return cls(id=_s(d, "id"), name=_s(d, "name"), tenant_id=_s(d, "tenant_id"),
                   state=_s(d, "state"), reason=_s(d, "reason"),
                   command=_str_list(d, "command"), env=_str_map(d, "env"),
                   shape=Shape.from_json(_object(d, "shape")), replicas=_i(d, "replicas", 1),
                   max_retries=_i(d, "max_retries"), priority=_i(d, "priority"),
                   image=_s(d, "image"), run_as_root=_b(d, "run_as_root"),
                   attempts=_i(d, "attempts"), created_at=_i(d, "created_at"),
                   updated_at=_i(d, "updated_at"), simulated=_b(d, "simulated"),
                   service=_s(d, "service"), service_generation=_i(d, "service_generation"),
                   events=[JobEvent.from_json(x) for x in _objects(d, "events")],
                   allocations=[Allocation.from_json(x) for x in _objects(d, "allocations")],
                   raw=dict(d))


@dataclass
class JobPage:
    """One page of :meth:`Client.list_jobs`; ``next_cursor`` is "" on the last page."""

    jobs: List[Job] = field(default_factory=list)
    next_cursor: str = ""


@dataclass
class LogChunk:
    """One plain (not streamed) answer of the logs endpoint.

    ``data`` is the output from the asked offset (at most 256 KiB), ``next_offset`` the
    byte offset to ask next, ``done`` whether the replica's log is complete and all read.
    """

    data: str = ""
    next_offset: int = 0
    done: bool = False
    allocation_id: str = ""
    job_state: str = ""
    dropped_bytes: int = 0
    log_limit_bytes: int = 0
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "LogChunk":
        """Reads an API log answer."""
        return cls(data=_s(d, "data"), next_offset=_i(d, "next_offset"), done=_b(d, "done"),
                   allocation_id=_s(d, "allocation_id"), job_state=_s(d, "job_state"),
                   dropped_bytes=_i(d, "dropped_bytes"),
                   log_limit_bytes=_i(d, "log_limit_bytes"), raw=dict(d))


@dataclass
class Gpu:
    """One GPU of a node; ``allocated_milli`` is what live allocations hold of it."""

    index: int = 0
    uuid: str = ""
    model: str = ""
    memory_mib: int = 0
    healthy: bool = True
    health_reason: str = ""
    mig_enabled: bool = False
    simulated: bool = False
    allocated_milli: int = 0
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Gpu":
        """Reads an API GPU object."""
        return cls(index=_i(d, "index"), uuid=_s(d, "uuid"), model=_s(d, "model"),
                   memory_mib=_i(d, "memory_mib"), healthy=_b(d, "healthy", True),
                   health_reason=_s(d, "health_reason"), mig_enabled=_b(d, "mig_enabled"),
                   simulated=_b(d, "simulated"), allocated_milli=_i(d, "allocated_milli"),
                   raw=dict(d))


@dataclass
class Node:
    """A node of the pool: ``state`` is ``ready``, ``draining`` or ``lost``.

    ``overcommitted`` is "" when its live allocations fit, else why they do not (it then
    gets no new work).
    """

    id: str = ""
    name: str = ""
    agent_id: str = ""
    state: str = ""
    simulated: bool = False
    cpu_milli: int = 0
    memory_mib: int = 0
    last_heartbeat: int = 0
    registered_at: int = 0
    live_allocations: int = 0
    overcommitted: str = ""
    gpus: List[Gpu] = field(default_factory=list)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Node":
        """Reads an API node object."""
        return cls(id=_s(d, "id"), name=_s(d, "name"), agent_id=_s(d, "agent_id"),
                   state=_s(d, "state"), simulated=_b(d, "simulated"),
                   cpu_milli=_i(d, "cpu_milli"), memory_mib=_i(d, "memory_mib"),
                   last_heartbeat=_i(d, "last_heartbeat"), registered_at=_i(d, "registered_at"),
                   live_allocations=_i(d, "live_allocations"),
                   overcommitted=_s(d, "overcommitted"),
                   gpus=[Gpu.from_json(x) for x in _objects(d, "gpus")], raw=dict(d))


@dataclass
class UsageRow:
    """One row of a usage report: a job, a service, a GPU model or a UTC day (``key``).

    Grouped by service, ``key`` is the service's name, and ``"-"`` the row of the
    tenant's plain jobs.

    Money is ``cents`` (exact) and ``cost`` (its text, ``"$0.04"``); ``gpu_hours`` is
    rounded to 6 places, ``gpu_milli_seconds`` the exact integer behind it.
    """

    key: str = ""
    billed_seconds: int = 0
    gpu_hours: float = 0.0
    gpu_milli_seconds: int = 0
    cents: int = 0
    cost: str = ""
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "UsageRow":
        """Reads an API report row."""
        return cls(key=_s(d, "key"), billed_seconds=_i(d, "billed_seconds"),
                   gpu_hours=_f(d, "gpu_hours"), gpu_milli_seconds=_i(d, "gpu_milli_seconds"),
                   cents=_i(d, "cents"), cost=_s(d, "cost"), raw=dict(d))


@dataclass
class UsageReport:
    """Metered usage and cost over ``[from_ms, to_ms)``, grouped ``by`` job, service, model
    or day.

    The rows add up to ``total_cents`` (the tenant's bill) to the cent. ``tenant`` is
    ``"*"`` for the admin's report over every tenant.
    """

    by: str = ""
    from_ms: int = 0
    to_ms: int = 0
    tenant: str = ""
    tenant_id: str = ""
    rows: List[UsageRow] = field(default_factory=list)
    total_cents: int = 0
    total: str = ""
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def row(self, key: str) -> Optional[UsageRow]:
        """The row whose key is ``key`` (a job id, a service name, a model, a day), or None."""
        return next((r for r in self.rows if r.key == key), None)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "UsageReport":
        """Reads an API usage report (``from`` and ``to`` become ``*_ms``)."""
        return cls(by=_s(d, "by"), from_ms=_i(d, "from"), to_ms=_i(d, "to"),
                   tenant=_s(d, "tenant"), tenant_id=_s(d, "tenant_id"),
                   rows=[UsageRow.from_json(x) for x in _objects(d, "rows")],
                   total_cents=_i(d, "total_cents"), total=_s(d, "total"), raw=dict(d))


@dataclass
class Prices:
    """The price table: dollars as exact decimal strings (at most 5 decimals).

    ``gpu_hour`` per GPU model per whole-GPU hour; ``default_gpu_hour`` for models not
    listed; ``cpu_hour`` per core-hour; ``gib_hour`` per GiB-hour of memory; every usage
    record is billed at least ``minimum_seconds``.
    """

    gpu_hour: Dict[str, str] = field(default_factory=dict)
    default_gpu_hour: str = "0"
    cpu_hour: str = "0"
    gib_hour: str = "0"
    minimum_seconds: int = 0
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Prices":
        """Reads the API's price table (numbers become their text)."""
        def money(key: str) -> str:
            v = d.get(key)
            return v if isinstance(v, str) else (str(v) if isinstance(v, (int, float)) else "0")

        gpu_hour = {k: (v if isinstance(v, str) else str(v))
                    for k, v in _object(d, "gpu_hour").items()
                    if isinstance(v, (str, int, float))}
        return cls(gpu_hour=gpu_hour, default_gpu_hour=money("default_gpu_hour"),
                   cpu_hour=money("cpu_hour"), gib_hour=money("gib_hour"),
                   minimum_seconds=_i(d, "minimum_seconds"), raw=dict(d))

    def to_json(self) -> Dict[str, Any]:
        """The table as ``PUT /v1/prices`` takes it."""
        return {"gpu_hour": dict(self.gpu_hour), "default_gpu_hour": self.default_gpu_hour,
                "cpu_hour": self.cpu_hour, "gib_hour": self.gib_hour,
                "minimum_seconds": self.minimum_seconds}


@dataclass
class Tenant:
    """A tenant; ``usage`` (period, spent, budget, warning) as ``GET /v1/tenants/{id}``
    answers it, empty elsewhere. Quotas: 0 is unlimited."""

    id: str = ""
    name: str = ""
    admin: bool = False
    max_gpu_milli: int = 0
    budget_cents: int = 0
    allow_root: bool = False
    created_at: int = 0
    usage: Dict[str, Any] = field(default_factory=dict)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Tenant":
        """Reads an API tenant object."""
        return cls(id=_s(d, "id"), name=_s(d, "name"), admin=_b(d, "admin"),
                   max_gpu_milli=_i(d, "max_gpu_milli"), budget_cents=_i(d, "budget_cents"),
                   allow_root=_b(d, "allow_root"), created_at=_i(d, "created_at"),
                   usage=dict(_object(d, "usage")), raw=dict(d))


@dataclass
class Token:
    """An API token; ``token`` is the secret, present only in the creation's answer."""

    id: str = ""
    tenant_id: str = ""
    name: str = ""
    revoked: bool = False
    created_at: int = 0
    token: str = field(default="", repr=False)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Token":
        """Reads an API token object."""
        return cls(id=_s(d, "id"), tenant_id=_s(d, "tenant_id"), name=_s(d, "name"),
                   revoked=_b(d, "revoked"), created_at=_i(d, "created_at"),
                   token=_s(d, "token"), raw=dict(d))


#: The states of a service (docs/services.md).
SERVICE_STATES = frozenset({"pending", "running", "updating", "backoff", "idle"})


@dataclass
class Readiness:
    """A service's readiness probe: an HTTP GET of ``http`` (a path) on the replica's
    port answers 2xx, or (``tcp``) the port accepts a connection. Neither: a running
    replica is ready."""

    http: str = ""
    tcp: bool = False

    @property
    def empty(self) -> bool:
        """True when there is no probe."""
        return not self.http and not self.tcp

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Readiness":
        """Reads an API readiness object (``{"http": "/healthz"}`` or ``{"tcp": true}``)."""
        return cls(http=_s(d, "http"), tcp=_b(d, "tcp"))


@dataclass
class ServiceSpec:
    """What a service runs and how many (the API's ``spec``).

    ``command``, ``env``, ``shape``, ``image`` and ``run_as_root`` are each replica's
    (a job of one replica). ``port``: the replica listens on ``$PORT``. The count stays
    within ``min_replicas..max_replicas``; ``target_rps`` / ``target_gpu_util`` (0: off),
    ``idle_timeout_s`` and ``scale_down_delay_s`` are the autoscaler's settings.
    """

    name: str = ""
    command: List[str] = field(default_factory=list)
    env: Dict[str, str] = field(default_factory=dict)
    shape: Shape = field(default_factory=Shape)
    port: bool = False
    readiness: Readiness = field(default_factory=Readiness)
    min_replicas: int = 1
    max_replicas: int = 1
    target_rps: float = 0.0
    target_gpu_util: int = 0
    idle_timeout_s: int = 300
    scale_down_delay_s: int = 300
    image: str = ""
    run_as_root: bool = False
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "ServiceSpec":
        """Reads an API service spec; unknown fields are kept in ``raw`` only."""
        return cls(name=_s(d, "name"), command=_str_list(d, "command"), env=_str_map(d, "env"),
                   shape=Shape.from_json(_object(d, "shape")), port=_b(d, "port"),
                   readiness=Readiness.from_json(_object(d, "readiness")),
                   min_replicas=_i(d, "min_replicas", 1), max_replicas=_i(d, "max_replicas", 1),
                   target_rps=_f(d, "target_rps"), target_gpu_util=_i(d, "target_gpu_util"),
                   idle_timeout_s=_i(d, "idle_timeout_s", 300),
                   scale_down_delay_s=_i(d, "scale_down_delay_s", 300), image=_s(d, "image"),
                   run_as_root=_b(d, "run_as_root"), raw=dict(d))


@dataclass
class ReplicaStatus:
    """One live replica of a service: its job, the job's state and reason, the
    generation it runs, whether it is ready, and its ``endpoint`` ("host:port", "" until
    its agent reports one)."""

    job_id: str = ""
    state: str = ""
    generation: int = 0
    ready: bool = False
    reason: str = ""
    endpoint: str = ""
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "ReplicaStatus":
        """Reads one entry of the API's ``replica_status``."""
        return cls(job_id=_s(d, "job_id"), state=_s(d, "state"), generation=_i(d, "generation"),
                   ready=_b(d, "ready"), reason=_s(d, "reason"), endpoint=_s(d, "endpoint"),
                   raw=dict(d))


@dataclass
class ServiceScale:
    """What :meth:`Client.scale_service` asked (``requested``) and set (``replicas``);
    ``clamped`` when the count was held to min..max, with ``note`` saying how."""

    requested: int = 0
    replicas: int = 0
    clamped: bool = False
    note: str = ""

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "ServiceScale":
        """Reads the API's ``scale`` object."""
        return cls(requested=_i(d, "requested"), replicas=_i(d, "replicas"),
                   clamped=_b(d, "clamped"), note=_s(d, "note"))


@dataclass
class Service:
    """A service as the API answers it.

    ``replicas`` is the desired count now (within ``min_replicas..max_replicas``),
    ``generation`` rises with every change of what a replica runs, ``state`` is one of
    :data:`SERVICE_STATES` with ``reason`` saying why. ``replica_jobs`` are the ids of its
    live replica jobs (oldest first), ``replica_status`` the same replicas in detail.
    ``scale`` is set only in the answer of :meth:`Client.scale_service`.
    """

    id: str = ""
    tenant_id: str = ""
    name: str = ""
    spec: ServiceSpec = field(default_factory=ServiceSpec)
    replicas: int = 0
    generation: int = 0
    state: str = ""
    reason: str = ""
    replica_jobs: List[str] = field(default_factory=list)
    replica_status: List[ReplicaStatus] = field(default_factory=list)
    created_at: int = 0
    updated_at: int = 0
    scale: Optional[ServiceScale] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def min_replicas(self) -> int:
        """The spec's ``min_replicas``."""
        return self.spec.min_replicas

    @property
    def max_replicas(self) -> int:
        """The spec's ``max_replicas``."""
        return self.spec.max_replicas

    @property
    def command(self) -> List[str]:
        """The spec's ``command``."""
        return self.spec.command

    @property
    def shape(self) -> Shape:
        """The spec's ``shape`` (each replica's)."""
        return self.spec.shape

    @property
    def ready_replicas(self) -> int:
        """How many live replicas are ready (any generation)."""
        return sum(1 for r in self.replica_status if r.ready)

    @property
    def steady(self) -> bool:
        """True when the service is where it was asked to be: ``replicas`` live replicas,
        every one of the current generation and ready, state ``running``; or, with none
        wanted, ``idle`` with none left."""
        if self.replicas == 0:
            return self.state == "idle" and not self.replica_jobs
        return (self.state == "running" and len(self.replica_jobs) == self.replicas
                and len(self.replica_status) == self.replicas
                and all(r.ready and r.generation == self.generation
                        for r in self.replica_status))

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Service":
        """Reads an API service object; unknown fields are kept in ``raw`` only."""
        spec = ServiceSpec.from_json(_object(d, "spec"))
        scale = d.get("scale")
        return cls(id=_s(d, "id"), tenant_id=_s(d, "tenant_id"),
                   name=_s(d, "name") or spec.name, spec=spec, replicas=_i(d, "replicas"),
                   generation=_i(d, "generation"), state=_s(d, "state"), reason=_s(d, "reason"),
                   replica_jobs=_str_list(d, "replica_jobs"),
                   replica_status=[ReplicaStatus.from_json(x)
                                   for x in _objects(d, "replica_status")],
                   created_at=_i(d, "created_at"), updated_at=_i(d, "updated_at"),
                   scale=ServiceScale.from_json(scale) if isinstance(scale, dict) else None,
                   raw=dict(d))


@dataclass
class DeletedService:
    """The answer of :meth:`Client.delete_service`: the service's ``id`` and ``name``,
    and the replica jobs it cancelled (they stay, cancelled, for their logs and bill)."""

    id: str = ""
    name: str = ""
    deleted: bool = False
    cancelled_jobs: List[str] = field(default_factory=list)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "DeletedService":
        """Reads the API's deletion answer."""
        return cls(id=_s(d, "id"), name=_s(d, "name"), deleted=_b(d, "deleted"),
                   cancelled_jobs=_str_list(d, "cancelled_jobs"), raw=dict(d))

"""The FastGPU client: jobs, logs, services, nodes, usage, prices, tenants and tokens.

A :class:`Client` holds a resolved configuration (server, token, CA file; see
:mod:`fastgpu.config`) and a :class:`fastgpu.transport.Transport`. Every method is one
or a few REST calls (docs/api.md) and returns typed results (:mod:`fastgpu.types`);
failures raise :class:`fastgpu.FastGPUError` subclasses carrying the API's ``code``,
``message`` and HTTP ``status``. Every mutation carries an ``Idempotency-Key`` (random
unless the caller gives one), the same on each retry, so retries never apply it twice.
A Client may be shared between threads (each call uses its own connection).
"""

from __future__ import annotations

import codecs
import datetime as _dt
import http.client
import json
import secrets
import socket
import time
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Union
from urllib.parse import quote, urlencode

from .config import ClientConfig, resolve_config
from .errors import FastGPUError, InvalidArgumentError, WaitTimeoutError
from .transport import Transport
from .types import (DeletedService, Job, JobPage, LogChunk, Node, Prices, Service, Tenant,
                    Token, UsageReport)
from .units import Amount, parse_cpu_milli, parse_gpu, parse_memory_mib

#: A job, node, tenant or service named by its id, its name, or the object itself.
JobRef = Union[str, Job]
NodeRef = Union[str, Node]
TenantRef = Union[str, Tenant]
ServiceRef = Union[str, Service]
#: A report bound: Unix ms, a ``datetime`` (naive means UTC), a ``date``, or the API's
#: text (``"2026-11-01"``, ``"2026-11-01T00:00:00Z"``).
TimeArg = Union[int, str, _dt.date, _dt.datetime]

# A followed log's stream ends on the server after 5 minutes; a read may wait that long.
_STREAM_READ_TIMEOUT_S = 330.0
_LOG_POLL_INTERVAL_S = 0.5


def _new_key() -> str:
    return secrets.token_hex(16)


def _seg(value: str) -> str:
    """A path segment, percent-encoded (``a:b/c d`` -> ``a%3Ab%2Fc%20d``)."""
    return quote(value, safe="")


def _ref(value: Any, kind: str) -> str:
    ident = getattr(value, "id", value)
    if not isinstance(ident, str) or not ident:
        raise InvalidArgumentError(f"{kind}: expected an id or a name, got {value!r}")
    return ident


def _command(command: Sequence[str]) -> List[str]:
    if isinstance(command, (str, bytes)) or not all(isinstance(a, str) for a in command):
        raise InvalidArgumentError("command: expected a list of strings, e.g. "
                                   "['sh', '-c', 'echo hello']")
    return list(command)


def _shape(gpu: Amount, gpu_memory: Optional[Amount], gpu_models: Union[str, Sequence[str]],
           cpu: Optional[Amount], memory: Optional[Amount], isolation: str) -> Dict[str, Any]:
    """The API's shape from the CLI's units; a bad one is refused naming the argument."""
    models = [gpu_models] if isinstance(gpu_models, str) else list(gpu_models)
    shape: Dict[str, Any] = {"isolation": isolation, "gpu_models": models}
    try:
        shape["gpu_count"], shape["gpu_milli"] = parse_gpu(gpu)
    except InvalidArgumentError as e:
        raise InvalidArgumentError(f"gpu: {e.message}") from None
    for arg, key, value, parse in (
            ("gpu_memory", "gpu_memory_mib", gpu_memory, parse_memory_mib),
            ("cpu", "cpu_milli", cpu, parse_cpu_milli),
            ("memory", "memory_mib", memory, parse_memory_mib)):
        if value is None:
            continue
        try:
            shape[key] = parse(value)
        except InvalidArgumentError as e:
            raise InvalidArgumentError(f"{arg}: {e.message}") from None
    return shape


def _whole(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(f"{name}: expected a whole number, got {value!r}")
    return value


def _readiness(http_path: Optional[str], tcp: bool) -> Dict[str, Any]:
    """The API's readiness object: ``{"http": path}``, ``{"tcp": true}``, or {} (none)."""
    probe: Dict[str, Any] = {}
    if http_path:
        if not isinstance(http_path, str):
            raise InvalidArgumentError(f"ready_http: expected a path, got {http_path!r}")
        probe["http"] = http_path
    if tcp:
        probe["tcp"] = True
    return probe


def _scaling(**given: Any) -> Dict[str, Any]:
    """The scaling fields given (not None), under the API's names, checked for type."""
    body: Dict[str, Any] = {}
    for arg, key in (("min", "min_replicas"), ("max", "max_replicas"),
                     ("target_gpu_util", "target_gpu_util"), ("idle_timeout", "idle_timeout_s"),
                     ("scale_down_delay", "scale_down_delay_s")):
        if given[arg] is not None:
            body[key] = _whole(given[arg], arg)
    rps = given["target_rps"]
    if rps is not None:
        if isinstance(rps, bool) or not isinstance(rps, (int, float)):
            raise InvalidArgumentError(f"target_rps: expected a number, got {rps!r}")
        body["target_rps"] = rps
    return body


def _time_param(value: Optional[TimeArg], name: str) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)
        return str(int(aware.timestamp() * 1000))
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        raise InvalidArgumentError(f"{name}: expected a time, got {value!r}")
    if isinstance(value, (int, str)):
        return str(value)
    raise InvalidArgumentError(f"{name}: expected a time, got {value!r}")


class Client:
    """A connection to a FastGPU control plane.

    Args:
        server: base URL (``http://127.0.0.1:8080``; no scheme means http), or several
            control-plane replicas comma-separated. Default: ``$FASTGPU_SERVER``, then the
            config file, then ``http://127.0.0.1:8080``.
        token: API token. Default: ``$FASTGPU_TOKEN``, then the config file.
        ca_cert: https: PEM file of the control plane's CA (e.g. ``<data-dir>/ca.crt``).
            Default: ``$FASTGPU_CA_CERT``, then the config file, else the system store.
        config_path: the config file (default: as ``fastgpu login`` writes it).
        timeout: seconds to connect and to wait for an answer (default 60).
        max_attempts: tries of a request that got no answer or a 503 (default 4).
        backoff: seconds before the first retry, doubled after each (default 0.25).

    Raises:
        InvalidArgumentError: a malformed server URL or config file.
    """

    def __init__(self, server: Optional[str] = None, token: Optional[str] = None, *,
                 ca_cert: Optional[str] = None, config_path: Optional[str] = None,
                 timeout: float = 60.0, max_attempts: int = 4, backoff: float = 0.25) -> None:
        self.config: ClientConfig = resolve_config(server, token, ca_cert, config_path)
        self._http = Transport(self.config.server, self.config.token, self.config.ca_cert,
                               timeout=timeout, max_attempts=max_attempts, backoff=backoff)

    def __repr__(self) -> str:
        return f"Client(server={self.config.server!r})"

    @property
    def server(self) -> str:
        """The control plane's address in use."""
        return self._http.server

    # ---- plumbing ----

    def _call(self, method: str, path: str, body: Optional[Any] = None,
              idempotency_key: Optional[str] = None) -> Any:
        """One API call; the parsed JSON of its 2xx answer."""
        headers: Dict[str, str] = {}
        if method not in ("GET", "HEAD"):
            headers["Idempotency-Key"] = idempotency_key or _new_key()
        data = None if body is None else json.dumps(body).encode("utf-8")
        answer = self._http.request(method, path, data, headers)
        return self._json(answer.body)

    @staticmethod
    def _json(body: bytes) -> Any:
        try:
            return json.loads(body.decode("utf-8", errors="replace"))
        except ValueError:
            raise FastGPUError("the control plane answered something that is not JSON",
                               code="INTERNAL") from None

    @staticmethod
    def _object(value: Any, what: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise FastGPUError(f"unexpected answer from the control plane: {what}: must be an "
                               "object", code="INTERNAL")
        return value

    # ---- jobs ----

    def submit(self, command: Sequence[str], *, gpu: Amount = 0,
               gpu_memory: Optional[Amount] = None, gpu_models: Sequence[str] = (),
               cpu: Optional[Amount] = None, memory: Optional[Amount] = None,
               isolation: str = "default", replicas: int = 1, retries: int = 0,
               name: str = "", env: Optional[Mapping[str, str]] = None, image: str = "",
               priority: int = 0, root: bool = False, idempotency_key: Optional[str] = None,
               extra: Optional[Mapping[str, Any]] = None) -> Job:
        """Submits a job; the same vocabulary as ``fastgpu job submit``.

        Args:
            command: the program and its arguments, e.g. ``["python", "train.py"]``
                (use ``["sh", "-c", "..."]`` for a shell line).
            gpu: GPUs per replica: ``0.5`` or ``"500m"`` (a fraction of one GPU), ``1``,
                ``2`` (whole GPUs), ``0`` (CPU only).
            gpu_memory: GPU memory per GPU, e.g. ``"20GiB"`` (a bare number is MiB).
            gpu_models: allowed GPU models, e.g. ``["H100-80GB"]`` (one may be given as a
                string); empty: any.
            cpu: CPU per replica: ``2``, ``"500m"``, ``0.25``.
            memory: memory per replica, e.g. ``"8GiB"``.
            isolation: ``default``, ``exclusive``, ``mig``, ``mps`` or ``shared``.
            replicas: replicas, placed as a gang (all at once or none).
            retries: requeues allowed after a lost node or an unhealthy GPU (the API's
                ``max_retries``).
            name: job name (jobs may then be named by it).
            env: environment variables of the replicas.
            image: run each replica in this OCI image (podman on the node).
            priority: -1000..1000; higher is placed first and stopped last.
            root: run as root on the node (refused unless an admin allowed the tenant).
            idempotency_key: request id (at most 200 characters); a call with the key of an
                earlier one returns that call's job and submits nothing. Default: random.
            extra: more top-level fields sent as given (for fields newer than this client).

        Returns:
            The job as stored (``pending`` at first).

        Raises:
            InvalidArgumentError: a bad argument, refused here (``status`` None) or by the
                server (400, the message names the field, e.g. ``shape.gpu_milli``).
            FailedPreconditionError: no node of the pool could ever hold the job (422), or
                the key was used for another request.
            ResourceExhaustedError: over the tenant's quota or budget (429).
        """
        body: Dict[str, Any] = {
            "name": name, "command": _command(command), "env": dict(env or {}),
            "shape": _shape(gpu, gpu_memory, gpu_models, cpu, memory, isolation),
            "replicas": replicas, "max_retries": retries, "priority": priority,
        }
        if image:
            body["image"] = image
        if root:
            body["run_as_root"] = True
        body.update(extra or {})
        answer = self._call("POST", "/v1/jobs", body, idempotency_key or _new_key())
        return Job.from_json(self._object(answer, "job"))

    def get_job(self, job: JobRef) -> Job:
        """The job with its events and allocations.

        Raises:
            NotFoundError: no such job among the caller's (another tenant's is 404 too).
        """
        answer = self._call("GET", f"/v1/jobs/{_seg(_ref(job, 'job'))}")
        return Job.from_json(self._object(answer, "job"))

    def list_jobs(self, state: Optional[str] = None, tenant: Optional[str] = None,
                  limit: int = 100, cursor: Optional[str] = None) -> JobPage:
        """One page of the caller's jobs, oldest first (the admin: every tenant's).

        Args:
            state: only jobs in this state.
            tenant: admin only: only this tenant's jobs (name or id).
            limit: 1..1000.
            cursor: the previous page's ``next_cursor``.
        """
        query: Dict[str, str] = {"limit": str(limit)}
        if state:
            query["state"] = state
        if tenant:
            query["tenant"] = tenant
        if cursor:
            query["cursor"] = cursor
        answer = self._object(self._call("GET", "/v1/jobs?" + urlencode(query)), "jobs")
        jobs = answer.get("jobs")
        next_cursor = answer.get("next_cursor")
        return JobPage(jobs=[Job.from_json(j) for j in jobs if isinstance(j, dict)]
                       if isinstance(jobs, list) else [],
                       next_cursor=next_cursor if isinstance(next_cursor, str) else "")

    def iter_jobs(self, state: Optional[str] = None, tenant: Optional[str] = None,
                  page_size: int = 100) -> Iterator[Job]:
        """Every job of :meth:`list_jobs`, page after page."""
        cursor: Optional[str] = None
        while True:
            page = self.list_jobs(state=state, tenant=tenant, limit=page_size, cursor=cursor)
            yield from page.jobs
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def cancel(self, job: JobRef, idempotency_key: Optional[str] = None) -> Job:
        """Cancels the job; its allocations are released and the agents stop them.

        Raises:
            FailedPreconditionError: the job has already finished (409).
            NotFoundError: no such job among the caller's.
        """
        answer = self._call("POST", f"/v1/jobs/{_seg(_ref(job, 'job'))}/cancel", None,
                            idempotency_key)
        return Job.from_json(self._object(answer, "job"))

    def wait(self, job: JobRef, timeout: Optional[float] = None,
             poll_interval: float = 0.3) -> Job:
        """Polls the job until it has ended; returns it (check ``job.state``).

        Args:
            timeout: seconds to wait at most; None waits for ever.
            poll_interval: seconds between two reads.

        Raises:
            WaitTimeoutError: still not ended after ``timeout`` (``.job`` is the last view).
        """
        ident = _ref(job, "job")
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            current = self.get_job(ident)
            if current.done:
                return current
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                reason = f" ({current.reason})" if current.reason else ""
                raise WaitTimeoutError(
                    f"job {ident} is still {current.state} after {timeout:g} s{reason}",
                    job=current)
            pause = poll_interval if deadline is None else min(poll_interval, deadline - now)
            time.sleep(max(0.0, pause))

    def read_log(self, job: JobRef, replica: int = 0, offset: int = 0) -> LogChunk:
        """One plain read of a replica's output from byte ``offset`` (at most 256 KiB)."""
        path = (f"/v1/jobs/{_seg(_ref(job, 'job'))}/logs?replica={int(replica)}"
                f"&offset={int(offset)}")
        return LogChunk.from_json(self._object(self._call("GET", path), "log"))

    def log_bytes(self, job: JobRef, replica: int = 0, follow: bool = False, offset: int = 0,
                  timeout: Optional[float] = None) -> Iterator[bytes]:
        """A replica's output (its latest attempt) as pieces of bytes, from ``offset``.

        Without ``follow`` it yields what is stored now and ends. With ``follow`` it
        yields the output as the agent ships it and ends when the log is done (the job
        over and every byte read): it reads the server's chunked stream, asks again from
        where it stopped when a stream ends early (server restart, its 5-minute bound, a
        broken connection), and polls when the server answers plainly (busy, or done).
        Pieces from plain answers are the JSON text re-encoded as UTF-8.

        Args:
            timeout: with ``follow``: seconds to follow at most (None: until done).

        Raises:
            WaitTimeoutError: the log was not done within ``timeout``.
            NotFoundError: no such job among the caller's.
        """
        ident = _ref(job, "job")
        deadline = None if timeout is None else time.monotonic() + timeout
        path = f"/v1/jobs/{_seg(ident)}/logs?replica={int(replica)}&offset="

        def remaining() -> Optional[float]:
            if deadline is None:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeoutError(f"the log of job {ident} (replica {replica}) was not "
                                       f"done after {timeout:g} s")
            return left

        if not follow:
            while True:
                chunk = self.read_log(ident, replica, offset)
                if chunk.data:
                    yield chunk.data.encode("utf-8")
                offset = chunk.next_offset
                if chunk.done or not chunk.data:
                    return
        while True:
            left = remaining()
            read_timeout = _STREAM_READ_TIMEOUT_S if left is None else min(
                _STREAM_READ_TIMEOUT_S, left)
            with self._http.stream(path + f"{offset}&follow=true", timeout=read_timeout) as st:
                first = st.headers.get("x-log-offset")
                if first is None:  # a plain answer: the server is busy, or the log is done
                    chunk = LogChunk.from_json(self._object(self._json(st.read_all()), "log"))
                    if chunk.data:
                        yield chunk.data.encode("utf-8")
                    offset = chunk.next_offset
                    if chunk.done:
                        return
                    if not chunk.data:
                        left = remaining()
                        time.sleep(_LOG_POLL_INTERVAL_S if left is None
                                   else min(_LOG_POLL_INTERVAL_S, left))
                    continue
                try:
                    base = int(first)
                except ValueError:
                    base = offset
                got = 0
                try:
                    while True:
                        piece = st.read()
                        if not piece:
                            break
                        got += len(piece)
                        yield piece
                except (socket.timeout, TimeoutError):
                    remaining()  # raises once the caller's timeout has passed
                except (OSError, http.client.HTTPException):
                    pass  # broke off: ask again from what arrived
                offset = base + got
            # The stream ended: a plain read says whether the log is done.
            chunk = self.read_log(ident, replica, offset)
            if chunk.data:
                yield chunk.data.encode("utf-8")
            offset = chunk.next_offset
            if chunk.done:
                return

    def logs(self, job: JobRef, replica: int = 0, follow: bool = False, offset: int = 0,
             timeout: Optional[float] = None) -> Iterator[str]:
        """:meth:`log_bytes` decoded as UTF-8 (invalid bytes replaced), piece by piece.

        ``for text in client.logs(job, follow=True): print(text, end="")`` prints the
        output as it comes and returns once the job is over and all of it was read.
        """
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        for piece in self.log_bytes(job, replica, follow, offset, timeout):
            text = decoder.decode(piece)
            if text:
                yield text
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail

    # ---- services (docs/services.md) ----

    def create_service(self, name: str, command: Sequence[str], *, gpu: Amount = 0,
                       gpu_memory: Optional[Amount] = None,
                       gpu_models: Union[str, Sequence[str]] = (), cpu: Optional[Amount] = None,
                       memory: Optional[Amount] = None, isolation: str = "default",
                       env: Optional[Mapping[str, str]] = None, image: str = "",
                       root: bool = False, port: bool = False, ready_http: Optional[str] = None,
                       ready_tcp: bool = False, min: Optional[int] = None,
                       max: Optional[int] = None, replicas: Optional[int] = None,
                       target_rps: Optional[float] = None, target_gpu_util: Optional[int] = None,
                       idle_timeout: Optional[int] = None, scale_down_delay: Optional[int] = None,
                       idempotency_key: Optional[str] = None,
                       extra: Optional[Mapping[str, Any]] = None) -> Service:
        """Creates a service: ``replicas`` copies of ``command``, each a job of one
        replica, that the control plane keeps running (``fastgpu service create``).

        Args:
            name: 1-63 of ``a-z``, ``0-9``, ``-``; unique among the tenant's services.
            command, gpu, gpu_memory, gpu_models, cpu, memory, isolation, env, image, root:
                each replica's, as in :meth:`submit`.
            port: the replica listens on the port its agent gives it (``$PORT``).
            ready_http: readiness probe: a GET of this path on the port answers 2xx.
            ready_tcp: readiness probe: the port accepts a connection. A probe needs
                ``port``; without one a running replica is ready.
            min, max: the count's bounds (the API's ``min_replicas``, default 1, and
                ``max_replicas``, default ``min`` but at least 1).
            replicas: the count to start with, clamped to min..max (default: ``min``, at
                least 1).
            target_rps, target_gpu_util: the autoscaler's target (requests per second per
                replica, or GPU utilisation percent; not both; docs/services.md).
            idle_timeout: with ``min=0``: seconds without a request before scaling to zero
                (the API's ``idle_timeout_s``, default 300).
            scale_down_delay: seconds the autoscaler waits before lowering the count
                (``scale_down_delay_s``, default 300).
            idempotency_key: as in :meth:`submit` (default: random, the same on retries).
            extra: more top-level fields sent as given.

        Returns:
            The service as stored (``pending``, or ``idle`` with no replicas).

        Raises:
            InvalidArgumentError: a bad argument (``.field`` names it: ``min_replicas``,
                ``shape.gpu_milli``, ``name``, or the argument refused here).
            AlreadyExistsError: the tenant has a service of that name (409).
            FailedPreconditionError: no node could ever hold a replica (422), or the key
                was used for another request.
            PermissionDeniedError: ``root`` for a tenant not allowed to (403).
        """
        body: Dict[str, Any] = {
            "name": name, "command": _command(command), "env": dict(env or {}),
            "shape": _shape(gpu, gpu_memory, gpu_models, cpu, memory, isolation),
        }
        if image:
            body["image"] = image
        if root:
            body["run_as_root"] = True
        if port:
            body["port"] = True
        if ready_http is not None or ready_tcp:
            body["readiness"] = _readiness(ready_http, ready_tcp)
        body.update(_scaling(min=min, max=max, target_rps=target_rps,
                             target_gpu_util=target_gpu_util, idle_timeout=idle_timeout,
                             scale_down_delay=scale_down_delay))
        if replicas is not None:
            body["replicas"] = _whole(replicas, "replicas")
        body.update(extra or {})
        answer = self._call("POST", "/v1/services", body, idempotency_key or _new_key())
        return Service.from_json(self._object(answer, "service"))

    def list_services(self, tenant: Optional[TenantRef] = None) -> List[Service]:
        """The caller's services in creation order (the admin: every tenant's, or one
        ``tenant``'s), each with its replicas."""
        path = "/v1/services"
        if tenant is not None:
            path += "?" + urlencode({"tenant": _ref(tenant, "tenant")})
        answer = self._object(self._call("GET", path), "services")
        services = answer.get("services")
        return [Service.from_json(s) for s in services if isinstance(s, dict)] if isinstance(
            services, list) else []

    def get_service(self, service: ServiceRef) -> Service:
        """The service (by name or id) with the state of each replica.

        Raises:
            NotFoundError: no such service among the caller's (another tenant's is 404).
        """
        answer = self._call("GET", f"/v1/services/{_seg(_ref(service, 'service'))}")
        return Service.from_json(self._object(answer, "service"))

    def scale_service(self, service: ServiceRef, replicas: int,
                      idempotency_key: Optional[str] = None) -> Service:
        """Sets the desired count, clamped to min..max; the answer's ``scale`` says what
        was asked and set (``scale.clamped``, ``scale.note``). Extra replicas are
        cancelled newest first; missing ones start at the next pass.

        Raises:
            InvalidArgumentError: ``replicas`` not in 0..1024.
            NotFoundError: no such service among the caller's.
        """
        body = {"replicas": _whole(replicas, "replicas")}
        answer = self._call("POST", f"/v1/services/{_seg(_ref(service, 'service'))}/scale",
                            body, idempotency_key or _new_key())
        return Service.from_json(self._object(answer, "service"))

    def update_service(self, service: ServiceRef, *, command: Optional[Sequence[str]] = None,
                       env: Optional[Mapping[str, str]] = None, gpu: Optional[Amount] = None,
                       gpu_memory: Optional[Amount] = None,
                       gpu_models: Optional[Union[str, Sequence[str]]] = None,
                       cpu: Optional[Amount] = None, memory: Optional[Amount] = None,
                       isolation: Optional[str] = None, image: Optional[str] = None,
                       root: Optional[bool] = None, port: Optional[bool] = None,
                       ready_http: Optional[str] = None, ready_tcp: Optional[bool] = None,
                       min: Optional[int] = None, max: Optional[int] = None,
                       target_rps: Optional[float] = None, target_gpu_util: Optional[int] = None,
                       idle_timeout: Optional[int] = None, scale_down_delay: Optional[int] = None,
                       reset: Sequence[str] = (), idempotency_key: Optional[str] = None,
                       extra: Optional[Mapping[str, Any]] = None) -> Service:
        """Changes the fields given (``fastgpu service update``); None leaves one as it is.

        A change of what a replica runs (command, env, shape, image, root, port, probe)
        raises the generation and rolls the replicas one at a time; a change of the
        scaling fields alone does not (the count is clamped to the new bounds). ``env``
        replaces the whole environment; any of ``gpu``, ``gpu_memory``, ``gpu_models``,
        ``cpu``, ``memory``, ``isolation`` replaces the whole shape (the others at their
        defaults, as the CLI's shape flags do); ``ready_http`` / ``ready_tcp`` replace the
        probe (``ready_tcp=False`` or ``ready_http=""`` alone removes it). The count is
        set with :meth:`scale_service`.

        Args:
            reset: the API's field names to restore to their defaults (sent as null), e.g.
                ``["target_rps", "readiness", "idle_timeout_s"]``.

        Raises:
            InvalidArgumentError: a bad field (``.field`` names it), or nothing to change.
            NotFoundError: no such service among the caller's.
            FailedPreconditionError: no node could ever hold a replica of the new spec.
        """
        body: Dict[str, Any] = {}
        if command is not None:
            body["command"] = _command(command)
        if env is not None:
            body["env"] = dict(env)
        if any(v is not None for v in (gpu, gpu_memory, gpu_models, cpu, memory, isolation)):
            body["shape"] = _shape(0 if gpu is None else gpu, gpu_memory,
                                   () if gpu_models is None else gpu_models, cpu, memory,
                                   isolation or "default")
        for key, value in (("image", image), ("run_as_root", root), ("port", port)):
            if value is not None:
                body[key] = value
        if ready_http is not None or ready_tcp is not None:
            body["readiness"] = _readiness(ready_http, bool(ready_tcp))
        body.update(_scaling(min=min, max=max, target_rps=target_rps,
                             target_gpu_util=target_gpu_util, idle_timeout=idle_timeout,
                             scale_down_delay=scale_down_delay))
        body.update(extra or {})
        for key in [reset] if isinstance(reset, str) else reset:
            if key in body:
                raise InvalidArgumentError(f"reset: {key!r} is both given and reset")
            body[key] = None
        answer = self._call("PATCH", f"/v1/services/{_seg(_ref(service, 'service'))}", body,
                            idempotency_key or _new_key())
        return Service.from_json(self._object(answer, "service"))

    def delete_service(self, service: ServiceRef,
                       idempotency_key: Optional[str] = None) -> DeletedService:
        """Cancels the service's live replicas and removes it; the replica jobs stay,
        cancelled (``cancelled_jobs``), for their logs and their bill.

        Raises:
            NotFoundError: no such service among the caller's.
        """
        answer = self._call("DELETE", f"/v1/services/{_seg(_ref(service, 'service'))}", None,
                            idempotency_key or _new_key())
        return DeletedService.from_json(self._object(answer, "deleted service"))

    def wait_service(self, service: ServiceRef, timeout: Optional[float] = None,
                     poll_interval: float = 0.5) -> Service:
        """Polls the service until it is :attr:`Service.steady` (every wanted replica of
        the current generation ready, or idle with none wanted); returns it.

        Raises:
            WaitTimeoutError: not steady after ``timeout`` s (``.service``: the last view).
            NotFoundError: no such service among the caller's.
        """
        ident = _ref(service, "service")
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            current = self.get_service(ident)
            if current.steady:
                return current
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                raise WaitTimeoutError(
                    f"service {ident} is {current.state} with {current.ready_replicas} of "
                    f"{current.replicas} replicas ready after {timeout:g} s ({current.reason})",
                    service=current)
            pause = poll_interval if deadline is None else min(poll_interval, deadline - now)
            time.sleep(max(0.0, pause))

    # ---- nodes (admin) ----

    def list_nodes(self) -> List[Node]:
        """Every node with its state, GPUs and their allocation (admin)."""
        answer = self._object(self._call("GET", "/v1/nodes"), "nodes")
        nodes = answer.get("nodes")
        return [Node.from_json(n) for n in nodes if isinstance(n, dict)] if isinstance(
            nodes, list) else []

    def drain_node(self, node: NodeRef, idempotency_key: Optional[str] = None) -> Node:
        """No new work for the node; it keeps what it runs (admin)."""
        answer = self._call("POST", f"/v1/nodes/{_seg(_ref(node, 'node'))}/drain", None,
                            idempotency_key)
        return Node.from_json(self._object(answer, "node"))

    def undrain_node(self, node: NodeRef, idempotency_key: Optional[str] = None) -> Node:
        """New work for the node again (admin)."""
        answer = self._call("POST", f"/v1/nodes/{_seg(_ref(node, 'node'))}/undrain", None,
                            idempotency_key)
        return Node.from_json(self._object(answer, "node"))

    def revoke_node(self, node: NodeRef, idempotency_key: Optional[str] = None) -> Node:
        """Clears the node's token and secret: its agent is refused until it registers
        again with the join token (admin)."""
        answer = self._call("POST", f"/v1/nodes/{_seg(_ref(node, 'node'))}/revoke", None,
                            idempotency_key)
        return Node.from_json(self._object(answer, "node"))

    # ---- usage and prices ----

    def _usage_query(self, tenant: Optional[TenantRef], from_: Optional[TimeArg],
                     to: Optional[TimeArg], by: str, fmt: str) -> str:
        if by not in ("job", "service", "model", "day"):
            raise InvalidArgumentError(f"by: must be job, service, model or day, got {by!r}")
        query: Dict[str, str] = {"by": by, "format": fmt}
        if tenant is not None:
            query["tenant"] = _ref(tenant, "tenant")
        for key, value, name in (("from", from_, "from_"), ("to", to, "to")):
            text = _time_param(value, name)
            if text is not None:
                query[key] = text
        return "/v1/usage?" + urlencode(query)

    def usage(self, tenant: Optional[TenantRef] = None, from_: Optional[TimeArg] = None,
              to: Optional[TimeArg] = None, by: str = "job") -> UsageReport:
        """Metered usage and cost, as ``fastgpu usage`` reports it.

        Args:
            tenant: name or id; a tenant sees only its own, the admin any (default: the
                caller's own; the admin's default is every tenant).
            from_: start (default: the start of this month, UTC).
            to: end, exclusive (default: now).
            by: rows per ``job``, ``service`` (its replicas' usage under the service's
                name, and a row ``"-"`` for plain jobs), GPU ``model`` or UTC ``day``.
        """
        answer = self._call("GET", self._usage_query(tenant, from_, to, by, "json"))
        return UsageReport.from_json(self._object(answer, "usage"))

    def usage_csv(self, tenant: Optional[TenantRef] = None, from_: Optional[TimeArg] = None,
                  to: Optional[TimeArg] = None, by: str = "job") -> str:
        """The same report as CSV text (a header, one line per row, a ``total`` line)."""
        answer = self._http.request("GET", self._usage_query(tenant, from_, to, by, "csv"))
        return answer.body.decode("utf-8", errors="replace")

    def prices(self) -> Prices:
        """The price table."""
        return Prices.from_json(self._object(self._call("GET", "/v1/prices"), "prices"))

    def set_prices(self, prices: Union[Prices, Mapping[str, Any]],
                   idempotency_key: Optional[str] = None) -> Prices:
        """Replaces the whole price table (admin); returns it as stored.

        ``prices`` is a :class:`Prices` or the API's JSON object, e.g.
        ``{"gpu_hour": {"H100-80GB": "2.49"}, "minimum_seconds": 60}``.

        Raises:
            InvalidArgumentError: a bad field (400, named).
        """
        body = prices.to_json() if isinstance(prices, Prices) else dict(prices)
        answer = self._call("PUT", "/v1/prices", body, idempotency_key)
        return Prices.from_json(self._object(answer, "prices"))

    # ---- tenants and tokens ----

    def create_tenant(self, name: str, max_gpu: Optional[Amount] = None,
                      allow_root: bool = False, idempotency_key: Optional[str] = None) -> Tenant:
        """Creates a tenant (admin). ``max_gpu``: GPUs held at once (``1.5``, ``"500m"``).

        Raises:
            AlreadyExistsError: the name is taken (409).
        """
        body: Dict[str, Any] = {"name": name}
        if allow_root:
            body["allow_root"] = True
        if max_gpu is not None:
            try:
                body["max_gpu_milli"] = parse_cpu_milli(max_gpu)
            except InvalidArgumentError as e:
                raise InvalidArgumentError(f"max_gpu: {e.message}") from None
        answer = self._call("POST", "/v1/tenants", body, idempotency_key)
        return Tenant.from_json(self._object(answer, "tenant"))

    def get_tenant(self, tenant: TenantRef) -> Tenant:
        """A tenant with its ``usage`` (the admin, or the tenant itself)."""
        answer = self._call("GET", f"/v1/tenants/{_seg(_ref(tenant, 'tenant'))}")
        return Tenant.from_json(self._object(answer, "tenant"))

    def list_tenants(self) -> List[Tenant]:
        """Every tenant (admin)."""
        answer = self._object(self._call("GET", "/v1/tenants"), "tenants")
        tenants = answer.get("tenants")
        return [Tenant.from_json(t) for t in tenants if isinstance(t, dict)] if isinstance(
            tenants, list) else []

    def create_token(self, tenant: TenantRef, name: str = "",
                     idempotency_key: Optional[str] = None) -> Token:
        """Creates an API token for the tenant (admin); its secret is ``token.token``,
        shown only in this answer."""
        answer = self._call("POST", f"/v1/tenants/{_seg(_ref(tenant, 'tenant'))}/tokens",
                            {"name": name}, idempotency_key)
        return Token.from_json(self._object(answer, "token"))

"""End to end: the client against a real ``fastgpu up`` (two simulated H100s).

Skipped when ``FASTGPU_BINARY`` is not set (the unit tests beside this file then still
run); the ctest ``sdk_test`` always sets it, so there these tests run. One server for the
module; each test uses its own job names, so they do not depend on each other.
"""

from __future__ import annotations

import http.client
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
from typing import Any, Callable, List, Optional, Tuple
from urllib.parse import urlsplit

import fastgpu

from .live_server import LiveServer

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_DIR = os.path.dirname(PYTHON_DIR)
JOB_TIMEOUT_S = 60.0
SERVICE_TIMEOUT_S = 60.0  # for a service's replicas to be started, rolled or stopped
NO_CONFIG = "/nonexistent/fastgpu/config.json"  # the user's own config file stays unread

_server: Optional[LiveServer] = None


def setUpModule() -> None:
    global _server
    binary = os.environ.get("FASTGPU_BINARY", "")
    if not binary:
        raise unittest.SkipTest("FASTGPU_BINARY is not set (the ctest sdk_test sets it)")
    if not os.access(binary, os.X_OK):
        raise RuntimeError(f"FASTGPU_BINARY={binary} is not an executable")
    _server = LiveServer(binary)
    try:
        admin = fastgpu.Client(_server.url, _server.admin_token, config_path=NO_CONFIG)
        # Prices as in the README: half an H100 for under a minute costs 2 cents.
        admin.set_prices({"gpu_hour": {"H100-80GB": "2.49"}, "minimum_seconds": 60})
        deadline = time.monotonic() + 30
        while not admin.list_nodes():  # the local agent registers right after the banner
            if time.monotonic() > deadline:
                raise RuntimeError("the local agent did not register within 30 s")
            time.sleep(0.1)
    except BaseException:
        tearDownModule()  # unittest does not call it when setUpModule fails
        raise


def tearDownModule() -> None:
    global _server
    if _server is not None:
        _server.stop()
        _server = None


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class DroppingProxy:
    """Forwards requests to the control plane, but drops the connection after forwarding
    the first ``drop`` request (``POST /v1/jobs`` unless told): the server applied it, the
    client never got the answer (the case an Idempotency-Key exists for). Records the key
    of each forwarded request of that method and path."""

    def __init__(self, target: str, drop: Tuple[str, str] = ("POST", "/v1/jobs")) -> None:
        parts = urlsplit(target)
        self.keys: List[str] = []
        self._dropped = False
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                if (self.command, self.path) == drop:
                    proxy.keys.append(self.headers.get("Idempotency-Key", ""))
                    if not proxy._dropped:
                        proxy._dropped = True
                        self.close_connection = True
                        return
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _forward

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


class LiveTest(unittest.TestCase):
    admin: fastgpu.Client

    @classmethod
    def setUpClass(cls) -> None:
        assert _server is not None
        cls.admin = fastgpu.Client(_server.url, _server.admin_token, config_path=NO_CONFIG)

    def submit_sleeper(self, client: fastgpu.Client, name: str) -> fastgpu.Job:
        return client.submit(["sleep", "30"], gpu=0.5, name=name)

    def test_half_gpu_job_logs_wait_and_cost(self) -> None:
        name = unique("half")
        job = self.admin.submit(
            ["sh", "-c", 'echo "$GREETING from half a GPU"; sleep 1; echo done'], gpu=0.5,
            gpu_models="H100-80GB",
            gpu_memory="20GiB", cpu=1, memory="1GiB", name=name, env={"GREETING": "hello"})
        self.assertTrue(job.id.startswith("job-"), job.id)
        self.assertEqual((job.name, job.state), (name, "pending"))
        self.assertEqual((job.shape.gpu_count, job.shape.gpu_milli, job.shape.gpu), (1, 500, "0.5"))
        self.assertEqual((job.shape.gpu_memory_mib, job.shape.cpu_milli, job.shape.memory_mib),
                         (20480, 1000, 1024))
        self.assertEqual(job.env, {"GREETING": "hello"})
        self.assertEqual(job.shape.gpu_models, ["H100-80GB"])

        pieces = list(self.admin.logs(job, follow=True, timeout=JOB_TIMEOUT_S))
        self.assertEqual("".join(pieces), "hello from half a GPU\ndone\n")

        done = self.admin.wait(job.id, timeout=JOB_TIMEOUT_S)
        self.assertEqual(done.state, "succeeded", done.reason)
        self.assertTrue(done.succeeded and done.done and done.simulated)
        self.assertEqual([e.to_state for e in done.events][-1], "succeeded")
        self.assertEqual(len(done.allocations), 1)
        alloc = done.allocations[0]
        self.assertEqual((alloc.gpu_model, alloc.ended, alloc.exit_code),
                         ("H100-80GB", "exit 0", 0))
        self.assertEqual([s.milli for s in alloc.slices], [500])

        # The finished log, by name, without and with follow (a plain answer then).
        self.assertEqual("".join(self.admin.logs(name)), "hello from half a GPU\ndone\n")
        self.assertEqual(b"".join(self.admin.log_bytes(name, follow=True, offset=6)),
                         b"from half a GPU\ndone\n")
        chunk = self.admin.read_log(job)
        self.assertTrue(chunk.done)
        self.assertEqual(chunk.next_offset, len("hello from half a GPU\ndone\n"))

        # 0.5 x $2.49 per GPU-hour x the 60 s minimum = 2.075 cents, 2 on the bill.
        report = self.admin.usage(by="job", from_=job.created_at)
        row = report.row(job.id)
        self.assertIsNotNone(row)
        assert row is not None
        self.assertEqual((row.billed_seconds, row.cents, row.cost), (60, 2, "$0.02"))
        self.assertEqual(row.gpu_milli_seconds, 30000)
        self.assertEqual(report.total_cents, sum(r.cents for r in report.rows))
        self.assertEqual((report.by, report.from_ms), ("job", job.created_at))
        by_model = self.admin.usage(by="model", from_=report.from_ms, to=report.to_ms)
        self.assertEqual(by_model.total_cents, report.total_cents)
        self.assertIn("H100-80GB", [r.key for r in by_model.rows])
        self.assertIn(f"{job.id},60,", self.admin.usage_csv(by="job", from_=job.created_at))
        self.assertEqual(self.admin.prices().gpu_hour, {"H100-80GB": "2.49"})

    def test_cancel_and_wait_timeout(self) -> None:
        job = self.submit_sleeper(self.admin, unique("cancel"))
        with self.assertRaises(fastgpu.WaitTimeoutError) as ctx:
            self.admin.wait(job, timeout=0.5)
        self.assertIsNotNone(ctx.exception.job)
        self.assertIn(ctx.exception.job.state, ("pending", "scheduled", "running"))
        self.assertEqual(ctx.exception.code, "DEADLINE_EXCEEDED")
        # Following the log of a job that prints nothing ends at the timeout.
        started = time.monotonic()
        with self.assertRaises(fastgpu.WaitTimeoutError):
            list(self.admin.logs(job, follow=True, timeout=1.0))
        self.assertLess(time.monotonic() - started, 20)
        cancelled = self.admin.cancel(job)
        self.assertEqual(cancelled.state, "cancelled")
        self.assertEqual(self.admin.wait(job, timeout=JOB_TIMEOUT_S).state, "cancelled")
        with self.assertRaises(fastgpu.FailedPreconditionError) as again:
            self.admin.cancel(job)
        self.assertEqual(again.exception.status, 409)
        self.assertIn("already", again.exception.message)

    def test_errors_name_the_refused_field(self) -> None:
        # Refused here, before sending, in the CLI's words.
        with self.assertRaises(fastgpu.InvalidArgumentError) as local:
            self.admin.submit(["true"], gpu=1.5)
        self.assertIsNone(local.exception.status)
        self.assertTrue(local.exception.message.startswith("gpu: '1.5'"), local.exception.message)
        # Refused by the control plane: 400 with the field's path.
        with self.assertRaises(fastgpu.InvalidArgumentError) as unknown:
            self.admin.submit(["true"], gpu=0.5, extra={"gpus": 1})
        self.assertEqual((unknown.exception.status, unknown.exception.code),
                         (400, "INVALID_ARGUMENT"))
        self.assertEqual(unknown.exception.message, "gpus: unknown field")
        with self.assertRaises(fastgpu.InvalidArgumentError) as milli:
            self.admin.submit(["true"], extra={"shape": {"gpu_count": 1, "gpu_milli": 1500}})
        self.assertEqual(milli.exception.status, 400)
        self.assertTrue(milli.exception.message.startswith("shape.gpu_milli:"),
                        milli.exception.message)
        with self.assertRaises(fastgpu.InvalidArgumentError) as iso:
            self.admin.submit(["true"], gpu=0.5, isolation="bogus")
        self.assertTrue(iso.exception.message.startswith("shape.isolation"),
                        iso.exception.message)
        # A job no node could ever hold: 422 with the reason.
        with self.assertRaises(fastgpu.FailedPreconditionError) as never:
            self.admin.submit(["true"], gpu=8)
        self.assertEqual(never.exception.status, 422)
        self.assertIn("never fits", never.exception.message)
        # A wrong token.
        assert _server is not None
        stranger = fastgpu.Client(_server.url, "0" * 64, config_path=NO_CONFIG)
        with self.assertRaises(fastgpu.UnauthenticatedError) as auth:
            stranger.list_jobs()
        self.assertEqual(auth.exception.status, 401)

    def test_another_tenants_job_is_not_visible(self) -> None:
        assert _server is not None
        job = self.submit_sleeper(self.admin, unique("private"))
        self.addCleanup(self.admin.cancel, job)
        tenant = self.admin.create_tenant(unique("other"))
        token = self.admin.create_token(tenant, name="sdk test")
        self.assertTrue(token.token)
        self.assertNotIn(token.token, repr(token))
        other = fastgpu.Client(_server.url, token.token, config_path=NO_CONFIG)
        for call in (lambda: other.get_job(job.id), lambda: other.get_job(job.name),
                     lambda: other.cancel(job.id), lambda: other.read_log(job.id)):
            with self.assertRaises(fastgpu.NotFoundError) as ctx:
                call()
            self.assertEqual((ctx.exception.status, ctx.exception.code), (404, "NOT_FOUND"))
        self.assertNotIn(job.id, [j.id for j in other.iter_jobs()])
        with self.assertRaises(fastgpu.PermissionDeniedError) as admin_only:
            other.list_nodes()
        self.assertEqual(admin_only.exception.status, 403)
        own = other.submit(["true"], cpu="100m", name=unique("mine"))
        self.assertEqual(other.wait(own, timeout=JOB_TIMEOUT_S).state, "succeeded")
        self.assertEqual([j.id for j in other.iter_jobs()], [own.id])
        self.assertEqual(self.admin.get_tenant(tenant.name).id, tenant.id)
        with self.assertRaises(fastgpu.AlreadyExistsError):
            self.admin.create_tenant(tenant.name)

    def test_same_idempotency_key_submits_one_job(self) -> None:
        name = unique("idem")
        key = uuid.uuid4().hex
        first = self.admin.submit(["true"], cpu="100m", name=name, idempotency_key=key)
        second = self.admin.submit(["true"], cpu="100m", name=name, idempotency_key=key)
        self.assertEqual(first.id, second.id)
        self.assertEqual([j.id for j in self.admin.iter_jobs() if j.name == name], [first.id])
        with self.assertRaises(fastgpu.FailedPreconditionError) as other_request:
            self.admin.submit(["false"], cpu="100m", name=name, idempotency_key=key)
        self.assertEqual(other_request.exception.status, 422)
        self.assertIn(key, other_request.exception.message)

    def test_retry_after_a_lost_answer_submits_one_job(self) -> None:
        assert _server is not None
        proxy = DroppingProxy(_server.url)
        self.addCleanup(proxy.close)
        client = fastgpu.Client(proxy.url, _server.admin_token, config_path=NO_CONFIG,
                                backoff=0.05)
        name = unique("lost-answer")
        job = client.submit(["true"], gpu=0.5, name=name)
        self.assertEqual(len(proxy.keys), 2)  # the server saw the submission twice
        self.assertEqual(proxy.keys[0], proxy.keys[1])
        self.assertTrue(proxy.keys[0])
        self.assertEqual([j.id for j in self.admin.iter_jobs() if j.name == name], [job.id])

    def test_nodes_drain_and_undrain(self) -> None:
        nodes = self.admin.list_nodes()
        self.assertEqual(len(nodes), 1)
        node = nodes[0]
        self.assertEqual(node.state, "ready")
        self.assertTrue(node.simulated)
        self.assertEqual([(g.model, g.simulated) for g in node.gpus],
                         [("H100-80GB", True), ("H100-80GB", True)])
        try:
            self.assertEqual(self.admin.drain_node(node).state, "draining")
            self.assertEqual(self.admin.list_nodes()[0].state, "draining")
        finally:
            self.assertEqual(self.admin.undrain_node(node.name).state, "ready")
        with self.assertRaises(fastgpu.NotFoundError):
            self.admin.drain_node("no-such-node")

    def test_reads_the_config_that_fastgpu_login_writes(self) -> None:
        assert _server is not None
        home = tempfile.mkdtemp(prefix="fastgpu-sdk-home-")
        self.addCleanup(shutil.rmtree, home, True)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("FASTGPU_") and k != "XDG_CONFIG_HOME"}
        env.update(HOME=home, PYTHONPATH=PYTHON_DIR)
        login = subprocess.run([os.environ["FASTGPU_BINARY"], "login", "--server", _server.url,
                                "--token", _server.admin_token], env=env, capture_output=True,
                               text=True, timeout=60)
        self.assertEqual(login.returncode, 0, login.stderr)
        self.assertTrue(os.path.exists(os.path.join(home, ".config", "fastgpu", "config.json")))
        script = ("import fastgpu\n"
                  "c = fastgpu.Client()\n"
                  "print(c.config.server, c.config.token == open(0).read(), len(c.list_nodes()))\n")
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, timeout=60, input=_server.admin_token, cwd=home)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.split(), [_server.url, "True", "1"])

    def test_readme_example_runs(self) -> None:
        assert _server is not None
        with open(os.path.join(SOURCE_DIR, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        m = re.search(r"^```python\n(.*?)^```$", readme, re.MULTILINE | re.DOTALL)
        self.assertIsNotNone(m, "README.md has no ```python block")
        assert m is not None
        env = dict(os.environ, FASTGPU_SERVER=_server.url, FASTGPU_TOKEN=_server.admin_token,
                   PYTHONPATH=PYTHON_DIR, HOME=_server.dir, XDG_CONFIG_HOME="")
        out = subprocess.run([sys.executable, "-c", m.group(1)], env=env, capture_output=True,
                             text=True, timeout=120, cwd=_server.dir)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("hello from a half GPU\n", out.stdout)
        self.assertRegex(out.stdout, r"succeeded, cost \$0\.02\n")


class ServiceLiveTest(unittest.TestCase):
    """Services (docs/services.md) end to end: replicas are real jobs on the simulated
    H100s, so each test deletes what it created."""

    admin: fastgpu.Client

    @classmethod
    def setUpClass(cls) -> None:
        assert _server is not None
        cls.admin = fastgpu.Client(_server.url, _server.admin_token, config_path=NO_CONFIG)

    def create(self, client: fastgpu.Client, name: str, **kwargs: Any) -> fastgpu.Service:
        """Creates a service of ``sleep`` replicas that is deleted after the test, its
        replicas stopped."""
        svc = client.create_service(name, ["sleep", "600"], **kwargs)

        def delete() -> None:
            try:
                client.delete_service(svc.id)
            except fastgpu.NotFoundError:
                pass
            self.wait_replicas_stopped(lambda job: job.service == svc.id)

        self.addCleanup(delete)
        return svc

    def wait_replicas_stopped(self, match: Callable[[fastgpu.Job], bool]) -> List[fastgpu.Job]:
        """Waits until the agent has stopped every replica job ``match`` selects (its log
        is done: the job is over and the agent sent the replica's last output), since
        ``fastgpu up`` leaves workloads running when it stops; returns those jobs."""
        deadline = time.monotonic() + SERVICE_TIMEOUT_S
        jobs = [j for j in self.admin.iter_jobs() if j.service and match(j)]
        for job in jobs:
            while not self.admin.read_log(job.id).done:
                if time.monotonic() > deadline:
                    self.fail(f"replica job {job.id} ({job.name}) was not stopped within "
                              f"{SERVICE_TIMEOUT_S:g} s: {self.admin.get_job(job.id)}")
                time.sleep(0.2)
        return jobs

    def test_create_wait_scale_update_delete(self) -> None:
        name = unique("svc")
        svc = self.create(self.admin, name, gpu=0.25, cpu="100m", env={"MODEL": "a"}, min=2,
                          max=3)
        self.assertTrue(svc.id.startswith("svc-"), svc.id)
        self.assertEqual((svc.name, svc.state, svc.replicas, svc.generation),
                         (name, "pending", 2, 1))
        self.assertEqual((svc.min_replicas, svc.max_replicas), (2, 3))
        self.assertEqual((svc.shape.gpu, svc.shape.cpu_milli, svc.command),
                         ("0.25", 100, ["sleep", "600"]))
        self.assertEqual((svc.spec.env, svc.spec.port, svc.spec.target_rps), ({"MODEL": "a"},
                                                                               False, 0.0))
        self.assertTrue(svc.spec.readiness.empty)
        self.assertEqual((svc.spec.idle_timeout_s, svc.spec.scale_down_delay_s), (300, 300))
        self.assertIn(svc.tenant_id, [t.id for t in self.admin.list_tenants()])

        # Two replicas running and ready, each a job that names the service.
        up = self.admin.wait_service(name, timeout=SERVICE_TIMEOUT_S)
        self.assertEqual((up.state, up.ready_replicas, len(up.replica_jobs)), ("running", 2, 2))
        self.assertEqual([(r.state, r.generation, r.ready) for r in up.replica_status],
                         [("running", 1, True)] * 2)
        job = self.admin.get_job(up.replica_jobs[0])
        self.assertEqual((job.name, job.service, job.service_generation), (name, svc.id, 1))
        self.assertEqual((job.replicas, job.shape.gpu_milli), (1, 250))
        self.assertIn(svc.id, [s.id for s in self.admin.list_services()])

        # Scaling is clamped to min..max, and the answer says so.
        scaled = self.admin.scale_service(svc, 9)
        assert scaled.scale is not None
        self.assertEqual((scaled.scale.requested, scaled.scale.replicas, scaled.scale.clamped),
                         (9, 3, True))
        self.assertEqual(scaled.scale.note, "clamped to max_replicas 3")
        self.assertEqual(scaled.replicas, 3)
        self.assertEqual(self.admin.wait_service(svc, timeout=SERVICE_TIMEOUT_S).ready_replicas,
                         3)
        down = self.admin.scale_service(name, 0)
        assert down.scale is not None
        self.assertEqual((down.replicas, down.scale.clamped, down.scale.note),
                         (2, True, "clamped to min_replicas 2"))
        exact = self.admin.scale_service(name, 2)
        assert exact.scale is not None
        self.assertEqual((exact.scale.clamped, exact.scale.note), (False, ""))
        self.assertEqual(len(self.admin.wait_service(name, timeout=SERVICE_TIMEOUT_S)
                             .replica_jobs), 2)

        # A change of the scaling fields alone rolls nothing; a new env rolls generation 2.
        tuned = self.admin.update_service(name, max=4, target_rps=5)
        self.assertEqual((tuned.generation, tuned.max_replicas, tuned.spec.target_rps),
                         (1, 4, 5.0))
        self.assertEqual(tuned.spec.env, {"MODEL": "a"})
        rolled = self.admin.update_service(svc, env={"MODEL": "b"})
        self.assertEqual((rolled.generation, rolled.state, rolled.spec.env),
                         (2, "updating", {"MODEL": "b"}))
        self.assertEqual(rolled.spec.target_rps, 5.0)  # kept: only env was given
        new = self.admin.wait_service(name, timeout=SERVICE_TIMEOUT_S)
        self.assertEqual([(r.generation, r.ready) for r in new.replica_status],
                         [(2, True)] * 2)
        self.assertEqual(self.admin.get_job(new.replica_jobs[0]).env, {"MODEL": "b"})
        old_jobs = set(up.replica_jobs) - set(new.replica_jobs)
        self.assertEqual(len(old_jobs), 2)
        self.assertEqual({self.admin.get_job(j).state for j in old_jobs}, {"cancelled"})
        reset = self.admin.update_service(name, reset=["target_rps", "max_replicas"])
        self.assertEqual((reset.spec.target_rps, reset.max_replicas, reset.generation),
                         (0.0, 2, 2))

        # Delete cancels the live replicas; the service is gone, its jobs stay.
        live = self.admin.get_service(name).replica_jobs
        gone = self.admin.delete_service(name)
        self.assertEqual((gone.id, gone.name, gone.deleted), (svc.id, name, True))
        self.assertEqual(sorted(gone.cancelled_jobs), sorted(live))
        for job_id in live:
            self.assertEqual(self.admin.get_job(job_id).state, "cancelled")
        stopped = self.wait_replicas_stopped(lambda job: job.service == svc.id)
        self.assertLessEqual(set(live), {j.id for j in stopped})
        for job_id in live:  # the agent stopped the process (SIGTERM)
            self.assertEqual(self.admin.get_job(job_id).allocations[-1].ended, "signal 15")
        with self.assertRaises(fastgpu.NotFoundError):
            self.admin.get_service(name)
        self.assertNotIn(svc.id, [s.id for s in self.admin.list_services()])

        # Its replicas' usage is one row under its name; the rows add up as by job.
        to = int(time.time() * 1000)
        by_service = self.admin.usage(by="service", from_=svc.created_at, to=to)
        row = by_service.row(name)
        assert row is not None, [r.key for r in by_service.rows]
        self.assertGreater(row.billed_seconds, 0)
        by_job = self.admin.usage(by="job", from_=svc.created_at, to=to)
        self.assertEqual(by_service.total_cents, by_job.total_cents)
        self.assertEqual(by_service.by, "service")

    def test_errors_name_the_field(self) -> None:
        name = unique("svc-err")
        svc = self.create(self.admin, name, cpu="100m", min=0)
        self.assertEqual((svc.replicas, svc.min_replicas), (1, 0))  # at least 1 to start
        with self.assertRaises(fastgpu.AlreadyExistsError) as taken:
            self.create(self.admin, name, cpu="100m")
        self.assertEqual((taken.exception.status, taken.exception.code), (409, "ALREADY_EXISTS"))
        self.assertIn(name, taken.exception.message)

        def refused(call: Any, field: str, status: Optional[int] = 400) -> str:
            with self.assertRaises(fastgpu.InvalidArgumentError) as ctx:
                call()
            self.assertEqual((ctx.exception.field, ctx.exception.status), (field, status),
                             ctx.exception.message)
            return ctx.exception.message

        other = unique("svc-bad")
        refused(lambda: self.create(self.admin, other, cpu="100m", min=-1), "min_replicas")
        refused(lambda: self.create(self.admin, other, cpu="100m", min=3, max=2),
                "max_replicas")
        refused(lambda: self.create(self.admin, "Bad_Name", cpu="100m"), "name")
        refused(lambda: self.create(self.admin, other, cpu="100m", ready_http="/healthz"),
                "readiness")  # a probe needs port
        refused(lambda: self.create(self.admin, other, cpu="100m", port=True,
                                    ready_http="healthz"), "readiness.http")
        refused(lambda: self.create(self.admin, other, cpu="100m", target_rps=5,
                                    target_gpu_util=50), "target_gpu_util")
        self.assertEqual(refused(lambda: self.create(self.admin, other, cpu="100m",
                                                     extra={"gpus": 1}), "gpus"),
                         "gpus: unknown field")
        refused(lambda: self.create(self.admin, other, cpu="100m", min="1"), "min", None)
        refused(lambda: self.admin.update_service(name, extra={"replicas": 3}), "replicas")
        refused(lambda: self.admin.update_service(name, extra={"name": "x"}), "name")
        refused(lambda: self.admin.update_service(name, idle_timeout=0), "idle_timeout_s")
        refused(lambda: self.admin.scale_service(name, 2000), "replicas")
        with self.assertRaises(fastgpu.FailedPreconditionError) as never:
            self.create(self.admin, other, gpu=8)
        self.assertEqual(never.exception.status, 422)
        self.assertIn("never fits", never.exception.message)
        self.assertNotIn(other, [s.name for s in self.admin.list_services()])
        missing = unique("svc-none")
        for call in (lambda: self.admin.get_service(missing),
                     lambda: self.admin.scale_service(missing, 1),
                     lambda: self.admin.update_service(missing, max=2),
                     lambda: self.admin.delete_service(missing)):
            with self.assertRaises(fastgpu.NotFoundError) as ctx:
                call()
            self.assertEqual((ctx.exception.status, ctx.exception.code), (404, "NOT_FOUND"))
            self.assertEqual(ctx.exception.message, f"no service '{missing}'")

    def test_another_tenant_cannot_see_the_service(self) -> None:
        assert _server is not None
        name = unique("svc-private")
        svc = self.create(self.admin, name, cpu="100m")
        tenant = self.admin.create_tenant(unique("svc-tenant"))
        other = fastgpu.Client(_server.url, self.admin.create_token(tenant).token,
                               config_path=NO_CONFIG)
        for call in (lambda: other.get_service(name), lambda: other.get_service(svc.id),
                     lambda: other.scale_service(svc.id, 3),
                     lambda: other.update_service(name, max=5),
                     lambda: other.delete_service(svc.id)):
            with self.assertRaises(fastgpu.NotFoundError) as ctx:
                call()
            self.assertEqual(ctx.exception.status, 404)
        self.assertEqual(other.list_services(), [])
        # Names are per tenant: the other tenant may use the same one.
        own = self.create(other, name, cpu="100m")
        self.assertEqual((own.name, own.tenant_id), (name, tenant.id))
        self.assertNotEqual(own.id, svc.id)
        self.assertEqual([s.id for s in other.list_services()], [own.id])
        self.assertEqual(other.get_service(name).id, own.id)
        self.assertEqual([s.id for s in self.admin.list_services(tenant=tenant.name)], [own.id])
        self.assertLessEqual({svc.id, own.id}, {s.id for s in self.admin.list_services()})
        # Nothing the other tenant tried touched the admin's service.
        mine = self.admin.get_service(svc.id)
        self.assertEqual((mine.replicas, mine.max_replicas, mine.generation), (1, 1, 1))

    def test_one_creation_and_one_deletion_after_lost_answers(self) -> None:
        assert _server is not None
        name = unique("svc-lost")
        proxy = DroppingProxy(_server.url, drop=("POST", "/v1/services"))
        self.addCleanup(proxy.close)
        client = fastgpu.Client(proxy.url, _server.admin_token, config_path=NO_CONFIG,
                                backoff=0.05)
        svc = self.create(client, name, cpu="100m")
        self.assertEqual(len(proxy.keys), 2)  # the server saw the creation twice
        self.assertEqual(proxy.keys[0], proxy.keys[1])
        self.assertTrue(proxy.keys[0])
        self.assertEqual([s.id for s in self.admin.list_services() if s.name == name], [svc.id])
        # The deletion's answer lost: its retry gets the first answer, not a 404.
        deleter = DroppingProxy(_server.url, drop=("DELETE", f"/v1/services/{name}"))
        self.addCleanup(deleter.close)
        client = fastgpu.Client(deleter.url, _server.admin_token, config_path=NO_CONFIG,
                                backoff=0.05)
        gone = client.delete_service(name)
        self.assertEqual(len(deleter.keys), 2)
        self.assertEqual(deleter.keys[0], deleter.keys[1])
        self.assertEqual((gone.id, gone.deleted), (svc.id, True))
        with self.assertRaises(fastgpu.NotFoundError):
            self.admin.get_service(name)
        # The same key again is the same creation, not a second (or a name taken).
        key = uuid.uuid4().hex
        first = self.create(self.admin, unique("svc-key"), cpu="100m", idempotency_key=key)
        second = self.admin.create_service(first.name, ["sleep", "600"], cpu="100m",
                                           idempotency_key=key)
        self.assertEqual(second.id, first.id)

    def test_python_readme_example_runs(self) -> None:
        assert _server is not None
        with open(os.path.join(PYTHON_DIR, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        m = re.search(r"^```python\n(.*?)^```$", readme, re.MULTILINE | re.DOTALL)
        self.assertIsNotNone(m, "python/README.md has no ```python block")
        assert m is not None
        env = dict(os.environ, FASTGPU_SERVER=_server.url, FASTGPU_TOKEN=_server.admin_token,
                   PYTHONPATH=PYTHON_DIR, HOME=_server.dir, XDG_CONFIG_HOME="")
        out = subprocess.run([sys.executable, "-c", m.group(1)], env=env, capture_output=True,
                             text=True, timeout=300, cwd=_server.dir)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.splitlines()[:3], [
            "running: 2 of 2 replicas ready", "clamped to max_replicas 4", "generation 2"])
        self.assertRegex(out.stdout.splitlines()[3], r"^\$\d+\.\d\d$")
        self.assertRegex(out.stdout.splitlines()[4], r"^cancelled \d replicas$")
        self.assertEqual(len(out.stdout.splitlines()), 5, out.stdout)
        stopped = self.wait_replicas_stopped(lambda job: job.name == "sdk-demo")
        self.assertGreaterEqual(len(stopped), 8)  # 2, 2 more scaled up, 4 of generation 2


class TlsTest(unittest.TestCase):
    """``fastgpu up --tls``: the client verifies the server against the CA file given."""

    tls: Optional[LiveServer] = None

    @classmethod
    def setUpClass(cls) -> None:
        cls.tls = LiveServer(os.environ["FASTGPU_BINARY"], ["--tls"], gpus="1xH100-80GB")

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.tls is not None:
            cls.tls.stop()

    def test_https_with_the_servers_ca(self) -> None:
        assert self.tls is not None
        self.assertTrue(self.tls.url.startswith("https://127.0.0.1:"), self.tls.url)
        client = fastgpu.Client(self.tls.url, self.tls.admin_token, ca_cert=self.tls.ca_cert,
                                config_path=NO_CONFIG)
        job = client.submit(["sh", "-c", "echo over tls"], gpu=0.5)
        self.assertEqual("".join(client.logs(job, follow=True, timeout=JOB_TIMEOUT_S)),
                         "over tls\n")
        self.assertEqual(client.wait(job, timeout=JOB_TIMEOUT_S).state, "succeeded")
        # Without the CA the server's certificate is not trusted: nothing is sent.
        untrusting = fastgpu.Client(self.tls.url, self.tls.admin_token, config_path=NO_CONFIG,
                                    backoff=30)  # a retry would pause 15..30 s
        started = time.monotonic()
        with self.assertRaises(fastgpu.UnavailableError) as ctx:
            untrusting.list_nodes()
        self.assertLess(time.monotonic() - started, 10)  # not retried
        self.assertIsNone(ctx.exception.status)
        self.assertIn("CERTIFICATE_VERIFY_FAILED", ctx.exception.message)


class PipInstallTest(unittest.TestCase):
    """``pip install`` of python/ into a fresh venv of Debian's Python, offline."""

    PYTHON = "/usr/bin/python3"

    def test_offline_install_into_a_venv(self) -> None:
        assert _server is not None
        if not os.access(self.PYTHON, os.X_OK):
            self.skipTest(f"{self.PYTHON} is not installed")
        probe = subprocess.run([self.PYTHON, "-c", "import venv, ensurepip, pip"],
                               capture_output=True, timeout=60)
        if probe.returncode != 0:
            self.skipTest(f"{self.PYTHON} lacks venv, ensurepip or pip")
        tmp = tempfile.mkdtemp(prefix="fastgpu-sdk-pip-")
        self.addCleanup(shutil.rmtree, tmp, True)
        src = os.path.join(tmp, "python")
        shutil.copytree(PYTHON_DIR, src, ignore=shutil.ignore_patterns(
            "build", "*.egg-info", "__pycache__", "tests"))
        venv = os.path.join(tmp, "venv")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
        env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", HOME=tmp)

        def run(*args: str) -> Tuple[int, str]:
            p = subprocess.run(list(args), env=env, capture_output=True, text=True,
                               timeout=180, cwd=tmp)
            return p.returncode, p.stdout + p.stderr

        rc, out = run(self.PYTHON, "-m", "venv", "--system-site-packages", venv)
        self.assertEqual(rc, 0, out)
        py = os.path.join(venv, "bin", "python")
        rc, out = run(py, "-m", "pip", "install", "--no-index", "--no-cache-dir", src)
        self.assertEqual(rc, 0, out)
        self.assertIn("Successfully installed fastgpu", out)
        script = ("import fastgpu, sys\n"
                  "c = fastgpu.Client(sys.argv[1], sys.argv[2])\n"
                  "print(fastgpu.__file__)\n"
                  "print(len(c.list_nodes()))\n")
        rc, out = run(py, "-c", script, _server.url, _server.admin_token)
        self.assertEqual(rc, 0, out)
        installed, nodes = out.split()
        self.assertTrue(installed.startswith(venv), installed)
        self.assertEqual(nodes, "1")


if __name__ == "__main__":
    unittest.main()

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
from typing import Any, List, Optional, Tuple
from urllib.parse import urlsplit

import fastgpu

from .live_server import LiveServer

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_DIR = os.path.dirname(PYTHON_DIR)
JOB_TIMEOUT_S = 60.0
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
    the first ``POST /v1/jobs``: the server applied it, the client never got the answer
    (the case an Idempotency-Key exists for). Records each forwarded submission's key."""

    def __init__(self, target: str) -> None:
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
                if self.command == "POST" and self.path == "/v1/jobs":
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

            do_GET = do_POST = _forward

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

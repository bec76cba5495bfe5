"""The services API of the client against scripted fake control planes: what each call
sends (method, path, body, Idempotency-Key), how answers are read, and local refusals."""

from __future__ import annotations

import json
import unittest
from typing import Any, Dict, List

import fastgpu
from fastgpu.transport import Transport

from .fake_server import FakeServer

# A service as the control plane answered POST /v1/services/web/scale (fields as sent).
SERVICE: Dict[str, Any] = {
    "id": "svc-fd6644ec7cc11ed4", "tenant_id": "tenant-e4890ef64bf20450", "name": "web",
    "spec": {"name": "web", "command": ["sleep", "300"], "env": {"A": "b"},
             "shape": {"gpu_count": 1, "gpu_milli": 250, "gpu_memory_mib": 0, "gpu_models": [],
                       "cpu_milli": 0, "memory_mib": 0, "isolation": "default",
                       "description": "0.25 GPU"},
             "port": True, "readiness": {"http": "/healthz"}, "min_replicas": 2,
             "max_replicas": 4, "target_rps": 5.0, "target_gpu_util": 0, "idle_timeout_s": 300,
             "scale_down_delay_s": 120, "image": ""},
    "replicas": 4, "generation": 2, "state": "updating", "reason": "rolling",
    "replica_jobs": ["job-a", "job-b", "job-c"],
    "created_at": 1796222295956, "updated_at": 1796222299204,
    "replica_status": [
        {"job_id": "job-a", "state": "running", "generation": 1, "ready": True,
         "reason": "all 1 replica(s) running", "endpoint": "127.0.0.1:40001"},
        {"job_id": "job-b", "state": "running", "generation": 2, "ready": True, "reason": ""},
        {"job_id": "job-c", "state": "scheduled", "generation": 2, "ready": False,
         "reason": "placed on node-a (GPU 0)"}],
    "scale": {"requested": 9, "replicas": 4, "clamped": True,
              "note": "clamped to max_replicas 4"},
    "a_future_field": [1],
}
UNAVAILABLE = (503, {"code": "UNAVAILABLE", "message": "the store cannot write"}, {})


def steady(**changes: Any) -> Dict[str, Any]:
    """A running service of two ready replicas of generation 1, with ``changes``."""
    s: Dict[str, Any] = {
        "id": "svc-1", "name": "web", "spec": {"name": "web", "min_replicas": 2},
        "replicas": 2, "generation": 1, "state": "running", "replica_jobs": ["job-a", "job-b"],
        "replica_status": [{"job_id": j, "state": "running", "generation": 1, "ready": True}
                           for j in ("job-a", "job-b")]}
    s.update(changes)
    return s


class ServiceTypesTest(unittest.TestCase):
    def test_reads_every_field(self) -> None:
        s = fastgpu.Service.from_json(SERVICE)
        self.assertEqual((s.id, s.tenant_id, s.name), ("svc-fd6644ec7cc11ed4",
                                                       "tenant-e4890ef64bf20450", "web"))
        self.assertEqual((s.replicas, s.generation, s.state, s.reason), (4, 2, "updating",
                                                                         "rolling"))
        self.assertEqual(s.replica_jobs, ["job-a", "job-b", "job-c"])
        self.assertEqual((s.created_at, s.updated_at), (1796222295956, 1796222299204))
        self.assertEqual((s.min_replicas, s.max_replicas, s.command), (2, 4, ["sleep", "300"]))
        self.assertEqual((s.shape.gpu, s.shape.description), ("0.25", "0.25 GPU"))
        spec = s.spec
        self.assertEqual((spec.name, spec.env, spec.port, spec.image), ("web", {"A": "b"}, True,
                                                                        ""))
        self.assertEqual(spec.readiness, fastgpu.Readiness(http="/healthz"))
        self.assertFalse(spec.readiness.empty)
        self.assertEqual((spec.target_rps, spec.target_gpu_util), (5.0, 0))
        self.assertEqual((spec.idle_timeout_s, spec.scale_down_delay_s), (300, 120))
        self.assertFalse(spec.run_as_root)
        self.assertEqual([(r.job_id, r.generation, r.ready) for r in s.replica_status],
                         [("job-a", 1, True), ("job-b", 2, True), ("job-c", 2, False)])
        self.assertEqual(s.replica_status[0].endpoint, "127.0.0.1:40001")
        self.assertEqual(s.replica_status[1].endpoint, "")
        self.assertEqual(s.replica_status[2].reason, "placed on node-a (GPU 0)")
        self.assertEqual(s.ready_replicas, 2)
        self.assertEqual(s.scale, fastgpu.ServiceScale(requested=9, replicas=4, clamped=True,
                                                       note="clamped to max_replicas 4"))
        self.assertEqual(s.raw["a_future_field"], [1])  # unknown fields kept in raw
        self.assertFalse(s.steady)

    def test_tolerates_missing_and_mistyped_fields(self) -> None:
        s = fastgpu.Service.from_json({"id": "svc-1", "replicas": "3", "spec": ["x"],
                                       "replica_status": {"job_id": "j"},
                                       "replica_jobs": ["job-a", 7], "scale": "big",
                                       "generation": True})
        self.assertEqual((s.id, s.replicas, s.generation), ("svc-1", 0, 0))
        self.assertEqual(s.replica_jobs, ["job-a"])
        self.assertEqual((s.replica_status, s.scale), ([], None))
        self.assertEqual((s.min_replicas, s.max_replicas), (1, 1))  # the API's defaults
        self.assertEqual((s.spec.idle_timeout_s, s.spec.scale_down_delay_s), (300, 300))
        self.assertTrue(s.spec.readiness.empty)
        # The name comes from the spec when the top level lacks it.
        self.assertEqual(fastgpu.Service.from_json({"spec": {"name": "n"}}).name, "n")
        spec = fastgpu.ServiceSpec.from_json({"readiness": {"tcp": True}, "run_as_root": True,
                                              "target_rps": 3})
        self.assertEqual((spec.readiness.tcp, spec.run_as_root, spec.target_rps),
                         (True, True, 3.0))

    def test_steady(self) -> None:
        self.assertTrue(fastgpu.Service.from_json(steady()).steady)
        not_steady = [
            steady(state="pending"),
            steady(replicas=3),  # scaled up, the pass has not started the third yet
            steady(generation=2),  # updated, not rolled yet
            steady(replica_jobs=["job-a", "job-b", "job-c"]),  # one more live than wanted
            steady(replica_status=[{"job_id": "job-a", "generation": 1, "ready": True},
                                   {"job_id": "job-b", "generation": 1, "ready": False}]),
            steady(replicas=0, state="idle"),  # none wanted, but replicas still live
        ]
        for answer in not_steady:
            self.assertFalse(fastgpu.Service.from_json(answer).steady, answer)
        self.assertTrue(fastgpu.Service.from_json(
            steady(replicas=0, state="idle", replica_jobs=[], replica_status=[])).steady)

    def test_deleted_service(self) -> None:
        d = fastgpu.DeletedService.from_json({"id": "svc-1", "name": "web", "deleted": True,
                                              "cancelled_jobs": ["job-a", None, "job-b"]})
        self.assertEqual((d.id, d.name, d.deleted, d.cancelled_jobs),
                         ("svc-1", "web", True, ["job-a", "job-b"]))

    def test_replica_jobs_name_their_service(self) -> None:
        job = fastgpu.Job.from_json({"id": "job-a", "service": "svc-1", "service_generation": 3})
        self.assertEqual((job.service, job.service_generation), ("svc-1", 3))
        plain = fastgpu.Job.from_json({"id": "job-b"})
        self.assertEqual((plain.service, plain.service_generation), ("", 0))

    def test_error_field(self) -> None:
        cases = [
            ("INVALID_ARGUMENT", "min_replicas: must be between 0 and 1024", "min_replicas"),
            ("INVALID_ARGUMENT", "shape.gpu_milli: must be 1..1000", "shape.gpu_milli"),
            ("INVALID_ARGUMENT", "readiness.http: must be a path", "readiness.http"),
            ("INVALID_ARGUMENT", "vm.types[0]: bad", "vm.types[0]"),
            ("PERMISSION_DENIED", "run_as_root: tenant 'a' may not", "run_as_root"),
            ("FAILED_PRECONDITION", "never fits in this pool as it is: a replica needs", ""),
            ("ALREADY_EXISTS", "service name 'web' is taken", ""),
            ("INTERNAL", "sqlite: disk I/O error", ""),  # not a field of the request
            ("NOT_FOUND", "no service 'x'", ""),
        ]
        for code, message, field in cases:
            self.assertEqual(fastgpu.errors.error_for(code, message, 400).field, field, message)


class ServiceCallsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.pauses: List[float] = []

    def client(self, server: str) -> fastgpu.Client:
        c = fastgpu.Client(server=server, token="t0k", config_path="/nonexistent/config.json",
                           timeout=10)
        c._http = Transport(c.config.server, "t0k", timeout=10, sleep=self.pauses.append)
        return c

    def test_create_sends_the_spec_and_retries_with_one_key(self) -> None:
        with FakeServer([UNAVAILABLE, None, (201, SERVICE, {})]) as fake:
            svc = self.client(fake.url).create_service(
                "web", ["python", "serve.py"], gpu=0.25, gpu_memory="10GiB", cpu="500m",
                memory="1GiB", env={"MODEL": "m"}, port=True, ready_http="/healthz", min=2,
                max=4, replicas=3, target_rps=20, idle_timeout=600, scale_down_delay=60)
        self.assertEqual(svc.id, "svc-fd6644ec7cc11ed4")
        self.assertEqual([(s.method, s.path) for s in fake.seen], [("POST", "/v1/services")] * 3)
        keys = {s.headers.get("idempotency-key") for s in fake.seen}
        self.assertEqual(len(keys), 1, keys)
        self.assertTrue(next(iter(keys)))
        self.assertEqual(len(self.pauses), 2)
        self.assertEqual(json.loads(fake.seen[0].body), {
            "name": "web", "command": ["python", "serve.py"], "env": {"MODEL": "m"},
            "shape": {"isolation": "default", "gpu_models": [], "gpu_count": 1,
                      "gpu_milli": 250, "gpu_memory_mib": 10240, "cpu_milli": 500,
                      "memory_mib": 1024},
            "port": True, "readiness": {"http": "/healthz"}, "min_replicas": 2,
            "max_replicas": 4, "target_rps": 20, "idle_timeout_s": 600,
            "scale_down_delay_s": 60, "replicas": 3})

    def test_create_sends_only_what_is_given(self) -> None:
        with FakeServer([(201, SERVICE, {})]) as fake:
            self.client(fake.url).create_service("web", ["true"], cpu=1, ready_tcp=True,
                                                 image="img", root=True, target_gpu_util=60,
                                                 idempotency_key="key-1",
                                                 extra={"new_field": 1})
        self.assertEqual(fake.seen[0].headers["idempotency-key"], "key-1")
        self.assertEqual(json.loads(fake.seen[0].body), {
            "name": "web", "command": ["true"], "env": {},
            "shape": {"isolation": "default", "gpu_models": [], "gpu_count": 0,
                      "gpu_milli": 0, "cpu_milli": 1000},
            "image": "img", "run_as_root": True, "readiness": {"tcp": True},
            "target_gpu_util": 60, "new_field": 1})

    def test_bad_arguments_are_refused_before_sending(self) -> None:
        c = self.client("http://127.0.0.1:9")  # nothing is sent
        cases = [
            (lambda: c.create_service("web", "serve"), "command"),
            (lambda: c.create_service("web", ["x"], gpu=1.5), "gpu"),
            (lambda: c.create_service("web", ["x"], min="2"), "min"),  # type: ignore[arg-type]
            (lambda: c.create_service("web", ["x"], max=2.0), "max"),  # type: ignore[arg-type]
            (lambda: c.create_service("web", ["x"], replicas=True), "replicas"),
            (lambda: c.create_service("web", ["x"], target_rps="5"),  # type: ignore[arg-type]
             "target_rps"),
            (lambda: c.scale_service("web", "3"), "replicas"),  # type: ignore[arg-type]
            (lambda: c.update_service("web", idle_timeout=1.5),  # type: ignore[arg-type]
             "idle_timeout"),
            (lambda: c.update_service("web", target_rps=5, reset=["target_rps"]), "reset"),
            (lambda: c.get_service(""), "service"),
        ]
        for call, field in cases:
            with self.assertRaises(fastgpu.InvalidArgumentError, msg=field) as ctx:
                call()
            self.assertIsNone(ctx.exception.status)
            self.assertEqual(ctx.exception.field, field, ctx.exception.message)

    def test_update_sends_the_fields_given(self) -> None:
        with FakeServer([None, (200, SERVICE, {})]) as fake:
            svc = self.client(fake.url).update_service(
                fastgpu.Service.from_json(SERVICE), env={"A": "c"}, gpu=1, max=8,
                ready_tcp=False, reset=["target_rps", "idle_timeout_s"])
        self.assertEqual(svc.generation, 2)
        self.assertEqual([(s.method, s.path) for s in fake.seen],
                         [("PATCH", "/v1/services/svc-fd6644ec7cc11ed4")] * 2)
        self.assertEqual(len({s.headers["idempotency-key"] for s in fake.seen}), 1)
        self.assertEqual(json.loads(fake.seen[0].body), {
            "env": {"A": "c"},
            "shape": {"isolation": "default", "gpu_models": [], "gpu_count": 1,
                      "gpu_milli": 1000},
            "readiness": {}, "max_replicas": 8, "target_rps": None, "idle_timeout_s": None})
        with FakeServer([(200, SERVICE, {})]) as fake:
            self.client(fake.url).update_service("web", min=0, command=["b"], port=False,
                                                 root=False, ready_http="/ready")
        self.assertEqual(json.loads(fake.seen[0].body), {
            "command": ["b"], "run_as_root": False, "port": False,
            "readiness": {"http": "/ready"}, "min_replicas": 0})

    def test_scale_get_list_delete(self) -> None:
        deleted = {"id": "svc-1", "name": "a b", "deleted": True, "cancelled_jobs": ["job-a"]}
        script = [(200, SERVICE, {}), (200, SERVICE, {}),
                  (200, {"services": [SERVICE, "junk", steady()]}, {}), (200, {"services": []},
                                                                         {}),
                  UNAVAILABLE, (200, deleted, {})]
        with FakeServer(script) as fake:
            c = self.client(fake.url)
            scaled = c.scale_service("a b", 9, idempotency_key="k-scale")
            got = c.get_service("a/b")
            listed = c.list_services()
            c.list_services(tenant="team-a")
            gone = c.delete_service("a b")
        self.assertEqual([(s.method, s.path) for s in fake.seen], [
            ("POST", "/v1/services/a%20b/scale"), ("GET", "/v1/services/a%2Fb"),
            ("GET", "/v1/services"), ("GET", "/v1/services?tenant=team-a"),
            ("DELETE", "/v1/services/a%20b"), ("DELETE", "/v1/services/a%20b")])
        self.assertEqual(json.loads(fake.seen[0].body), {"replicas": 9})
        self.assertEqual(fake.seen[0].headers["idempotency-key"], "k-scale")
        self.assertNotIn("idempotency-key", fake.seen[1].headers)
        self.assertEqual(fake.seen[4].headers["idempotency-key"],
                         fake.seen[5].headers["idempotency-key"])
        assert scaled.scale is not None
        self.assertEqual((scaled.scale.clamped, scaled.replicas), (True, 4))
        self.assertEqual(got.name, "web")
        self.assertEqual([s.id for s in listed], ["svc-fd6644ec7cc11ed4", "svc-1"])
        self.assertEqual((gone.deleted, gone.cancelled_jobs), (True, ["job-a"]))

    def test_api_errors_name_the_field(self) -> None:
        answers = [
            ((400, {"code": "INVALID_ARGUMENT",
                    "message": "min_replicas: must be between 0 and 1024"}, {}),
             fastgpu.InvalidArgumentError, "min_replicas"),
            ((409, {"code": "ALREADY_EXISTS", "message": "service name 'web' is taken"}, {}),
             fastgpu.AlreadyExistsError, ""),
            ((404, {"code": "NOT_FOUND", "message": "no service 'web'"}, {}),
             fastgpu.NotFoundError, ""),
        ]
        for answer, cls, field in answers:
            with FakeServer([answer]) as fake:
                with self.assertRaises(cls) as ctx:
                    self.client(fake.url).create_service("web", ["true"], min=-1)
            self.assertEqual(len(fake.seen), 1)  # not retried
            self.assertEqual((ctx.exception.status, ctx.exception.field), (answer[0], field))
            self.assertEqual(ctx.exception.message, answer[1]["message"])

    def test_wait_service(self) -> None:
        script = [(200, steady(state="pending", reason="1 of 2 replicas ready"), {}),
                  (200, steady(), {})]
        with FakeServer(script) as fake:
            svc = self.client(fake.url).wait_service("web", timeout=30, poll_interval=0.01)
        self.assertTrue(svc.steady)
        self.assertEqual(len(fake.seen), 2)
        with FakeServer([(200, steady(state="backoff", reason="crash loop"), {})]) as fake:
            with self.assertRaises(fastgpu.WaitTimeoutError) as ctx:
                self.client(fake.url).wait_service("web", timeout=0.2, poll_interval=0.05)
        self.assertEqual(ctx.exception.service.state, "backoff")
        self.assertIn("crash loop", ctx.exception.message)
        self.assertIn("backoff with 2 of 2 replicas ready", ctx.exception.message)

    def test_usage_by_service(self) -> None:
        report = {"by": "service", "rows": [{"key": "web", "cents": 3}, {"key": "-", "cents": 1}],
                  "total_cents": 4}
        with FakeServer([(200, report, {}), (200, b"key,billed_seconds\n", {})]) as fake:
            c = self.client(fake.url)
            got = c.usage(by="service")
            c.usage_csv(by="service")
        self.assertEqual([s.path for s in fake.seen], ["/v1/usage?by=service&format=json",
                                                       "/v1/usage?by=service&format=csv"])
        row = got.row("web")
        assert row is not None
        self.assertEqual((got.by, row.cents, got.total_cents), ("service", 3, 4))


if __name__ == "__main__":
    unittest.main()

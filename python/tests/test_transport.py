"""Retries, failover and error mapping, against scripted fake control planes."""

from __future__ import annotations

import datetime
import socket
import unittest
from typing import List

import fastgpu
from fastgpu.transport import Transport

from .fake_server import FakeServer

JOB = {"id": "job-1", "state": "pending", "shape": {"gpu_count": 1, "gpu_milli": 500},
       "some_future_field": {"x": 1}}
UNAVAILABLE = (503, {"code": "UNAVAILABLE", "message": "the store cannot write"}, {})


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class TransportTest(unittest.TestCase):
    def setUp(self) -> None:
        self.pauses: List[float] = []

    def client(self, server: str, max_attempts: int = 4) -> fastgpu.Client:
        c = fastgpu.Client(server=server, token="t0k", config_path="/nonexistent/config.json",
                           max_attempts=max_attempts, timeout=10)
        # The pauses are recorded rather than slept.
        c._http = Transport(c.config.server, "t0k", max_attempts=max_attempts, timeout=10,
                            sleep=self.pauses.append)
        return c

    def test_submit_retries_503_and_dropped_connections_with_one_key(self) -> None:
        script = [UNAVAILABLE, None, (201, JOB, {})]
        with FakeServer(script) as fake:
            job = self.client(fake.url).submit(["true"], gpu=0.5)
        self.assertEqual(job.id, "job-1")
        self.assertEqual(job.raw["some_future_field"], {"x": 1})  # unknown fields kept
        self.assertEqual(len(fake.seen), 3)
        keys = {s.headers.get("idempotency-key") for s in fake.seen}
        self.assertEqual(len(keys), 1, keys)
        self.assertTrue(next(iter(keys)))
        self.assertEqual({s.headers["authorization"] for s in fake.seen}, {"Bearer t0k"})
        self.assertEqual(len(self.pauses), 2)
        self.assertTrue(all(0 < p <= 4 for p in self.pauses), self.pauses)

    def test_given_key_is_sent(self) -> None:
        with FakeServer([(201, JOB, {})]) as fake:
            self.client(fake.url).submit(["true"], idempotency_key="my-key-1")
        self.assertEqual(fake.seen[0].headers["idempotency-key"], "my-key-1")

    def test_retries_are_bounded(self) -> None:
        with FakeServer([UNAVAILABLE]) as fake:
            with self.assertRaises(fastgpu.UnavailableError) as ctx:
                self.client(fake.url, max_attempts=3).submit(["true"])
        self.assertEqual(len(fake.seen), 3)
        self.assertEqual(ctx.exception.status, 503)
        self.assertEqual(ctx.exception.message, "the store cannot write")
        self.assertEqual(len(self.pauses), 2)

    def test_retry_after_is_honoured(self) -> None:
        with FakeServer([(503, {"code": "UNAVAILABLE", "message": "busy"}, {"Retry-After": "1"}),
                         (201, JOB, {})]) as fake:
            self.client(fake.url).submit(["true"])
        self.assertEqual(self.pauses, [1.0])

    def test_unreachable_server(self) -> None:
        url = f"http://127.0.0.1:{closed_port()}"
        with self.assertRaises(fastgpu.UnavailableError) as ctx:
            self.client(url, max_attempts=2).get_job("job-1")
        self.assertIsNone(ctx.exception.status)
        self.assertIn("cannot reach the control plane at " + url, ctx.exception.message)
        self.assertIsInstance(ctx.exception, ConnectionError)
        self.assertEqual(len(self.pauses), 1)

    def test_next_replica_answers_and_is_kept(self) -> None:
        dead = f"http://127.0.0.1:{closed_port()}"
        with FakeServer([(200, JOB, {})]) as fake:
            c = self.client(f"{dead},{fake.url}")
            c.get_job("job-1")
            c.get_job("job-1")
            self.assertEqual(c.server, fake.url)
        self.assertEqual(len(fake.seen), 2)
        self.assertEqual(self.pauses, [])  # a round that found an answer does not pause

    def test_errors_carry_code_message_and_status(self) -> None:
        cases = [
            (400, "INVALID_ARGUMENT", fastgpu.InvalidArgumentError),
            (401, "UNAUTHENTICATED", fastgpu.UnauthenticatedError),
            (403, "PERMISSION_DENIED", fastgpu.PermissionDeniedError),
            (404, "NOT_FOUND", fastgpu.NotFoundError),
            (409, "ALREADY_EXISTS", fastgpu.AlreadyExistsError),
            (422, "FAILED_PRECONDITION", fastgpu.FailedPreconditionError),
            (429, "RESOURCE_EXHAUSTED", fastgpu.ResourceExhaustedError),
            (500, "INTERNAL", fastgpu.InternalError),
            (418, "SOMETHING_NEW", fastgpu.FastGPUError),
        ]
        for status, code, cls in cases:
            with FakeServer([(status, {"code": code, "message": f"field: {code}"}, {})]) as fake:
                with self.assertRaises(cls) as ctx:
                    self.client(fake.url).submit(["true"])
            self.assertEqual((ctx.exception.code, ctx.exception.status), (code, status))
            self.assertEqual(ctx.exception.message, f"field: {code}")
            self.assertEqual(len(fake.seen), 1, code)  # an answer other than 503: no retry
            self.assertIn(f"HTTP {status}, {code}", str(ctx.exception))

    def test_error_without_api_body(self) -> None:
        with FakeServer([(404, b"<html>nothing here</html>", {})]) as fake:
            with self.assertRaises(fastgpu.NotFoundError) as ctx:
                self.client(fake.url).get_job("x")
        self.assertEqual(ctx.exception.message, "<html>nothing here</html>")

    def test_names_are_percent_encoded(self) -> None:
        with FakeServer([(200, JOB, {})]) as fake:
            self.client(fake.url).get_job("a:b/c d")
        self.assertEqual(fake.seen[0].path, "/v1/jobs/a%3Ab%2Fc%20d")

    def test_path_prefix_of_the_base_url(self) -> None:
        with FakeServer([(200, {"jobs": [JOB], "next_cursor": ""}, {})]) as fake:
            page = self.client(fake.url + "/fastgpu/").list_jobs(state="pending", limit=5)
        self.assertEqual(fake.seen[0].path, "/fastgpu/v1/jobs?limit=5&state=pending")
        self.assertEqual([j.id for j in page.jobs], ["job-1"])

    def test_usage_query(self) -> None:
        report = {"by": "day", "from": 1, "to": 2, "rows": [
            {"key": "2026-11-01", "billed_seconds": 60, "gpu_hours": 0.008333, "cents": 2,
             "cost": "$0.02", "new_column": 1}], "total_cents": 2, "total": "$0.02"}
        with FakeServer([(200, report, {})]) as fake:
            got = self.client(fake.url).usage(
                tenant="team-a", from_=datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc),
                to=datetime.date(2026, 12, 1), by="day")
        self.assertEqual(fake.seen[0].path, "/v1/usage?by=day&format=json&tenant=team-a"
                         "&from=1793491200000&to=2026-12-01")
        self.assertEqual((got.total_cents, got.rows[0].cents, got.rows[0].gpu_hours),
                         (2, 2, 0.008333))
        self.assertEqual(got.row("2026-11-01"), got.rows[0])
        with self.assertRaises(fastgpu.InvalidArgumentError):
            self.client(fake.url).usage(by="week")

    def test_follow_resumes_where_a_stream_ended(self) -> None:
        def log(data: str, next_offset: int, done: bool) -> dict:
            return {"data": data, "next_offset": next_offset, "done": done}

        script = [
            (200, b"h\xc3", {"X-Log-Offset": "0"}),  # a stream that ends early, mid-letter
            (200, log("", 2, False), {}),  # the plain read after it: not done
            (200, log("", 2, False), {}),  # follow answered plainly (server busy): poll
            (200, b"\xa9llo\n", {"X-Log-Offset": "2"}),  # the stream again, from byte 2
            (200, log("", 7, True), {}),  # done
        ]
        with FakeServer(script) as fake:
            pieces = list(self.client(fake.url).logs("job-1", follow=True))
        self.assertEqual("".join(pieces), "h\u00e9llo\n")
        self.assertEqual(pieces[0], "h")  # the split letter waits for its second byte
        self.assertEqual([s.path.split("?")[1] for s in fake.seen], [
            "replica=0&offset=0&follow=true", "replica=0&offset=2",
            "replica=0&offset=2&follow=true", "replica=0&offset=2&follow=true",
            "replica=0&offset=7"])

    def test_plain_logs_read_until_empty_or_done(self) -> None:
        script = [(200, {"data": "a", "next_offset": 1, "done": False}, {}),
                  (200, {"data": "b", "next_offset": 2, "done": False}, {}),
                  (200, {"data": "", "next_offset": 2, "done": False}, {})]
        with FakeServer(script) as fake:
            self.assertEqual(list(self.client(fake.url).logs("job-1", replica=1)), ["a", "b"])
        self.assertEqual([s.path.split("?")[1] for s in fake.seen], [
            "replica=1&offset=0", "replica=1&offset=1", "replica=1&offset=2"])

    def test_bad_server_url(self) -> None:
        for url in ("ftp://x", "http://", "http://h:notaport"):
            with self.assertRaises(fastgpu.InvalidArgumentError, msg=url):
                fastgpu.Client(server=url, token="t", config_path="/nonexistent")


if __name__ == "__main__":
    unittest.main()

"""Interactive sessions end to end (docs/sessions.md): the built ``fastgpu`` binary driven
through a real pseudo-terminal (Python's ``pty``/``os.openpty``) against a ``fastgpu up
--simulate-gpus`` on 127.0.0.1 port 0 that the test starts.

``FASTGPU_BINARY`` names the binary (the ctest passes it). Every wait is bounded; each
test stops what it started.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import select
import socket
import struct
import subprocess
import sys
import termios
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python", "tests"))
from live_server import LiveServer  # noqa: E402

BINARY = os.environ.get("FASTGPU_BINARY", "")
WAIT_S = 20.0


def set_size(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def upgrade_status(url: str, path: str, token: str) -> int:
    """The HTTP status the control plane answers a WebSocket upgrade of `path` with."""
    host, port = url.split("://", 1)[1].rstrip("/").rsplit(":", 1)
    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                   f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
                   ).encode())
        head = s.recv(4096)
    return int(head.split()[1])


def wait_running(test, name, who):
    """Waits until the job `name` runs."""
    deadline = time.monotonic() + WAIT_S
    while True:
        out = subprocess.run([BINARY, "job", "get", name, "-o", "json", *who], check=True,
                             capture_output=True, timeout=WAIT_S)
        if json.loads(out.stdout)["state"] == "running":
            return
        test.assertLess(time.monotonic(), deadline, out.stdout)
        time.sleep(0.2)


def read_line(stream, timeout: float) -> bytes:
    """One line of a child's pipe, waiting at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    line = b""
    fd = stream.fileno()
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no line within {timeout:g} s; read {line!r}")
        r, _, _ = select.select([fd], [], [], min(left, 0.2))
        if r:
            chunk = os.read(fd, 1)
            if not chunk:
                break
            line += chunk
    return line


class Terminal:
    """``fastgpu ARGS`` with a pseudo-terminal as its controlling terminal."""

    def __init__(self, args, rows=24, cols=80):
        self.master, slave = os.openpty()
        set_size(slave, rows, cols)

        def make_controlling():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen([BINARY, *args], stdin=slave, stdout=slave, stderr=slave,
                                     preexec_fn=make_controlling, close_fds=True)
        os.close(slave)
        self.seen = b""

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def expect(self, pattern: str, timeout: float = WAIT_S) -> str:
        """Reads until `pattern` (a regex) shows in what was printed since the last match."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern.encode())
        while True:
            m = rx.search(self.seen)
            if m:
                self.seen = self.seen[m.end():]
                return m.group(0).decode(errors="replace")
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {pattern!r} within {timeout:g} s; printed: {self.seen!r}")
            r, _, _ = select.select([self.master], [], [], min(left, 0.2))
            if r:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    if self.proc.poll() is not None:
                        raise AssertionError(
                            f"exited ({self.proc.returncode}) before {pattern!r}: {self.seen!r}")
                    time.sleep(0.05)
                self.seen += chunk

    def wait(self, timeout: float = WAIT_S) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            r, _, _ = select.select([self.master], [], [], 0.1)
            if r:
                try:
                    self.seen += os.read(self.master, 65536)
                except OSError:
                    pass
        if self.proc.poll() is None:
            raise AssertionError(f"still running after {timeout:g} s; printed: {self.seen!r}")
        return self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        try:
            os.close(self.master)
        except OSError:
            pass


@unittest.skipUnless(BINARY and os.path.exists(BINARY), "FASTGPU_BINARY is not set")
class SessionPtyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = LiveServer(BINARY, extra_args=["--session-grace", "20"])
        cls.admin = ["--server", cls.server.url, "--token", cls.server.admin_token]
        cls.alice = cls.tenant("alice")
        cls.bob = cls.tenant("bob")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    @classmethod
    def tenant(cls, name):
        subprocess.run([BINARY, "tenant", "create", name, *cls.admin], check=True,
                       capture_output=True, timeout=WAIT_S)
        out = subprocess.run([BINARY, "token", "create", "--tenant", name, "-o", "json",
                              *cls.admin], check=True, capture_output=True, timeout=WAIT_S)
        return ["--server", cls.server.url, "--token", json.loads(out.stdout)["token"]]

    def terminal(self, args, **kw):
        t = Terminal(args, **kw)
        self.addCleanup(t.close)
        return t

    def shell(self, who, name):
        return self.terminal(["run", "-it", "--gpu", "0.5", "--gpu-memory", "20GiB", "--name",
                              name, "--env", "PS1=$ ", *who, "--", "bash", "--norc",
                              "--noprofile"])

    def test_typing_resize_and_exit_code(self):
        t = self.shell(self.alice, "typing")
        t.send("echo $((6*7))\r")
        t.expect(r"42")
        t.send("stty size\r")
        t.expect(r"24 80")
        set_size(t.master, 50, 132)  # the kernel sends fastgpu SIGWINCH
        time.sleep(0.5)
        t.send("stty size\r")
        t.expect(r"50 132")
        t.send("exit 3\r")
        self.assertEqual(t.wait(), 3)

    def test_ctrl_c_interrupts_the_remote_command(self):
        t = self.shell(self.alice, "ctrlc")
        t.expect(r"\$ ")  # connected: the line reaches bash before the ^C
        t.send("sleep 100; echo not-$((1+1))-interrupted\r")
        t.expect(r"sleep 100; echo not-\$\(\(1\+1\)\)-interrupted\r\n")
        time.sleep(1.0)
        t.send("\x03")
        t.send("echo status=$?\r")
        t.expect(r"status=130")
        self.assertNotIn(b"not-2-interrupted", t.seen)
        t.send("exit\r")
        self.assertEqual(t.wait(), 0)  # bash exits with the status of its last command (echo)

    def test_pipes_without_a_terminal(self):
        r = subprocess.run([BINARY, "run", "--gpu", "0.1", *self.alice, "--", "sh", "-c",
                            "tr a-z A-Z; exit 4"], input=b"hello pipes\n",
                           capture_output=True, timeout=WAIT_S * 2)
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn(b"HELLO PIPES", r.stdout)

    def test_pipes_keep_stderr_apart_and_the_job_log_has_the_output(self):
        r = subprocess.run([BINARY, "run", "--gpu", "0.1", "--name", "streams", *self.alice,
                            "--", "sh", "-c", "echo to-out; echo to-err >&2; exit 0"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=WAIT_S * 2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"to-out", r.stdout)
        self.assertNotIn(b"to-err", r.stdout)
        self.assertIn(b"to-err", r.stderr)
        # The session's output went to the job's log too (shipped as a batch job's).
        deadline = time.monotonic() + WAIT_S
        while True:
            logs = subprocess.run([BINARY, "job", "logs", "streams", *self.alice],
                                  capture_output=True, timeout=WAIT_S)
            if b"to-out" in logs.stdout and b"to-err" in logs.stdout:
                break
            self.assertLess(time.monotonic(), deadline, logs)
            time.sleep(0.2)

    def test_a_terminal_session_shows_in_the_job_log(self):
        t = self.shell(self.alice, "logged")
        t.send("echo logged-$((5*5))\r")
        t.expect(r"logged-25")
        t.send("exit 0\r")
        self.assertEqual(t.wait(), 0)
        deadline = time.monotonic() + WAIT_S
        while True:
            logs = subprocess.run([BINARY, "job", "logs", "logged", *self.alice],
                                  capture_output=True, timeout=WAIT_S)
            if b"logged-25" in logs.stdout:
                break
            self.assertLess(time.monotonic(), deadline, logs)
            time.sleep(0.2)

    def test_an_exec_is_stopped_when_its_replica_ends(self):
        subprocess.run([BINARY, "job", "submit", "--name", "short", "--gpu", "0.1", *self.alice,
                        "--", "sleep", "120"], check=True, capture_output=True, timeout=WAIT_S)
        self.addCleanup(subprocess.run, [BINARY, "job", "cancel", "short", *self.alice],
                        capture_output=True, timeout=WAIT_S)
        wait_running(self, "short", self.alice)
        proc = subprocess.Popen([BINARY, "job", "exec", "short", *self.alice, "--", "sh", "-c",
                                 "echo exec-started; sleep 100; echo exec-outlived"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        line = read_line(proc.stdout, WAIT_S * 2)
        self.assertIn(b"exec-started", line)
        subprocess.run([BINARY, "job", "cancel", "short", *self.alice], check=True,
                       capture_output=True, timeout=WAIT_S)
        out, err = proc.communicate(timeout=WAIT_S * 2)
        # 137 (SIGKILL), or 255 when the kill left no exit status to read (measured: both).
        self.assertIn(proc.returncode, (137, 255), err)
        self.assertNotIn(b"exec-outlived", out)
        self.assertIn(b"the command was stopped: its replica", err)

    def test_another_tenant_cannot_attach(self):
        t = self.shell(self.alice, "private")
        t.send("echo r-$((1+1))\r")
        t.expect(r"r-2")
        jobs = subprocess.run([BINARY, "job", "get", "private", "-o", "json", *self.alice],
                              check=True, capture_output=True, timeout=WAIT_S)
        job_id = json.loads(jobs.stdout)["id"]
        bob = self.terminal(["attach", job_id, *self.bob])
        self.assertEqual(bob.wait(), 1)
        self.assertIn(b"no job", bob.seen)
        # The WebSocket route itself: another tenant's session is not found.
        self.assertEqual(upgrade_status(self.server.url, f"/v1/jobs/{job_id}/attach",
                                        self.bob[-1]), 404)
        t.send("exit 0\r")
        self.assertEqual(t.wait(), 0)

    def test_attach_after_a_dropped_client(self):
        t = self.shell(self.alice, "dropped")
        t.send("echo f-$((2+3))\r")
        t.expect(r"f-5")
        t.send("sleep 2; echo away-$((40+2))\r")
        time.sleep(0.3)
        t.proc.kill()  # the client drops; the session keeps running for the grace period
        t.proc.wait(timeout=10)
        time.sleep(3)
        again = self.terminal(["attach", "dropped", *self.alice])
        again.expect(r"away-42")
        again.send("exit 5\r")
        self.assertEqual(again.wait(), 5)

    def test_idle_timeout_ends_the_session(self):
        t = self.terminal(["run", "-it", "--gpu", "0.1", "--idle-timeout", "2", *self.alice,
                           "--", "bash", "--norc"])
        t.expect(r"idle for 2 s", timeout=15)
        self.assertEqual(t.wait(), 1)

    def test_unplaceable_shape_fails_fast(self):
        start = time.monotonic()
        t = self.terminal(["run", "-it", "--gpu", "4", *self.alice, "--", "bash"])
        self.assertEqual(t.wait(timeout=15), 1)
        self.assertLess(time.monotonic() - start, 15)
        self.assertIn(b"cannot start the session", t.seen)

    def test_job_exec_in_a_running_replica(self):
        subprocess.run([BINARY, "job", "submit", "--name", "batch", "--gpu", "0.1", "--env",
                        "MARK=from-the-job", *self.alice, "--", "sleep", "120"], check=True,
                       capture_output=True, timeout=WAIT_S)
        self.addCleanup(subprocess.run, [BINARY, "job", "cancel", "batch", *self.alice],
                        capture_output=True, timeout=WAIT_S)
        deadline = time.monotonic() + WAIT_S
        while True:
            out = subprocess.run([BINARY, "job", "get", "batch", "-o", "json", *self.alice],
                                 check=True, capture_output=True, timeout=WAIT_S)
            if json.loads(out.stdout)["state"] == "running":
                break
            self.assertLess(time.monotonic(), deadline, out.stdout)
            time.sleep(0.2)
        # Pipes: the replica's environment and work dir, the command's exit code.
        r = subprocess.run([BINARY, "job", "exec", "batch", *self.alice, "--", "sh", "-c",
                            "echo mark=$MARK; pwd; exit 6"], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=WAIT_S * 2)
        self.assertEqual(r.returncode, 6, r.stderr)
        self.assertIn(b"mark=from-the-job", r.stdout)
        self.assertIn(b"/work", r.stdout)
        # A terminal.
        t = self.terminal(["job", "exec", "-it", "batch", *self.alice, "--", "bash", "--norc"])
        t.send("echo e-$((3*3))\r")
        t.expect(r"e-9")
        t.send("exit 2\r")
        self.assertEqual(t.wait(), 2)
        # Another tenant cannot exec in it.
        r = subprocess.run([BINARY, "job", "exec", "batch", *self.bob, "--", "true"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=WAIT_S)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"no job", r.stderr)


@unittest.skipUnless(BINARY and os.path.exists(BINARY), "FASTGPU_BINARY is not set")
class TlsSessionTest(unittest.TestCase):
    """``fastgpu up --tls``: the CLI's and the local agent's WebSockets over wss."""

    @classmethod
    def setUpClass(cls):
        cls.server = LiveServer(BINARY, extra_args=["--tls"])
        cls.who = ["--server", cls.server.url, "--token", cls.server.admin_token,
                   "--ca-cert", cls.server.ca_cert]

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_a_terminal_and_an_exec_over_https(self):
        self.assertTrue(self.server.url.startswith("https://"), self.server.url)
        t = Terminal(["run", "-it", "--gpu", "0.1", "--name", "secure", "--env", "PS1=$ ",
                      *self.who, "--", "bash", "--norc", "--noprofile"])
        self.addCleanup(t.close)
        t.send("echo tls-$((7*6))\r")
        t.expect(r"tls-42")
        wait_running(self, "secure", self.who)  # its agent has reported the replica running
        # A job exec in the session's replica, through the same wss path.
        r = subprocess.run([BINARY, "job", "exec", "secure", *self.who, "--", "sh", "-c",
                            "echo exec-over-tls; echo exec-err >&2; exit 5"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=WAIT_S * 2)
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn(b"exec-over-tls", r.stdout)
        self.assertIn(b"exec-err", r.stderr)
        t.send("exit 3\r")
        self.assertEqual(t.wait(), 3)

    def test_another_ca_is_refused_with_the_reason(self):
        other = LiveServer(BINARY, extra_args=["--tls"], gpus="1xH100-80GB")
        self.addCleanup(other.stop)
        t = Terminal(["run", "-it", "--gpu", "0.1", "--server", self.server.url, "--token",
                      self.server.admin_token, "--ca-cert", other.ca_cert, "--", "bash"])
        self.addCleanup(t.close)
        self.assertNotEqual(t.wait(), 0)
        self.assertIn(b"not trusted", t.seen)


@unittest.skipUnless(BINARY and os.path.exists(BINARY), "FASTGPU_BINARY is not set")
class LostControlPlaneTest(unittest.TestCase):
    def test_a_lost_control_plane_ends_the_client_with_255(self):
        server = LiveServer(BINARY)
        self.addCleanup(server.stop)
        t = Terminal(["run", "-it", "--gpu", "0.1", "--server", server.url, "--token",
                      server.admin_token, "--", "bash", "--norc"])
        self.addCleanup(t.close)
        t.send("echo up-$((2*2))\r")
        t.expect(r"up-4")
        server.proc.kill()  # the control plane is gone (its in-process agent with it)
        self.assertEqual(t.wait(), 255)
        self.assertIn(b"lost the connection to the control plane", t.seen)


if __name__ == "__main__":
    unittest.main(verbosity=2)

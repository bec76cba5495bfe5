"""A ``fastgpu up`` started for the end-to-end tests, and stopped after them.

``FASTGPU_BINARY`` names the built binary (the ctest passes it). It runs with a temporary
data dir on 127.0.0.1 port 0 and two simulated H100s; its address is read from its
"listening on" line, the admin token from ``<data-dir>/admin.token``. Starting waits at
most 60 s, stopping at most 10 s after SIGTERM (then SIGKILL).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.request
from typing import Optional, Sequence

START_TIMEOUT_S = 60.0


class LiveServer:
    """One ``fastgpu up`` process; see the module comment."""

    def __init__(self, binary: str, extra_args: Sequence[str] = (),
                 gpus: str = "2xH100-80GB") -> None:
        self.dir = tempfile.mkdtemp(prefix="fastgpu-sdk-")
        self.data_dir = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "up.log")
        self._log = open(self.log_path, "wb")
        self.proc: Optional[subprocess.Popen] = subprocess.Popen(
            [binary, "up", "--data-dir", self.data_dir, "--listen", "127.0.0.1:0",
             "--simulate-gpus", gpus, *extra_args],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=self.dir)
        self.url = ""
        self.admin_token = ""
        self.ca_cert = os.path.join(self.data_dir, "ca.crt")  # made with --tls
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def output(self) -> str:
        """Everything the process printed so far."""
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        token_path = os.path.join(self.data_dir, "admin.token")
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"fastgpu up exited ({self.proc.returncode}):\n"
                                   f"{self.output()}")
            if not self.url:
                m = re.search(r"^listening on (http\S+)", self.output(), re.MULTILINE)
                self.url = m.group(1) if m else ""
            if self.url and os.path.exists(token_path):
                context = None
                if self.url.startswith("https:"):  # --tls: the CA it made in its data dir
                    context = ssl.create_default_context(cafile=self.ca_cert)
                try:
                    with urllib.request.urlopen(self.url + "/healthz", timeout=5,
                                                context=context) as r:
                        if r.status == 200:
                            with open(token_path, encoding="utf-8") as f:
                                self.admin_token = f.read().strip()
                            return
                except OSError:
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"fastgpu up did not answer /healthz within {START_TIMEOUT_S:g} s:\n"
                           f"{self.output()}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s; removes the temporary folder."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

"""A scripted HTTP server on 127.0.0.1 port 0 standing in for the control plane.

Each request is recorded (method, path, headers, body) and answered by the next entry
of the script: ``(status, body, headers)``, or ``None`` to close the connection without
answering. When the script runs out, the last entry repeats. Thread-safe recording; one
server per test.
"""

from __future__ import annotations

import http.server
import json
import threading
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

Reply = Optional[Tuple[int, Any, Dict[str, str]]]


@dataclass
class Seen:
    """One request the fake received."""

    method: str
    path: str
    headers: Dict[str, str]
    body: bytes


class FakeServer:
    """See the module comment. Use as a context manager; ``url`` is its base URL."""

    def __init__(self, script: List[Reply]) -> None:
        self.script = list(script)
        self.seen: List[Seen] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with fake._lock:
                    fake.seen.append(Seen(self.command, self.path,
                                          {k.lower(): v for k, v in self.headers.items()}, body))
                    reply = fake.script.pop(0) if len(fake.script) > 1 else fake.script[0]
                if reply is None:
                    self.close_connection = True
                    return
                status, payload, headers = reply
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    def __enter__(self) -> "FakeServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

"""HTTP to the control plane: one request, its retries, and log streams.

Standard library only (``http.client``, ``ssl``). A :class:`Transport` talks to one
base URL or several comma-separated control-plane replicas. A request that gets no
answer (connection refused, reset, timeout) or a 503 is made again at the next address,
in the list's order, and the transport stays with the address that answered. When every
address failed, the round is tried again after a back-off that doubles (with jitter,
honouring ``Retry-After``), at most ``max_attempts`` rounds in all; then the last error
is raised. Only requests that are safe to send twice are retried: GETs, and mutations
that carry an ``Idempotency-Key`` (the same key on every retry, so the server applies the
request once). A server certificate that fails verification ends the call after the
first round (no request was sent; waiting will not change the certificate).

Each request opens its own connection and closes it after the answer (a stream: when
its reader closes it), so a Transport may be shared between threads.
"""

from __future__ import annotations

import http.client
import random
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from .errors import FastGPUError, InvalidArgumentError, UnavailableError, error_from_answer

USER_AGENT = "fastgpu-python"


@dataclass
class Answer:
    """A 2xx answer: its status, headers (names lower-cased) and whole body."""

    status: int
    headers: Dict[str, str]
    body: bytes


@dataclass
class _Base:
    url: str
    scheme: str
    host: str
    port: Optional[int]
    prefix: str


def _parse_base(url: str) -> _Base:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise InvalidArgumentError(f"server URL '{url}': {e}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgumentError(
            f"server URL '{url}': expected http://HOST[:PORT] or https://HOST[:PORT]")
    return _Base(url=url, scheme=parts.scheme, host=parts.hostname, port=port,
                 prefix=parts.path.rstrip("/"))


class Stream:
    """An open streamed answer (chunked body) of a GET; iterate it with :meth:`read`.

    Owns its connection; :meth:`close` (or a ``with`` block) ends it. Not thread-safe.
    """

    def __init__(self, conn: http.client.HTTPConnection, resp: http.client.HTTPResponse) -> None:
        self._conn = conn
        self._resp = resp
        self.status: int = resp.status
        self.headers: Dict[str, str] = {k.lower(): v for k, v in resp.getheaders()}

    def read(self, size: int = 65536) -> bytes:
        """The next piece of the body as it arrives; b"" once the body has ended.

        Raises OSError or http.client.HTTPException when the connection breaks off or a
        read waits longer than the transport's stream timeout.
        """
        return self._resp.read1(size)

    def read_all(self) -> bytes:
        """The rest of the body."""
        return self._resp.read()

    def close(self) -> None:
        """Closes the connection (the server then stops sending)."""
        self._resp.close()
        self._conn.close()

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Transport:
    """Requests to the control plane with bounded retries (see the module comment).

    Args:
        server: base URL(s), comma-separated, each with its scheme.
        token: sent as ``Authorization: Bearer``; "" sends none.
        ca_cert: https only: a PEM file of the CAs to trust instead of the system store.
        timeout: seconds allowed to connect and for each read of an answer (default 60).
        max_attempts: rounds over the addresses before giving up (default 4; 1: no retry).
        backoff: seconds before the second round, doubled for each later one (default
            0.25), at most ``max_backoff`` (default 4).
        sleep: the pause function (tests pass their own).
    """

    def __init__(self, server: str, token: str = "", ca_cert: str = "", timeout: float = 60.0,
                 max_attempts: int = 4, backoff: float = 0.25, max_backoff: float = 4.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._bases: List[_Base] = [_parse_base(u.strip()) for u in server.split(",")
                                    if u.strip()]
        if not self._bases:
            raise InvalidArgumentError("server URL: empty")
        self._token = token
        self._timeout = timeout
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._sleep = sleep
        self._current = 0
        self._ssl: Optional[ssl.SSLContext] = None
        if any(b.scheme == "https" for b in self._bases):
            self._ssl = ssl.create_default_context(cafile=ca_cert or None)

    @property
    def server(self) -> str:
        """The address in use (the last one that answered)."""
        return self._bases[self._current].url

    def request(self, method: str, path: str, body: Optional[bytes] = None,
                headers: Optional[Mapping[str, str]] = None) -> Answer:
        """Sends the request and returns its 2xx answer.

        ``path`` starts with "/" and carries its query, already encoded. A mutation is
        retried only when ``headers`` carry an ``Idempotency-Key``.

        Raises:
            FastGPUError: the subclass for the API's error code (an answer not 2xx), or
                UnavailableError (status None) when no address answered.
        """
        conn, resp = self._send(method, path, body, headers, self._timeout)
        try:
            data = resp.read()
        except (OSError, http.client.HTTPException) as e:
            raise UnavailableError(f"the control plane at {self.server} broke off its answer: "
                                   f"{e}") from None
        finally:
            conn.close()
        return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)

    def stream(self, path: str, timeout: Optional[float] = None) -> Stream:
        """Sends a GET and returns its 2xx answer unread, as a :class:`Stream`.

        ``timeout`` bounds each read of the stream (default: the transport's timeout).
        Errors as with :meth:`request`.
        """
        conn, resp = self._send("GET", path, None, None, timeout or self._timeout)
        return Stream(conn, resp)

    # ---- internals ----

    def _connection(self, base: _Base) -> http.client.HTTPConnection:
        if base.scheme == "https":
            return http.client.HTTPSConnection(base.host, base.port, timeout=self._timeout,
                                               context=self._ssl)
        return http.client.HTTPConnection(base.host, base.port, timeout=self._timeout)

    def _send(self, method: str, path: str, body: Optional[bytes],
              headers: Optional[Mapping[str, str]], timeout: float
              ) -> Tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """The connection and the unread 2xx response of the first address that answers."""
        hdrs: Dict[str, str] = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self._token:
            hdrs["Authorization"] = f"Bearer {self._token}"
        if body is not None:
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        retryable = method in ("GET", "HEAD") or any(
            k.lower() == "idempotency-key" for k in hdrs)
        n = len(self._bases)
        attempt = 0
        while True:
            attempt += 1
            last: Optional[FastGPUError] = None
            retry_after = 0.0
            untrusted = False  # a certificate that failed verification: retrying won't help
            for i in range(n):
                idx = (self._current + i) % n
                base = self._bases[idx]
                conn = self._connection(base)
                try:
                    conn.connect()  # within the transport's timeout
                    if conn.sock is not None:
                        conn.sock.settimeout(timeout)  # then each read within the call's
                    conn.request(method, base.prefix + path, body=body, headers=hdrs)
                    resp = conn.getresponse()
                except (OSError, http.client.HTTPException) as e:
                    conn.close()
                    untrusted = untrusted or isinstance(e, ssl.SSLCertVerificationError)
                    last = UnavailableError(
                        f"cannot reach the control plane at {base.url}: {_describe(e)}")
                    continue
                if resp.status == 503:
                    retry_after = max(retry_after, _retry_after(resp.getheader("Retry-After")))
                    try:
                        last = error_from_answer(resp.status, resp.read())
                    except (OSError, http.client.HTTPException):
                        last = UnavailableError("HTTP 503", status=503)
                    conn.close()
                    continue
                self._current = idx
                if 200 <= resp.status < 300:
                    return conn, resp
                try:
                    data = resp.read()
                except (OSError, http.client.HTTPException):
                    data = b""
                conn.close()
                raise error_from_answer(resp.status, data)
            assert last is not None
            if not retryable or untrusted or attempt >= self._max_attempts:
                raise last
            delay = min(self._max_backoff, self._backoff * (2 ** (attempt - 1)))
            delay = delay * (0.5 + random.random() / 2)
            self._sleep(min(self._max_backoff, max(delay, retry_after)))


def _retry_after(value: Optional[str]) -> float:
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0


def _describe(e: BaseException) -> str:
    if isinstance(e, socket.timeout):
        return "timed out"
    text = str(e)
    return text if text else type(e).__name__

"""Exceptions raised by the FastGPU client.

Every failure is a :class:`FastGPUError` carrying the API's ``code`` (``"NOT_FOUND"``,
``"INVALID_ARGUMENT"``, ...), its ``message`` and the HTTP ``status`` of the answer
(``None`` when no answer came: the server was unreachable, or the client refused the
request before sending it). The common codes have a subclass each, so callers can write
``except fastgpu.NotFoundError``.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, Optional, Type

# A field's path as the API writes it at the start of a message: "shape.gpu_milli: ...".
_FIELD_PREFIX = re.compile(r"([A-Za-z_][A-Za-z0-9_]*(?:\[[0-9]+\])*(?:\.[A-Za-z_][A-Za-z0-9_]*"
                           r"(?:\[[0-9]+\])*)*): ")
# The codes whose messages name a field of the request that way (an INTERNAL "sqlite: ..."
# names none).
_FIELD_CODES = frozenset({"INVALID_ARGUMENT", "OUT_OF_RANGE", "PERMISSION_DENIED",
                          "ALREADY_EXISTS", "FAILED_PRECONDITION"})


class FastGPUError(Exception):
    """A request that failed: the API's error ``code``, ``message`` and HTTP ``status``."""

    #: The code this class stands for ("" for the base class).
    default_code: str = ""

    def __init__(self, message: str, code: str = "", status: Optional[int] = None) -> None:
        super().__init__(message)
        self.code: str = code or self.default_code or "UNKNOWN"
        self.message: str = message
        self.status: Optional[int] = status

    @property
    def field(self) -> str:
        """The field the message names first (``"shape.gpu_milli"`` of ``"shape.gpu_milli:
        must be ..."``, ``"min"`` of the client's ``"min: expected ..."``), or "" when it
        names none. The API starts the message of a refused field with its path; only
        the codes of refused requests (``INVALID_ARGUMENT``, ``PERMISSION_DENIED``,
        ``ALREADY_EXISTS``, ``FAILED_PRECONDITION``, ``OUT_OF_RANGE``) are read so."""
        if self.code not in _FIELD_CODES:
            return ""
        m = _FIELD_PREFIX.match(self.message)
        return m.group(1) if m else ""

    def __str__(self) -> str:
        where = f"HTTP {self.status}, " if self.status is not None else ""
        return f"{self.message} [{where}{self.code}]"

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, "
                f"status={self.status!r})")


class InvalidArgumentError(FastGPUError, ValueError):
    """400 ``INVALID_ARGUMENT``: a bad field; the message starts with the field's path.

    Also raised, with ``status`` None, for arguments the client refuses before sending
    (e.g. ``gpu=1.5``), with a message that names the argument the same way.
    """

    default_code = "INVALID_ARGUMENT"


class UnauthenticatedError(FastGPUError):
    """401 ``UNAUTHENTICATED``: no token, or a token the server does not know."""

    default_code = "UNAUTHENTICATED"


class PermissionDeniedError(FastGPUError):
    """403 ``PERMISSION_DENIED``: the token may not use this endpoint (e.g. not admin)."""

    default_code = "PERMISSION_DENIED"


class NotFoundError(FastGPUError):
    """404 ``NOT_FOUND``: no such object, or one that belongs to another tenant."""

    default_code = "NOT_FOUND"


class AlreadyExistsError(FastGPUError):
    """409 ``ALREADY_EXISTS``: e.g. a tenant or service name that is taken."""

    default_code = "ALREADY_EXISTS"


class FailedPreconditionError(FastGPUError):
    """409 or 422 ``FAILED_PRECONDITION``: the request conflicts with the current state.

    E.g. cancelling a finished job (409), an ambiguous name (409), an Idempotency-Key
    reused for another request (422), a job no node of the pool could ever hold (422).
    """

    default_code = "FAILED_PRECONDITION"


class ResourceExhaustedError(FastGPUError):
    """429 ``RESOURCE_EXHAUSTED``: over a quota or budget, or a body over the size cap."""

    default_code = "RESOURCE_EXHAUSTED"


class InternalError(FastGPUError):
    """500 ``INTERNAL``: the server failed (e.g. its store)."""

    default_code = "INTERNAL"


class UnavailableError(FastGPUError, ConnectionError):
    """503 ``UNAVAILABLE``, or no answer at all (``status`` None): unreachable server.

    Raised once the client's bounded retries are used up.
    """

    default_code = "UNAVAILABLE"


class WaitTimeoutError(FastGPUError, TimeoutError):
    """``DEADLINE_EXCEEDED``: :meth:`Client.wait`, :meth:`Client.wait_service` or a
    followed log ran past its timeout.

    ``job`` holds the job as last seen, ``service`` the service (None when not read).
    """

    default_code = "DEADLINE_EXCEEDED"

    def __init__(self, message: str, job: Any = None, service: Any = None) -> None:
        super().__init__(message)
        self.job = job
        self.service = service


_BY_CODE: Dict[str, Type[FastGPUError]] = {
    cls.default_code: cls
    for cls in (InvalidArgumentError, UnauthenticatedError, PermissionDeniedError,
                NotFoundError, AlreadyExistsError, FailedPreconditionError,
                ResourceExhaustedError, InternalError, UnavailableError)
}
_BY_CODE["OUT_OF_RANGE"] = InvalidArgumentError

# When an answer carries no API error body (e.g. a proxy's page), its HTTP status decides.
_CODE_BY_STATUS: Dict[int, str] = {
    400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
    404: "NOT_FOUND", 405: "UNIMPLEMENTED", 409: "FAILED_PRECONDITION",
    413: "RESOURCE_EXHAUSTED", 422: "FAILED_PRECONDITION", 429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL", 501: "UNIMPLEMENTED", 502: "UNAVAILABLE", 503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def error_for(code: str, message: str, status: Optional[int]) -> FastGPUError:
    """The exception of the class that fits ``code`` (the base class for other codes)."""
    return _BY_CODE.get(code, FastGPUError)(message, code=code, status=status)


def error_from_answer(status: int, body: bytes) -> FastGPUError:
    """The exception for an HTTP answer that is not 2xx.

    The API's ``{"code", "message"}`` body when it has one; otherwise a code that fits
    the HTTP status and the body's first 200 characters as the message.
    """
    code = ""
    message = ""
    try:
        parsed = json.loads(body.decode("utf-8", errors="replace"))
        if isinstance(parsed, dict):
            code = str(parsed.get("code", "") or "")
            message = str(parsed.get("message", "") or "")
    except ValueError:
        pass
    if not code:
        code = _CODE_BY_STATUS.get(status, "UNKNOWN")
    if not message:
        text = body.decode("utf-8", errors="replace").strip()[:200]
        message = text or f"HTTP {status}"
    return error_for(code, message, status)

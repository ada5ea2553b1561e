"""Typed errors from memoryd's error envelope {"error": CODE, "message", "details"}."""

from __future__ import annotations

from typing import Any, Dict, Optional


class MemorydError(Exception):
    """An answer of the API other than a success.

    ``code`` is the envelope's code (NOT_FOUND, RATE_LIMITED, ...), ``status``
    the HTTP status, ``retry_after`` the wait in seconds the server asked
    for (429, 503), when it did.
    """

    code = "INTERNAL"

    def __init__(self, status: int, code: str, message: str,
                 details: Optional[Dict[str, Any]] = None, retry_after: Optional[float] = None):
        super().__init__(f"memoryd: {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.retry_after = retry_after


class InvalidRequest(MemorydError):
    code = "INVALID_REQUEST"


class Unauthorized(MemorydError):
    code = "UNAUTHORIZED"


class Forbidden(MemorydError):
    code = "FORBIDDEN"


class NotFound(MemorydError):
    code = "NOT_FOUND"


class NotAcceptable(MemorydError):
    code = "NOT_ACCEPTABLE"


class Conflict(MemorydError):
    code = "CONFLICT"


class PayloadTooLarge(MemorydError):
    code = "PAYLOAD_TOO_LARGE"


class RateLimited(MemorydError):
    code = "RATE_LIMITED"


class Unavailable(MemorydError):
    code = "UNAVAILABLE"


_BY_CODE = {c.code: c for c in (InvalidRequest, Unauthorized, Forbidden, NotFound, NotAcceptable,
                                Conflict, PayloadTooLarge, RateLimited, Unavailable)}
_BY_STATUS = {400: "INVALID_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
              406: "NOT_ACCEPTABLE", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE", 429: "RATE_LIMITED",
              503: "UNAVAILABLE"}


def error_from(status: int, envelope: Any, retry_after: Optional[float]) -> MemorydError:
    """The typed error of a failed answer; a body that is not the envelope
    (e.g. from a proxy) still gives the status."""
    if isinstance(envelope, dict) and isinstance(envelope.get("error"), str):
        code, message = envelope["error"], str(envelope.get("message", ""))
        details = envelope.get("details") if isinstance(envelope.get("details"), dict) else None
        if retry_after is None and isinstance(envelope.get("retry_after"), (int, float)):
            retry_after = float(envelope["retry_after"])
    else:
        code, message, details = _BY_STATUS.get(status, "INTERNAL"), f"HTTP {status}", None
    return _BY_CODE.get(code, MemorydError)(status, code, message, details, retry_after)

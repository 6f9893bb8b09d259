"""Fly's error shape: every failure is JSON `{"error": "...", "status"?: "..."}`.

The optional `status` is Fly's machine-readable code (`insufficient_capacity`, `name_taken`, ...); the Go
client reads it before falling back to the message, so the emulator sets it wherever Fly does.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from standin.errors import ErrorShape, ServiceError

# Default messages for statuses the emulator produces without a more specific reason
# (injected faults, unknown routes).
REASONS: dict[int, str] = {
    400: "bad request",
    401: "unauthorized",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    408: "request timeout",
    409: "conflict",
    412: "failed_precondition",
    422: "unprocessable entity",
    429: "rate limit exceeded",
    500: "internal server error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}


class FlyError(ServiceError):
    """An API answer that is not a success; raised anywhere in a handler, rendered in Fly's shape."""


def render(error: ServiceError) -> JSONResponse:
    body: dict[str, Any] = {**error.extra, "error": error.message}
    if error.code:
        body["status"] = error.code
    return JSONResponse(body, status_code=error.status, headers=error.headers)


SHAPE = ErrorShape(render, REASONS, fallback="error", internal="internal emulator error")
error_response = SHAPE.answer


def bad_request(message: str) -> FlyError:
    return FlyError(400, message)


def not_found(message: str) -> FlyError:
    return FlyError(404, message)


def precondition(message: str) -> FlyError:
    # Fly reports these as `failed_precondition: ...` with HTTP 412.
    return FlyError(412, f"failed_precondition: {message}")

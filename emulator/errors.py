"""Fly's error shape: every failure is JSON `{"error": "...", "status"?: "..."}`.

The optional `status` is Fly's machine-readable code (`insufficient_capacity`, `name_taken`, ...); the Go
client reads it before falling back to the message, so the emulator sets it wherever Fly does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.responses import JSONResponse

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


class FlyError(Exception):
    """An API answer that is not a success; raised anywhere in a handler, rendered by the app."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.message}
        if self.code:
            out["status"] = self.code
        return out

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def error_response(
    status: int, message: str | None = None, *, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return FlyError(status, message or REASONS.get(status, "error"), headers=headers).response()


def bad_request(message: str) -> FlyError:
    return FlyError(400, message)


def not_found(message: str) -> FlyError:
    return FlyError(404, message)


def precondition(message: str) -> FlyError:
    # Fly reports these as `failed_precondition: ...` with HTTP 412.
    return FlyError(412, f"failed_precondition: {message}")

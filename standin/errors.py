"""Errors a stand-in answers, and the shape each service gives them.

Routes and shared code raise a `ServiceError` (or `InvalidRequestError`, the 400 for input a stand-in refuses);
the app renders it with its service's `ErrorShape`, so shared code never needs to know whose stand-in it is in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response


class ServiceError(Exception):
    """An answer that is not a success; raised anywhere under a route, rendered by the app."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code  # the service's machine-readable error code, where it sets one
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})  # more body fields (a 409 on create naming what exists)


class InvalidRequestError(ServiceError):
    """A body, query or control call that a stand-in refuses before doing anything: always a 400."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message)


@dataclass(frozen=True)
class ErrorShape:
    """How one service words and renders its errors."""

    render: Callable[[ServiceError], Response]
    reasons: Mapping[int, str]  # the message for a status when nothing more specific is known
    fallback: str  # the message for a status `reasons` does not name
    internal: str  # how the answer to the stand-in's own bug starts

    def answer(
        self, status: int, message: str | None = None, *, headers: Mapping[str, str] | None = None
    ) -> Response:
        return self.render(
            ServiceError(status, message or self.reasons.get(status, self.fallback), headers=headers)
        )

    def bug(self, exc: Exception) -> Response:
        """A 500 that names the stand-in's own failure, so it is never mistaken for the service's answer."""
        return self.answer(500, f"{self.internal}: {type(exc).__name__}: {exc}")
